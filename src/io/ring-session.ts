// A capture session on the addon's TPACKET_V2 ring (native/packet-ring): the kernel writes frames into memory
// mapped into the process and each wake-up hands JS up to 256 of them at once, read in place through one cached
// Buffer view per ring slot (no copy, no allocation per frame). Emits made while a batch is handled are queued
// and sent with one sendmmsg at its end (tx-batch.ts). Opt-in; libpcap (node-pcap-session.ts) is the default.
import { CaptureOpenError, SessionCounters, type CaptureOptions, type CaptureSession } from './capture-session';
import type { FrameSink } from './packet-io';
import { ringAddon, type NativeHandle, type PacketRingAddon } from './ring-addon';
import { RingTx } from './ring-tx';
import { txBegin, txEnd } from './tx-batch';

// Per frame in the addon's descriptors: ring slot, offset of the frame in the ring, captured length, wire length.
const D_SLOT = 0;
const D_OFF = 1;
const D_CAP = 2;
const D_LEN = 3;
// ringLayout's fields.
const L_FRAME = 0;
const L_FRAMES = 1;
const L_PER_BLOCK = 2;
const L_BLOCK = 3;

const EMPTY = Buffer.alloc(0);
/** The largest ring (the descriptors give ring offsets as int32). */
const RING_MAX = 1 << 30;

export class RingSession implements CaptureSession {
  readonly counters = new SessionCounters();
  private h: NativeHandle | null;
  private readonly tx: RingTx;
  private readonly a: PacketRingAddon;
  private readonly iface: string;
  private readonly sink: FrameSink;
  private readonly fields: number;
  private readonly rx: Int32Array;
  private readonly mem: ArrayBuffer;
  private readonly layout = new Int32Array(4);
  /** One view per ring slot, made on first use: from the frame's start to the slot's end. */
  private views: (Buffer | undefined)[];
  private readonly bufs: Buffer[];
  private readonly lens: Int32Array;
  /** The addon's totals (received, dropped, callback errors); kept after close. */
  private readonly stats = new Float64Array(3);

  constructor(o: CaptureOptions) {
    const a = ringAddon();
    this.a = a;
    this.iface = o.iface;
    this.sink = o.sink;
    this.fields = a.RX_FIELDS;
    this.rx = new Int32Array(a.RX_BUDGET * a.RX_FIELDS);
    this.bufs = new Array<Buffer>(a.RX_BUDGET).fill(EMPTY);
    this.lens = new Int32Array(a.RX_BUDGET);
    try {
      this.h = a.ringOpen(o.iface, o.filter, o.snaplen, Math.min(o.bufferSize, RING_MAX), this.rx, (n) => this.wake(n));
    } catch (err) {
      throw new CaptureOpenError(`${o.iface}: ${(err as Error).message}`);
    }
    this.mem = a.ringMemory(this.h);
    a.ringLayout(this.h, this.layout);
    this.views = new Array<Buffer | undefined>(this.layout[L_FRAMES]).fill(undefined);
    this.tx = new RingTx(a, this.h, `${o.iface}: `, 'send');
  }

  /** Queued emits that failed when flushed (send had returned true), or sends that failed at once. */
  get txErrors(): number {
    return this.tx.errors;
  }

  /** The last such failure's reason. */
  get lastTxError(): unknown {
    return this.tx.lastError;
  }

  send(buf: Uint8Array, len: number): boolean {
    if (this.h === null || len < 0 || len > buf.length) return false;
    return this.tx.emit(buf, 0, len, 0);
  }

  /** Send the emits queued during the batch (tx-batch.ts has the RingTx do it when the outermost batch ends). */
  flush(): void {
    this.tx.flush();
  }

  /** Replace the filter in place (the kernel swaps it atomically); throws CaptureOpenError and keeps the old one. */
  setFilter(filter: string): void {
    const h = this.h;
    if (h === null) throw new CaptureOpenError(`${this.iface}: the capture is closed`);
    try {
      this.a.ringSetFilter(h, filter);
    } catch (err) {
      throw new CaptureOpenError(`${this.iface}: ${(err as Error).message}`);
    }
  }

  kernelStats(out: { received: number; dropped: number }): void {
    if (this.h !== null) this.a.ringStats(this.h, this.stats);
    out.received = this.stats[0];
    out.dropped = this.stats[1];
  }

  close(): void {
    const h = this.h;
    if (h === null) return;
    this.tx.detach(); // closed from inside a batch: what it queued still goes
    this.a.ringStats(h, this.stats);
    this.h = null;
    this.a.close(h); // unmaps the ring: the views read as empty from now on
    this.views = [];
    this.bufs.fill(EMPTY);
  }

  /** One wake-up of the addon: n frames are described in rx and stay ours until this returns. */
  private wake(n: number): void {
    const c = this.counters;
    if (n === 0) {
      // The socket reported an error (link down) and no frame came: what capture-watch.ts looks for.
      if (c.taken > 0) c.emptyWakeups++;
      return;
    }
    txBegin();
    try {
      if (this.sink.onFrames !== undefined) this.deliverBatch(n);
      else this.deliverEach(n);
    } finally {
      txEnd(); // the batch's emits go now, while its frames are still in the ring
    }
  }

  private deliverBatch(n: number): void {
    const c = this.counters;
    const rx = this.rx;
    const f = this.fields;
    const bufs = this.bufs;
    const lens = this.lens;
    let k = 0;
    for (let i = 0, at = 0; i < n; i++, at += f) {
      c.taken++;
      const cap = rx[at + D_CAP];
      if (cap < rx[at + D_LEN]) {
        c.truncated++; // cut to the capture length: never forwarded as if whole
        continue;
      }
      bufs[k] = this.view(rx[at + D_SLOT], rx[at + D_OFF]);
      lens[k] = cap;
      k++;
    }
    if (k === 0) return;
    try {
      this.sink.onFrames!(bufs, lens, k);
    } catch (err) {
      // The data path must never take the process down; the next batch starts afresh.
      c.handlerErrors++;
      c.lastHandlerError = err;
    }
  }

  private deliverEach(n: number): void {
    const c = this.counters;
    const rx = this.rx;
    const f = this.fields;
    const sink = this.sink;
    let i = 0;
    // One try per run of frames, not per frame: a throw skips only its own frame.
    while (i < n && this.h !== null) {
      try {
        for (; i < n && this.h !== null; i++) {
          const at = i * f;
          c.taken++;
          const cap = rx[at + D_CAP];
          if (cap < rx[at + D_LEN]) {
            c.truncated++;
            continue;
          }
          sink.onFrame(this.view(rx[at + D_SLOT], rx[at + D_OFF]), cap);
        }
      } catch (err) {
        c.handlerErrors++;
        c.lastHandlerError = err;
        i++;
      }
    }
  }

  /** The cached view of a slot; made again only if the frame starts elsewhere in it (another MAC offset). */
  private view(slot: number, off: number): Buffer {
    const v = this.views[slot];
    return v !== undefined && v.byteOffset === off ? v : this.makeView(slot, off);
  }

  private makeView(slot: number, off: number): Buffer {
    const l = this.layout;
    const end = Math.floor(slot / l[L_PER_BLOCK]) * l[L_BLOCK] + (slot % l[L_PER_BLOCK]) * l[L_FRAME] + l[L_FRAME];
    const v = Buffer.from(this.mem, off, end - off);
    this.views[slot] = v;
    return v;
  }
}
