// lvs-decap, the real-server IPIP decapsulator for TUN mode, in a 2-namespace lab built by hand:
// "director" A (10.0.2.1) sends IPIP with scapy, "RS" B (10.0.2.11) runs lvs-decap for VIP 10.0.0.100
// and answers from the VIP straight back to A.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, namespacesWith, ROOT, SCAPY_PYTHON, uniquePrefix } from './lab';

const BIN = join(ROOT, 'bin', 'lvs-decap');
const DIR = '10.0.2.1';
const RIP = '10.0.2.11';
const VIP = '10.0.0.100';
const VIP2 = '10.0.0.101';

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (needs network namespaces and a TUN device)';
  for (const bin of ['ip', 'ethtool']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (run scripts/setup)`;
  }
  if (!existsSync(join(ROOT, 'dist', 'lvs-decap'))) return 'lvs-decap is not built (run scripts/setup)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (spawnSync(SCAPY_PYTHON, ['-c', 'import scapy.all']).status !== 0) return `${SCAPY_PYTHON} has no scapy (run scripts/setup)`;
  return null;
}

const skip = unavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const execFileP = promisify(execFile);

// The RS's service. UDP 5353 answers "rs1\n": a socket bound to each VIP (as a UDP service behind
// LVS must be: one bound to 0.0.0.0 answers from the address routed towards the client, the RS's
// own), plus one on 0.0.0.0 that answers anything else, so a wrongly delivered packet would show.
// TCP 80 listens (the kernel answers a SYN from the address it was sent to). Prints "ready".
const SERVER = `
import select, socket
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 80)); t.listen(16)
us = []
for addr in ("${VIP}", "${VIP2}", "0.0.0.0"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind((addr, 5353))
    us.append(u)
print("ready", flush=True)
while True:
    for u in select.select(us, [], [])[0]:
        d, a = u.recvfrom(65535)
        u.sendto(b"rs1\\n", a)
`;

// Run in A: send one IPIP packet of the given kind to the RS and report (JSON) every TCP/UDP packet
// that comes back to A from the VIP or the RS's own address. Good probes stop at the first answer.
const PROBE = `
import json, sys, threading
from scapy.all import IP, UDP, TCP, Raw, AsyncSniffer, conf, fragment, send
conf.verb = 0
kind, sport, vip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
DIR, RIP = "${DIR}", "${RIP}"
outer = IP(src=DIR, dst=RIP)
if kind == "udp":
    pkt, want = outer / IP(src=DIR, dst=vip) / UDP(sport=sport, dport=5353) / b"hi", 1
elif kind == "udp-fragmented":
    # a 3028-byte inner packet: the outer packet goes out in 3 fragments, the RS reassembles them
    pkt, want = fragment(outer / IP(src=DIR, dst=vip) / UDP(sport=sport, dport=5353) / (b"x" * 3000), fragsize=1400), 1
elif kind == "tcp-syn":
    pkt, want = outer / IP(src=DIR, dst=vip) / TCP(sport=sport, dport=80, flags="S", seq=1000), 1
elif kind == "truncated":
    # the inner header claims 48 bytes, only 30 follow the outer header
    inner = bytes(IP(src=DIR, dst=vip) / UDP(sport=sport, dport=5353) / (b"x" * 20))
    pkt, want = IP(src=DIR, dst=RIP, proto=4) / Raw(inner[:30]), 0
elif kind == "not-vip":
    # well formed, but the inner destination is the RS's own address, not a VIP
    pkt, want = outer / IP(src=DIR, dst=RIP) / UDP(sport=sport, dport=5353) / b"hi", 0
else:
    sys.exit("unknown kind " + kind)

def ours(p):
    if IP not in p or p[IP].dst != DIR or p[IP].src not in (vip, RIP) or p[IP].proto not in (6, 17):
        return False
    l4 = p[IP].payload
    return l4.dport == sport

started = threading.Event()
sn = AsyncSniffer(iface="eth0", filter="ip", lfilter=ours, count=want or 0, timeout=3 if want else 1.5,
                  started_callback=started.set)
sn.start()
started.wait(5)
send(pkt, iface="eth0")
sn.join()
out = []
for p in sn.results:
    ip = p[IP]
    raw = bytes(ip)
    l4 = ip.payload
    r = {"src": ip.src, "dst": ip.dst, "proto": ip.proto, "sport": l4.sport, "dport": l4.dport}
    if ip.proto == 17:
        r["payload"] = raw[ip.ihl * 4 + 8:ip.len].decode("latin-1")
    else:
        r["flags"] = str(l4.flags)
        r["ack"] = l4.ack
    out.append(r)
print(json.dumps(out))
`;

interface Reply { src: string; dst: string; proto: number; sport: number; dport: number; payload?: string; flags?: string; ack?: number }

describe.skipIf(skip !== null)(title('lvs-decap: IPIP decapsulation into a TUN device carrying the VIP'), () => {
  const prefix = uniquePrefix('tdc');
  const A = `${prefix}dir`;
  const B = `${prefix}rs`;
  let decap: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let decapErr = '';
  let decapExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  const inNs = (ns: string, cmd: string[], timeout = 20_000): string =>
    execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', timeout });
  const probe = async (kind: string, sport: number, vip = VIP): Promise<Reply[]> => {
    const { stdout } = await execFileP('ip', ['netns', 'exec', A, SCAPY_PYTHON, '-c', PROBE, kind, String(sport), vip], { encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as Reply[];
  };
  const waitFor = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
    for (let t = 0; t < ms && !ok(); t += 50) await sleep(50);
    if (!ok()) throw new Error(`timed out waiting for ${what}; lvs-decap stderr:\n${decapErr}`);
  };
  /** SIGUSR1 makes lvs-decap print its counters; parse the newest line. */
  const counters = async (): Promise<Record<string, number>> => {
    const lines = () => decapErr.split('\n').slice(0, -1).filter((l) => l.startsWith('lvs-decap: counters '));
    const n = lines().length;
    process.kill(decap!.pid!, 'SIGUSR1');
    await waitFor('a counters line', () => lines().length > n);
    const line = lines().pop()!;
    return Object.fromEntries([...line.matchAll(/([a-z-]+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  };

  beforeAll(async () => {
    for (const ns of [A, B]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', A, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', B]);
    for (const [ns, addr] of [[A, `${DIR}/24`], [B, `${RIP}/24`]]) {
      execFileSync('ip', ['-n', ns, 'addr', 'add', addr, 'dev', 'eth0']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // veth TX checksum offload would leave unfinished checksums on the RS's replies
      inNs(ns, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    }

    // a hardened RS: strict reverse-path filtering, also on devices created from now on (lvs0);
    // the decapsulated source (the client) is routed via eth0, so lvs-decap must turn it off
    inNs(B, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.default.rp_filter=1']);

    decap = spawn('ip', ['netns', 'exec', B, BIN, '--dev', 'lvs0', '--vip', VIP, '--vip', VIP2], { stdio: ['ignore', 'ignore', 'pipe'] });
    decap.stderr!.on('data', (d: Buffer) => (decapErr += d.toString()));
    decapExit = new Promise((resolve) => decap!.on('exit', (code, signal) => resolve({ code, signal })));
    await waitFor('lvs-decap to start', () => decapErr.includes('receiving IPIP') || decap!.exitCode !== null);
    if (decap.exitCode !== null) throw new Error(`lvs-decap exited ${decap.exitCode} at start:\n${decapErr}`);

    // after lvs-decap: the UDP service binds the VIPs, which lvs-decap put on lvs0
    server = spawn('ip', ['netns', 'exec', B, SCAPY_PYTHON, '-u', '-c', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    let serverOut = '';
    server.stdout!.on('data', (d: Buffer) => (serverOut += d.toString()));
    await waitFor('the RS service', () => serverOut.includes('ready'));
  });

  afterAll(async () => {
    // kill and reap what this file started (the pid is the program: ip netns exec execs it)
    for (const p of [decap, server]) {
      if (!p || p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await Promise.race([gone, sleep(5000)]);
    }
    // anything else still running in the two namespaces was started by this file
    for (const ns of [A, B]) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
      for (const pid of pids) try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    for (const ns of [A, B]) spawnSync('ip', ['netns', 'del', ns]);
    expect(namespacesWith(prefix)).toEqual([]);
  });

  it('logs a start line and runs as the spawned pid (ip netns exec and the wrapper exec, never fork)', () => {
    expect(decapErr.split('\n')).toContain(`lvs-decap: lvs0 up, vips ${VIP}/32 ${VIP2}/32, receiving IPIP (pid ${decap!.pid})`);
  });

  it('creates lvs0 up with the VIPs as /32, and rp_filter 0 on lvs0 and all', () => {
    const [link] = JSON.parse(inNs(B, ['ip', '-j', 'addr', 'show', 'dev', 'lvs0'])) as { flags: string[]; addr_info: { family: string; local: string; prefixlen: number }[] }[];
    expect(link.flags).toContain('UP');
    expect(link.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${VIP}/32`, `${VIP2}/32`]);
    expect(inNs(B, ['cat', '/proc/sys/net/ipv4/conf/lvs0/rp_filter', '/proc/sys/net/ipv4/conf/all/rp_filter'])).toBe('0\n0\n');
    // the driver is tun (a TUN device, not some other kind of link that happened to be named lvs0)
    expect(inNs(B, ['ethtool', '-i', 'lvs0'])).toMatch(/^driver: tun$/m);
  });

  it('a UDP datagram to the VIP inside IPIP is answered by the RS directly from the VIP', async () => {
    const replies = await probe('udp', 40000);
    expect(replies).toEqual([{ src: VIP, dst: DIR, proto: 17, sport: 5353, dport: 40000, payload: 'rs1\n' }]);
  });

  it('a TCP SYN to VIP:80 inside IPIP gets a SYN-ACK from the VIP', async () => {
    const replies = await probe('tcp-syn', 40001);
    expect(replies).toEqual([{ src: VIP, dst: DIR, proto: 6, sport: 80, dport: 40001, flags: 'SA', ack: 1001 }]);
  });

  it('counts a truncated inner packet and a non-VIP inner destination as dropped, delivers neither', async () => {
    const before = await counters();
    expect(before).toMatchObject({ received: 2, delivered: 2, dropped: 0 });
    expect(await probe('truncated', 40002)).toEqual([]);
    expect(await probe('not-vip', 40003)).toEqual([]);
    const after = await counters();
    expect(after).toMatchObject({ received: 4, delivered: 2, dropped: 2, 'bad-inner': 1, 'not-vip': 1, 'tun-write': 0 });
  });

  it('still running after the bad packets: the next good one is delivered', async () => {
    expect(alive(decap!.pid!)).toBe(true);
    expect(await probe('udp', 40004)).toEqual([expect.objectContaining({ src: VIP, sport: 5353, dport: 40004, payload: 'rs1\n' })]);
    expect(await counters()).toMatchObject({ received: 5, delivered: 3, dropped: 2 });
  });

  it('a second lvs-decap for the same device refuses clearly and leaves the first one working', async () => {
    const r = spawnSync('ip', ['netns', 'exec', B, BIN, '--dev', 'lvs0', '--vip', VIP], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^lvs-decap: TUNSETIFF lvs0: Device or resource busy/m);
    expect(await probe('udp', 40005)).toEqual([expect.objectContaining({ src: VIP, payload: 'rs1\n' })]);
  });

  it('a second VIP works too, and a fragmented outer packet is reassembled and delivered once', async () => {
    expect(await probe('udp-fragmented', 40006, VIP2)).toEqual([{ src: VIP2, dst: DIR, proto: 17, sport: 5353, dport: 40006, payload: 'rs1\n' }]);
    expect(await counters()).toMatchObject({ received: 7, delivered: 5, dropped: 2 });
  });

  it('refuses bad arguments (exit 2) and a non-root user (exit 1) before touching anything', () => {
    const bad = spawnSync('ip', ['netns', 'exec', B, BIN, '--vip', '10.0.0.300'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr.split('\n')[0]]).toEqual([2, "lvs-decap: bad --vip '10.0.0.300' (an IPv4 address)"]);
    const none = spawnSync('ip', ['netns', 'exec', B, BIN, '--dev', 'lvs9'], { encoding: 'utf8' });
    expect([none.status, none.stderr.split('\n')[0]]).toEqual([2, 'lvs-decap: at least one --vip is needed']);
    const user = spawnSync('ip', ['netns', 'exec', B, 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', BIN, '--dev', 'lvs9', '--vip', VIP], { encoding: 'utf8' });
    expect([user.status, user.stderr.split('\n')[0]]).toEqual([1, 'lvs-decap: must run as root (creates a TUN device and a raw socket)']);
    // no TUN driver: an empty /dev/net in a private mount namespace
    const noTun = spawnSync('ip', ['netns', 'exec', B, 'unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /dev/net && exec "$0" --dev lvs9 --vip 10.0.0.100', BIN], { encoding: 'utf8' });
    expect([noTun.status, noTun.stderr.split('\n')[0]]).toEqual([1, 'lvs-decap: /dev/net/tun: No such file or directory (is the tun module loaded?)']);
    expect(spawnSync('ip', ['-n', B, 'link', 'show', 'lvs9']).status).not.toBe(0);
  });

  it('SIGTERM: exits 0 with its counters, and lvs0 is gone from the RS', async () => {
    process.kill(decap!.pid!, 'SIGTERM');
    const exit = await Promise.race([decapExit!, sleep(5000).then(() => ({ code: -1, signal: 'timeout' }))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(decapErr).toMatch(/^lvs-decap: exit received=7 delivered=5 dropped=2 short=0 bad-outer=0 not-ipip=0 bad-inner=1 not-vip=1 tun-write=0$/m);
    expect(spawnSync('ip', ['-n', B, 'link', 'show', 'lvs0'], { encoding: 'utf8' }).stderr).toContain('does not exist');
    expect(inNs(B, ['ip', '-4', 'addr'])).not.toMatch(/10\.0\.0\.10[01]/);
  });
});
