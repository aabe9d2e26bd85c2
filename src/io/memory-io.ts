// In-memory PacketIo and IpSender: tests push frames in and read what the pipeline emitted, with no wire at all.
import type { IpSender } from './ip-sender';
import type { FrameSink, PacketIo } from './packet-io';

export class MemoryIo implements PacketIo, IpSender {
  /** Ethernet frames emitted (DR). */
  readonly sent: Buffer[] = [];
  /** IPv4 packets handed to the kernel (TUN, NAT, FullNAT), with the destination they were routed to. */
  readonly sentIp: { packet: Buffer; dst: number }[] = [];
  filter: string;
  private sink: FrameSink | null = null;
  private readonly rx = Buffer.alloc(65536);
  /** When set, send() reports failure (to exercise the emit-failed path). */
  failSends = false;

  constructor(filter = '') {
    this.filter = filter;
  }

  start(sink: FrameSink): void {
    this.sink = sink;
  }

  /** Deliver one frame as capture would: copied into the one reused receive buffer. */
  receive(frame: Uint8Array): void {
    if (!this.sink) throw new Error('MemoryIo: not started');
    this.rx.set(frame, 0);
    this.sink.onFrame(this.rx, frame.length);
  }

  send(buf: Uint8Array, len: number): boolean {
    if (this.failSends) return false;
    this.sent.push(Buffer.from(buf.subarray(0, len)));
    return true;
  }

  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean {
    if (this.failSends) return false;
    this.sentIp.push({ packet: Buffer.from(buf.subarray(off, off + len)), dst: dst >>> 0 });
    return true;
  }

  setFilter(filter: string): void {
    this.filter = filter;
  }

  close(): void {
    this.sink = null;
  }
}
