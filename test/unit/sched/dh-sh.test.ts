// Destination and source hashing (ip_vs_dh.c, ip_vs_sh.c): the 256-bucket tables, their hashes, the
// sh flags, stability.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dhBucket } from '../../../src/sched/dh';
import { SH_FALLBACK, SH_PORT, shBucket } from '../../../src/sched/sh';
import { seeded, svcWith, tcpFlow } from './sched-helpers';

/** (x * 2654435761) mod 2^64, masked: the kernel's product, computed exactly. */
const kernelBucket = (x: number, mask = 255): number => Number((BigInt(x >>> 0) * 2654435761n) & BigInt(mask));

/** ip_vs_sh_reassign(): each real server in list order takes `weight` buckets (at least one), round and round. */
function shTiles(weights: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (out.length < 256) {
    for (let k = 0; k < Math.max(1, weights[i]) && out.length < 256; k++) out.push(i);
    i = (i + 1) % weights.length;
  }
  return out;
}

describe('dh (ip_vs_dh.c)', () => {
  it('hashes the destination address as (ntohl(daddr) * 2654435761) & 255', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => {
      expect(dhBucket(a)).toBe(kernelBucket(a));
    }));
    expect(dhBucket(0)).toBe(0);
    expect(dhBucket(1)).toBe(0xb1);
  });

  it('deals buckets round-robin, weights aside: bucket b goes to real server b mod n', () => {
    const { svc, rs } = svcWith('dh', [1, 7, 3]);
    const rand = seeded(3);
    for (let i = 0; i < 2000; i++) {
      const daddr = rand();
      const d = svc.sched.schedule(tcpFlow(rand(), 1234, daddr));
      expect(rs.indexOf(d!)).toBe(kernelBucket(daddr) % 3);
    }
  });

  it('the source plays no part; an unavailable real server means no pick (no fallback)', () => {
    const { svc, rs } = svcWith('dh', [1, 1]);
    const daddr = 0x0a000001; // bucket (0x0a000001 * K) & 255 = 0xb1 = 177 -> real server 1
    expect(kernelBucket(daddr) % 2).toBe(1);
    for (const saddr of [1, 2, 0x7f000001]) expect(svc.sched.schedule(tcpFlow(saddr, 5, daddr))).toBe(rs[1]);
    rs[1].overloaded = true;
    expect(svc.sched.schedule(tcpFlow(1, 5, daddr))).toBeNull();
    rs[1].overloaded = false;
    rs[1].weight = 0;
    expect(svc.sched.schedule(tcpFlow(1, 5, daddr))).toBeNull();
  });

  it('rebuilds on add and remove, deterministically', () => {
    const a = svcWith('dh', [1, 1]);
    const b = svcWith('dh', [1, 1, 1]);
    a.table.addDest(a.svc, { addr: a.rs[1].addr + 1, port: 80, weight: 1, forward: 'dr', fwdId: 0 });
    const rand = seeded(4);
    for (let i = 0; i < 500; i++) {
      const f = tcpFlow(1, 1, rand());
      expect(a.svc.dests.indexOf(a.svc.sched.schedule(f)!)).toBe(b.rs.indexOf(b.svc.sched.schedule(f)!));
    }
    a.table.removeDest(a.svc, a.svc.dests[0]);
    expect(a.svc.sched.schedule(tcpFlow(1, 1, 0))).toBe(a.svc.dests[0]); // bucket 0 -> first of the two left
    a.table.removeDest(a.svc, a.svc.dests[0]);
    a.table.removeDest(a.svc, a.svc.dests[0]);
    expect(a.svc.sched.schedule(tcpFlow(1, 1, 0))).toBeNull();
  });
});

describe('sh (ip_vs_sh.c)', () => {
  it('hashes (offset + (ntohs(sport) + ntohl(saddr)) * 2654435761) & 255', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), (a, p, off) => {
        const want = Number((BigInt(off) + ((BigInt(a) + BigInt(p)) & 0xffffffffn) * 2654435761n) & 255n);
        expect(shBucket(a, p, off)).toBe(want);
        expect(shBucket(a | 0, p, off)).toBe(want);
      }),
    );
  });

  it.each([
    ['equal', [1, 1, 1]],
    ['by weight', [3, 1, 2]],
    ['weight 0 still takes one bucket', [2, 0, 1]],
    ['weights past 256 leave later ones out', [200, 100, 5]],
  ])('tiles the table by weight in list order (%s)', (_n, weights) => {
    const { svc, rs } = svcWith('sh', weights);
    const tiles = shTiles(weights);
    const rand = seeded(11);
    for (let i = 0; i < 3000; i++) {
      const saddr = rand();
      const want = tiles[kernelBucket(saddr)];
      const d = svc.sched.schedule(tcpFlow(saddr, rand() & 0xffff));
      if (weights[want] === 0) expect(d).toBeNull();
      else expect(rs.indexOf(d!)).toBe(want);
    }
  });

  it('without sh-port the source port plays no part; with it the port joins the hash (TCP/UDP/SCTP only)', () => {
    const { svc, rs } = svcWith('sh', [1, 1, 1, 1]);
    const saddr = 0x0a0a0a0a;
    const spread = (): number => new Set(Array.from({ length: 64 }, (_, p) => svc.sched.schedule(tcpFlow(saddr, 1000 + p)))).size;
    expect(spread()).toBe(1);
    svc.schedFlags = SH_PORT;
    expect(spread()).toBe(4);
    const f = tcpFlow(saddr, 1000);
    expect(rs.indexOf(svc.sched.schedule(f)!)).toBe(shTiles([1, 1, 1, 1])[kernelBucket(saddr + 1000)]);
    f.proto = 1; // ICMP: no port
    expect(rs.indexOf(svc.sched.schedule(f)!)).toBe(shTiles([1, 1, 1, 1])[kernelBucket(saddr)]);
  });

  it('an unavailable real server: no pick without sh-fallback; with it, the kernel\'s probe order', () => {
    const weights = [1, 1, 1, 1];
    const { svc, rs } = svcWith('sh', weights);
    rs[2].overloaded = true;
    const tiles = shTiles(weights);
    const rand = seeded(21);
    let fell = 0;
    for (let i = 0; i < 3000; i++) {
      const saddr = rand();
      const ihash = kernelBucket(saddr);
      svc.schedFlags = 0;
      const d = svc.sched.schedule(tcpFlow(saddr));
      if (tiles[ihash] === 2) {
        expect(d).toBeNull();
        svc.schedFlags = SH_FALLBACK;
        // ip_vs_sh_get_fallback(): roffset = (offset + ihash) % 256, rehashed with that offset.
        let want = 2;
        for (let off = 0; want === 2; off++) want = tiles[(((off + ihash) % 256) + Math.imul(saddr, 0x9e3779b1)) & 255];
        expect(rs.indexOf(svc.sched.schedule(tcpFlow(saddr))!)).toBe(want);
        fell++;
      } else {
        expect(d).toBe(rs[tiles[ihash]]);
      }
    }
    expect(fell).toBeGreaterThan(500);
  });

  it('with every real server unavailable, fallback finds none', () => {
    const { svc, rs } = svcWith('sh', [1, 1]);
    svc.schedFlags = SH_FALLBACK;
    rs[0].weight = 0;
    rs[1].overloaded = true;
    expect(svc.sched.schedule(tcpFlow(123))).toBeNull();
  });

  it('stable per source; adding a real server rebuilds the tiling deterministically', () => {
    const a = svcWith('sh', [2, 1]);
    const rand = seeded(8);
    const flows = Array.from({ length: 500 }, () => tcpFlow(rand()));
    for (const f of flows) expect(a.svc.sched.schedule(f)).toBe(a.svc.sched.schedule(f));
    a.table.addDest(a.svc, { addr: a.rs[1].addr + 1, port: 80, weight: 1, forward: 'dr', fwdId: 0 });
    // The new one joins at the head of the list, as the kernel adds it: [1, 2, 1].
    const b = svcWith('sh', [1, 2, 1]);
    for (const f of flows) expect(a.svc.dests.indexOf(a.svc.sched.schedule(f)!)).toBe(b.rs.indexOf(b.svc.sched.schedule(f)!));
  });
});
