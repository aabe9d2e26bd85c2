// A capture session on node-pcap, without its per-packet objects: we subclass its session and override
// on_packet_ready (bound in its constructor) to hand the reused buffer straight to the sink.
// node-pcap's addon is not context-aware: it loads in the main thread only.
import pcap = require('pcap');
import { CaptureOpenError, SessionCounters, type CaptureOptions, type CaptureSession } from './capture-session';

// pcap_pkthdr as node-pcap copies it: tv_sec, tv_usec, caplen, len (uint32 LE each).
const CAPLEN_OFF = 8;
const LEN_OFF = 12;

type Session = pcap.PcapSession & {
  buf: Buffer;
  header: Buffer;
  on_packet_ready(): void;
  session: {
    dispatch(buf: Buffer, header: Buffer): number;
    close(): void;
    stats(): { ps_recv: number; ps_drop: number };
    /** What node-pcap's poll calls when the fd is readable (or in error). */
    read_callback: () => void;
  };
};

export class NodePcapSession implements CaptureSession {
  readonly counters = new SessionCounters();
  private readonly s: Session;
  /** Views of a buffer's first n bytes, made once per (buffer, n): inject takes a whole Buffer. */
  private readonly views = new WeakMap<Uint8Array, Buffer[]>();

  constructor(o: CaptureOptions) {
    // node-pcap reports non-fatal libpcap warnings through console.warn unless told otherwise.
    (pcap as unknown as { warningHandler: (m: string) => void }).warningHandler = o.warn;
    const sink = o.sink;
    const c = this.counters;
    class Capture extends (pcap.PcapSession as unknown as new (...a: unknown[]) => Session) {
      override on_packet_ready(this: Session & { opened: boolean }): void {
        // After close() libpcap still hands over the next frame before it sees the break and lets the socket go:
        // that frame belongs to the session that replaced this one (another filter, maybe another worker's share).
        if (!this.opened) return;
        c.taken++;
        const caplen = this.header.readUInt32LE(CAPLEN_OFF);
        if (caplen < this.header.readUInt32LE(LEN_OFF)) {
          c.truncated++;
          return;
        }
        try {
          sink.onFrame(this.buf, caplen);
        } catch (err) {
          // The data path must never take the process down (node-pcap would).
          c.handlerErrors++;
          c.lastHandlerError = err;
        }
      }
    }
    try {
      // (is_live, device, filter, buffer_size, snap_length, outfile, is_monitor, buffer_timeout, promiscuous)
      // buffer_timeout 0 selects immediate mode: frames reach us as they arrive, not in 1 s batches.
      this.s = new Capture(true, o.iface, o.filter, o.bufferSize, o.snaplen, null, false, 0, true);
    } catch (err) {
      throw new CaptureOpenError(`${o.iface}: ${(err as Error).message}`);
    }
    // Count the wakeups that find no frame once frames have flowed (one closure per session, none per frame).
    const read = this.s.session.read_callback;
    this.s.session.read_callback = () => {
      const before = c.taken;
      read();
      if (c.taken === before && before > 0) c.emptyWakeups++;
    };
  }

  send(buf: Uint8Array, len: number): boolean {
    try {
      this.s.inject(this.view(buf, len));
      return true;
    } catch {
      return false;
    }
  }

  kernelStats(out: { received: number; dropped: number }): void {
    try {
      const st = this.s.session.stats();
      out.received = st.ps_recv;
      out.dropped = st.ps_drop;
    } catch {
      /* closed under us: keep the last values */
    }
  }

  close(): void {
    this.s.close();
    // node-pcap only releases the handle when a dispatch sees the break: drive one now rather than
    // waiting for a frame that may never come.
    try {
      this.s.session.dispatch(this.s.buf, this.s.header);
    } catch {
      /* already released */
    }
  }

  private view(buf: Uint8Array, len: number): Buffer {
    let byLen = this.views.get(buf);
    if (byLen === undefined) {
      byLen = [];
      this.views.set(buf, byLen);
    }
    let v = byLen[len];
    if (v === undefined) {
      v = Buffer.from(buf.buffer, buf.byteOffset, len);
      byLen[len] = v;
    }
    return v;
  }
}
