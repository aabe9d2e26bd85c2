// libpcap capture and injection through node-pcap, without its per-packet objects: we subclass its session
// and override on_packet_ready (bound in its constructor) to hand the reused buffer straight to the pipeline.
import pcap = require('pcap');
import type { FrameSink, PacketIo } from './packet-io';

const CAPLEN_OFF = 8; // pcap_pkthdr as node-pcap copies it: tv_sec, tv_usec, caplen, len (uint32 LE each)
const SNAPLEN = 65535;

type Session = pcap.PcapSession & {
  buf: Buffer;
  header: Buffer;
  on_packet_ready(): void;
  session: { dispatch(buf: Buffer, header: Buffer): number; close(): void };
};

/** Thrown when libpcap cannot open the interface; the message is libpcap's own. */
export class CaptureOpenError extends Error {}

export class PcapIo implements PacketIo {
  private session: Session | null = null;
  private sink: FrameSink | null = null;
  /** Views of a buffer's first n bytes, made once per (buffer, n): inject takes a whole Buffer. */
  private readonly views = new WeakMap<Uint8Array, Buffer[]>();
  /** Frames whose handler threw: the data path must never take the process down (node-pcap would). */
  handlerErrors = 0;
  lastHandlerError: unknown = null;

  constructor(readonly iface: string, private filter: string, warn: (msg: string) => void = () => undefined) {
    // node-pcap reports non-fatal libpcap warnings through console.warn unless told otherwise.
    (pcap as unknown as { warningHandler: (m: string) => void }).warningHandler = warn;
  }

  start(sink: FrameSink): void {
    this.sink = sink;
    this.open();
  }

  setFilter(filter: string): void {
    if (filter === this.filter) return;
    this.filter = filter;
    if (this.sink) this.open();
  }

  send(buf: Uint8Array, len: number): boolean {
    const s = this.session;
    if (s === null) return false;
    try {
      s.inject(this.view(buf, len));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.closeSession(this.session);
    this.session = null;
    this.sink = null;
  }

  health(): { handlerErrors: number; lastHandlerError: string | null } {
    const e = this.lastHandlerError;
    return { handlerErrors: this.handlerErrors, lastHandlerError: e === null ? null : String((e as Error).stack ?? e) };
  }

  stats(): { received: number; dropped: number; ifdropped: number } {
    const st = this.session?.stats() as { ps_recv: number; ps_drop: number; ps_ifdrop: number } | undefined;
    return { received: st?.ps_recv ?? 0, dropped: st?.ps_drop ?? 0, ifdropped: st?.ps_ifdrop ?? 0 };
  }

  private open(): void {
    const sink = this.sink!;
    const onError = (err: unknown): void => {
      this.handlerErrors++;
      this.lastHandlerError = err;
    };
    let next: Session;
    class Capture extends (pcap.PcapSession as unknown as new (...a: unknown[]) => Session) {
      override on_packet_ready(this: Session): void {
        try {
          sink.onFrame(this.buf, this.header.readUInt32LE(CAPLEN_OFF));
        } catch (err) {
          onError(err);
        }
      }
    }
    try {
      // (is_live, device, filter, buffer_size, snap_length, outfile, is_monitor, buffer_timeout, promiscuous)
      // buffer_timeout 0 selects immediate mode: frames reach us as they arrive, not in 1 s batches.
      next = new Capture(true, this.iface, this.filter, 32 * 1024 * 1024, SNAPLEN, null, false, 0, true);
    } catch (err) {
      throw new CaptureOpenError(`${this.iface}: ${(err as Error).message}`);
    }
    const old = this.session;
    this.session = next;
    this.closeSession(old);
  }

  private closeSession(s: Session | null): void {
    if (s === null) return;
    s.close();
    // node-pcap only releases the handle when a dispatch sees the break: drive one now rather than
    // waiting for a frame that may never come.
    try {
      s.session.dispatch(s.buf, s.header);
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
