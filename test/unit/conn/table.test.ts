import { describe, expect, it } from 'vitest';
import { ConnTable, DIR_IN, DIR_OUT, WHEEL_SLOTS } from '../../../src/conn/table';

const TCP = 6;

function table(cap: number, expired: number[] = []): ConnTable {
  return new ConnTable(cap, { onExpire: (c) => (expired.push(c), 0) });
}

describe('ConnTable', () => {
  it('finds what it inserted and nothing else', () => {
    const t = table(8);
    const c = t.insert(TCP, 0x0a000002, 40000, 0x0a000064, 80, 1, 60);
    expect(t.lookup(TCP, 0x0a000002, 40000, 0x0a000064, 80)).toBe(c * 2 + DIR_IN);
    expect(t.lookup(TCP, 0x0a000002, 40001, 0x0a000064, 80)).toBe(-1);
    expect(t.lookup(17, 0x0a000002, 40000, 0x0a000064, 80)).toBe(-1);
    expect(t.count).toBe(1);
  });

  it('hashes a reply tuple that finds the same connection in the other direction', () => {
    const t = table(8);
    const c = t.insert(TCP, 1, 1000, 2, 80, 1, 60);
    t.addReplyTuple(c, 3, 8080, 1, 1000);
    expect(t.lookup(TCP, 3, 8080, 1, 1000)).toBe(c * 2 + DIR_OUT);
    t.remove(c);
    expect(t.lookup(TCP, 3, 8080, 1, 1000)).toBe(-1);
    expect(t.lookup(TCP, 1, 1000, 2, 80)).toBe(-1);
  });

  it('refuses inserts at capacity and reuses freed slots', () => {
    const t = table(4);
    const ids = [0, 1, 2, 3].map((i) => t.insert(TCP, 1, 1000 + i, 2, 80, 1, 60));
    expect(ids.every((c) => c >= 0)).toBe(true);
    expect(t.insert(TCP, 1, 2000, 2, 80, 1, 60)).toBe(-1);
    t.remove(ids[2]);
    expect(t.insert(TCP, 1, 2000, 2, 80, 1, 60)).toBe(ids[2]);
    expect(t.count).toBe(4);
  });

  it('keeps every entry findable through many inserts and removals (backward-shift delete)', () => {
    const cap = 2000;
    const t = table(cap);
    const live = new Map<number, number>(); // sport -> conn
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 50000; step++) {
      const sport = 1 + rnd(4000);
      const have = live.get(sport);
      if (have === undefined) {
        const c = t.insert(TCP, 0x0a000002, sport, 0x0a000064, 80, 1, 60);
        if (c >= 0) live.set(sport, c);
      } else {
        t.remove(have);
        live.delete(sport);
      }
    }
    expect(t.count).toBe(live.size);
    for (const [sport, c] of live) expect(t.lookup(TCP, 0x0a000002, sport, 0x0a000064, 80)).toBe(c * 2);
    let absent = 0;
    for (let sport = 1; sport <= 4000; sport++) if (!live.has(sport)) absent += t.lookup(TCP, 0x0a000002, sport, 0x0a000064, 80) === -1 ? 1 : 0;
    expect(absent).toBe(4000 - live.size);
  });

  it('expires on the wheel at the right second, and touch() postpones it', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const a = t.insert(TCP, 1, 1, 2, 80, 1, 10); // due at 11
    const b = t.insert(TCP, 1, 2, 2, 80, 1, 10);
    t.advance(5);
    t.touch(b, 5, 10); // due at 15
    t.advance(10);
    expect(expired).toEqual([]);
    t.advance(11);
    expect(expired).toEqual([a]);
    t.advance(14);
    expect(expired).toEqual([a]);
    t.advance(15);
    expect(expired).toEqual([a, b]);
    expect(t.count).toBe(0);
  });

  it('moves a connection earlier when its timeout shrinks (ESTABLISHED 900 s -> CLOSE 10 s)', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const c = t.insert(TCP, 1, 1, 2, 80, 1, 900);
    t.touch(c, 2, 10);
    t.advance(11);
    expect(expired).toEqual([]);
    t.advance(12);
    expect(expired).toEqual([c]);
  });

  it('handles timeouts longer than one wheel lap and long stalls', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const c = t.insert(TCP, 1, 1, 2, 80, 1, WHEEL_SLOTS * 2 + 5);
    t.advance(WHEEL_SLOTS + 10);
    expect(expired).toEqual([]);
    t.advance(WHEEL_SLOTS * 10);
    expect(expired).toEqual([c]);
  });
});
