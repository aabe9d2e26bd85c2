// The emit side of one of the addon's sockets, shared by the capture session (frames, on the packet socket) and the
// IP sender (raw IPv4): while a receive batch is open (tx-batch.ts) packets are queued and go out with one sendmmsg
// at its end (a full staging area is flushed once and the packet queued again); outside one, a send each. Failures
// are counted with the last reason, for status.
import type { NativeHandle, PacketRingAddon } from './ring-addon';
import { txBatching, txRegister, txUnregister, type TxFlusher } from './tx-batch';

export class RingTx implements TxFlusher {
  /** Sends that failed, at once or when their batch was flushed, and the last reason. */
  errors = 0;
  lastError: unknown = null;

  /** `label` prefixes the reasons (the interface, or nothing); `sendName` names the one-at-a-time syscall. */
  constructor(
    private readonly a: PacketRingAddon,
    private h: NativeHandle | null,
    private readonly label: string,
    private readonly sendName: string,
  ) {
    txRegister(this);
  }

  /** Queue or send buf[off, off+len) (to `dst`, the wire int32 form, on an IP socket); false when it failed. */
  emit(buf: Uint8Array, off: number, len: number, dst: number): boolean {
    const h = this.h;
    if (h === null) return false;
    if (txBatching()) {
      if (this.a.txQueue(h, buf, off, len, dst)) return true;
      this.flush();
      if (this.a.txQueue(h, buf, off, len, dst)) return true;
    }
    const err = this.a.txSend(h, buf, off, len, dst);
    if (err === 0) return true;
    this.fail(1, new Error(`${this.label}${this.sendName}: ${this.a.errnoText(err)}`));
    return false;
  }

  /** Send what the batch queued (tx-batch.ts calls it when the outermost batch ends). */
  flush(): void {
    const h = this.h;
    if (h === null) return;
    const failed = this.a.txFlush(h);
    if (failed > 0) this.fail(failed, new Error(`${this.label}sendmmsg: ${this.a.txError(h)}`));
  }

  /** Count `n` failed sends and keep why. */
  fail(n: number, why: unknown): void {
    this.errors += n;
    this.lastError = why;
  }

  /** Send what is queued and stop: emits fail from now on. The handle's owner closes the socket. */
  detach(): void {
    this.flush();
    this.h = null;
    txUnregister(this);
  }
}
