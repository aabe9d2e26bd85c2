# shellcheck shell=bash
# Shared helpers for scripts/lab (and anything else that wants to find a lab):
# naming rules, the per-lab state dir, the control socket path, namespace discovery.
# Sourced, not executed. Callers set `set -euo pipefail` themselves.
# shellcheck disable=SC2034  # the LAB_* constants are used by the scripts that source this

# Repo root = parent of scripts/. Works however the caller was invoked.
LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# All generated lab files live under here, one directory per prefix.
LAB_STATE_BASE=/run/userlvs-lab

# The lab's fixed addressing plan. Net A, 10.0.0.0/24 on bridge br0 in the switch namespace, is the
# client-side LAN in every mode (and the only network in DR mode).
LAB_SUBNET_LEN=24
LAB_CLIENT_IP=10.0.0.2
LAB_DIRECTOR_IP=10.0.0.10
LAB_VIP=10.0.0.100
LAB_PORT=80

# The forwarding methods the lab can build a topology for.
LAB_MODES=(dr tun nat fullnat)
# Every RS also answers UDP on this port (scripts/lib/udp-name-server.py), and NAT/FullNAT add a
# port-mapping service VIP:LAB_MAP_PORT -> RS:LAB_PORT.
LAB_UDP_PORT=5353
LAB_MAP_PORT=8080
# Net B (bridge br1 in the switch namespace) holds the real servers in NAT, TUN and FullNAT modes.
#   nat:         10.0.1.0/24, the director's eth1 (10.0.1.1) is the RS default gateway
#   tun/fullnat: 10.0.2.0/24 behind a router (10.0.0.1 on net A, 10.0.2.1 on net B)
LAB_NAT_GW_IP=10.0.1.1
LAB_ROUTER_A_IP=10.0.0.1
LAB_ROUTER_B_IP=10.0.2.1
# FullNAT local addresses (LIPs) on the director's eth0, inside net A so the router reaches them on-link.
LAB_LIPS=(10.0.0.200 10.0.0.201)

LAB_TAG=${LAB_TAG:-lab}

lab_log() { printf '%s: %s\n' "$LAB_TAG" "$*" >&2; }
lab_die() { printf '%s: error: %s\n' "$LAB_TAG" "$*" >&2; exit 1; }

# Short prefixes only: every namespace name is "${prefix}${role}".
lab_validate_prefix() {
  local p=$1
  [[ $p =~ ^[a-z][a-z0-9-]{0,9}$ ]] ||
    lab_die "invalid prefix '$p' (want 1-10 chars: a lowercase letter, then [a-z0-9-], e.g. lvs- or t1-)"
}

lab_state_dir() { printf '%s/%s\n' "$LAB_STATE_BASE" "$1"; }

# /run/lvsd.sock for the default lab (what lvsadm uses by default), one socket per other prefix.
lab_socket_path() {
  local p=$1
  if [[ $p == lvs- ]]; then
    printf '/run/lvsd.sock\n'
  else
    printf '/run/lvsd-%s.sock\n' "${p%-}"
  fi
}

# rsK's address in DR mode: 10.0.0.(10+K); rs1 = 10.0.0.11.
lab_rs_ip() { printf '10.0.0.%d\n' "$((10 + $1))"; }

lab_valid_mode() { [[ " ${LAB_MODES[*]} " == *" $1 "* ]]; }

# rsK's address in mode $1: dr 10.0.0.(10+K), nat 10.0.1.(10+K), tun and fullnat 10.0.2.(10+K).
lab_rs_ip_for() {
  local mode=$1 k=$2
  case $mode in
    dr) lab_rs_ip "$k" ;;
    nat) printf '10.0.1.%d\n' "$((10 + k))" ;;
    tun|fullnat) printf '10.0.2.%d\n' "$((10 + k))" ;;
    *) lab_die "unknown mode '$mode'" ;;
  esac
}

# The RS default gateway in mode $1 (empty in DR: the RS answers on the shared LAN).
lab_rs_gateway_for() {
  case $1 in
    nat) printf '%s\n' "$LAB_NAT_GW_IP" ;;
    tun|fullnat) printf '%s\n' "$LAB_ROUTER_B_IP" ;;
    *) printf '\n' ;;
  esac
}

# Locally administered MACs ending in the host's last two IPv4 octets (easy to read in tcpdump):
# 10.0.0.11 -> 02:00:00:00:00:0b, 10.0.2.11 -> 02:00:00:00:02:0b.
lab_mac_for_ip() {
  local o3=${1%.*}
  o3=${o3##*.}
  printf '02:00:00:00:%02x:%02x\n' "$o3" "${1##*.}"
}

# Existing namespaces that belong to the lab with prefix $1. Matches exact role names only, so
# lab "lvs-" never claims namespaces of a lab "lvs-x-".
lab_existing_namespaces() {
  local p=$1 name
  while read -r name _; do
    [[ -n $name && $name == "$p"* ]] || continue
    [[ ${name#"$p"} =~ ^(sw|client|director|router|rs[0-9]+)$ ]] && printf '%s\n' "$name"
  done < <(ip netns list 2>/dev/null)
  return 0
}

# True when process $1 exists and is not a zombie (PID 1 here may not reap orphans promptly).
lab_pid_alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Network namespace identity of a named netns ("net:[inode]" form, as /proc/PID/ns/net reads).
lab_netns_id() {
  local ino
  ino=$(stat -L -c %i "/run/netns/$1" 2>/dev/null) || return 1
  printf 'net:[%s]\n' "$ino"
}
