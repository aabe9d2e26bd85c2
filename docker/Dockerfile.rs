# docker/Dockerfile.rs — an LVS real server: nginx answering "<name>\n", plus the RS-side setup of
# the forwarding method (LVS_MODE=dr|tun|nat) done by rs-entrypoint.sh at start, and lvs-decap, the
# userspace IPIP decapsulator it runs for TUN when the host kernel has no ipip module (no tunl0).
#
# Build context: the repository root, for tools/lvs-decap (docker-compose.yml: `context: ..`,
# `dockerfile: docker/Dockerfile.rs`); Dockerfile.rs.dockerignore lets in only the files copied here:
#   docker build -f docker/Dockerfile.rs -t userlvs-rs .
#
# Environment:
#   RS_NAME   body nginx returns (default: the container's hostname)
#   RS_PORT   port nginx listens on (default 80)
#   LVS_MODE  dr | tun | nat | none (default none: plain nginx)
#   VIP       virtual IP (dr, tun): on lo (dr), on tunl0 or lvs-decap's lvs0 (tun), as /32
#   GATEWAY   director address for the default route (nat)
# Needs cap_add NET_ADMIN (addresses, routes, ethtool); the ARP sysctls are best set with compose
# `sysctls:` because /proc/sys is read-only in an unprivileged container. TUN through lvs-decap also
# needs NET_RAW, the device /dev/net/tun and rp_filter=0 (docker-compose.tun.yml sets all three).

# ---- lvs-decap: C, built with gcc here so the runtime image carries no compiler ---------------------
FROM debian:bookworm-slim AS decap
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY tools/lvs-decap/ /build/lvs-decap/
RUN gcc -O2 -Wall -Wextra -o /build/lvs-decap/lvs-decap /build/lvs-decap/lvs-decap.c

# ---- runtime ---------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# nginx-light as in scripts/setup (the netns lab's RS). procps: sysctl. ethtool: TX offload off.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light iproute2 procps ethtool \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default
COPY --from=decap /build/lvs-decap/lvs-decap /usr/local/bin/lvs-decap
COPY docker/rs-entrypoint.sh /usr/local/bin/rs-entrypoint
RUN chmod 0755 /usr/local/bin/rs-entrypoint /usr/local/bin/lvs-decap
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["rs-entrypoint"]
