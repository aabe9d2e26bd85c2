// Hot-path microbenchmark: frames through classify -> lookup -> rewrite -> emit (a null emit) for a table of
// established connections; reports ns/frame, heap growth and GC count during the timed run.
// Run: node --expose-gc dist/bench/hotpath.js [--frames N] [--conns N] [--json]
import { PerformanceObserver } from 'node:perf_hooks';
import { Clock } from '../src/clock';
import { ConnTable } from '../src/conn/table';
import { defaultTimeouts } from '../src/conn/timeouts';
import { forwarderId } from '../src/forward';
import { NeighbourTable } from '../src/io/neighbour';
import type { IpSender } from '../src/io/ip-sender';
import type { FrameSink, PacketIo } from '../src/io/packet-io';
import { setIpv4HeaderChecksum, setL4Checksum } from '../src/packet/checksum';
import { Pipeline } from '../src/pipeline';
import { ServiceTable } from '../src/service/table';
import { PROTO_TCP } from '../src/service/types';
import { V_FORWARDED } from '../src/verdict';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const FRAMES = arg('--frames', 10_000_000);
const CONNS = arg('--conns', 1_000_000);
const JSON_OUT = process.argv.includes('--json');
/** Frames handed over together (Pipeline.onFrames, as the ring capture does), or 0: one at a time (onFrame, as libpcap). */
const BATCH = arg('--batch', 0);

class NullIo implements PacketIo, IpSender {
  sent = 0;
  sendIp(): boolean {
    this.sent++;
    return true;
  }
  start(_s: FrameSink): void {}
  send(_b: Uint8Array, _l: number): boolean {
    this.sent++;
    return true;
  }
  setFilter(): void {}
  close(): void {}
}

const VIP = 0x0a000064;
const services = new ServiceTable(4, 64);
const svc = services.addService({ proto: PROTO_TCP, vip: VIP, port: 80, scheduler: 'rr' });
const neigh = new NeighbourTable(64);
for (let i = 0; i < 8; i++) {
  const rs = services.addDest(svc, { addr: 0x0a00000b + i, port: 80, weight: 1, forward: 'dr', fwdId: forwarderId('dr') });
  rs.neighSlot = neigh.slotFor(rs.addr);
  neigh.learn(rs.addr, Uint8Array.of(2, 0, 0, 0, 0, 0x0b + i), 0, 1);
}
const clock = new Clock();
let pipeline: Pipeline | null = null;
const conns = new ConnTable(CONNS, { onExpire: (c) => pipeline!.onExpire(c) });
const io = new NullIo();
pipeline = new Pipeline({
  services, conns, neigh, clock, timeouts: defaultTimeouts(), ios: [io], ifMacs: Uint8Array.of(2, 0, 0, 0, 0, 0x0a), ip: io,
});

// 74-byte TCP frames, rewritten in place per flow: client address/port vary over CONNS flows. One frame, or one
// per batch slot in --batch mode.
const newFrame = (): Buffer => {
  const f = Buffer.alloc(74);
  f.set([2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 2, 8, 0], 0);
  f.set([0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0], 14);
  f.writeUInt32BE(VIP, 30);
  f.writeUInt16BE(80, 36);
  f[46] = 0x50;
  return f;
};
const frames = Array.from({ length: Math.max(1, BATCH) }, newFrame);
const lens = new Int32Array(frames.length).fill(74);
const frame = frames[0];
// Byte stores only: the harness must not allocate either (a uint32 > 2^31 passed to Buffer#writeUInt32BE can).
function setFlow(i: number, flags: number, frame = frames[0]): void {
  const host = i >>> 14; // client 192.168.x.y, 16384 ports per address
  frame[26] = 192;
  frame[27] = 168;
  frame[28] = (host >>> 8) & 0xff;
  frame[29] = host & 0xff;
  const port = 1024 + (i & 0x3fff);
  frame[34] = port >>> 8;
  frame[35] = port & 0xff;
  frame[47] = flags;
  // The pipeline drops a wrong IP header checksum (as ip_rcv does), so each frame carries a right one.
  setIpv4HeaderChecksum(frame, 14);
}

// Establish CONNS connections (SYN then ACK) before timing.
const t0 = process.hrtime.bigint();
for (let i = 0; i < CONNS; i++) {
  setFlow(i, 0x02);
  setIpv4HeaderChecksum(frame, 14);
  setL4Checksum(frame, 14, 34, 6);
  pipeline.process(frame, frame.length);
  setFlow(i, 0x10);
  pipeline.process(frame, frame.length);
}
const setupS = Number(process.hrtime.bigint() - t0) / 1e9;
if (conns.count !== CONNS) throw new Error(`expected ${CONNS} connections, have ${conns.count}`);

// Warm up the optimising compiler on the measured loop's own shape before counting anything.
const WARMUP = Math.min(FRAMES, 500_000);
for (let n = 0; n < WARMUP; n += Math.max(1, BATCH)) {
  if (BATCH > 0) {
    for (let j = 0; j < BATCH; j++) setFlow(((Math.imul(n + j, 2654435761) >>> 1) % CONNS) | 0, 0x18, frames[j]);
    pipeline.onFrames(frames, lens, BATCH);
  } else {
    setFlow(((Math.imul(n, 2654435761) >>> 1) % CONNS) | 0, 0x18);
    pipeline.process(frame, frame.length);
  }
}

let gcCount = 0;
const obs = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });
const g = (globalThis as { gc?: () => void }).gc;
g?.();
g?.();
const heap0 = process.memoryUsage().heapUsed;
obs.observe({ entryTypes: ['gc'] });
let forwarded = 0;
const verdicts = pipeline.verdicts;
const start = process.hrtime.bigint();
if (BATCH > 0) {
  if (FRAMES % BATCH !== 0) throw new Error(`--frames must be a multiple of --batch`);
  const fw0 = verdicts[V_FORWARDED];
  for (let n = 0; n < FRAMES; n += BATCH) {
    for (let j = 0; j < BATCH; j++) setFlow(((Math.imul(n + j, 2654435761) >>> 1) % CONNS) | 0, 0x18, frames[j]);
    pipeline.onFrames(frames, lens, BATCH);
  }
  forwarded = verdicts[V_FORWARDED] - fw0;
} else {
  for (let n = 0; n < FRAMES; n++) {
    // A pseudo-random established flow per frame (LCG), so lookups miss the CPU cache as real traffic does.
    setFlow(((Math.imul(n, 2654435761) >>> 1) % CONNS) | 0, 0x18);
    if (pipeline.process(frame, frame.length) === V_FORWARDED) forwarded++;
  }
}
const ns = Number(process.hrtime.bigint() - start);
const heap1 = process.memoryUsage().heapUsed;
// GC entries are delivered asynchronously: give the observer a moment before reading its count.
setTimeout(() => {
  obs.disconnect();
  const result = {
    frames: FRAMES, conns: CONNS, batch: BATCH, forwarded, ns_per_frame: +(ns / FRAMES).toFixed(1),
    mpps: +(FRAMES / ns * 1e3).toFixed(3), heap_growth_bytes: heap1 - heap0, gc_count: gcCount,
    table_bytes_per_conn: +(conns.bytes / CONNS).toFixed(1), setup_s: +setupS.toFixed(2),
  };
  if (!JSON_OUT) {
    for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(22)} ${v}\n`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (forwarded !== FRAMES) process.exitCode = 1;
}, 200);
