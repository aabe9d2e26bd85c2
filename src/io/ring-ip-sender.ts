// IpSender on the ring addon's raw IPv4 socket (IPPROTO_RAW, header included): inside a receive batch
// (tx-batch.ts) packets are copied to a staging area and go out with one sendmmsg at its end, each with its
// own destination; outside one, a sendto each. Opt-in, with ring-session.ts; raw-ip.ts is the default.
import type { IpSender } from './ip-sender';
import { ringAddon, ringEmit, type NativeHandle, type PacketRingAddon } from './ring-addon';
import { txRegister, txUnregister, type TxFlusher } from './tx-batch';

export class RingIpSender implements IpSender, TxFlusher {
  /** Sends that failed, at once or when their batch was flushed, and the last reason. */
  errors = 0;
  lastError: unknown = null;
  private h: NativeHandle | null;
  private readonly a: PacketRingAddon;

  constructor() {
    this.a = ringAddon();
    this.h = this.a.ipOpen();
    txRegister(this);
  }

  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean {
    const h = this.h;
    if (h === null) return false;
    if (off < 0 || len < 0 || off + len > buf.length) {
      this.errors++;
      this.lastError = new RangeError(`sendIp: [${off}, ${off + len}) outside a ${buf.length}-byte buffer`);
      return false;
    }
    // The wire int32 form as is: the addon reads it modulo 2^32 (napi_get_value_uint32), where `dst >>> 0` above
    // 2^31 would be a heap number, an allocation per packet to every address from 128.0.0.0 on.
    const to = dst;
    const err = ringEmit(this.a, h, this, buf, off, len, to);
    if (err === 0) return true;
    // EMSGSIZE, ENETUNREACH...: counted by the caller's verdict; the last one is kept for status.
    this.errors++;
    this.lastError = new Error(`sendto: ${this.a.errnoText(err)}`);
    return false;
  }

  /** Send what the batch queued (tx-batch.ts calls it when the outermost batch ends). */
  flush(): void {
    const h = this.h;
    if (h === null) return;
    const failed = this.a.txFlush(h);
    if (failed > 0) {
      this.errors += failed;
      this.lastError = new Error(`sendmmsg: ${this.a.txError(h)}`);
    }
  }

  close(): void {
    const h = this.h;
    if (h === null) return;
    this.flush();
    this.h = null;
    txUnregister(this);
    this.a.close(h);
  }
}
