// One open capture on one interface, as PcapIo drives it (open with a filter, send, counters, close); PcapIo owns the
// lifecycle around it. Two implementations: node-pcap's (node-pcap-session.ts; its addon is not context-aware,
// so captures run in the main thread of each process: lvsd's workers are processes) and the ring's
// (ring-session.ts: a PACKET_MMAP ring through our own addon, frames handed over a wake-up at a time).
import type { FrameSink } from './packet-io';

/** Counters one session keeps while it is open (plain numbers, bumped in place on the data path). */
export class SessionCounters {
  /** Frames taken out of the ring: delivered to the sink, or truncated and dropped. */
  taken = 0;
  /** Frames the kernel cut to the capture length (caplen < len): counted and dropped, never forwarded. */
  truncated = 0;
  /** Wakeups that found no frame once frames had flowed: what POLLERR (a link flap) looks like (capture-watch.ts). */
  emptyWakeups = 0;
  /** Frames whose handler threw. */
  handlerErrors = 0;
  lastHandlerError: unknown = null;
}

export interface CaptureSession {
  readonly counters: SessionCounters;
  /** Emit `buf[0..len)` on the interface; false when the emit failed. */
  send(buf: Uint8Array, len: number): boolean;
  /** The kernel's counters since the session opened: ps_recv and ps_drop. */
  kernelStats(out: { received: number; dropped: number }): void;
  /** Emits that failed after send() had queued them (the ring's batches), or failed at once; absent: none queued. */
  readonly txErrors?: number;
  /** Swap the capture filter in place, if the session can (throws CaptureOpenError on a bad one, keeping the old). */
  setFilter?(filter: string): void;
  close(): void;
}

export interface CaptureOptions {
  iface: string;
  filter: string;
  snaplen: number;
  bufferSize: number;
  sink: FrameSink;
  /** libpcap's non-fatal warnings. */
  warn: (msg: string) => void;
}

/** Thrown when libpcap cannot open the interface; the message is libpcap's own. */
export class CaptureOpenError extends Error {}
