// The ring I/O backend on a veth pair between two namespaces: a probe in namespace b drives RingSession and
// RingIpSender from the build (dist/io) on its eth0, namespace a sends datagrams at it and counts, with nft
// counters, what comes back. Frames arrive whole and in batches (one callback for a burst), the filter applies
// and changes in place, emits queued in a batch leave with one flush, our own emits are not captured, the
// kernel's counters add up, errors name their cause, and the session survives a link flap.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, labUnavailable, namespacesWith, ROOT, SCAPY_PYTHON, uniquePrefix } from './lab';

const ADDON = join(ROOT, 'native', 'packet-ring', 'build', 'Release', 'packet_ring.node');
const DIST = join(ROOT, 'dist', 'io');

function unavailable(): string | null {
  const lab = labUnavailable();
  if (lab !== null) return lab;
  if (!existsSync(ADDON)) return 'the packet-ring addon is not built (run scripts/setup)';
  if (!existsSync(join(DIST, 'ring-session.js'))) return 'not built (npm run build)';
  return null;
}

const skip = unavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const A_IP = '10.9.0.1';
const B_IP = '10.9.0.2';
/** An address of a's above 128.0.0.0: its wire int32 form is negative. */
const A_HIGH = '172.31.9.1';
const ECHO_PORT = 5353;
const EMIT_PORT = 5360;
const IP_BATCH_PORT = 5361;
const IP_ONE_PORT = 5362;

// The probe: one JSON command a line on stdin, one JSON answer a line on stdout. Its sinks record what they
// see; with `echo` the batch sink sends every frame back with its MACs swapped, from inside onFrames (queued).
const PROBE = `
const { existsSync } = require('node:fs');
const { createInterface } = require('node:readline');
const { RingSession } = require(${JSON.stringify(join(DIST, 'ring-session.js'))});
const { RingIpSender } = require(${JSON.stringify(join(DIST, 'ring-ip-sender.js'))});
const { CaptureOpenError } = require(${JSON.stringify(join(DIST, 'capture-session.js'))});
const { txBegin, txEnd } = require(${JSON.stringify(join(DIST, 'tx-batch.js'))});

const fresh = () => ({ frames: 0, wakes: 0, maxBatch: 0, calls: 0, lens: {}, ports: {}, echoed: 0 });
let st = fresh();
let s = null;
let opts = {};
let ip = null;

function record(buf, len) {
  st.frames++;
  st.lens[len] = (st.lens[len] || 0) + 1;
  const port = len >= 38 && buf.readUInt16BE(12) === 0x0800 ? buf.readUInt16BE(14 + (buf[14] & 15) * 4 + 2) : 0;
  st.ports[port] = (st.ports[port] || 0) + 1;
  if (opts.echo) {
    const mac = Buffer.from(buf.subarray(0, 6));
    buf.copy(buf, 0, 6, 12);
    mac.copy(buf, 6);
    if (s.send(buf, len)) st.echoed++;
  }
}
const batchSink = {
  onFrame() { throw new Error('onFrame called on a batch sink'); },
  onFrames(bufs, lens, n) {
    st.wakes++;
    if (n > st.maxBatch) st.maxBatch = n;
    for (let i = 0; i < n; i++) record(bufs[i], lens[i]);
    if (opts.throwOnce) { opts.throwOnce = false; throw new Error('sink failed once'); }
  },
};
const eachSink = { onFrame(buf, len) { st.calls++; record(buf, len); } };

function csum(b) {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
const ip4 = (a) => a.split('.').reduce((n, x) => (n << 8) | Number(x), 0); // wire int32 form: may be negative
/** An IPv4/UDP packet of \`size\` payload bytes from b to dst:port, at offset \`at\` of a buffer. */
function udp(at, dst, port, size) {
  const b = Buffer.alloc(at + 28 + size);
  const h = b.subarray(at);
  h[0] = 0x45; h.writeUInt16BE(28 + size, 2); h[8] = 64; h[9] = 17;
  h.writeInt32BE(ip4(${JSON.stringify(B_IP)}), 12); h.writeInt32BE(ip4(dst), 16);
  h.writeUInt16BE(h.readUInt16BE(10) || csum(h.subarray(0, 20)), 10);
  h.writeUInt16BE(40000, 20); h.writeUInt16BE(port, 22); h.writeUInt16BE(8 + size, 24);
  return b;
}

const cmds = {
  open(c) {
    if (s !== null) s.close();
    opts = c;
    st = fresh();
    s = new RingSession({ iface: c.iface || 'eth0', filter: c.filter, snaplen: c.snaplen || 1522, bufferSize: c.bufferSize || (8 << 20),
      sink: c.batch === false ? eachSink : batchSink, warn: () => undefined });
    return {};
  },
  openError(c) {
    try {
      new RingSession({ iface: c.iface, filter: c.filter, snaplen: 1522, bufferSize: 1 << 20, sink: batchSink, warn: () => undefined }).close();
      return { error: null };
    } catch (e) {
      return { error: { isCaptureOpenError: e instanceof CaptureOpenError, message: e.message } };
    }
  },
  snap() {
    const k = { received: -1, dropped: -1 };
    s.kernelStats(k);
    return { st, counters: { ...s.counters, lastHandlerError: String(s.counters.lastHandlerError) }, kernel: k, txErrors: s.txErrors,
      lastTxError: String(s.lastTxError) };
  },
  reset() { st = fresh(); return {}; },
  setFilter(c) {
    try { s.setFilter(c.filter); return { error: null }; }
    catch (e) { return { error: { isCaptureOpenError: e instanceof CaptureOpenError, message: e.message } }; }
  },
  /** Hold the event loop until the go file exists (a burst then waits in the ring). */
  pause(c) {
    setTimeout(() => { const end = Date.now() + 20000; while (!existsSync(c.go) && Date.now() < end); }, 0);
    return {};
  },
  /** Ethernet frames b -> a (UDP to EMIT_PORT) through the session, in one batch or one by one. */
  emit(c) {
    const frames = c.sizes.map((size) => {
      const f = udp(14, ${JSON.stringify(A_IP)}, ${EMIT_PORT}, size);
      Buffer.from(c.dstMac.split(':').map((x) => parseInt(x, 16))).copy(f, 0);
      Buffer.from(c.srcMac.split(':').map((x) => parseInt(x, 16))).copy(f, 6);
      f.writeUInt16BE(0x0800, 12);
      return f;
    });
    if (c.batched) txBegin();
    const results = frames.map((f) => s.send(f, f.length));
    if (c.batched) txEnd();
    return { results, txErrors: s.txErrors, lastTxError: String(s.lastTxError) };
  },
  ip(c) {
    if (ip === null) ip = new RingIpSender();
    const dst = ip4(c.dst);
    const results = [];
    if (c.batched) txBegin();
    for (let i = 0; i < c.count; i++) {
      // A buffer with a stand-in Ethernet header before the packet, as the pipeline emits from a frame.
      const b = udp(14, c.dst, c.port, c.size);
      results.push(ip.sendIp(b, 14, b.length - 14, dst));
      b.fill(0); // queued packets were copied: reusing the buffer must not change what is sent
    }
    if (c.batched) txEnd();
    return { dstNegative: dst < 0, sent: results.filter(Boolean).length, errors: ip.errors, lastError: String(ip.lastError) };
  },
  closeIp() {
    ip.close();
    ip.close();
    const b = udp(0, ${JSON.stringify(A_HIGH)}, ${IP_ONE_PORT}, 10);
    const after = ip.sendIp(b, 0, b.length, ip4(${JSON.stringify(A_HIGH)}));
    ip = null;
    return { after };
  },
  close() {
    const before = { received: 0, dropped: 0 };
    s.kernelStats(before);
    s.close();
    s.close();
    const after = { received: -1, dropped: -1 };
    s.kernelStats(after);
    const f = Buffer.alloc(60);
    let setFilterError = null;
    try { s.setFilter('udp'); } catch (e) { setFilterError = e instanceof CaptureOpenError ? e.message : 'not a CaptureOpenError'; }
    return { before, after, sendAfter: s.send(f, 60), setFilterError };
  },
};

createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  let out;
  try { out = { ok: true, ...cmds[c.cmd](c) }; } catch (e) { out = { ok: false, error: String(e && e.stack || e) }; }
  process.stdout.write(JSON.stringify(out) + '\\n');
}).on('close', () => process.exit(0));
`;

interface Stats {
  frames: number;
  wakes: number;
  maxBatch: number;
  calls: number;
  lens: Record<string, number>;
  ports: Record<string, number>;
  echoed: number;
}
interface Snap {
  st: Stats;
  counters: { taken: number; truncated: number; emptyWakeups: number; handlerErrors: number; lastHandlerError: string };
  kernel: { received: number; dropped: number };
  txErrors: number;
  lastTxError: string;
}
type Answer = Record<string, unknown> & { ok: boolean; error?: unknown };
interface OpenError {
  error: { isCaptureOpenError: boolean; message: string } | null;
}

/** Poll `get` until `ok` holds (bounded); returns the last value so the assertion shows it. */
async function until<T>(get: () => Promise<T> | T, ok: (v: T) => boolean, tries = 50, everyMs = 100): Promise<T> {
  let v = await get();
  for (let i = 0; i < tries && !ok(v); i++) {
    await sleep(everyMs);
    v = await get();
  }
  return v;
}

describe.skipIf(skip !== null)(title('the ring I/O backend on a veth pair'), () => {
  const prefix = uniquePrefix('ri');
  const a = `${prefix}a`;
  const b = `${prefix}b`;
  const dir = mkdtempSync(join(tmpdir(), 'ring-io-'));
  let probe: ChildProcess | null = null;
  let stderr = '';
  const waiting: ((a: Answer) => void)[] = [];
  let aMac = '';
  let bMac = '';

  /** One command to the probe; its answer (throws when the probe reports an exception). */
  async function ask<T = Answer>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const answer = new Promise<Answer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`probe did not answer ${cmd}; stderr: ${stderr}`)), 20_000);
      waiting.push((v) => (clearTimeout(t), resolve(v)));
    });
    probe!.stdin!.write(`${JSON.stringify({ cmd, ...args })}\n`);
    const v = await answer;
    if (!v.ok) throw new Error(`probe ${cmd}: ${String(v.error)}`);
    return v as T;
  }
  const snap = (): Promise<Snap> => ask<Snap>('snap');
  /** `count` UDP datagrams of `size` bytes from a to b:port, from one process as fast as it goes. */
  const send = (count: number, size: number, port = ECHO_PORT): void => {
    inNs(a, `${SCAPY_PYTHON} -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(${count}): s.sendto(b'x' * ${size}, ('${B_IP}', ${port}))"`);
  };
  /** Hold the probe's event loop, send the burst, let it go: the whole burst waits in the ring for one wake-up. */
  async function burst(count: number, size: number, port = ECHO_PORT): Promise<void> {
    const go = join(dir, `go-${Date.now()}`);
    await ask('pause', { go });
    await sleep(100);
    send(count, size, port);
    writeFileSync(go, '');
  }
  const counter = (name: string): number => Number(/packets (\d+)/.exec(inNs(a, `nft list counter ip t ${name}`))?.[1] ?? -1);

  beforeAll(async () => {
    for (const ns of [a, b]) execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['link', 'add', 'eth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    inNs(a, `ip addr add ${A_IP}/24 dev eth0 && ip addr add ${A_HIGH}/32 dev eth0 && ip link set lo up && ip link set eth0 up`);
    inNs(b, `ip addr add ${B_IP}/24 dev eth0 && ip link set lo up && ip link set eth0 up`);
    aMac = inNs(a, 'cat /sys/class/net/eth0/address').trim();
    bMac = inNs(b, 'cat /sys/class/net/eth0/address').trim();
    // Permanent neighbours: no ARP queue to lose a packet of a burst.
    inNs(a, `ip neigh replace ${B_IP} lladdr ${bMac} dev eth0 nud permanent`);
    inNs(b, `ip neigh replace ${A_IP} lladdr ${aMac} dev eth0 nud permanent && ip route add ${A_HIGH}/32 dev eth0 && ` +
      `ip neigh replace ${A_HIGH} lladdr ${aMac} dev eth0 nud permanent`);
    // b's stack drops the test datagrams (no ICMP back); a counts what b sends it, before routing.
    inNs(b, 'nft add table ip t && nft add chain ip t in "{ type filter hook input priority 0; udp dport 5353-5362 drop; }"');
    inNs(a, [
      'nft add table ip t',
      'nft add counter ip t echo', 'nft add counter ip t emit', 'nft add counter ip t ipbatch', 'nft add counter ip t ipone',
      'nft add chain ip t pre "{ type filter hook prerouting priority -300; }"',
      `nft add rule ip t pre ether saddr ${bMac} udp dport ${ECHO_PORT} counter name echo`,
      `nft add rule ip t pre udp dport ${EMIT_PORT} counter name emit`,
      `nft add rule ip t pre ip daddr ${A_HIGH} udp dport ${IP_BATCH_PORT} counter name ipbatch`,
      `nft add rule ip t pre ip daddr ${A_HIGH} udp dport ${IP_ONE_PORT} counter name ipone`,
      'nft add chain ip t in "{ type filter hook input priority 0; udp dport 5353-5362 drop; }"',
    ].join(' && '));
    writeFileSync(join(dir, 'probe.js'), PROBE);
    probe = spawn('ip', ['netns', 'exec', b, process.execPath, join(dir, 'probe.js')], { stdio: ['pipe', 'pipe', 'pipe'] });
    probe.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: probe.stdout! }).on('line', (l) => waiting.shift()?.(JSON.parse(l) as Answer));
  });

  afterAll(async () => {
    if (probe?.pid !== undefined && probe.exitCode === null && probe.signalCode === null) {
      probe.kill('SIGKILL');
      await until(() => probe!.exitCode !== null || probe!.signalCode !== null, (v) => v);
    }
    for (const ns of namespacesWith(prefix)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        /* gone already */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing interface and a bad filter throw CaptureOpenError naming the problem', async () => {
    expect(await ask<OpenError>('openError', { iface: 'nosuch', filter: 'udp' })).toMatchObject({
      error: { isCaptureOpenError: true, message: 'nosuch: no such interface' },
    });
    const bad = await ask<OpenError>('openError', { iface: 'eth0', filter: 'udp dst port' });
    expect(bad.error?.isCaptureOpenError).toBe(true);
    expect(bad.error?.message).toMatch(/^eth0: filter: .*syntax error/);
    // And a good one opens (and closes).
    expect(await ask<OpenError>('openError', { iface: 'eth0', filter: 'udp' })).toEqual(expect.objectContaining({ error: null }));
  });

  it('a burst held in the ring arrives whole, in one batch; a longer one in batches of at most 256', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}` });
    await burst(200, 1000);
    let s = await until(snap, (v) => v.st.frames >= 200);
    expect(s.st.frames).toBe(200);
    expect(s.st.lens).toEqual({ [14 + 20 + 8 + 1000]: 200 });
    expect(s.st.wakes).toBe(1);
    expect(s.counters.taken).toBe(200);

    await ask('reset');
    await burst(600, 100);
    s = await until(snap, (v) => v.st.frames >= 600);
    expect(s.st.frames).toBe(600);
    expect(s.st.maxBatch).toBe(256);
    expect(s.st.wakes).toBe(3);
    expect(s.counters).toMatchObject({ taken: 800, truncated: 0, handlerErrors: 0, emptyWakeups: 0 });
    expect(s.kernel).toEqual({ received: 800, dropped: 0 });
  });

  it('the filter applies, and setFilter changes it in place; a bad one throws and the old one stays', async () => {
    await ask('reset');
    send(3, 10, ECHO_PORT);
    send(4, 10, 5354);
    let s = await until(snap, (v) => v.st.frames >= 3);
    await sleep(200);
    s = await snap();
    expect(s.st.ports).toEqual({ [ECHO_PORT]: 3 });

    expect(await ask<OpenError>('setFilter', { filter: 'udp dst port 5354' })).toEqual(expect.objectContaining({ error: null }));
    send(3, 10, ECHO_PORT);
    send(4, 10, 5354);
    s = await until(snap, (v) => v.st.frames >= 7);
    await sleep(200);
    s = await snap();
    expect(s.st.ports).toEqual({ [ECHO_PORT]: 3, 5354: 4 });

    const bad = await ask<OpenError>('setFilter', { filter: 'udp dst port 5354 and' });
    expect(bad.error?.isCaptureOpenError).toBe(true);
    expect(bad.error?.message).toMatch(/^eth0: filter: /);
    send(2, 10, 5354);
    s = await until(snap, (v) => v.st.frames >= 9);
    expect(s.st.ports).toEqual({ [ECHO_PORT]: 3, 5354: 6 });
    // The same session throughout: the kernel's counters kept adding up.
    expect(s.kernel.received).toBe(800 + 9);
    expect(await ask<OpenError>('setFilter', { filter: `udp dst port ${ECHO_PORT}` })).toEqual(expect.objectContaining({ error: null }));
  });

  it('emits queued inside a batch (each frame echoed back from onFrames) all reach the peer, and are not captured again', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}`, echo: true });
    const before = counter('echo');
    await burst(150, 500);
    const s = await until(snap, (v) => v.st.echoed >= 150);
    expect(s.st).toMatchObject({ frames: 150, echoed: 150, wakes: 1 });
    expect(await until(() => counter('echo'), (n) => n >= before + 150)).toBe(before + 150);
    await sleep(200);
    expect((await snap()).st.frames).toBe(150); // the echoes (outgoing, matching the filter) were not captured
    expect(s.txErrors).toBe(0);
  });

  it('frames sent through the session: batched with one failing in the middle (counted, skipped), and one by one', async () => {
    const before = counter('emit');
    const batched = await ask<{ results: boolean[]; txErrors: number; lastTxError: string }>('emit', {
      sizes: [100, 100, 9000, 100], batched: true, srcMac: bMac, dstMac: aMac,
    });
    expect(batched.results).toEqual([true, true, true, true]); // queued
    expect(batched.txErrors).toBe(1); // the jumbo frame, at the flush
    expect(batched.lastTxError).toMatch(/^Error: eth0: sendmmsg: Message too long/);
    expect(await until(() => counter('emit'), (n) => n >= before + 3)).toBe(before + 3);

    const one = await ask<{ results: boolean[]; txErrors: number }>('emit', { sizes: [100, 9000, 100], batched: false, srcMac: bMac, dstMac: aMac });
    expect(one.results).toEqual([true, false, true]);
    expect(one.txErrors).toBe(2);
    expect(await until(() => counter('emit'), (n) => n >= before + 5)).toBe(before + 5);
    const s = await snap();
    expect(s.counters.emptyWakeups).toBe(0); // a failed send is no socket error for the receive side
  });

  it('RingIpSender delivers IPv4 packets batched and one by one (to an address whose int32 form is negative); they are not captured', async () => {
    await ask('open', { filter: 'udp' });
    const before = { batch: counter('ipbatch'), one: counter('ipone') };
    const batched = await ask<{ dstNegative: boolean; sent: number; errors: number }>('ip', { dst: A_HIGH, port: IP_BATCH_PORT, count: 300, size: 200, batched: true });
    expect(batched).toMatchObject({ dstNegative: true, sent: 300, errors: 0 });
    expect(await until(() => counter('ipbatch'), (n) => n >= before.batch + 300)).toBe(before.batch + 300);
    const one = await ask<{ sent: number; errors: number }>('ip', { dst: A_HIGH, port: IP_ONE_PORT, count: 20, size: 200, batched: false });
    expect(one).toMatchObject({ sent: 20, errors: 0 });
    expect(await until(() => counter('ipone'), (n) => n >= before.one + 20)).toBe(before.one + 20);
    await sleep(200);
    expect((await snap()).st.frames).toBe(0); // PACKET_IGNORE_OUTGOING: the kernel's own emits are not ours to capture
    expect(await ask('closeIp')).toMatchObject({ after: false });
  });

  it('frame by frame (a sink without onFrames): frames past the capture length are counted as truncated and dropped', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}`, batch: false, snaplen: 128 });
    send(3, 1000);
    send(2, 50);
    const s = await until(snap, (v) => v.counters.taken >= 5);
    expect(s.counters).toMatchObject({ taken: 5, truncated: 3 });
    expect(s.st).toMatchObject({ frames: 2, calls: 2, wakes: 0, lens: { [14 + 20 + 8 + 50]: 2 } });
  });

  it('a sink that throws is counted and the next batch is fine', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}`, throwOnce: true });
    await burst(5, 10);
    let s = await until(snap, (v) => v.st.frames >= 5);
    expect(s.counters).toMatchObject({ handlerErrors: 1, lastHandlerError: 'Error: sink failed once' });
    send(5, 10);
    s = await until(snap, (v) => v.st.frames >= 10);
    expect(s.st.frames).toBe(10);
    expect(s.counters.handlerErrors).toBe(1);
  });

  it('a small ring overflows: the kernel counts what it dropped, and received = taken + dropped', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}`, bufferSize: 32 * 1024 });
    await burst(100, 100);
    const s = await until(snap, (v) => v.counters.taken > 0);
    await sleep(200);
    const t = await snap();
    expect(t.counters.taken).toBe(s.counters.taken);
    expect(t.kernel.dropped).toBeGreaterThan(0);
    expect(t.kernel.received).toBe(100);
    expect(t.counters.taken + t.kernel.dropped).toBe(100);
  });

  it('the link down and up: the error wake-up is counted as empty, and frames flow again without a reopen', async () => {
    await ask('open', { filter: `udp dst port ${ECHO_PORT}` });
    send(2, 10);
    await until(snap, (v) => v.st.frames >= 2);
    inNs(b, 'ip link set eth0 down');
    const down = await until(snap, (v) => v.counters.emptyWakeups >= 1);
    expect(down.counters.emptyWakeups).toBe(1);
    inNs(b, 'ip link set eth0 up');
    // The link needs a moment to carry frames again: send until they come through.
    const s = await until(async () => (send(1, 10), snap()), (v) => v.st.frames > 2, 50, 200);
    expect(s.st.frames).toBeGreaterThan(2);
    expect(s.counters.emptyWakeups).toBe(1);
  });

  it('close is idempotent: later sends return false, setFilter throws, the counters stay as they were', async () => {
    const c = await ask<{ before: unknown; after: unknown; sendAfter: boolean; setFilterError: string }>('close');
    expect(c.sendAfter).toBe(false);
    expect(c.after).toEqual(c.before);
    expect(c.setFilterError).toBe('eth0: the capture is closed');
  });
});

describe.skipIf(skip !== null)(title('the ring backend without its addon'), () => {
  it('says how to build it', () => {
    // The modules alone in a checkout of their own (a package.json, no native/ build).
    const root = mkdtempSync(join(tmpdir(), 'ring-noaddon-'));
    try {
      const io = join(root, 'dist', 'io');
      mkdirSync(io, { recursive: true });
      writeFileSync(join(root, 'package.json'), '{}');
      for (const f of ['ring-session.js', 'ring-ip-sender.js', 'ring-addon.js', 'capture-session.js', 'tx-batch.js', 'ring-tx.js']) copyFileSync(join(DIST, f), join(io, f));
      const load = createRequire(__filename);
      const { RingSession } = load(join(io, 'ring-session.js')) as typeof import('../../src/io/ring-session');
      const { RingIpSender } = load(join(io, 'ring-ip-sender.js')) as typeof import('../../src/io/ring-ip-sender');
      const msg = 'the ring I/O backend needs its addon: run scripts/setup (native/packet-ring not built)';
      expect(() => new RingSession({ iface: 'lo', filter: 'udp', snaplen: 1522, bufferSize: 1 << 20, sink: { onFrame: () => undefined }, warn: () => undefined }))
        .toThrow(msg);
      expect(() => new RingIpSender()).toThrow(msg);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
