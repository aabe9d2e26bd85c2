#!/bin/sh
# rs-entrypoint — start an LVS real server in a container: the RS-side setup of the forwarding
# method, then nginx answering "<RS_NAME>\n" on every path (what scripts/lab's RS answer).
#
#   LVS_MODE=dr    VIP/32 on lo; arp_ignore=1, arp_announce=2 (all + the interface), so the RS
#                  accepts frames for the VIP but never answers or announces it in ARP.
#   LVS_MODE=tun   the same ARP rules; VIP/32 on tunl0 when the host kernel has ipip, else
#                  lvs-decap in the background: IPIP received on a raw socket, the inner packet
#                  written to the TUN device lvs0, which carries VIP/32 (needs NET_RAW, the device
#                  /dev/net/tun and rp_filter=0 on all and default: docker-compose.tun.yml).
#   LVS_MODE=nat   default route via GATEWAY (the director); no VIP on the RS.
#   LVS_MODE=none  (default) plain nginx.
#
# Other environment: RS_NAME (default: hostname), RS_PORT (default 80), VIP, GATEWAY,
# RS_IFACE (default eth0). Arguments, if any, are run instead of nginx after the setup.
#
# Needs cap_add NET_ADMIN. /proc/sys is read-only in an unprivileged container, so set the
# sysctls with compose `sysctls:` (docker-compose.yml does); this script tries them too, then
# checks the values in force and refuses to serve with a wrong ARP setup.
set -eu

log() { printf 'rs-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

RS_NAME=${RS_NAME:-$(hostname)}
RS_PORT=${RS_PORT:-80}
LVS_MODE=${LVS_MODE:-none}
IFACE=${RS_IFACE:-eth0}
VIP=${VIP:-}
GATEWAY=${GATEWAY:-}

# ---- validate before changing anything ---------------------------------------------------------
case $RS_NAME in
  '' | *[!A-Za-z0-9._-]*) die "RS_NAME '$RS_NAME' must be letters, digits, '.', '_' or '-'" ;;
esac
case $RS_PORT in
  '' | *[!0-9]*) die "RS_PORT '$RS_PORT' is not a port number" ;;
esac
if [ "$RS_PORT" -lt 1 ] || [ "$RS_PORT" -gt 65535 ]; then die "RS_PORT $RS_PORT out of range 1-65535"; fi
case $IFACE in
  '' | *[!A-Za-z0-9_-]*) die "RS_IFACE '$IFACE' is not an interface name" ;;
esac

is_ipv4() {
  case $1 in
    '' | *[!0-9.]* | .* | *. | *..*) return 1 ;;
  esac
  # shellcheck disable=SC2046 # split on the dots on purpose
  set -- $(printf '%s' "$1" | tr . ' ')
  [ $# -eq 4 ] || return 1
  for o in "$@"; do [ "$o" -le 255 ] || return 1; done
}

case $LVS_MODE in
  dr | tun)
    [ -n "$VIP" ] || die "LVS_MODE=$LVS_MODE needs VIP (the virtual IP, e.g. 10.0.0.100)"
    is_ipv4 "$VIP" || die "VIP '$VIP' is not an IPv4 address"
    ;;
  nat)
    [ -n "$GATEWAY" ] || die "LVS_MODE=nat needs GATEWAY (the director's address on this network)"
    is_ipv4 "$GATEWAY" || die "GATEWAY '$GATEWAY' is not an IPv4 address"
    ;;
  none) ;;
  *) die "unknown LVS_MODE '$LVS_MODE' (expected dr, tun, nat or none)" ;;
esac

ip link show "$IFACE" >/dev/null 2>&1 || die "interface $IFACE does not exist (set RS_IFACE)"

# ---- sysctl helpers ---------------------------------------------------------------------------------
sysctl_path() { printf '/proc/sys/%s\n' "$(printf '%s' "$1" | tr . /)"; }

sysctl_get() { cat "$(sysctl_path "$1")" 2>/dev/null; }

# Set $1 to $2 unless it already is; false when it cannot (read-only /proc/sys).
sysctl_set() {
  [ "$(sysctl_get "$1")" = "$2" ] && return 0
  sysctl -q -w "$1=$2" >/dev/null 2>&1 || return 1
  [ "$(sysctl_get "$1")" = "$2" ]
}

# The kernel uses max(conf/all, conf/IFACE) for arp_ignore and arp_announce: require at least $2.
need_arp_sysctl() {
  key=$1 want=$2
  sysctl_set "net.ipv4.conf.all.$key" "$want" || true
  sysctl_set "net.ipv4.conf.$IFACE.$key" "$want" || true
  a=$(sysctl_get "net.ipv4.conf.all.$key") || a=0
  i=$(sysctl_get "net.ipv4.conf.$IFACE.$key") || i=0
  m=$a
  [ "${i:-0}" -gt "${m:-0}" ] && m=$i
  if [ "${m:-0}" -lt "$want" ]; then
    die "net.ipv4.conf.{all,$IFACE}.$key is $a/$i, need $want: this RS would answer ARP for the VIP" \
      "and steal it from the director. Setting it failed (/proc/sys is read-only in a container):" \
      "set compose sysctls: { net.ipv4.conf.all.$key: $want } or docker run --sysctl net.ipv4.conf.all.$key=$want"
  fi
}

arp_setup() {
  need_arp_sysctl arp_ignore 1
  need_arp_sysctl arp_announce 2
  log "ARP: arp_ignore=1 arp_announce=2 in force (all/$IFACE)"
}

# ---- TX checksum offload ----------------------------------------------------------------------------
# veth peers send frames with an unfinished TCP/UDP checksum (offload); a userspace director that
# captures and re-emits them sends them on broken. Best effort: needs NET_ADMIN.
if command -v ethtool >/dev/null 2>&1 && ethtool -K "$IFACE" tx off >/dev/null 2>&1; then
  log "TX checksum offload off on $IFACE"
else
  log "warning: could not turn TX checksum offload off on $IFACE (cap_add NET_ADMIN?)"
fi

# ---- the forwarding method's RS side ----------------------------------------------------------------
case $LVS_MODE in
  dr)
    arp_setup
    ip addr replace "$VIP/32" dev lo ||
      die "cannot add $VIP/32 to lo (needs cap_add NET_ADMIN)"
    log "DR: VIP $VIP/32 on lo"
    ;;
  tun)
    arp_setup
    # tunl0 exists in every network namespace once the host kernel has loaded ipip
    # (`modprobe ipip` on the host: a container cannot load modules).
    if ip link show tunl0 >/dev/null 2>&1; then
      ip link set tunl0 up || die "cannot bring tunl0 up (needs cap_add NET_ADMIN)"
      ip addr replace "$VIP/32" dev tunl0 || die "cannot add $VIP/32 to tunl0 (needs cap_add NET_ADMIN)"
      # The decapsulated packet's source (the client) is not routed via tunl0: loose or no rp_filter.
      sysctl_set net.ipv4.conf.tunl0.rp_filter 0 || true
      sysctl_set net.ipv4.conf.all.rp_filter 0 || true
      rp=$(sysctl_get net.ipv4.conf.all.rp_filter) || rp='?'
      rpt=$(sysctl_get net.ipv4.conf.tunl0.rp_filter) || rpt='?'
      if [ "$rp" = 1 ] || [ "$rpt" = 1 ]; then
        log "warning: rp_filter is strict (all=$rp tunl0=$rpt): decapsulated packets will be dropped;" \
          "set sysctls net.ipv4.conf.all.rp_filter=0 and net.ipv4.conf.default.rp_filter=0"
      fi
      log "TUN: VIP $VIP/32 on tunl0 (kernel ipip decapsulation)"
    else
      # No ipip in the host kernel: lvs-decap decapsulates in userspace into the TUN device lvs0.
      log "TUN: no tunl0 here (the host kernel has no ipip module): starting lvs-decap"
      command -v lvs-decap >/dev/null 2>&1 || die "lvs-decap is not in this image (rebuild it from docker/Dockerfile.rs)"
      [ -c /dev/net/tun ] ||
        die "no /dev/net/tun for lvs-decap: give the container the device (compose devices: [/dev/net/tun]," \
          "as docker-compose.tun.yml does; docker run --device /dev/net/tun), or load ipip on the host"
      # The decapsulated packet's source (the client) is not routed via lvs0, and the kernel applies
      # max(all, lvs0): both must be 0, and lvs0 takes its value from default when it is created.
      for key in all default; do
        sysctl_set "net.ipv4.conf.$key.rp_filter" 0 || true
        v=$(sysctl_get "net.ipv4.conf.$key.rp_filter") || v='?'
        [ "$v" = 0 ] || die "net.ipv4.conf.$key.rp_filter is $v, need 0 for lvs-decap, and /proc/sys is read-only" \
          "here: set compose sysctls { net.ipv4.conf.all.rp_filter: 0, net.ipv4.conf.default.rp_filter: 0 }" \
          "(docker-compose.tun.yml does)"
      done
      # lvs0 lives as long as its lvs-decap: one that exists already belongs to another one.
      ! ip link show lvs0 >/dev/null 2>&1 || die "lvs0 exists already: another lvs-decap runs here"
      lvs-decap --dev lvs0 --vip "$VIP" &
      decap=$!
      # Ready once lvs0 carries the VIP (lvs-decap receives from then on); it says why when it exits.
      n=0
      until ip -o -4 addr show dev lvs0 2>/dev/null | grep -q " $VIP/32 "; do
        kill -0 "$decap" 2>/dev/null || die "lvs-decap exited (its message is above; cap_add NET_ADMIN and NET_RAW?)"
        n=$((n + 1))
        [ "$n" -le 50 ] || die "lvs-decap (pid $decap) did not bring lvs0 up with $VIP/32 within 5 s"
        sleep 0.1
      done
      # nginx replaces this shell as PID 1 below; lvs-decap runs on beside it until the container stops.
      log "TUN: lvs-decap (pid $decap) decapsulates IPIP into lvs0, VIP $VIP/32 on lvs0"
    fi
    ;;
  nat)
    ip route replace default via "$GATEWAY" dev "$IFACE" ||
      die "cannot set the default route via $GATEWAY on $IFACE (needs cap_add NET_ADMIN; on-link?)"
    log "NAT: default route via $GATEWAY (the director)"
    ;;
  none)
    log "LVS_MODE=none: plain nginx, no RS-side setup"
    ;;
esac

# ---- nginx --------------------------------------------------------------------------------------------
conf=/etc/nginx/rs.conf
cat >"$conf" <<EOF
# generated by rs-entrypoint for $RS_NAME (LVS_MODE=$LVS_MODE)
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr warn;
events {}
http {
    access_log off;
    server {
        listen $RS_PORT default_server;
        location / {
            default_type text/plain;
            return 200 "$RS_NAME\n";
        }
    }
}
EOF
nginx -t -q -c "$conf" || die "nginx rejects $conf"

if [ $# -gt 0 ]; then
  exec "$@"
fi
log "$RS_NAME serving on :$RS_PORT"
exec nginx -c "$conf" -g 'daemon off;'
