// IPVS's flood defense (ip_vs_ctl.c update_defense_level, ip_vs_conn.c ip_vs_random_dropentry, secure_tcp) with the
// connection table's free slots where the kernel reads free memory: our table has a fixed size, so "memory is short"
// means "few slots are free". Modes are the kernel's sysctl values:
//   0 off; 1 automatic, off now (turns on, and reads 2, once free slots < amemthresh);
//   2 automatic, on now (back to 1 once free slots >= amemthresh); 3 always on.
// drop_entry, while on, drops entries as the kernel does once a second (half-open ones, and established or UDP
// ones that are idle and carried few packets), and, where the kernel never needs to because its table grows,
// makes room at a full table for a new connection by dropping the stalest half-open or closed entry.
// secure_tcp, while on, moves TCP states with the kernel's tcp_states_dos table and ages them with the shorter
// timeouts of conn/timeouts.ts dosTimeouts().
// drop_packet, while on, sheds one in every drop_rate new connections before they are scheduled (ip_vs_todrop),
// drop_rate = amemthresh / (amemthresh - free slots): rarely while the table still has room, every one when it is
// full. That is what keeps a SYN flood cheap: a shed SYN costs a parse and a lookup, not a forward to a real server.
// Mode 3 sheds one in am_droprate always.
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipv4';
import { dosTimeouts } from './timeouts';
import { isHalfOpen, S_CLOSE, S_ESTABLISHED, S_NONE, S_TIME_WAIT, STATE_COUNT } from './tcp-state';
import { TEMPLATE_PROTO, type ConnTable } from './table';

export interface DefenseConfig {
  /** drop_entry mode, 0..3. */
  dropEntry: number;
  /** secure_tcp mode, 0..3. */
  secureTcp: number;
  /** Free connection slots below which the automatic modes turn on (the kernel's amemthresh counts free pages). */
  amemthresh: number;
  /** drop_packet mode, 0..3. */
  dropPacket: number;
  /** drop_packet mode 3 sheds one new connection in this many (the kernel's am_droprate, default 10). */
  amDroprate: number;
}

/** Automatic defense, engaged when fewer than a quarter of the slots (at most 1024, the kernel's amemthresh) are free. */
export function defaultDefense(connMax: number): DefenseConfig {
  // drop_packet stays off, as the kernel's: at a full table it would also shed the new clients that drop_entry
  // makes room for, for as long as the table stays short after a flood.
  return { dropEntry: 1, secureTcp: 1, amemthresh: defaultAmemthresh(connMax), dropPacket: 0, amDroprate: DEFAULT_AM_DROPRATE };
}

/** The kernel's am_droprate default. */
export const DEFAULT_AM_DROPRATE = 10;

export const defaultAmemthresh = (connMax: number): number => Math.min(1024, Math.floor(connMax / 4));

/** Entries sampled for one eviction at a full table: enough to find an old one, bounded work per SYN. */
const EVICT_SAMPLES = 8;
/** todrop_entry spares a connection that saw a packet within this many seconds. */
const TODROP_IDLE_S = 60;

export class Defense {
  dropEntry: number;
  secureTcp: number;
  dropPacket: number;
  readonly amemthresh: number;
  private readonly amDroprate: number;
  /** Shed one new connection in dropRate (0: none), counting down in dropCounter (ip_vs_todrop). */
  dropRate = 0;
  private dropCounter = 0;
  /** New connections shed by drop_packet. */
  shed = 0;
  /** What the last update decided: drop entries now / use the secure state table and timeouts now. */
  dropping = false;
  secure = false;
  // Per connection, in the table's record: incoming packets (inPktsOf, saturating at 255: the kernel's in_pkts,
  // which todrop_entry reads), and when it was made (bornOf), in connections made (16 bits, wrapping): the coarse
  // clock cannot order a flood's entries within a second, this can, so a fresh entry (a real client's SYN between
  // its SYN and its ACK) is never the one dropped to make room.
  private made = 0;
  /** The timeouts while secure: per state, the lower of the configured and the secure ones. */
  readonly secureTimeouts = new Uint32Array(STATE_COUNT);
  /** Entries dropped to admit a new connection at a full table, and by the once-a-second scan. */
  evicted = 0;
  scanned = 0;
  private readonly dos = dosTimeouts();
  private readonly todropCounter = new Int32Array(9);
  private cursor = 0;
  private tickAt = 0;
  private timeoutsAt = -1;
  private rnd = 0x2545f491;

  constructor(
    private readonly conns: ConnTable,
    cfg: DefenseConfig,
    private readonly timeouts: Uint32Array,
    /** Settle a connection's counters and free its slot (Pipeline.release). */
    private readonly release: (c: number) => void,
  ) {
    this.dropEntry = cfg.dropEntry;
    this.secureTcp = cfg.secureTcp;
    this.amemthresh = cfg.amemthresh;
    this.dropPacket = cfg.dropPacket;
    this.amDroprate = cfg.amDroprate;
    this.update();
  }

  /** A connection was made in slot c. */
  admit(c: number): void {
    this.conns.setBorn(c, this.made); // inPkts starts at 0 with the record
    this.made = (this.made + 1) & 0xffff;
  }

  /** The timeout table in force. */
  get table(): Uint32Array {
    return this.secure ? this.secureTimeouts : this.timeouts;
  }

  /** update_defense_level: the automatic modes follow the table's free slots. */
  update(): void {
    const nomem = this.short();
    this.dropping = engaged(this.dropEntry, nomem);
    this.dropEntry = nextMode(this.dropEntry, nomem);
    const wasSecure = this.secure;
    this.secure = engaged(this.secureTcp, nomem);
    this.secureTcp = nextMode(this.secureTcp, nomem);
    this.updateDropRate(nomem);
    // Taken again each second, so --set follows; and at once when secure_tcp turns on.
    if (this.secure && (!wasSecure || this.timeoutsAt !== this.tickAt)) {
      for (let s = 0; s < STATE_COUNT; s++) this.secureTimeouts[s] = Math.min(this.timeouts[s], this.dos[s]);
      this.timeoutsAt = this.tickAt;
    }
  }

  /** update_defense_level's drop_packet step. */
  private updateDropRate(nomem: boolean): void {
    if (this.dropPacket === 3) {
      this.dropRate = this.amDroprate;
    } else if (engaged(this.dropPacket, nomem)) {
      const free = this.conns.capacity - this.conns.count;
      this.dropRate = Math.max(1, Math.floor(this.amemthresh / (this.amemthresh - free)));
      this.dropCounter = this.dropRate;
    } else {
      this.dropRate = 0;
    }
    this.dropPacket = nextMode(this.dropPacket, nomem);
  }

  /**
   * The table is full (no free slot: drop_rate would be amemthresh / amemthresh = 1) and drop_packet is automatic:
   * take that rate now, not at the next second. Returns whether this connection is shed.
   */
  shedAllNow(): boolean {
    if ((this.dropPacket !== 1 && this.dropPacket !== 2) || this.amemthresh === 0) return false;
    if (this.dropRate !== 1) {
      this.dropRate = 1;
      this.dropPacket = 2;
    }
    this.dropCounter = 1;
    this.shed++;
    return true;
  }

  /** ip_vs_todrop: whether drop_packet sheds this new connection (called only while dropRate is not 0). */
  shedNew(): boolean {
    if (--this.dropCounter > 0) return false;
    this.dropCounter = this.dropRate;
    this.shed++;
    return true;
  }

  /** Free slots below the threshold: the kernel's "nomem". */
  private short(): boolean {
    return this.conns.capacity - this.conns.count < this.amemthresh;
  }

  /** Once a second (the kernel's defense_work): update, then while dropping scan 1/32 of the table. */
  tick(now: number): void {
    this.tickAt = now;
    this.update();
    if (this.dropping) this.dropScan(now);
  }

  /**
   * ip_vs_random_dropentry over a window of 1/32 of the slots (a rotating window rather than random buckets: the
   * whole table is visited every 32 s). Templates are kept (persistence is a promise); half-open TCP entries go;
   * established TCP and UDP entries go when todrop_entry says so.
   */
  private dropScan(now: number): void {
    const t = this.conns;
    const cap = t.capacity;
    const n = Math.max(1, cap >>> 5);
    for (let k = 0; k < n; k++) {
      const c = this.cursor;
      this.cursor = c + 1 === cap ? 0 : c + 1;
      if (!t.isLive(c) || (t.protoOf(c) & TEMPLATE_PROTO) !== 0) continue;
      const st = t.stateOf(c);
      let drop: boolean;
      if (t.protoOf(c) === IPPROTO_TCP) drop = isHalfOpen(st) || (st === S_ESTABLISHED && this.todrop(c, now));
      else drop = t.protoOf(c) === IPPROTO_UDP && this.todrop(c, now);
      if (drop) {
        this.release(c);
        this.scanned++;
      }
    }
  }

  /**
   * todrop_entry: spare a connection that saw a packet in the last 60 s or carried more than 8 (or no) incoming
   * packets; of the rest, drop every i-th that carried i packets.
   */
  private todrop(c: number, now: number): boolean {
    const t = this.conns;
    if (t.expiresOf(c) - now > this.table[t.stateOf(c)] - TODROP_IDLE_S) return false;
    const i = t.inPktsOf(c);
    if (i === 0 || i > 8) return false;
    if (--this.todropCounter[i] > 0) return false;
    this.todropCounter[i] = i;
    return true;
  }

  /**
   * The table is full and a new TCP connection wants in: while drop_entry is on, free the slot of the oldest of a
   * few sampled entries that hold no live connection (never past the SYN, half-open, closed). Returns whether a
   * slot was freed.
   */
  makeRoom(): boolean {
    // Per SYN at a full table: only drop_entry's own step of update_defense_level, the rest waits for the tick.
    const nomem = this.short();
    this.dropping = engaged(this.dropEntry, nomem);
    this.dropEntry = nextMode(this.dropEntry, nomem);
    if (!this.dropping) return false;
    const t = this.conns;
    const cap = t.capacity;
    let best = -1;
    let bestAge = -1;
    for (let k = 0; k < EVICT_SAMPLES; k++) {
      let r = this.rnd;
      r ^= r << 13;
      r ^= r >>> 17;
      r ^= r << 5;
      this.rnd = r;
      const c = (r >>> 0) % cap;
      if (!t.isLive(c) || t.protoOf(c) !== IPPROTO_TCP) continue;
      const st = t.stateOf(c);
      if (st !== S_NONE && st !== S_CLOSE && st !== S_TIME_WAIT && !isHalfOpen(st)) continue;
      const age = (this.made - this.conns.bornOf(c)) & 0xffff;
      if (age > bestAge) {
        best = c;
        bestAge = age;
      }
    }
    if (best < 0) return false;
    this.release(best);
    this.evicted++;
    return true;
  }

  /** For status: the modes as the kernel's sysctls would read now, and what the defense did. */
  status(): {
    drop_entry: number; secure_tcp: number; drop_packet: number; amemthresh: number; dropping: boolean; secure: boolean;
    drop_rate: number; evicted: number; scanned: number; shed: number;
  } {
    return {
      drop_entry: this.dropEntry, secure_tcp: this.secureTcp, drop_packet: this.dropPacket, amemthresh: this.amemthresh,
      dropping: this.dropping, secure: this.secure, drop_rate: this.dropRate, evicted: this.evicted, scanned: this.scanned, shed: this.shed,
    };
  }
}

/** Is a mode's strategy on (update_defense_level's switch), given whether free slots are short? */
const engaged = (mode: number, nomem: boolean): boolean => mode === 3 || ((mode === 1 || mode === 2) && nomem);

/** The automatic modes read 2 while on and 1 while off, as the kernel rewrites its sysctl. */
const nextMode = (mode: number, nomem: boolean): number => (mode === 1 || mode === 2 ? (nomem ? 2 : 1) : mode);
