# shellcheck shell=bash
# Shared helpers for scripts/lab (and anything else that wants to find a lab):
# naming rules, the per-lab state dir, the control socket path, namespace discovery.
# Sourced, not executed. Callers set `set -euo pipefail` themselves.
# shellcheck disable=SC2034  # the LAB_* constants are used by the scripts that source this

# Repo root = parent of scripts/. Works however the caller was invoked.
LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# All generated lab files live under here, one directory per prefix.
LAB_STATE_BASE=/run/userlvs-lab

# The lab's fixed addressing plan (one L2 subnet on the sw bridge).
LAB_SUBNET_LEN=24
LAB_CLIENT_IP=10.0.0.2
LAB_DIRECTOR_IP=10.0.0.10
LAB_VIP=10.0.0.100
LAB_PORT=80

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

# rsK's address: 10.0.0.(10+K); rs1 = 10.0.0.11.
lab_rs_ip() { printf '10.0.0.%d\n' "$((10 + $1))"; }

# Locally administered MACs whose last byte is the host's last IPv4 octet (easy to read in tcpdump).
lab_mac_for_ip() { printf '02:00:00:00:00:%02x\n' "${1##*.}"; }

# Existing namespaces that belong to the lab with prefix $1. Matches exact role names only, so
# lab "lvs-" never claims namespaces of a lab "lvs-x-".
lab_existing_namespaces() {
  local p=$1 name
  while read -r name _; do
    [[ -n $name && $name == "$p"* ]] || continue
    [[ ${name#"$p"} =~ ^(sw|client|director|rs[0-9]+)$ ]] && printf '%s\n' "$name"
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
