// Connection-table scale: ConnTable (src/conn/table.ts) on its own, at several sizes. For each size N: a table of
// capacity N, N connections inserted, then timed loops of pseudo-random lookups that hit and that miss.
// Reports ns per insert (the first fill, which also touches the fresh arrays' pages, and a refill after emptying
// the table) and per lookup, the table's own bytes per entry (ConnTable.bytes / capacity) and what the
// process really paid (ArrayBuffer + JS heap growth over the build, per entry), plus heap growth and GCs during the
// lookup loops (the goal is 0 and 0: a lookup allocates nothing).
// Besides uniformly random hits (every lookup a different flow, the worst case for the CPU cache), two access
// patterns closer to real traffic: bursts (each flow looked up --burst times back to back, as the segments of a TCP
// window arrive) and a hot set (uniform over --hot active flows spread across the table; the rest idle). And the
// memory's own floor beside them: and bulk lookups (uniformly random hits in batches of BULK, warmed together first
// with ConnTable.warm, as the pipeline does with a capture ring's batch: DPDK's rte_hash_lookup_bulk). And the
// memory's own floor: random reads over a plain Int32Array as large as the table, one per step
// (mem_read_ns) and two dependent ones (mem_pair_ns: the second address comes from the first read, as a key's
// address comes from its index slot).
// Run: node --expose-gc dist-bench/bench/conn-scale.js [--sizes 1000,100000,1000000] [--lookups N] [--burst B]
//      [--hot H] [--json]
import { PerformanceObserver } from 'node:perf_hooks';
import { tupleHash } from '../src/conn/hash';
import { ConnTable } from '../src/conn/table';

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SIZES = (argOf('--sizes') ?? '1000,100000,1000000').split(',').map(Number);
const LOOKUPS = Number(argOf('--lookups') ?? 5_000_000);
const BURST = Number(argOf('--burst') ?? 8);
const HOT = Number(argOf('--hot') ?? 16384);
const JSON_OUT = process.argv.includes('--json');
/** Lookups per bulk batch (the pipeline's WARM_BATCH). */
const BULK = 32;
const gc = (globalThis as { gc?: () => void }).gc;

const PROTO_TCP = 6;
const VIP = 0x0a000064; // 10.0.0.100 (int32 form: below 2^31)
const now = 0;
const TIMEOUT = 900;

// Connection i's client: 10.(64 + i>>>22).x.y, port 1024 + (i & 0x3fff); int32 addresses as the wire path has them.
const srcOf = (i: number): number => (0x0a400000 + (i >>> 14)) | 0;
const sportOf = (i: number): number => 1024 + (i & 0x3fff);
// A pseudo-random index in [0, n) from a loop counter (multiplicative hash), so lookups miss the CPU cache the way
// real traffic over a large table does.
const pick = (k: number, n: number): number => ((Math.imul(k, 2654435761) >>> 1) % n) | 0;

interface Row {
  entries: number;
  insert_first_ns: number;
  insert_refill_ns: number;
  lookup_hit_ns: number;
  lookup_miss_ns: number;
  lookup_burst_ns: number;
  lookup_hot_ns: number;
  lookup_bulk_ns: number;
  hot_flows: number;
  mem_read_ns: number;
  mem_pair_ns: number;
  keygen_ns: number;
  table_bytes_per_entry: number;
  measured_bytes_per_entry: number;
  hash_buckets: number;
  lookup_heap_growth_bytes: number;
  lookup_heap_bytes_per_lookup: number;
  lookup_gc_count: number;
}

function mem(): number {
  const m = process.memoryUsage();
  return m.arrayBuffers + m.heapUsed;
}

// Separate functions per loop so each gets optimised for its own shape.
function hitLoop(t: ConnTable, n: number, count: number): number {
  let found = 0;
  for (let k = 0; k < count; k++) {
    const i = pick(k, n);
    if (t.lookup(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80) >= 0) found++;
  }
  return found;
}
function missLoop(t: ConnTable, n: number, count: number): number {
  let found = 0;
  for (let k = 0; k < count; k++) {
    const i = pick(k, n);
    if (t.lookup(PROTO_TCP, srcOf(i), sportOf(i), VIP, 81) >= 0) found++;
  }
  return found;
}
// Each pseudo-random flow BURST times in a row; ns are per lookup.
function burstLoop(t: ConnTable, n: number, count: number): number {
  let found = 0;
  for (let f = 0, k = 0; k < count; f++, k += BURST) {
    const i = pick(f, n);
    const src = srcOf(i);
    const sport = sportOf(i);
    for (let b = 0; b < BURST; b++) if (t.lookup(PROTO_TCP, src, sport, VIP, 80) >= 0) found++;
  }
  return found;
}
// Uniform over `hot` flows, each a pseudo-random flow of the table (a working set of active flows among idle ones).
function hotLoop(t: ConnTable, n: number, hot: number, count: number): number {
  let found = 0;
  for (let k = 0; k < count; k++) {
    const i = pick(pick(k, hot) + 0x3c6ef35f, n);
    if (t.lookup(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80) >= 0) found++;
  }
  return found;
}
// Uniformly random hits as the pipeline meets them in a batch: hash BULK tuples, warm their lines, look each up.
const bulkHashes = new Int32Array(BULK);
let warmAcc = 0;
function bulkLoop(t: ConnTable, n: number, count: number): number {
  let found = 0;
  for (let k = 0; k < count; k += BULK) {
    for (let j = 0; j < BULK; j++) {
      const i = pick(k + j, n);
      bulkHashes[j] = tupleHash(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80);
    }
    warmAcc ^= t.warm(bulkHashes, BULK);
    for (let j = 0; j < BULK; j++) {
      const i = pick(k + j, n);
      if (t.lookup(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80) >= 0) found++;
    }
  }
  return found;
}
// Memory alone: one random read per step, and a read whose address is the value of a first random read.
function readLoop(mem: Int32Array, count: number): number {
  let acc = 0;
  for (let k = 0; k < count; k++) acc = (acc + mem[pick(k, mem.length)]) | 0;
  return acc;
}
function pairLoop(mem: Int32Array, count: number): number {
  let acc = 0;
  for (let k = 0; k < count; k++) acc = (acc + mem[mem[pick(k, mem.length)]]) | 0;
  return acc;
}
// The loop's own cost (index and key generation) without the lookup, to read the lookup's share.
function keyLoop(n: number, count: number): number {
  let acc = 0;
  for (let k = 0; k < count; k++) {
    const i = pick(k, n);
    acc = (acc + (srcOf(i) ^ sportOf(i))) | 0;
  }
  return acc;
}

async function measure(n: number): Promise<Row> {
  gc?.();
  gc?.();
  const m0 = mem();
  const t = new ConnTable(n, { onExpire: () => 0 });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (t.insert(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80, now, TIMEOUT) < 0) throw new Error(`table full at ${i}`);
  }
  const insertNs = Number(process.hrtime.bigint() - t0) / n;
  gc?.();
  gc?.();
  const m1 = mem();

  // Warm-up: let the optimising compiler settle on each loop before timing it.
  const warm = Math.min(LOOKUPS, 200_000);
  const hot = Math.min(HOT, n);
  const lookups = LOOKUPS - (LOOKUPS % BURST);
  hitLoop(t, n, warm);
  missLoop(t, n, warm);
  burstLoop(t, n, warm);
  hotLoop(t, n, hot, warm);
  bulkLoop(t, n, warm - (warm % BULK));
  keyLoop(n, warm);
  gc?.();

  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  const h0 = process.memoryUsage().heapUsed;
  let s = process.hrtime.bigint();
  const hits = hitLoop(t, n, LOOKUPS);
  const hitNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  s = process.hrtime.bigint();
  const misses = missLoop(t, n, LOOKUPS);
  const missNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  s = process.hrtime.bigint();
  const burstHits = burstLoop(t, n, lookups);
  const burstNs = Number(process.hrtime.bigint() - s) / lookups;
  s = process.hrtime.bigint();
  const hotHits = hotLoop(t, n, hot, LOOKUPS);
  const hotNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  const bulkCount = LOOKUPS - (LOOKUPS % BULK);
  s = process.hrtime.bigint();
  const bulkHits = bulkLoop(t, n, bulkCount);
  const bulkNs = Number(process.hrtime.bigint() - s) / bulkCount;
  const h1 = process.memoryUsage().heapUsed;
  s = process.hrtime.bigint();
  const acc = keyLoop(n, LOOKUPS);
  const keyNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  // GC entries are delivered asynchronously: give the observer a moment before reading its count.
  await new Promise((r) => setTimeout(r, 100));
  obs.disconnect();
  if (hits !== LOOKUPS) throw new Error(`expected ${LOOKUPS} hits at ${n}, got ${hits}`);
  if (misses !== 0) throw new Error(`expected no hit for absent tuples at ${n}, got ${misses}`);
  if (bulkHits !== bulkCount) throw new Error(`bulk lookups missed at ${n}: ${bulkHits} of ${bulkCount}`);
  if (burstHits !== lookups || hotHits !== LOOKUPS) throw new Error(`burst/hot lookups missed at ${n}: ${burstHits}, ${hotHits}`);
  if (acc === 0x7fffffff) process.stderr.write(''); // keep the key loop's result alive

  const ram = new Int32Array(Math.ceil(t.bytes / 4));
  for (let k = 0; k < ram.length; k++) ram[k] = pick(k + 0x2545f491, ram.length);
  readLoop(ram, warm);
  pairLoop(ram, warm);
  s = process.hrtime.bigint();
  let memAcc = readLoop(ram, LOOKUPS);
  const readNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  s = process.hrtime.bigint();
  memAcc ^= pairLoop(ram, LOOKUPS);
  const pairNs = Number(process.hrtime.bigint() - s) / LOOKUPS;
  if (memAcc === 0x7fffffff) process.stderr.write(''); // keep the reads' results alive

  // Steady-state insert: empty the table and fill it again (the arrays' pages are touched by now), at least 1M
  // inserts in all so small tables are timed over more than a millisecond.
  const reps = Math.max(1, Math.ceil(1_000_000 / n));
  let refillTotal = 0n;
  for (let r = 0; r < reps; r++) {
    for (let c = 0; c < n; c++) t.remove(c);
    s = process.hrtime.bigint();
    for (let i = 0; i < n; i++) t.insert(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80, now, TIMEOUT);
    refillTotal += process.hrtime.bigint() - s;
    if (t.count !== n) throw new Error(`refill: expected ${n} connections, have ${t.count}`);
  }
  const refillNs = Number(refillTotal) / (n * reps);

  return {
    entries: n,
    insert_first_ns: +insertNs.toFixed(1),
    insert_refill_ns: +refillNs.toFixed(1),
    lookup_hit_ns: +hitNs.toFixed(1),
    lookup_miss_ns: +missNs.toFixed(1),
    lookup_burst_ns: +burstNs.toFixed(1),
    lookup_hot_ns: +hotNs.toFixed(1),
    lookup_bulk_ns: +bulkNs.toFixed(1),
    hot_flows: hot,
    mem_read_ns: +readNs.toFixed(1),
    mem_pair_ns: +pairNs.toFixed(1),
    keygen_ns: +keyNs.toFixed(1),
    table_bytes_per_entry: +(t.bytes / t.capacity).toFixed(1),
    measured_bytes_per_entry: +((m1 - m0) / n).toFixed(1),
    hash_buckets: t.hashSize,
    lookup_heap_growth_bytes: h1 - h0,
    lookup_heap_bytes_per_lookup: +((h1 - h0) / (3 * LOOKUPS + lookups + bulkCount)).toFixed(3),
    lookup_gc_count: gcs,
  };
}

// Warm the compiler on every loop (and on insert) once, on a throwaway table, so the first size is not measured
// in the interpreter.
function warmUp(): void {
  const n = 65_536;
  const t = new ConnTable(n, { onExpire: () => 0 });
  for (let i = 0; i < n; i++) t.insert(PROTO_TCP, srcOf(i), sportOf(i), VIP, 80, now, TIMEOUT);
  hitLoop(t, n, 1_000_000);
  missLoop(t, n, 1_000_000);
  burstLoop(t, n, 1_000_000);
  hotLoop(t, n, Math.min(HOT, n), 1_000_000);
  bulkLoop(t, n, 1_000_000 - (1_000_000 % BULK));
  keyLoop(n, 1_000_000);
  const ram = new Int32Array(n);
  readLoop(ram, 1_000_000);
  pairLoop(ram, 1_000_000);
}

async function main(): Promise<void> {
  warmUp();
  const rows: Row[] = [];
  for (const n of SIZES) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`size ${n}`);
    if (!Number.isInteger(BURST) || BURST < 1 || !Number.isInteger(HOT) || HOT < 1) throw new RangeError(`--burst ${BURST} --hot ${HOT}`);
    const row = await measure(n);
    rows.push(row);
    if (!JSON_OUT) {
      process.stdout.write(`${Object.entries(row).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
    }
  }
  if (warmAcc === 0x7fffffff) process.stderr.write(''); // keep the warm loads' results alive
  process.stdout.write(`${JSON.stringify({ lookups: LOOKUPS, burst: BURST, hot: HOT, bulk: BULK, rows })}\n`);
}

void main();
