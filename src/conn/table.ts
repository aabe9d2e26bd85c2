// The connection table: typed arrays sized once from config (a 32-byte record per connection, a key per tuple
// entry), open addressing over tuple entries, a free list of connection slots, and a timing wheel threaded through
// the slots. No JS object per connection.
//
// Each connection owns two tuple entries, e = conn*2 + dir: DIR_IN is the client's packet as it arrives
// (client -> VIP); DIR_OUT is the reply as it would arrive from the RS (NAT). A lookup finds either in one probe
// sequence, as DPVS hashes each connection twice.
//
// Layout for a lookup that touches few cache lines at millions of entries (each random line costs about as much as
// the rest of the lookup): the index is one Int32 per slot holding the entry number, a fingerprint of the tuple hash
// and a 3-bit code of the protocol (16 slots to a cache line, so a probe sequence rarely leaves its first line and a
// miss almost never reads a key), and an entry's key is one 12-byte record (src, dst, ports) instead of four
// arrays. The first seven protocols the table meets get exact codes, so a hit reads the index line and the key
// record only; any further protocol shares PROTO_OTHER and is compared in the proto array as well.
import { tupleHash } from './hash';

/** Added to a template's protocol: templates live in the same table, keyed apart from every packet. */
export const TEMPLATE_PROTO = 0x100;
export const DIR_IN = 0;
export const DIR_OUT = 1;
const NOT_LINKED = -1;
/** Wheel slots, one per second, for large tables; smaller tables take fewer (a long timeout just laps again). */
export const WHEEL_SLOTS = 1024;
const WHEEL_SLOTS_MIN = 64;
/** The index holds every entry of a full table of NAT connections (two each) at this load, at most. */
export const INDEX_LOAD_MAX = 0.8;
/** Largest capacity: entry numbers (2 per connection) + 1 must leave a few fingerprint bits in an index slot. */
export const CAPACITY_MAX = 1 << 24;
/** Index slot bits for the protocol code; the last code stands for every protocol beyond the first seven. */
const PROTO_BITS = 3;
const PROTO_OTHER = (1 << PROTO_BITS) - 1;
/** Protocols a lookup or insert may name: an IP protocol number, with or without TEMPLATE_PROTO. */
const PROTO_LIMIT = 0x200;
/** Largest service or RS id a record's 16-bit svc and dest fields hold. */
export const REF_MAX = 0x7fff;
const KEY_WORDS = 3;
/** Bytes of a connection's record (a power of two, so a record never straddles a cache line). */
const REC_BYTES = 32;
/** Int32 word of the inbound key in a record (bytes 16-27), and of the template link (28). */
const REC_KEY = 4;
const REC_CTL = 7;

export interface ConnExpiry {
  /**
   * Called for each connection the wheel finds due. Returns 0 to let it go (its slot is freed), or a number of
   * seconds to keep it that much longer (a persistence template that still controls connections).
   */
  onExpire(conn: number): number;
}

export interface ConnTableOptions {
  /**
   * Hash bits kept beside each entry number and protocol code in an index slot (default: all the slot has room
   * for). Tests pass 0, so every probed slot of the protocol is compared in full.
   */
  fingerprintBits?: number;
}

export class ConnTable {
  readonly capacity: number;
  count = 0;

  // Per connection: one 32-byte record (REC_BYTES), so a client's packet of an established connection reads its
  // index line and this one line (its key is in the record), where a field per array cost a cache miss per field:
  //   0 expires (u32) | 4 svc (i16) | 6 dest (i16) | 8 proto (u16) | 10 state | 11 flags | 12 inPkts | 13 spare
  //   | 14 born (u16) | 16 inbound key (src, dst, sport << 16 | dport) | 28 ctl: a connection's persistence
  //   template + 1 (0: none), or a template's count of connections it controls (n_control: it may not expire
  //   while > 0); one word for both, as a template is never controlled.
  private readonly rec8: Uint8Array;
  private readonly rec16: Int16Array;
  private readonly recU16: Uint16Array;
  private readonly recU32: Uint32Array;
  private readonly rec32: Int32Array;
  /** Wheel slots of this table (WHEEL_SLOTS, or fewer for a small table). */
  readonly wheelSlots: number;

  /**
   * The reply tuple's key (DIR_OUT), KEY_WORDS int32 per connection; the inbound one is in the record. A key is the
   * packet's own src, dst and (sport << 16 | dport) in that direction, addresses in the wire path's int32 form.
   */
  private readonly outKeys: Int32Array;

  /**
   * Open addressing, linear probing: 0 = empty, else ((entry + 1) << fpBits) | fingerprint, where the fingerprint
   * is ((hash << PROTO_BITS) | protocol code) & fpMask.
   */
  private readonly index: Int32Array;
  private readonly size: number;
  private readonly fpBits: number;
  private readonly fpMask: number;
  /** Protocol (0 to PROTO_LIMIT - 1) -> its code in index slots, -1 until the table first holds one. */
  private readonly protoCode: Int8Array;
  private protoCodes = 0;

  /** Wheel links; a free slot's next free slot rides in wheelNext (a free slot is on no wheel list). */
  private readonly wheelHead: Int32Array;
  private readonly wheelNext: Int32Array;
  /** The previous connection in the wheel list, or -2 - slot for a list head, or NOT_LINKED for a free slot. */
  private readonly wheelPrev: Int32Array;
  private freeHead: number;
  private wheelNow = 0;

  constructor(capacity: number, private readonly expiry: ConnExpiry, opts: ConnTableOptions = {}) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > CAPACITY_MAX) {
      throw new RangeError(`connection table capacity ${capacity}: 1 to ${CAPACITY_MAX}`);
    }
    const entries = capacity * 2;
    const hashRoom = Math.clz32(entries) - PROTO_BITS; // entries + 1 fits in the other bits: >= 3 hash bits are left
    const hashBits = opts.fingerprintBits ?? hashRoom;
    if (!Number.isInteger(hashBits) || hashBits < 0 || hashBits > hashRoom) {
      throw new RangeError(`fingerprint bits ${hashBits}: 0 to ${hashRoom}`);
    }
    this.capacity = capacity;
    const rec = new ArrayBuffer(capacity * REC_BYTES);
    this.rec8 = new Uint8Array(rec);
    this.rec16 = new Int16Array(rec);
    this.recU16 = new Uint16Array(rec);
    this.recU32 = new Uint32Array(rec);
    this.rec32 = new Int32Array(rec);
    this.outKeys = new Int32Array(capacity * KEY_WORDS);
    // Not a power of two: a slot count just above entries / INDEX_LOAD_MAX (home() scales the hash instead of
    // masking it), so the index costs the same bytes per connection at every capacity.
    this.size = Math.ceil(entries / INDEX_LOAD_MAX);
    this.index = new Int32Array(this.size);
    this.fpBits = hashBits + PROTO_BITS;
    this.fpMask = (1 << this.fpBits) - 1;
    this.protoCode = new Int8Array(PROTO_LIMIT).fill(-1);
    this.wheelSlots = Math.min(WHEEL_SLOTS, Math.max(WHEEL_SLOTS_MIN, 2 ** Math.ceil(Math.log2(capacity)) / 4));
    this.wheelHead = new Int32Array(this.wheelSlots).fill(NOT_LINKED);
    this.wheelNext = new Int32Array(capacity);
    this.wheelPrev = new Int32Array(capacity).fill(NOT_LINKED);
    for (let i = 0; i < capacity; i++) this.wheelNext[i] = i + 1;
    this.wheelNext[capacity - 1] = -1;
    this.freeHead = 0;
  }

  /** Slot count of the tuple index (shown as ipvsadm's "size"). */
  get hashSize(): number {
    return this.size;
  }

  /** Bytes held by the typed arrays: what a connection really costs. */
  get bytes(): number {
    const arrays = [this.rec8, this.outKeys, this.index, this.protoCode, this.wheelHead, this.wheelNext, this.wheelPrev];
    return arrays.reduce((n, a) => n + a.byteLength, 0);
  }

  /** Whether connection slot c holds a live connection (every live one is on a wheel list). */
  isLive(c: number): boolean {
    return this.wheelPrev[c] !== NOT_LINKED;
  }

  // A connection's fields (c: its slot). Small methods the optimising compiler inlines into the packet path.

  /** IP protocol; persistence templates add TEMPLATE_PROTO so no packet's tuple ever matches one. */
  protoOf(c: number): number {
    return this.recU16[(c << 4) | 4];
  }

  /** TCP state (conn/tcp-state.ts). */
  stateOf(c: number): number {
    return this.rec8[(c << 5) | 10];
  }

  setState(c: number, v: number): void {
    this.rec8[(c << 5) | 10] = v;
  }

  flagsOf(c: number): number {
    return this.rec8[(c << 5) | 11];
  }

  setFlags(c: number, v: number): void {
    this.rec8[(c << 5) | 11] = v;
  }

  /** Service id (a ServiceTable index, at most REF_MAX), or -1. */
  svcOf(c: number): number {
    return this.rec16[(c << 4) | 2];
  }

  setSvc(c: number, v: number): void {
    this.rec16[(c << 4) | 2] = v;
  }

  /** RS id (a ServiceTable index, at most REF_MAX), or -1. */
  destOf(c: number): number {
    return this.rec16[(c << 4) | 3];
  }

  setDest(c: number, v: number): void {
    this.rec16[(c << 4) | 3] = v;
  }

  /** When the connection expires (the clock's seconds). */
  expiresOf(c: number): number {
    return this.recU32[c << 3];
  }

  /** Inbound packets seen, saturating at 255 (the defense's ip_vs_todrop reads it). */
  inPktsOf(c: number): number {
    return this.rec8[(c << 5) | 12];
  }

  setInPkts(c: number, v: number): void {
    this.rec8[(c << 5) | 12] = v;
  }

  /** The defense's creation stamp (a 16-bit counter of connections made). */
  bornOf(c: number): number {
    return this.recU16[(c << 4) | 7];
  }

  setBorn(c: number, v: number): void {
    this.recU16[(c << 4) | 7] = v;
  }

  /** A connection's persistence template, or -1 (ip_vs_control_add). */
  ctrlOf(c: number): number {
    return this.rec32[(c << 3) | REC_CTL] - 1;
  }

  setCtrl(c: number, t: number): void {
    this.rec32[(c << 3) | REC_CTL] = t + 1;
  }

  /** A template's count of connections it controls. */
  nctlOf(t: number): number {
    return this.rec32[(t << 3) | REC_CTL];
  }

  setNctl(t: number, n: number): void {
    this.rec32[(t << 3) | REC_CTL] = n;
  }

  /** Source address of tuple entry e (int32 form). */
  tSrc(e: number): number {
    return this.keyWords(e)[this.keyAt(e)];
  }

  tDst(e: number): number {
    return this.keyWords(e)[this.keyAt(e) + 1];
  }

  tSport(e: number): number {
    return this.keyWords(e)[this.keyAt(e) + 2] >>> 16;
  }

  tDport(e: number): number {
    return this.keyWords(e)[this.keyAt(e) + 2] & 0xffff;
  }

  /** Entry (conn*2 + dir) whose tuple matches, or -1. */
  lookup(proto: number, src: number, sport: number, dst: number, dport: number): number {
    return this.lookupHashed(tupleHash(proto, src, sport, dst, dport), proto, src, sport, dst, dport);
  }

  /** lookup() for a tuple whose tupleHash() `h` the caller already has (a warmed batch hashed it from the frame). */
  lookupHashed(h: number, proto: number, src: number, sport: number, dst: number, dport: number): number {
    if (proto >= PROTO_LIMIT) return -1;
    const code = this.protoCode[proto];
    if (code < 0) return -1; // the table never held this protocol
    const ports = (sport << 16) | dport;
    const fpMask = this.fpMask;
    const fp = ((h << PROTO_BITS) | code) & fpMask;
    const fpBits = this.fpBits;
    const index = this.index;
    const rec32 = this.rec32;
    const outKeys = this.outKeys;
    const size = this.size;
    for (let i = this.home(h); ; ) {
      const s = index[i];
      if (s === 0) return -1;
      if ((s & fpMask) === fp) {
        const e = (s >>> fpBits) - 1;
        const out = (e & 1) !== 0;
        const keys = out ? outKeys : rec32;
        const k = out ? (e >>> 1) * KEY_WORDS : ((e >>> 1) << 3) | REC_KEY;
        if (keys[k] === src && keys[k + 1] === dst && keys[k + 2] === ports && (code !== PROTO_OTHER || this.protoOf(e >>> 1) === proto)) {
          return e;
        }
      }
      if (++i === size) i = 0;
    }
  }

  /**
   * Warm the cache for a batch of lookups to come (DPDK's bulk lookup, in two sweeps): first every tuple's home
   * index slot, then the key each of those slots points at. Within a sweep the loads do not depend on each other,
   * so their cache misses overlap instead of queueing one after another as separate lookups' do. `hashes` are
   * tupleHash() values of the tuples; a wrong or stale one only warms a line for nothing. Returns a value made of
   * the loads, so the compiler cannot drop them (the caller keeps it somewhere).
   */
  warm(hashes: Int32Array, n: number): number {
    const index = this.index;
    const rec32 = this.rec32;
    const outKeys = this.outKeys;
    const fpBits = this.fpBits;
    const size = this.size;
    let acc = 0;
    for (let i = 0; i < n; i++) acc ^= index[((hashes[i] >>> 6) * size * (1 / 67108864)) | 0];
    for (let i = 0; i < n; i++) {
      const s = index[((hashes[i] >>> 6) * size * (1 / 67108864)) | 0];
      if (s === 0) continue;
      const e = (s >>> fpBits) - 1;
      acc ^= (e & 1) === 0 ? rec32[((e >>> 1) << 3) | REC_KEY] : outKeys[(e >>> 1) * KEY_WORDS];
    }
    return acc;
  }

  /**
   * Take a free slot for a new connection and hash its inbound tuple. Returns the connection index,
   * or -1 when the table is full (the caller counts the refusal).
   */
  insert(proto: number, src: number, sport: number, dst: number, dport: number, now: number, timeout: number): number {
    if (!(proto >= 0 && proto < PROTO_LIMIT)) throw new RangeError(`protocol ${proto}`);
    const c = this.freeHead;
    if (c < 0) return -1;
    if (this.protoCode[proto] < 0) this.protoCode[proto] = this.protoCodes < PROTO_OTHER ? this.protoCodes++ : PROTO_OTHER;
    this.freeHead = this.wheelNext[c];
    this.count++;
    const r = c * REC_BYTES;
    this.rec8.fill(0, r, r + REC_BYTES);
    this.recU16[(c << 4) | 4] = proto;
    this.rec16[(c << 4) | 2] = -1;
    this.rec16[(c << 4) | 3] = -1;
    this.setKey(c * 2 + DIR_IN, src, sport, dst, dport);
    this.hash(c * 2 + DIR_IN);
    // An unhashed reply key is all zeros, so remove()'s search for it always starts at the same (cached) place.
    this.setKey(c * 2 + DIR_OUT, 0, 0, 0, 0);
    this.recU32[c << 3] = now + timeout;
    this.link(c, now + timeout);
    return c;
  }

  /** Hash the reply-direction tuple of a connection (NAT: as the RS's reply arrives). */
  addReplyTuple(c: number, src: number, sport: number, dst: number, dport: number): void {
    const e = c * 2 + DIR_OUT;
    this.unhash(e);
    this.setKey(e, src, sport, dst, dport);
    this.hash(e);
  }

  /** Push a connection's expiry to now + timeout. Cheap on the hot path: relinks only when it gets earlier. */
  touch(c: number, now: number, timeout: number): void {
    const t = now + timeout;
    const was = this.recU32[c << 3];
    this.recU32[c << 3] = t;
    // Linked at or before `was` (advance() moves it on if it is found early): only an earlier expiry relinks.
    if (t < was) {
      this.unlink(c);
      this.link(c, t);
    }
  }

  /** Remove a connection now (its expiry handler is not called). */
  remove(c: number): void {
    if (this.wheelPrev[c] === NOT_LINKED) return;
    this.unhash(c * 2 + DIR_IN);
    this.unhash(c * 2 + DIR_OUT);
    this.unlink(c);
    this.wheelNext[c] = this.freeHead;
    this.freeHead = c;
    this.count--;
  }

  /** Advance the wheel to `now` (seconds), expiring what is due. Returns how many expired. */
  advance(now: number): number {
    let expired = 0;
    const slots = this.wheelSlots;
    if (now - this.wheelNow > slots) this.wheelNow = now - slots; // a long stall: one lap covers all
    while (this.wheelNow < now) {
      this.wheelNow++;
      const slot = this.wheelNow & (slots - 1);
      let c = this.wheelHead[slot];
      while (c !== NOT_LINKED) {
        const next = this.wheelNext[c];
        const t = this.recU32[c << 3];
        if (t <= this.wheelNow) {
          const keep = this.expiry.onExpire(c);
          if (keep > 0) {
            this.recU32[c << 3] = this.wheelNow + keep;
            this.unlink(c);
            this.link(c, this.wheelNow + keep);
          } else {
            this.remove(c);
            expired++;
          }
        } else if ((t & (slots - 1)) !== slot) {
          // Refreshed since it was linked: move it to its real second (laps away in this slot, it just waits).
          this.unlink(c);
          this.link(c, t);
        }
        c = next;
      }
    }
    return expired;
  }

  /** Visit every live connection (control path: listing, flushing). */
  forEach(fn: (conn: number) => void): void {
    for (let c = 0; c < this.capacity; c++) if (this.wheelPrev[c] !== NOT_LINKED) fn(c);
  }

  /** Home slot of a hash: its high bits scaled to the slot count (26 bits * size < 2^53, exact in a double). */
  private home(h: number): number {
    return ((h >>> 6) * this.size * (1 / 67108864)) | 0;
  }

  /** The array holding entry e's key, and the key's first word there. */
  private keyWords(e: number): Int32Array {
    return (e & 1) === 0 ? this.rec32 : this.outKeys;
  }

  private keyAt(e: number): number {
    return (e & 1) === 0 ? ((e >>> 1) << 3) | REC_KEY : (e >>> 1) * KEY_WORDS;
  }

  private setKey(e: number, src: number, sport: number, dst: number, dport: number): void {
    const keys = this.keyWords(e);
    const k = this.keyAt(e);
    keys[k] = src;
    keys[k + 1] = dst;
    keys[k + 2] = (sport << 16) | dport;
  }

  /** The tuple hash of entry e, from its stored key (the index keeps only a fingerprint of it). */
  private hashOf(e: number): number {
    const keys = this.keyWords(e);
    const k = this.keyAt(e);
    const p = keys[k + 2];
    return tupleHash(this.protoOf(e >>> 1), keys[k], p >>> 16, keys[k + 1], p & 0xffff);
  }

  private hash(e: number): void {
    const h = this.hashOf(e);
    const size = this.size;
    let i = this.home(h);
    while (this.index[i] !== 0) if (++i === size) i = 0;
    this.index[i] = ((e + 1) << this.fpBits) | (((h << PROTO_BITS) | this.protoCode[this.protoOf(e >>> 1)]) & this.fpMask);
  }

  /**
   * Linear-probing delete with backward shift: no tombstones, so probe chains never rot. An entry that is not
   * hashed (a reply tuple never added) is simply not found: the search stops at the first empty slot.
   */
  private unhash(e: number): void {
    const size = this.size;
    const fpBits = this.fpBits;
    let i = this.home(this.hashOf(e));
    for (;;) {
      const s = this.index[i];
      if (s === 0) return;
      if ((s >>> fpBits) - 1 === e) break;
      if (++i === size) i = 0;
    }
    let j = i;
    for (;;) {
      if (++j === size) j = 0;
      const s = this.index[j];
      if (s === 0) break;
      const k = this.home(this.hashOf((s >>> fpBits) - 1));
      // The entry at j may move into the hole at i unless its home k lies cyclically in (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (!stays) {
        this.index[i] = s;
        i = j;
      }
    }
    this.index[i] = 0;
  }

  private link(c: number, t: number): void {
    const slot = t & (this.wheelSlots - 1);
    const head = this.wheelHead[slot];
    this.wheelNext[c] = head;
    this.wheelPrev[c] = -2 - slot;
    if (head !== NOT_LINKED) this.wheelPrev[head] = c;
    this.wheelHead[slot] = c;
  }

  private unlink(c: number): void {
    const prev = this.wheelPrev[c];
    const next = this.wheelNext[c];
    if (prev >= 0) this.wheelNext[prev] = next;
    else if (prev !== NOT_LINKED) this.wheelHead[-2 - prev] = next;
    if (next !== NOT_LINKED) this.wheelPrev[next] = prev;
    this.wheelNext[c] = NOT_LINKED;
    this.wheelPrev[c] = NOT_LINKED;
  }
}
