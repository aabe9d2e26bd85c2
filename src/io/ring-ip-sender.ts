// IpSender on the ring addon's raw IPv4 socket (IPPROTO_RAW, header included): inside a receive batch
// (tx-batch.ts) packets are copied to a staging area and go out with one sendmmsg at its end, each with its
// own destination; outside one, a sendto each. Opt-in, with ring-session.ts; raw-ip.ts is the default.
import type { IpSender } from './ip-sender';
import { ringAddon, type NativeHandle, type PacketRingAddon } from './ring-addon';
import { RingTx } from './ring-tx';

export class RingIpSender implements IpSender {
  private h: NativeHandle | null;
  private readonly a: PacketRingAddon;
  private readonly tx: RingTx;

  constructor() {
    this.a = ringAddon();
    this.h = this.a.ipOpen();
    this.tx = new RingTx(this.a, this.h, '', 'sendto');
  }

  /** Sends that failed, at once or when their batch was flushed, and the last reason. */
  get errors(): number {
    return this.tx.errors;
  }

  get lastError(): unknown {
    return this.tx.lastError;
  }

  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean {
    if (this.h === null) return false;
    if (off < 0 || len < 0 || off + len > buf.length) {
      this.tx.fail(1, new RangeError(`sendIp: [${off}, ${off + len}) outside a ${buf.length}-byte buffer`));
      return false;
    }
    // The wire int32 form as is: the addon reads it modulo 2^32 (napi_get_value_uint32), where `dst >>> 0` above
    // 2^31 would be a heap number, an allocation per packet to every address from 128.0.0.0 on.
    return this.tx.emit(buf, off, len, dst);
  }

  /** Send what the batch queued (tx-batch.ts calls it when the outermost batch ends). */
  flush(): void {
    this.tx.flush();
  }

  close(): void {
    const h = this.h;
    if (h === null) return;
    this.tx.detach();
    this.h = null;
    this.a.close(h);
  }
}
