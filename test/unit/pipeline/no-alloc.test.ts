// The hot path allocates nothing per frame. Measured in a child with --expose-gc: 2M frames through
// classify -> lookup -> rewrite -> emit must trigger no garbage collection at all (V8's young generation
// would fill and scavenge within 2M frames at even a few bytes per frame).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BENCH = join(__dirname, '..', '..', '..', 'dist-bench', 'bench', 'hotpath.js');

describe.skipIf(!existsSync(BENCH))(existsSync(BENCH) ? 'hot path allocation' : 'hot path allocation (skipped: run npm run build)', () => {
  // One frame at a time (libpcap's onFrame), and in batches of 32 with the warm pass (the ring's onFrames).
  it.each([0, 32])('2M frames over 10k established connections, batch %i: zero GCs, heap growth under 0.5 byte/frame', (batch) => {
    const r = spawnSync(process.execPath, ['--expose-gc', BENCH, '--frames', '2000000', '--conns', '10000', '--batch', String(batch), '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { forwarded: number; gc_count: number; heap_growth_bytes: number; batch: number };
    expect(res.batch).toBe(batch);
    expect(res.forwarded).toBe(2_000_000);
    expect(res.gc_count).toBe(0);
    expect(res.heap_growth_bytes / 2_000_000).toBeLessThan(0.5);
  });
});
