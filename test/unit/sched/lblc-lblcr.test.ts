// Locality-based schedulers (ip_vs_lblc.c, ip_vs_lblcr.c) and their cache's ageing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lblcWith } from '../../../src/sched/lblc';
import { destSetMax, destSetMin, type DestSet } from '../../../src/sched/lblcr';
import {
  CHECK_EXPIRE_INTERVAL, COUNT_FOR_FULL_EXPIRATION, DEFAULT_EXPIRATION, ENTRY_TIMEOUT, LOCALITY_MAX_SIZE, LocalityCache,
} from '../../../src/sched/locality';
import { multHash } from '../../../src/sched/hash';
import { ServiceTable } from '../../../src/service/table';
import { serviceWith } from '../../helpers/services';
import { seeded, svcWith, tcpFlow, TestEnv } from './sched-helpers';

const DST = 0x08080808; // a destination address (what lblc/lblcr key on)
const toDst = (daddr: number, saddr = 0x01020304) => tcpFlow(saddr, 40000, daddr);

describe('lblc (ip_vs_lblc.c)', () => {
  it('a destination sticks to its cached real server while the wlc pick would differ', () => {
    const { svc, rs } = svcWith('lblc', [10, 10]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].activeConns = 10; // wlc now prefers rs[1], but 10 active is not over weight 10
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    expect(svc.sched.schedule(toDst(DST + 1))).toBe(rs[1]); // a new destination gets the wlc pick
    // the source plays no part
    expect(svc.sched.schedule(toDst(DST, 0x7f000001))).toBe(rs[0]);
  });

  it.each([
    // [active of cached rs0, active of rs1, moves?]: moves when rs0.active > weight (10) AND some real
    // server has active*2 < weight (rs1 with 4: 8 < 10; rs0 itself never does when over its weight).
    [11, 4, true],
    [11, 5, false], // 10 < 10 fails: nobody is under half its weight
    [10, 0, false], // not over its weight
    [50, 0, true],
  ])('overload rule: cached active %i, other active %i -> moves: %s', (a0, a1, moves) => {
    const { svc, rs } = svcWith('lblc', [10, 10]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].activeConns = a0;
    rs[1].activeConns = a1;
    const d = svc.sched.schedule(toDst(DST));
    expect(d).toBe(moves ? rs[1] : rs[0]);
    // and the cache now holds the new one
    rs[0].activeConns = 0;
    expect(svc.sched.schedule(toDst(DST))).toBe(d);
  });

  it('moves off a cached real server with weight 0 or removed; ignores its overload mark, as the kernel', () => {
    const { table, svc, rs } = svcWith('lblc', [1, 1, 1]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].overloaded = true; // ip_vs_lblc_schedule() checks AVAILABLE and weight only on a cache hit
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].weight = 0;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]);
    table.removeDest(svc, rs[1]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[2]);
    rs[2].weight = 0;
    expect(svc.sched.schedule(toDst(DST))).toBeNull();
  });

  it('entries expire lblc_expiration (24 h) after last use, at the full check of the 60 s timer', () => {
    // The timer starts at service creation (t=1000): ticks every 60 s, a full check every 30th tick
    // (t = 1000 + 1800k). An entry last used at 1000 is gone from the check at 1000 + 86400 = 87400.
    const run = (at: number): number => {
      const env = new TestEnv();
      const { svc, rs } = svcWith('lblc', [1, 1], env);
      svc.sched.schedule(toDst(DST)); // cached: rs[0]
      rs[0].inactConns = 5; // the wlc pick is now rs[1]
      env.t = at;
      return rs.indexOf(svc.sched.schedule(toDst(DST))!);
    };
    expect(run(1000 + DEFAULT_EXPIRATION - 1)).toBe(0);
    expect(run(1000 + DEFAULT_EXPIRATION)).toBe(1);
    // A use refreshes: used at 50000, the entry outlives the first check after 87400.
    const env = new TestEnv();
    const { svc, rs } = svcWith('lblc', [1, 1], env);
    svc.sched.schedule(toDst(DST));
    rs[0].inactConns = 5;
    env.t = 50000;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    env.t = 50000 + DEFAULT_EXPIRATION - 1;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
  });

  it('a shorter lblc_expiration (the sysctl) still waits for the half-hourly full check', () => {
    const env = new TestEnv();
    const table = new ServiceTable(16, 64, env);
    const { svc, rs } = serviceWith('lblc', [1, 1], table);
    svc.sched = lblcWith(120).create(svc, env); // 2 minutes
    svc.sched.schedule(toDst(DST));
    rs[0].inactConns = 5;
    env.t = 1000 + 1799; // idle 30 min, but the first full check is at 2800
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    env.t = 2800 + 1800; // refreshed at 2799: gone at the check at 4600
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]);
  });
});

describe('lblcr (ip_vs_lblcr.c)', () => {
  it('a destination sticks to the least loaded member of its set', () => {
    const { svc, rs } = svcWith('lblcr', [10, 10]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].activeConns = 9;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
  });

  it('an overloaded member brings in the wlc pick, which joins the set; the set then shares by wlc', () => {
    const { svc, rs } = svcWith('lblcr', [10, 10, 10]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].activeConns = 11; // over its weight, and rs[1] has 0*2 < 10
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]);
    rs[1].activeConns = 4; // set {rs1, rs0}: rs1 is less loaded (1024/10 < 2816/10)
    rs[2].activeConns = 0; // rs2 is not in the set: not considered while rs1 is fine
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]);
    rs[0].activeConns = 3;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
  });

  it('a set unchanged for lblcr_expiration sheds its most loaded member (the pick still stands)', () => {
    const env = new TestEnv();
    const { svc, rs } = svcWith('lblcr', [10, 10, 10], env);
    svc.sched.schedule(toDst(DST)); // {rs0}
    rs[0].activeConns = 11;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]); // {rs1, rs0}, lastmod 1000
    rs[0].activeConns = 2;
    rs[1].activeConns = 5;
    env.t = 50000; // a use keeps the entry itself alive (lastuse), without changing the set (lastmod)
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    env.t = 1000 + DEFAULT_EXPIRATION; // not yet "after" lastmod + expiration
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[1].activeConns = 0;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]); // both still members
    env.t = 1000 + DEFAULT_EXPIRATION + 1;
    rs[1].activeConns = 5;
    // min is rs0 (2 active); max (rs1, 5 active) is shed; rs0 serves
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[1].activeConns = 0;
    rs[0].activeConns = 3; // rs1 would win now, but it left the set
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
  });

  it('set members out of the service, with weight 0 or overloaded are passed over', () => {
    const { table, svc, rs } = svcWith('lblcr', [10, 10, 10]);
    svc.sched.schedule(toDst(DST)); // {rs0}
    rs[0].activeConns = 11;
    svc.sched.schedule(toDst(DST)); // {rs1, rs0}
    rs[0].activeConns = 0;
    rs[1].activeConns = 0;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[1]); // newest first on a tie
    rs[1].overloaded = true;
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[1].overloaded = false;
    table.removeDest(svc, rs[1]);
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[0]);
    rs[0].weight = 0; // none left in the set: the wlc pick (rs2) joins
    expect(svc.sched.schedule(toDst(DST))).toBe(rs[2]);
  });

  it('destSetMin / destSetMax follow the kernel loops, newest first', () => {
    const { rs } = svcWith('lblcr', [1, 2, 4]);
    const set: DestSet = { members: [rs[2], rs[1], rs[0]], lastmod: 0 };
    rs[0].activeConns = 1; // 256/1
    rs[1].activeConns = 2; // 512/2
    rs[2].activeConns = 4; // 1024/4: all equal
    expect(destSetMin(set, rs)).toBe(rs[2]);
    expect(destSetMax(set)).toBe(rs[2]);
    rs[1].inactConns = 1;
    expect(destSetMax(set)).toBe(rs[1]);
    rs[2].weight = 0; // max skips weight 0; min too
    expect(destSetMin(set, rs)).toBe(rs[0]);
    expect(destSetMax(set)).toBe(rs[1]);
  });
});

describe('LocalityCache (the lblc/lblcr table and timer)', () => {
  it('chains colliding addresses and finds each', () => {
    const c = new LocalityCache<number>(0);
    // Addresses 1024 apart share a bucket only if the multiplier maps them so; find some that collide.
    const addrs: number[] = [];
    for (let a = 0; addrs.length < 5; a++) if (multHash(a, 1023) === 7) addrs.push(a);
    addrs.forEach((a, i) => c.insert(a, i, 0));
    addrs.forEach((a, i) => expect(c.value(c.find(a))).toBe(i));
    expect(c.find(addrs[4] + 1)).toBe(-1);
    expect(c.entries).toBe(5);
  });

  it('full checks run on every 30th tick and drop entries idle for the expiration', () => {
    const c = new LocalityCache<number>(0, 100);
    c.insert(1, 1, 0);
    c.insert(2, 2, 1700);
    c.runTimers(COUNT_FOR_FULL_EXPIRATION * CHECK_EXPIRE_INTERVAL - 1);
    expect(c.entries).toBe(2);
    c.runTimers(1800); // tick 30: 1 (idle 1800) goes, 2 (idle 100) goes too: 1800 >= 1700 + 100
    expect(c.entries).toBe(0);
    c.insert(3, 3, 1900);
    c.runTimers(3599);
    expect(c.entries).toBe(1);
    c.runTimers(3600);
    expect(c.entries).toBe(0);
  });

  it('over 16K entries, a tick drops entries idle 6 min until 4/3 of the excess is gone', () => {
    const c = new LocalityCache<number>(0);
    const n = LOCALITY_MAX_SIZE + 300;
    for (let a = 0; a < n; a++) c.insert(a * 7919, a, 0);
    c.runTimers(ENTRY_TIMEOUT - 1); // ticks 1..5: nobody idle for 6 min yet
    expect(c.entries).toBe(n);
    c.runTimers(ENTRY_TIMEOUT); // tick 6: goal 400; whole buckets go (about 16 entries each)
    expect(c.entries).toBeLessThanOrEqual(n - 400);
    expect(c.entries).toBeGreaterThan(n - 400 - 64);
    const after = c.entries;
    c.runTimers(ENTRY_TIMEOUT + 60); // within the maximum now: the tick only counts
    expect(c.entries).toBe(after);
  });

  it('a long quiet spell in one call equals the timer firing every minute', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 200000 })), { maxLength: 60 }),
        fc.integer({ min: 60, max: 4 * 86400 }),
        fc.integer({ min: 100, max: 20000 }),
        (inserts, quiet, expiration) => {
          const a = new LocalityCache<number>(0, expiration);
          const b = new LocalityCache<number>(0, expiration);
          const sorted = [...inserts].sort((x, y) => x[1] - y[1]);
          for (const [addr, t] of sorted) {
            for (const c of [a, b]) {
              c.runTimers(t);
              if (c.find(addr) < 0) c.insert(addr, t, t);
              else c.touch(c.find(addr), t);
            }
          }
          const end = (sorted.length ? sorted[sorted.length - 1][1] : 0) + quiet;
          a.runTimers(end);
          for (let t = (sorted.length ? sorted[sorted.length - 1][1] : 0); t <= end; t += 60) b.runTimers(t);
          b.runTimers(end);
          expect(a.entries).toBe(b.entries);
          for (const [addr] of sorted) expect(a.find(addr) >= 0).toBe(b.find(addr) >= 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([400, 7200, 3 * 86400 + 30])('over the maximum, a quiet spell of %i s in one call equals minute by minute', (quiet) => {
    const a = new LocalityCache<number>(0, 3600);
    const b = new LocalityCache<number>(0, 3600);
    const rand = seeded(quiet);
    const addrs: number[] = [];
    for (let i = 0; i < LOCALITY_MAX_SIZE + 3000; i++) {
      const addr = rand();
      addrs.push(addr);
      const t = Math.floor(i / 20); // 0..969 s
      for (const c of [a, b]) {
        c.runTimers(t);
        if (c.find(addr) < 0) c.insert(addr, i, t);
      }
    }
    const start = Math.floor((LOCALITY_MAX_SIZE + 3000) / 20);
    a.runTimers(start + quiet);
    for (let t = start; t <= start + quiet; t += 60) b.runTimers(t);
    b.runTimers(start + quiet);
    expect(a.entries).toBe(b.entries);
    expect(addrs.filter((x) => a.find(x) >= 0)).toEqual(addrs.filter((x) => b.find(x) >= 0));
  });

  it('reuses freed slots', () => {
    const c = new LocalityCache<number>(0, 100);
    const rand = seeded(1);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) c.insert(rand(), i, round * 1800);
      c.runTimers((round + 1) * 1800);
      expect(c.entries).toBe(0);
    }
  });
});
