# docker/Dockerfile.rs — an LVS real server: nginx answering "<name>\n", plus the RS-side setup of
# the forwarding method (LVS_MODE=dr|tun|nat) done by rs-entrypoint.sh at start.
# Build context: docker/ (docker-compose.yml: `context: .`).
#
# Environment:
#   RS_NAME   body nginx returns (default: the container's hostname)
#   RS_PORT   port nginx listens on (default 80)
#   LVS_MODE  dr | tun | nat | none (default none: plain nginx)
#   VIP       virtual IP (dr, tun): put on lo (dr) or tunl0 (tun) as /32
#   GATEWAY   director address for the default route (nat)
# Needs cap_add NET_ADMIN (addresses, routes, ethtool); the ARP sysctls are best set with compose
# `sysctls:` because /proc/sys is read-only in an unprivileged container.
FROM debian:bookworm-slim
# nginx-light as in scripts/setup (the netns lab's RS). procps: sysctl. ethtool: TX offload off.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light iproute2 procps ethtool \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default
COPY rs-entrypoint.sh /usr/local/bin/rs-entrypoint
RUN chmod 0755 /usr/local/bin/rs-entrypoint
EXPOSE 80
STOPSIGNAL SIGQUIT
ENTRYPOINT ["rs-entrypoint"]
