import { describe, expect, it } from 'vitest';
import { CAPACITY_MAX, ConnTable, DIR_IN, DIR_OUT, TEMPLATE_PROTO } from '../../../src/conn/table';
import { DEFAULT_CONN_MAX } from '../../../src/control/config';

const TCP = 6;
const UDP = 17;

function table(cap: number, expired: number[] = []): ConnTable {
  return new ConnTable(cap, { onExpire: (c) => (expired.push(c), 0) });
}

/** Every typed array the table holds, found on the object itself (not from its own `bytes` list). */
/** Bytes of every distinct buffer behind the table's typed arrays (several views share the record buffer). */
function arrayBytes(t: ConnTable): number {
  const buffers = new Set(Object.values(t).filter((v) => ArrayBuffer.isView(v)).map((v) => (v as ArrayBufferView).buffer));
  return [...buffers].reduce((n, b) => n + b.byteLength, 0);
}

/** A deterministic pseudo-random source, so a failure replays. */
function rng(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
}

describe('ConnTable', () => {
  it('finds what it inserted and nothing else', () => {
    const t = table(8);
    const c = t.insert(TCP, 0x0a000002, 40000, 0x0a000064, 80, 1, 60);
    expect(t.lookup(TCP, 0x0a000002, 40000, 0x0a000064, 80)).toBe(c * 2 + DIR_IN);
    expect(t.lookup(TCP, 0x0a000002, 40001, 0x0a000064, 80)).toBe(-1);
    expect(t.lookup(TCP, 0x0a000003, 40000, 0x0a000064, 80)).toBe(-1);
    expect(t.lookup(TCP, 0x0a000002, 40000, 0x0a000065, 80)).toBe(-1);
    expect(t.lookup(TCP, 0x0a000002, 40000, 0x0a000064, 81)).toBe(-1);
    expect(t.lookup(UDP, 0x0a000002, 40000, 0x0a000064, 80)).toBe(-1);
    expect(t.lookup(TCP | TEMPLATE_PROTO, 0x0a000002, 40000, 0x0a000064, 80)).toBe(-1);
    expect(t.count).toBe(1);
    expect(t.isLive(c)).toBe(true);
  });

  it('keeps the same 4-tuple apart by protocol (TCP, UDP, a template)', () => {
    const t = table(8);
    const a = t.insert(TCP, 1, 53, 2, 53, 1, 60);
    const b = t.insert(UDP, 1, 53, 2, 53, 1, 60);
    const p = t.insert(UDP | TEMPLATE_PROTO, 1, 53, 2, 53, 1, 60);
    expect(t.lookup(TCP, 1, 53, 2, 53)).toBe(a * 2);
    expect(t.lookup(UDP, 1, 53, 2, 53)).toBe(b * 2);
    expect(t.lookup(UDP | TEMPLATE_PROTO, 1, 53, 2, 53)).toBe(p * 2);
    t.remove(b);
    expect(t.lookup(UDP, 1, 53, 2, 53)).toBe(-1);
    expect(t.lookup(TCP, 1, 53, 2, 53)).toBe(a * 2);
    expect(t.lookup(UDP | TEMPLATE_PROTO, 1, 53, 2, 53)).toBe(p * 2);
  });

  it('stores full 32-bit addresses and 16-bit ports (sign bits included) and reads them back per direction', () => {
    const t = table(8);
    const cip = 0xc0a80102 | 0; // 192.168.1.2: negative as int32
    const vip = 0xfe000001 | 0;
    const c = t.insert(UDP, cip, 65535, vip, 32768, 1, 60);
    t.addReplyTuple(c, 0x80000001 | 0, 54321, cip, 65535);
    const i = c * 2 + DIR_IN;
    const o = c * 2 + DIR_OUT;
    expect([t.tSrc(i), t.tSport(i), t.tDst(i), t.tDport(i)]).toEqual([cip, 65535, vip, 32768]);
    expect([t.tSrc(o), t.tSport(o), t.tDst(o), t.tDport(o)]).toEqual([0x80000001 | 0, 54321, cip, 65535]);
    expect(t.lookup(UDP, cip, 65535, vip, 32768)).toBe(i);
    expect(t.lookup(UDP, 0x80000001 | 0, 54321, cip, 65535)).toBe(o);
    expect(t.lookup(UDP, cip, 65534, vip, 32768)).toBe(-1);
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

  it('replaces a reply tuple when it is set again (FullNAT re-binding): the old one is gone', () => {
    const t = table(8);
    const c = t.insert(TCP, 1, 1000, 2, 80, 1, 60);
    t.addReplyTuple(c, 3, 80, 4, 5000);
    t.addReplyTuple(c, 3, 80, 4, 5001);
    expect(t.lookup(TCP, 3, 80, 4, 5000)).toBe(-1);
    expect(t.lookup(TCP, 3, 80, 4, 5001)).toBe(c * 2 + DIR_OUT);
    // The slot's next tenant starts with no reply tuple: the old one is not found through it.
    t.remove(c);
    const d = t.insert(TCP, 7, 7, 8, 80, 1, 60);
    expect(d).toBe(c);
    expect(t.lookup(TCP, 3, 80, 4, 5001)).toBe(-1);
    expect(t.lookup(TCP, 7, 7, 8, 80)).toBe(d * 2);
  });

  it('refuses inserts at capacity and reuses freed slots', () => {
    const t = table(4);
    const ids = [0, 1, 2, 3].map((i) => t.insert(TCP, 1, 1000 + i, 2, 80, 1, 60));
    expect(new Set(ids).size).toBe(4);
    expect(ids.every((c) => c >= 0 && c < 4)).toBe(true);
    expect(t.insert(TCP, 1, 2000, 2, 80, 1, 60)).toBe(-1);
    expect(t.count).toBe(4);
    t.remove(ids[2]);
    expect(t.isLive(ids[2])).toBe(false);
    t.remove(ids[2]); // twice: no effect
    expect(t.count).toBe(3);
    expect(t.insert(TCP, 1, 2000, 2, 80, 1, 60)).toBe(ids[2]);
    expect(t.count).toBe(4);
    expect(t.lookup(TCP, 1, 1002, 2, 80)).toBe(-1);
    expect(t.lookup(TCP, 1, 2000, 2, 80)).toBe(ids[2] * 2);
  });

  it('refuses a capacity it cannot index', () => {
    expect(() => table(0)).toThrow(RangeError);
    expect(() => table(1.5)).toThrow(RangeError);
    expect(() => table(CAPACITY_MAX + 1)).toThrow(RangeError);
  });

  it.each([
    ['a table with room', 2000, 4000, 7],
    ['a small index that wraps around, NAT at full load', 64, 80, 11],
  ])('keeps every tuple findable through many inserts and removals, both directions (%s)', (_name, cap, ports, seed) => {
    // Backward-shift delete: a removal that left a hole in a probe chain would hide every entry after it.
    const t = table(cap);
    const rnd = rng(seed);
    const live = new Map<number, number>(); // client port -> conn
    for (let step = 0; step < 40000; step++) {
      const sport = 1 + rnd(ports);
      const have = live.get(sport);
      if (have === undefined) {
        const c = t.insert(TCP, 0x0a000002, sport, 0x0a000064, 80, 1, 60);
        if (c < 0) {
          expect(live.size).toBe(cap);
          continue;
        }
        t.addReplyTuple(c, 0x0a00000b, 8080, 0x0a000002, sport); // NAT: every connection hashes both
        live.set(sport, c);
      } else {
        t.remove(have);
        live.delete(sport);
      }
      if (step % 499 === 0 || step === 39999) {
        const wrong: string[] = [];
        for (let p = 1; p <= ports; p++) {
          const c = live.get(p);
          if (t.lookup(TCP, 0x0a000002, p, 0x0a000064, 80) !== (c === undefined ? -1 : c * 2 + DIR_IN)) wrong.push(`in ${p}`);
          if (t.lookup(TCP, 0x0a00000b, 8080, 0x0a000002, p) !== (c === undefined ? -1 : c * 2 + DIR_OUT)) wrong.push(`out ${p}`);
        }
        expect(wrong, `step ${step}`).toEqual([]);
      }
    }
    expect(t.count).toBe(live.size);
    const seen: number[] = [];
    t.forEach((c) => seen.push(c));
    expect(seen.sort((a, b) => a - b)).toEqual([...live.values()].sort((a, b) => a - b));
  });

  it('verifies the whole key behind a matching fingerprint (a large table, where fingerprints are 9 bits)', () => {
    // 2^18 connections: the index keeps 9 bits of each hash, so ~2^18 misses meet on the order of a thousand
    // equal fingerprints of other tuples; each must still be a miss.
    const cap = 1 << 18;
    const t = table(cap);
    for (let i = 0; i < cap - 1; i++) t.insert(TCP, 0x0a400000 + (i >>> 14), 1024 + (i & 0x3fff), 0x0a000064, 80, 1, 60);
    t.insert(UDP, 1, 2, 3, 4, 1, 60); // UDP has a code: its lookups below probe rather than stop at once
    let wrong = 0;
    for (let i = 0; i < cap - 1; i++) {
      if (t.lookup(TCP, 0x0a400000 + (i >>> 14), 1024 + (i & 0x3fff), 0x0a000064, 80) !== i * 2) wrong++;
      if (t.lookup(TCP, 0x0a400000 + (i >>> 14), 1024 + (i & 0x3fff), 0x0a000064, 81) !== -1) wrong++;
      if (t.lookup(UDP, 0x0a400000 + (i >>> 14), 1024 + (i & 0x3fff), 0x0a000064, 80) !== -1) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it.each(['src', 'sport', 'dst', 'dport', 'proto'] as const)(
    'compares every key field in full, here %s (no hash fingerprint: every probed slot of the protocol is a candidate)',
    (field) => {
      // 128 connections whose tuples differ only in `field`, a dense index (NAT reply tuples too); then the odd
      // ones go. A lookup of an odd value walks past neighbours equal in every other field, and must miss. Protocols
      // 0 to 6 get exact codes in the index; the rest share one and are compared in the proto array.
      const cap = 128;
      const t = new ConnTable(cap, { onExpire: () => 0 }, { fingerprintBits: 0 });
      const tuple = (v: number): [number, number, number, number, number] => [
        field === 'proto' ? v : TCP, field === 'src' ? v : 0x0a000002, field === 'sport' ? v : 40000,
        field === 'dst' ? v : 0x0a000064, field === 'dport' ? v : 80,
      ];
      const conns: number[] = [];
      for (let v = 0; v < cap; v++) {
        conns.push(t.insert(...tuple(v), 1, 60));
        t.addReplyTuple(conns[v], 0x0a00000b, 8080, 0x0a000002, 1 + v);
      }
      for (let v = 1; v < cap; v += 2) t.remove(conns[v]);
      const wrong: number[] = [];
      for (let v = 0; v < cap; v++) {
        const e = t.lookup(...tuple(v));
        if (v % 2 === 1 ? e !== -1 : e < 0 || e % 2 !== DIR_IN || t.protoOf(e >>> 1) !== tuple(v)[0] || t.tSrc(e) !== tuple(v)[1] ||
          t.tSport(e) !== tuple(v)[2] || t.tDst(e) !== tuple(v)[3] || t.tDport(e) !== tuple(v)[4]) wrong.push(v);
      }
      expect(wrong).toEqual([]);
    },
  );

  it('finds nothing for a protocol it never held, even beside shared-code protocols with the same 4-tuple', () => {
    const t = new ConnTable(16, { onExpire: () => 0 }, { fingerprintBits: 0 });
    for (let p = 0; p < 10; p++) t.insert(p, 1, 1, 2, 2, 1, 60); // 7 to 9 share the last code
    for (let p = 0; p < 10; p++) expect(t.lookup(p, 1, 1, 2, 2)).toBe(p * 2);
    expect([10, 100, 255, TCP | TEMPLATE_PROTO].map((p) => t.lookup(p, 1, 1, 2, 2))).toEqual([-1, -1, -1, -1]);
  });

  it('refuses a fingerprint wider than an index slot has room for', () => {
    // 2^21 entries: 11 bits of an index slot hold the entry number + 1, 3 the protocol code, 7 are left.
    expect(() => new ConnTable(1 << 20, { onExpire: () => 0 }, { fingerprintBits: 8 })).toThrow(RangeError);
    expect(() => new ConnTable(1 << 20, { onExpire: () => 0 }, { fingerprintBits: -1 })).toThrow(RangeError);
    expect(new ConnTable(1 << 20, { onExpire: () => 0 }, { fingerprintBits: 7 }).capacity).toBe(1 << 20);
  });

  it('refuses a protocol outside 0..0x1ff on insert, and finds nothing for one on lookup', () => {
    const t = table(4);
    expect(() => t.insert(0x200, 1, 1, 2, 2, 1, 60)).toThrow(RangeError);
    expect(() => t.insert(-1, 1, 1, 2, 2, 1, 60)).toThrow(RangeError);
    expect(t.count).toBe(0);
    const c = t.insert(0x1ff, 1, 1, 2, 2, 1, 60);
    expect(t.lookup(0x1ff, 1, 1, 2, 2)).toBe(c * 2);
    expect(t.lookup(0x3ff, 1, 1, 2, 2)).toBe(-1);
  });

  it('expires on the wheel at the right second, and touch() postpones it', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const a = t.insert(TCP, 1, 1, 2, 80, 1, 10); // due at 11
    const b = t.insert(TCP, 1, 2, 2, 80, 1, 10);
    t.advance(5);
    t.touch(b, 5, 10); // due at 15
    expect(t.expiresOf(b)).toBe(15);
    t.advance(10);
    expect(expired).toEqual([]);
    t.advance(11);
    expect(expired).toEqual([a]);
    expect(t.lookup(TCP, 1, 1, 2, 80)).toBe(-1);
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

  it('unlinks the head, middle and tail of one wheel second: only the rest expire, each once', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const ids = [1, 2, 3, 4, 5].map((p) => t.insert(TCP, 1, p, 2, 80, 1, 30)); // all due at 31: one list
    t.remove(ids[4]); // the head (the last linked)
    t.remove(ids[2]); // a middle one
    t.remove(ids[0]); // the tail
    t.touch(ids[3], 2, 5); // earlier: relinked at 7
    t.advance(7);
    expect(expired).toEqual([ids[3]]);
    t.advance(40);
    expect(expired).toEqual([ids[3], ids[1]]);
    expect(t.count).toBe(0);
    // The freed slots serve again and expire normally.
    const again = [6, 7, 8].map((p) => t.insert(TCP, 1, p, 2, 80, 40, 3));
    expect(again.every((c) => c >= 0)).toBe(true);
    t.advance(43);
    expect(expired.slice(2).sort()).toEqual([...again].sort());
  });

  it('keeps a connection its expiry handler asks to keep, for that long', () => {
    let keeps = 1;
    const seen: number[] = [];
    const t = new ConnTable(8, { onExpire: (c) => (seen.push(c), keeps-- > 0 ? 20 : 0) });
    const c = t.insert(TCP | TEMPLATE_PROTO, 1, 0, 2, 80, 1, 10);
    t.advance(11);
    expect(seen).toEqual([c]);
    expect(t.count).toBe(1);
    expect(t.lookup(TCP | TEMPLATE_PROTO, 1, 0, 2, 80)).toBe(c * 2);
    t.advance(30);
    expect(seen).toEqual([c]);
    t.advance(31);
    expect(seen).toEqual([c, c]);
    expect(t.count).toBe(0);
  });

  it('handles timeouts longer than one wheel lap and long stalls', () => {
    const expired: number[] = [];
    const t = table(8, expired);
    const lap = t.wheelSlots;
    const c = t.insert(TCP, 1, 1, 2, 80, 1, lap * 2 + 5);
    t.advance(lap + 10);
    expect(expired).toEqual([]);
    t.advance(lap * 2 + 5);
    expect(expired).toEqual([]);
    t.advance(lap * 2 + 6);
    expect(expired).toEqual([c]);
    const d = t.insert(TCP, 1, 2, 2, 80, lap * 2 + 6, 60);
    t.advance(lap * 50); // a stall of many laps
    expect(expired).toEqual([c, d]);
  });

  it("keeps each of a connection's fields apart from the others and from its neighbours' (one record each)", () => {
    const t = table(8);
    const cs = [0, 1, 2].map((i) => t.insert(6, 0x0a000001 + i, 1000, 0x0a000064, 80, 0, 10));
    const set = (c: number, k: number): void => {
      t.setState(c, 3 + k);
      t.setFlags(c, 0xf0 | k);
      t.setSvc(c, 100 + k);
      t.setDest(c, -1 - k);
      t.setInPkts(c, 200 + k);
      t.setBorn(c, 0xfff0 + k);
      t.setCtrl(c, 5 + k);
    };
    const get = (c: number): number[] => [t.protoOf(c), t.stateOf(c), t.flagsOf(c), t.svcOf(c), t.destOf(c), t.inPktsOf(c), t.bornOf(c),
      t.ctrlOf(c), t.expiresOf(c)];
    cs.forEach(set);
    cs.forEach((c, k) => expect(get(c)).toEqual([6, 3 + k, 0xf0 | k, 100 + k, -1 - k, 200 + k, 0xfff0 + k, 5 + k, 10]));
    t.setNctl(cs[1], 7); // a template's count shares the link's word
    expect([t.nctlOf(cs[1]), t.ctrlOf(cs[0]), t.ctrlOf(cs[2])]).toEqual([7, 5, 7]);
    t.remove(cs[1]);
    const again = t.insert(17, 0x0a000009, 9, 0x0a000064, 53, 0, 20); // the slot comes back zeroed
    expect(again).toBe(cs[1]);
    expect(get(again)).toEqual([17, 0, 0, -1, -1, 0, 0, -1, 20]);
  });

  it.each([1000, 100_000, DEFAULT_CONN_MAX, 1 << 20])('costs at most 64 bytes per connection at capacity %i', (cap) => {
    const t = table(cap);
    const bytes = arrayBytes(t);
    expect(t.bytes).toBe(bytes); // `bytes` forgets no array
    expect(bytes / cap).toBeLessThanOrEqual(64);
  });
});
