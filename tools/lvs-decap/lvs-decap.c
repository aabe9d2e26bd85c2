/*
 * lvs-decap — real-server side of LVS TUN mode without the kernel's ipip module.
 *
 * The director wraps the client's IPv4 packet in an outer IPv4 header (protocol 4, IPIP) and
 * sends it to the real server. Normally tunl0 (the ipip module) decapsulates it. This helper
 * does the same in userspace: a raw socket for protocol 4 receives the whole outer packet, and
 * the inner packet (src = client, dst = VIP) is written to a TUN device that carries the VIP,
 * so the kernel receives it as if it had arrived on that device and answers from the VIP.
 *
 *   lvs-decap [--dev lvs0] --vip 10.0.0.100 [--vip ...] [--quiet]
 *
 * Setup order: raw socket, TUN device, sysctls, VIPs, link up, start line. So once the device
 * is up with its VIPs, the helper is ready to receive.
 * SIGTERM/SIGINT: close the TUN device (it disappears), print counters, exit 0.
 * SIGUSR1: print counters and keep running.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define PROG "lvs-decap"
#define MAX_VIPS 64
#define BUF_SIZE 65536
#define IPPROTO_IPIP_ 4

/* Drop reasons; the order is the order of the counters line. */
enum { D_SHORT, D_BAD_OUTER, D_NOT_IPIP, D_BAD_INNER, D_NOT_VIP, D_TUN_WRITE, D_COUNT };
static const char *const drop_name[D_COUNT] = {
	"short", "bad-outer", "not-ipip", "bad-inner", "not-vip", "tun-write",
};

static struct {
	unsigned long long received, delivered, dropped, drop[D_COUNT];
} stats;

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t dump_requested;

static uint8_t buf[BUF_SIZE];

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_requested = 1;
	else
		stop_signal = sig;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: " PROG " [--dev NAME] --vip ADDR [--vip ADDR ...] [--quiet]\n"
		"\n"
		"Decapsulates LVS TUN (IPIP) packets on a real server without the ipip module:\n"
		"receives IP protocol 4 on a raw socket and writes the inner packet to TUN device\n"
		"NAME (default lvs0), which carries each VIP as /32 and has rp_filter=0.\n"
		"Inner packets whose destination is not a VIP are dropped and counted.\n"
		"Run as root in the real server's network namespace. SIGTERM/SIGINT: remove the\n"
		"device and exit; SIGUSR1: print counters to stderr.\n"
		"\n"
		"  --dev NAME   TUN device to create (default lvs0)\n"
		"  --vip ADDR   virtual IPv4 address (repeatable, at least one)\n"
		"  --quiet      no start line and no counters at exit (errors still go to stderr)\n");
	exit(code);
}

/* One line, one write: a reader never sees half a counters line. */
static void print_stats(const char *what)
{
	char line[512];
	int n = snprintf(line, sizeof(line), PROG ": %s received=%llu delivered=%llu dropped=%llu",
			 what, stats.received, stats.delivered, stats.dropped);
	for (int i = 0; i < D_COUNT && n > 0 && (size_t)n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu", drop_name[i], stats.drop[i]);
	if (n <= 0 || (size_t)n >= sizeof(line) - 1)
		return;
	line[n++] = '\n';
	fflush(stderr);
	while (write(STDERR_FILENO, line, (size_t)n) < 0 && errno == EINTR)
		;
}

/* Write "0"/"1" to a /proc/sys file; returns 0 or an errno. */
/* A file that already holds the value is not written: /proc/sys is read-only in an unprivileged container,
 * where compose sysctls have set it already. */
static int write_sysctl(const char *path, const char *value)
{
	char cur[16];
	int rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd >= 0) {
		ssize_t r = read(rfd, cur, sizeof(cur) - 1);
		close(rfd);
		while (r > 0 && (cur[r - 1] == '\n' || cur[r - 1] == ' '))
			r--;
		size_t want = strlen(value);
		while (want > 0 && value[want - 1] == '\n')
			want--;
		if (r > 0 && (size_t)r == want && memcmp(cur, value, want) == 0)
			return 0;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ssize_t n = write(fd, value, strlen(value));
	int err = n < 0 ? errno : 0;
	close(fd);
	return err;
}

/* Add addr/32 to ifindex over rtnetlink; an address already there is fine. */
static void add_address(int nl, unsigned ifindex, struct in_addr addr, const char *dev)
{
	static uint32_t seq;
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[2 * RTA_SPACE(sizeof(struct in_addr))];
	} req;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = ++seq;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = 32;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = ifindex;
	const unsigned short types[2] = { IFA_LOCAL, IFA_ADDRESS };
	for (int i = 0; i < 2; i++) {
		struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = types[i];
		rta->rta_len = RTA_LENGTH(sizeof(addr));
		memcpy(RTA_DATA(rta), &addr, sizeof(addr));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(sizeof(addr));
	}

	char abuf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, abuf, sizeof(abuf));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(nl, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		die("adding %s/32 to %s: netlink send: %s", abuf, dev, strerror(errno));
	for (;;) {
		char rbuf[4096];
		ssize_t n = recv(nl, rbuf, sizeof(rbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("adding %s/32 to %s: netlink receive: %s", abuf, dev, strerror(errno));
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			int err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (err && err != EEXIST)
				die("adding %s/32 to %s: %s", abuf, dev, strerror(err));
			return;
		}
	}
}

static int is_vip(uint32_t dst, const uint32_t *vips, int nvips)
{
	for (int i = 0; i < nvips; i++)
		if (vips[i] == dst)
			return 1;
	return 0;
}

static void drop(int reason)
{
	stats.dropped++;
	stats.drop[reason]++;
}

/*
 * Check one received outer packet (the raw socket hands over the whole IPv4 packet, header
 * included, after the kernel reassembled any fragments). Returns a drop reason, or -1 with the
 * inner packet's offset and length in *off and *len.
 */
static int check(size_t n, const uint32_t *vips, int nvips, size_t *off, size_t *len)
{
	if (n < 20)
		return D_SHORT;
	const uint8_t *o = buf;
	size_t ohl = (size_t)(o[0] & 0x0f) * 4;
	size_t otot = ((size_t)o[2] << 8) | o[3];
	if ((o[0] >> 4) != 4 || ohl < 20 || otot < ohl || otot > n)
		return D_BAD_OUTER;
	if (o[9] != IPPROTO_IPIP_)
		return D_NOT_IPIP;

	const uint8_t *in = o + ohl;
	size_t room = otot - ohl;
	if (room < 20)
		return D_BAD_INNER;
	size_t ihl = (size_t)(in[0] & 0x0f) * 4;
	size_t itot = ((size_t)in[2] << 8) | in[3];
	if ((in[0] >> 4) != 4 || ihl < 20 || itot < ihl || itot > room)
		return D_BAD_INNER;
	uint32_t dst;
	memcpy(&dst, in + 16, 4);
	if (!is_vip(dst, vips, nvips))
		return D_NOT_VIP;
	*off = ohl;
	*len = itot;
	return -1;
}

/* One received packet: count it, and write its inner packet to the TUN device or drop it. */
static void handle(int tun, size_t n, const uint32_t *vips, int nvips)
{
	size_t off = 0, len = 0;
	stats.received++;
	int reason = check(n, vips, nvips, &off, &len);
	if (reason >= 0) {
		drop(reason);
		return;
	}
	for (;;) {
		ssize_t w = write(tun, buf + off, len);
		if (w == (ssize_t)len) {
			stats.delivered++;
			return;
		}
		if (w < 0 && errno == EINTR)
			continue;
		drop(D_TUN_WRITE);
		return;
	}
}

int main(int argc, char **argv)
{
	const char *dev = "lvs0";
	uint32_t vips[MAX_VIPS];
	int nvips = 0, quiet = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			quiet = 1;
			continue;
		}
		int is_dev = !strcmp(a, "--dev") || !strncmp(a, "--dev=", 6);
		int is_vip_opt = !strcmp(a, "--vip") || !strncmp(a, "--vip=", 6);
		if (!is_dev && !is_vip_opt) {
			fprintf(stderr, PROG ": unknown argument '%s'\n", a);
			usage(2);
		}
		if (a[5] == '=') {
			val = a + 6;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, PROG ": option %s needs a value\n", a);
			usage(2);
		}
		if (is_dev) {
			if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/') || strchr(val, ' ')) {
				fprintf(stderr, PROG ": bad device name '%s' (1-%d characters, no '/' or space)\n",
					val, IFNAMSIZ - 1);
				exit(2);
			}
			dev = val;
		} else {
			struct in_addr ad;
			if (inet_pton(AF_INET, val, &ad) != 1) {
				fprintf(stderr, PROG ": bad --vip '%s' (an IPv4 address)\n", val);
				exit(2);
			}
			if (is_vip(ad.s_addr, vips, nvips))
				continue;
			if (nvips == MAX_VIPS) {
				fprintf(stderr, PROG ": too many VIPs (at most %d)\n", MAX_VIPS);
				exit(2);
			}
			vips[nvips++] = ad.s_addr;
		}
	}
	if (nvips == 0) {
		fprintf(stderr, PROG ": at least one --vip is needed\n");
		usage(2);
	}
	if (geteuid() != 0)
		die("must run as root (creates a TUN device and a raw socket)");

	/* Raw socket first: once the device is up with its VIPs, packets are already being received. */
	int raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPIP_);
	if (raw < 0)
		die("raw socket for IP protocol 4: %s", strerror(errno));
	int rcvbuf = 4 << 20;
	if (setsockopt(raw, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(raw, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun < 0) {
		int e = errno;
		die("/dev/net/tun: %s%s", strerror(e),
		    e == ENOENT || e == ENODEV ? " (is the tun module loaded?)" : "");
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
	if (ioctl(tun, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		die("TUNSETIFF %s: %s%s", dev, strerror(e),
		    e == EBUSY ? " (in use: is another lvs-decap running for it?)"
		    : e == EINVAL ? " (a device of another kind has that name?)" : "");
	}
	dev = strdupa(ifr.ifr_name);

	/* The inner source (the client) is not routed via the TUN device: rp_filter must be off on
	 * it, and the kernel uses max(all, dev), so on "all" too. */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", dev);
	const char *const rp[2] = { path, "/proc/sys/net/ipv4/conf/all/rp_filter" };
	for (int i = 0; i < 2; i++) {
		int e = write_sysctl(rp[i], "0\n");
		if (e)
			die("%s: %s", rp[i], strerror(e));
	}
	/* No IPv6 on the device (nothing to send there); best effort, IPv6 may be absent. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	(void)write_sysctl(path, "1\n");

	unsigned ifindex = if_nametoindex(dev);
	if (!ifindex)
		die("%s: %s", dev, strerror(errno));
	int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		die("netlink socket: %s", strerror(errno));
	for (int i = 0; i < nvips; i++) {
		struct in_addr ad = { .s_addr = vips[i] };
		add_address(nl, ifindex, ad, dev);
	}
	close(nl);

	int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ctl < 0)
		die("socket: %s", strerror(errno));
	if (ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS %s: %s", dev, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0)
		die("bringing %s up: %s", dev, strerror(errno));
	close(ctl);

	/* Signals stay blocked except inside ppoll, so a SIGTERM can never slip in between the
	 * check of stop_signal and a blocking wait. */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (!quiet) {
		fprintf(stderr, PROG ": %s up, vips", dev);
		for (int i = 0; i < nvips; i++) {
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &vips[i], a, sizeof(a));
			fprintf(stderr, " %s/32", a);
		}
		fprintf(stderr, ", receiving IPIP (pid %ld)\n", (long)getpid());
	}

	struct pollfd pfd = { .fd = raw, .events = POLLIN };
	while (!stop_signal) {
		if (dump_requested) {
			dump_requested = 0;
			print_stats("counters");
		}
		int r = ppoll(&pfd, 1, NULL, &waitmask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (pfd.revents & (POLLERR | POLLNVAL))
			die("raw socket: poll reported an error");
		/* Drain what is queued, a bounded batch so a flood cannot hold off signals (they are
		 * blocked here and delivered in ppoll). */
		for (int batch = 0; batch < 256; batch++) {
			ssize_t n = recv(raw, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				if (errno == ENOBUFS || errno == ENOMEM)
					continue;
				die("recv: %s", strerror(errno));
			}
			if ((size_t)n > sizeof(buf)) { /* cannot happen for IPv4, but never trust it */
				stats.received++;
				drop(D_BAD_OUTER);
				continue;
			}
			handle(tun, (size_t)n, vips, nvips);
		}
	}

	close(tun); /* a non-persistent TUN device disappears with its last fd */
	close(raw);
	if (!quiet) {
		fprintf(stderr, PROG ": %s removed (%s)\n", dev, strsignal(stop_signal));
		print_stats("exit");
	}
	return 0;
}
