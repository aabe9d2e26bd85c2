// The capture on real interfaces, on libpcap and on the ring backend alike: frames past the capture length are
// counted and dropped, the capture length follows the MTU, receive aggregation is off while capturing and restored
// after, and the capture survives its interface going down and up (also faster than the watch looks) with no
// restart.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, curlLoop, inNs, labDown, labStatus, labUnavailable, labUp, namespacesWith, ROOT, SCAPY_PYTHON, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `get` until `ok` holds (bounded); returns the last value so the assertion shows it. */
async function until<T>(get: () => T, ok: (v: T) => boolean, tries = 100, everyMs = 100): Promise<T> {
  let v = get();
  for (let i = 0; i < tries && !ok(v); i++) {
    await sleep(everyMs);
    v = get();
  }
  return v;
}

// PcapIo from the build (on libpcap, or on the ring when told), on eth0 of the namespace it runs in: counts what
// its sink receives, writes a snapshot every 100 ms, and logs each warn/info line. SIGTERM closes it (which
// restores receive aggregation). Its filter leaves out its own frames by source MAC, as lvsd's does
// (io/capture-filter.ts says why not `inbound`).
const PROBE = `
const { writeFileSync, appendFileSync, renameSync } = require('node:fs');
const { PcapIo } = require(${JSON.stringify(join(ROOT, 'dist', 'io', 'pcap-io.js'))});
const { RingSession } = require(${JSON.stringify(join(ROOT, 'dist', 'io', 'ring-session.js'))});
const [state, logFile, filter, backend] = process.argv.slice(2);
const log = (level) => (msg) => appendFileSync(logFile, level + ' ' + msg + '\\n');
const io = new PcapIo('eth0', filter, log('warn'), log('info'), backend === 'ring' ? (o) => new RingSession(o) : undefined);
let frames = 0, maxLen = 0;
io.start({ onFrame(buf, len) { frames++; if (len > maxLen) maxLen = len; } });
const snap = () => {
  writeFileSync(state + '.tmp', JSON.stringify({ frames, maxLen, health: io.health(), stats: io.stats() }));
  renameSync(state + '.tmp', state);
};
snap();
setInterval(snap, 100);
process.on('SIGTERM', () => { io.close(); process.exit(0); });
`;

interface Snap {
  frames: number;
  maxLen: number;
  health: { capturing: boolean; truncated: number; reopens: number; handlerErrors: number };
}

describe.skipIf(skip !== null).each(['pcap', 'ring'])(title('PcapIo on a veth pair, on %s'), (backend) => {
  const prefix = uniquePrefix(`c${backend[0]}`);
  const a = `${prefix}a`;
  const b = `${prefix}b`;
  const dir = mkdtempSync(join(tmpdir(), 'capture-lab-'));
  const state = join(dir, 'state.json');
  const logFile = join(dir, 'log');
  let probe: ChildProcess | null = null;

  const snap = (): Snap => JSON.parse(readFileSync(state, 'utf8')) as Snap;
  const logText = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  /** UDP datagrams of `size` bytes from a to b:5353; `segment` sends them as one UDP GSO super-frame. */
  const send = (count: number, size: number, segment = 0): void => {
    inNs(a, `${SCAPY_PYTHON} -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if ${segment}: s.setsockopt(socket.SOL_UDP, 103, ${segment})
for _ in range(${count}): s.sendto(b'x' * ${size}, ('10.9.0.2', 5353))"`);
  };
  const groOf = (ns: string): string => /^generic-receive-offload: (\w+)/m.exec(inNs(ns, 'ethtool -k eth0'))?.[1] ?? '?';

  beforeAll(async () => {
    for (const ns of [a, b]) execIp(['netns', 'add', ns]);
    execIp(['link', 'add', 'eth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    inNs(a, 'ip addr add 10.9.0.1/24 dev eth0 && ip link set lo up && ip link set eth0 up');
    // GRO on where we capture, as on a NIC: the capture must switch it off, and back on at close.
    inNs(b, 'ip addr add 10.9.0.2/24 dev eth0 && ip link set lo up && ip link set eth0 up && ethtool -K eth0 gro on');
    inNs(b, 'nft add table ip t && nft add chain ip t in "{ type filter hook input priority 0; udp dport 5353 drop; }"');
    // A permanent neighbour entry: no ARP queueing to lose a datagram, and it survives b's link going down.
    const bMac = inNs(b, 'cat /sys/class/net/eth0/address').trim();
    inNs(a, `ip neigh replace 10.9.0.2 lladdr ${bMac} dev eth0 nud permanent`);
    writeFileSync(join(dir, 'probe.js'), PROBE);
    filter = `not ether src ${bMac} and udp dst port 5353`;
    await startProbe();
  });

  let filter = '';
  async function startProbe(): Promise<void> {
    rmSync(state, { force: true });
    // Its ledger of what it switched off goes to this run's directory, not the host's /run/userlvs.
    probe = spawn('ip', ['netns', 'exec', b, process.execPath, join(dir, 'probe.js'), state, logFile, filter, backend], {
      stdio: 'ignore', env: { ...process.env, USERLVS_RUN_DIR: dir },
    });
    await until(() => existsSync(state), (v) => v);
  }

  afterAll(async () => {
    if (probe?.pid !== undefined && probe.exitCode === null) {
      probe.kill('SIGKILL');
      await until(() => probe!.exitCode !== null || probe!.signalCode !== null, (v) => v);
    }
    for (const ns of namespacesWith(prefix)) execIp(['netns', 'del', ns], true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts capturing, with receive aggregation switched off on the interface', () => {
    expect(snap().health.capturing).toBe(true);
    expect(groOf(b)).toBe('off');
    expect(logText()).toMatch(/^info capture on eth0: receive aggregation off while capturing \(gro; restored at stop\)/m);
  });

  it('MTU-sized datagrams arrive whole', async () => {
    send(5, 1400);
    const s = await until(snap, (v) => v.frames >= 5);
    expect(s.frames).toBe(5);
    expect(s.maxLen).toBe(14 + 20 + 8 + 1400);
    expect(s.health.truncated).toBe(0);
  });

  it('a super-frame past the capture length (the peer sends UDP GSO) is counted as truncated and dropped, and warned', async () => {
    send(1, 8000, 1000);
    const s = await until(snap, (v) => v.health.truncated >= 1);
    expect(s.health.truncated).toBe(1);
    expect(s.frames).toBe(5); // never handed on as if whole
    const log = await until(logText, (t) => t.includes('longer than the capture length'));
    expect(log).toMatch(/^warn capture on eth0: 1 frame\(s\) longer than the capture length \(1522 bytes\) dropped/m);
  });

  it('an MTU raised to 9000 reopens the capture with a longer capture length: a jumbo frame arrives whole', async () => {
    inNs(a, 'ethtool -K eth0 tx-udp-segmentation off && ip link set eth0 mtu 9000');
    inNs(b, 'ip link set eth0 mtu 9000');
    const log = await until(logText, (t) => t.includes('reopened (MTU changed to 9000'));
    expect(log).toMatch(/^info capture on eth0 reopened \(MTU changed to 9000; 0 s without capture\)/m);
    send(1, 8000);
    const s = await until(snap, (v) => v.frames >= 6);
    expect(s.frames).toBe(6);
    expect(s.maxLen).toBe(14 + 20 + 8 + 8000);
    expect(s.health.truncated).toBe(1);
  });

  it('interface down: the capture closes and says so; up: it reopens and says so; frames flow again', async () => {
    inNs(b, 'ip link set eth0 down');
    const lost = await until(snap, (v) => !v.health.capturing);
    expect(lost.health.capturing).toBe(false);
    expect(logText()).toMatch(/^warn capture on eth0 lost: interface down; reopening when it is up again$/m);
    inNs(b, 'ip link set eth0 up');
    const back = await until(snap, (v) => v.health.capturing);
    expect(back.health.capturing).toBe(true);
    expect(logText()).toMatch(/^info capture on eth0 reopened \(interface down; \d+ s without capture\)$/m);
    const before = back.frames;
    // The link needs a moment to carry frames again (carrier, ARP): send until they come through.
    const s = await until(() => (send(1, 100), snap()), (v) => v.frames > before, 50, 200);
    expect(s.frames).toBeGreaterThan(before);
  });

  it('down and up faster than the watch looks: the dead poll is noticed and the capture reopened', async () => {
    const reopens = snap().health.reopens;
    inNs(b, 'ip link set eth0 down; ip link set eth0 up');
    const before = snap().frames;
    const s = await until(() => (send(1, 100), snap()), (v) => v.frames > before && v.health.reopens > reopens, 50, 200);
    expect(s.health.reopens).toBe(reopens + 1);
    expect(s.frames).toBeGreaterThan(before);
    // Usually the flap's empty wakeup tells; under load the stall check may, or a look may land inside the flap.
    expect(logText()).toMatch(/^warn capture on eth0(: the capture socket woke with no frame|: capture stalled| lost: interface down)/m);
  });

  it('SIGKILL restores nothing; the next capture finds GRO off yet knows it was on (the ledger)', async () => {
    probe!.kill('SIGKILL');
    await until(() => probe!.signalCode, (v) => v !== null);
    expect(groOf(b)).toBe('off');
    const from = logText().length;
    await startProbe();
    expect(groOf(b)).toBe('off');
    expect(logText().slice(from)).toMatch(/^info capture on eth0: receive aggregation \(gro\) was switched off by process \d+, which is gone: restored at stop$/m);
  });

  it('close restores receive aggregation', async () => {
    probe!.kill('SIGTERM');
    await until(() => probe!.exitCode, (v) => v !== null);
    expect(probe!.exitCode).toBe(0);
    expect(groOf(b)).toBe('on');
    expect(logText()).toMatch(/^info capture on eth0: receive aggregation restored \(gro on\)$/m);
  });
});

describe.skipIf(skip !== null)(title('lvsd in the DR lab: the capture interface down and up, no restart'), () => {
  const prefix = uniquePrefix('cl');
  const socket = socketOf(prefix);
  const dirNs = `${prefix}director`;
  let logPath = '';
  let pid = 0;
  beforeAll(() => {
    labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr']);
    const s = labStatus(prefix);
    logPath = s.log as string;
    pid = s.pid as number;
  });
  afterAll(() => labDown(prefix));

  // Each line as "<pino level> <msg>": 40 is warn, 30 info.
  const logLines = (): string[] =>
    readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }).map((l) => `${l.level} ${l.msg}`);

  it('curl through the VIP works, then fails while the director\'s eth0 is down, then works again once it is up', async () => {
    expect(curlLoop(prefix, 4).every((l) => /^rs[12]$/.test(l))).toBe(true);

    inNs(dirNs, 'ip link set dev eth0 down');
    const lost = await until(logLines, (m) => m.includes('40 capture on eth0 lost: interface down; reopening when it is up again'));
    expect(lost).toContain('40 capture on eth0 lost: interface down; reopening when it is up again');
    expect(curlLoop(prefix, 1)).toEqual(['FAIL']);

    inNs(dirNs, 'ip link set dev eth0 up');
    const back = await until(logLines, (m) => m.some((l) => l.startsWith('30 capture on eth0 reopened (interface down;')));
    expect(back.some((l) => l.startsWith('30 capture on eth0 reopened (interface down;'))).toBe(true);
    expect(curlLoop(prefix, 4).every((l) => /^rs[12]$/.test(l))).toBe(true);
    expect(alive(pid)).toBe(true);
    expect(labStatus(prefix).pid).toBe(pid);
  });

  it('status shows the capture open again, reopened once', async () => {
    const { request } = await import('../../src/control/client');
    const st = (await request(socket, 'status')) as { capture: { interface: string; capturing: boolean; reopens: number }[] };
    expect(st.capture.length).toBeGreaterThan(0);
    for (const c of st.capture) expect(c).toEqual(expect.objectContaining({ interface: 'eth0', capturing: true, reopens: 1 }));
  });
});

function execIp(args: string[], tolerate = false): void {
  try {
    execFileSync('ip', args, { stdio: 'pipe', timeout: 30_000 });
  } catch (err) {
    if (!tolerate) throw err;
  }
}
