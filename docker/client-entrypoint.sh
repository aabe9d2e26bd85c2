#!/bin/sh
# client-entrypoint — the lab client's start: turn TX checksum offload off on eth0, then run the
# command (default: sleep infinity; use `docker compose exec client ...` to drive traffic).
#
# veth peers send frames with an unfinished TCP/UDP checksum (TX offload). A userspace director
# that captures a client frame and re-emits it unchanged (DR) passes the broken checksum on and
# the RS drops it, so the client must send finished checksums. Best effort: needs NET_ADMIN.
set -eu
IFACE=${CLIENT_IFACE:-eth0}
if command -v ethtool >/dev/null 2>&1 && ethtool -K "$IFACE" tx off >/dev/null 2>&1; then
  printf 'client-entrypoint: TX checksum offload off on %s\n' "$IFACE" >&2
else
  printf 'client-entrypoint: warning: could not turn TX checksum offload off on %s (cap_add NET_ADMIN?);\n' "$IFACE" >&2
  printf 'client-entrypoint: DR through a userspace director may then fail with bad TCP checksums\n' >&2
fi
[ $# -gt 0 ] || set -- sleep infinity
exec "$@"
