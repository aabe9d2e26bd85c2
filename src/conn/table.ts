// The connection table: struct-of-arrays sized once from config, open addressing over tuple entries,
// a free list of connection slots, and a timing wheel threaded through the slots. No JS object per connection.
//
// Each connection owns two tuple entries, e = conn*2 + dir: DIR_IN is the client's packet as it arrives
// (client -> VIP); DIR_OUT is the reply as it would arrive from the RS (NAT). A lookup finds either in one probe
// sequence, as DPVS hashes each connection twice.
import { tupleHash } from './hash';

/** Added to a template's protocol: templates live in the same table, keyed apart from every packet. */
export const TEMPLATE_PROTO = 0x100;
export const DIR_IN = 0;
export const DIR_OUT = 1;
const EMPTY = -1;
const NOT_LINKED = -1;
/** Wheel slots, one per second; a power of two longer than the longest default timeout (900 s). */
export const WHEEL_SLOTS = 1024;

export interface ConnExpiry {
  /**
   * Called for each connection the wheel finds due. Returns 0 to let it go (its slot is freed), or a number of
   * seconds to keep it that much longer (a persistence template that still controls connections).
   */
  onExpire(conn: number): number;
}

export class ConnTable {
  readonly capacity: number;
  count = 0;

  // Per connection.
  /** IP protocol; persistence templates add TEMPLATE_PROTO so no packet's tuple ever matches one. */
  readonly proto: Uint16Array;
  readonly state: Uint8Array;
  readonly flags: Uint8Array;
  readonly svc: Int32Array;
  readonly dest: Int32Array;
  readonly expires: Uint32Array;
  readonly inUse: Uint8Array;
  /** A connection's persistence template, or -1 (ip_vs_control_add). */
  readonly ctrl: Int32Array;
  /** A template's count of connections it controls (n_control): it may not expire while > 0. */
  readonly nctl: Uint32Array;

  // Per tuple entry (conn*2 + dir): the packet's own (src, sport, dst, dport) in that direction.
  // Addresses in the wire path's int32 form (packet/ipv4.ts).
  readonly tSrc: Int32Array;
  readonly tDst: Int32Array;
  readonly tSport: Uint16Array;
  readonly tDport: Uint16Array;
  private readonly tHash: Int32Array;
  private readonly tHashed: Uint8Array;

  private readonly buckets: Int32Array;
  private readonly mask: number;

  private readonly nextFree: Int32Array;
  private freeHead: number;

  private readonly wheelHead: Int32Array;
  private readonly wheelNext: Int32Array;
  private readonly wheelPrev: Int32Array;
  /** The second whose wheel slot the connection is linked in. */
  private readonly wheelAt: Uint32Array;
  private wheelNow = 0;

  constructor(capacity: number, private readonly expiry: ConnExpiry) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`connection table capacity ${capacity}`);
    this.capacity = capacity;
    this.proto = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.svc = new Int32Array(capacity);
    this.dest = new Int32Array(capacity);
    this.expires = new Uint32Array(capacity);
    this.inUse = new Uint8Array(capacity);
    this.ctrl = new Int32Array(capacity).fill(-1);
    this.nctl = new Uint32Array(capacity);
    const entries = capacity * 2;
    this.tSrc = new Int32Array(entries);
    this.tDst = new Int32Array(entries);
    this.tSport = new Uint16Array(entries);
    this.tDport = new Uint16Array(entries);
    this.tHash = new Int32Array(entries);
    this.tHashed = new Uint8Array(entries);
    // Load factor <= 0.5 even when every connection has both entries hashed.
    let size = 1;
    while (size < entries * 2) size <<= 1;
    this.buckets = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    this.nextFree = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.nextFree[i] = i + 1;
    this.nextFree[capacity - 1] = -1;
    this.freeHead = 0;
    this.wheelHead = new Int32Array(WHEEL_SLOTS).fill(NOT_LINKED);
    this.wheelNext = new Int32Array(capacity).fill(NOT_LINKED);
    this.wheelPrev = new Int32Array(capacity).fill(NOT_LINKED);
    this.wheelAt = new Uint32Array(capacity);
  }

  /** Bucket count of the tuple hash (shown as ipvsadm's "size"). */
  get hashSize(): number {
    return this.mask + 1;
  }

  /** Bytes held by the typed arrays: what a connection really costs. */
  get bytes(): number {
    const arrays = [this.proto, this.state, this.flags, this.svc, this.dest, this.expires, this.inUse, this.ctrl, this.nctl, this.tSrc,
      this.tDst, this.tSport, this.tDport, this.tHash, this.tHashed, this.buckets, this.nextFree, this.wheelHead,
      this.wheelNext, this.wheelPrev, this.wheelAt];
    return arrays.reduce((n, a) => n + a.byteLength, 0);
  }

  /** Entry (conn*2 + dir) whose tuple matches, or -1. */
  lookup(proto: number, src: number, sport: number, dst: number, dport: number): number {
    const h = tupleHash(proto, src, sport, dst, dport);
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.buckets[i];
      if (e === EMPTY) return -1;
      if (this.tHash[e] === h && this.tSrc[e] === src && this.tDst[e] === dst && this.tSport[e] === sport &&
        this.tDport[e] === dport && this.proto[e >>> 1] === proto) return e;
    }
  }

  /**
   * Take a free slot for a new connection and hash its inbound tuple. Returns the connection index,
   * or -1 when the table is full (the caller counts the refusal).
   */
  insert(proto: number, src: number, sport: number, dst: number, dport: number, now: number, timeout: number): number {
    const c = this.freeHead;
    if (c < 0) return -1;
    this.freeHead = this.nextFree[c];
    this.nextFree[c] = -1;
    this.inUse[c] = 1;
    this.count++;
    this.proto[c] = proto;
    this.state[c] = 0;
    this.flags[c] = 0;
    this.svc[c] = -1;
    this.dest[c] = -1;
    this.ctrl[c] = -1;
    this.nctl[c] = 0;
    this.setTuple(c * 2 + DIR_IN, src, sport, dst, dport);
    this.tHashed[c * 2 + DIR_OUT] = 0;
    this.expires[c] = now + timeout;
    this.link(c, now + timeout);
    return c;
  }

  /** Hash the reply-direction tuple of a connection (NAT: as the RS's reply arrives). */
  addReplyTuple(c: number, src: number, sport: number, dst: number, dport: number): void {
    this.setTuple(c * 2 + DIR_OUT, src, sport, dst, dport);
  }

  /** Push a connection's expiry to now + timeout. Cheap on the hot path: relinks only when it gets earlier. */
  touch(c: number, now: number, timeout: number): void {
    const t = now + timeout;
    this.expires[c] = t;
    if (t < this.wheelAt[c]) {
      this.unlink(c);
      this.link(c, t);
    }
  }

  /** Remove a connection now (its expiry handler is not called). */
  remove(c: number): void {
    if (!this.inUse[c]) return;
    this.unhash(c * 2 + DIR_IN);
    this.unhash(c * 2 + DIR_OUT);
    this.unlink(c);
    this.inUse[c] = 0;
    this.nextFree[c] = this.freeHead;
    this.freeHead = c;
    this.count--;
  }

  /** Advance the wheel to `now` (seconds), expiring what is due. Returns how many expired. */
  advance(now: number): number {
    let expired = 0;
    if (now - this.wheelNow > WHEEL_SLOTS) this.wheelNow = now - WHEEL_SLOTS; // a long stall: one lap covers all
    while (this.wheelNow < now) {
      this.wheelNow++;
      const slot = this.wheelNow & (WHEEL_SLOTS - 1);
      let c = this.wheelHead[slot];
      while (c !== NOT_LINKED) {
        const next = this.wheelNext[c];
        const t = this.expires[c];
        if (t <= this.wheelNow) {
          const keep = this.expiry.onExpire(c);
          if (keep > 0) {
            this.expires[c] = this.wheelNow + keep;
            this.unlink(c);
            this.link(c, this.wheelNow + keep);
          } else {
            this.remove(c);
            expired++;
          }
        } else if ((t & (WHEEL_SLOTS - 1)) !== slot || t - this.wheelNow >= WHEEL_SLOTS) {
          // Refreshed since it was linked (or a lap away): move it to its real second.
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
    for (let c = 0; c < this.capacity; c++) if (this.inUse[c]) fn(c);
  }

  private setTuple(e: number, src: number, sport: number, dst: number, dport: number): void {
    if (this.tHashed[e]) this.unhash(e);
    this.tSrc[e] = src;
    this.tDst[e] = dst;
    this.tSport[e] = sport;
    this.tDport[e] = dport;
    const h = tupleHash(this.proto[e >>> 1], src, sport, dst, dport);
    this.tHash[e] = h;
    const mask = this.mask;
    let i = h & mask;
    while (this.buckets[i] !== EMPTY) i = (i + 1) & mask;
    this.buckets[i] = e;
    this.tHashed[e] = 1;
  }

  /** Linear-probing delete with backward shift: no tombstones, so probe chains never rot. */
  private unhash(e: number): void {
    if (!this.tHashed[e]) return;
    this.tHashed[e] = 0;
    const mask = this.mask;
    let i = this.tHash[e] & mask;
    while (this.buckets[i] !== e) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const m = this.buckets[j];
      if (m === EMPTY) break;
      const k = this.tHash[m] & mask;
      // m may move into the hole at i unless its home k lies cyclically in (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (!stays) {
        this.buckets[i] = m;
        i = j;
      }
    }
    this.buckets[i] = EMPTY;
  }

  private link(c: number, t: number): void {
    const slot = t & (WHEEL_SLOTS - 1);
    const head = this.wheelHead[slot];
    this.wheelNext[c] = head;
    this.wheelPrev[c] = NOT_LINKED;
    if (head !== NOT_LINKED) this.wheelPrev[head] = c;
    this.wheelHead[slot] = c;
    this.wheelAt[c] = t;
  }

  private unlink(c: number): void {
    const prev = this.wheelPrev[c];
    const next = this.wheelNext[c];
    if (prev !== NOT_LINKED) this.wheelNext[prev] = next;
    else if (this.wheelHead[this.wheelAt[c] & (WHEEL_SLOTS - 1)] === c) this.wheelHead[this.wheelAt[c] & (WHEEL_SLOTS - 1)] = next;
    if (next !== NOT_LINKED) this.wheelPrev[next] = prev;
    this.wheelNext[c] = NOT_LINKED;
    this.wheelPrev[c] = NOT_LINKED;
  }
}
