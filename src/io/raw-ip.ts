// IpSender on a raw IPv4 socket (IPPROTO_RAW, header included) from the raw-socket package.
// raw-socket's Socket#send queues a request object per call; its native wrap.send is a synchronous sendto,
// so we call that directly. It takes the destination as a string: strings are cached per address, made once.
import raw = require('raw-socket');
import { ipv4ToString } from '../packet/format';
import type { IpSender } from './ip-sender';

const IPPROTO_RAW = 255;
const CACHE_BITS = 12;

interface Wrap {
  send(buf: Buffer, off: number, len: number, addr: string, cb: (bytes: number) => void): void;
}

export class RawIpSender implements IpSender {
  private readonly socket: { wrap: Wrap; close(): void; on(ev: string, fn: (e: Error) => void): void };
  private readonly cacheAddr = new Int32Array(1 << CACHE_BITS);
  private readonly cacheUsed = new Uint8Array(1 << CACHE_BITS);
  private readonly cacheStr: string[] = new Array<string>(1 << CACHE_BITS).fill('');
  private readonly sent = (): void => undefined;
  errors = 0;
  lastError: unknown = null;

  constructor() {
    this.socket = raw.createSocket({ protocol: IPPROTO_RAW }) as unknown as RawIpSender['socket'];
    this.socket.on('error', (e) => {
      this.errors++;
      this.lastError = e;
    });
  }

  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean {
    try {
      this.socket.wrap.send(buf, off, len, this.addr(dst), this.sent);
      return true;
    } catch (err) {
      // EMSGSIZE, ENETUNREACH...: counted by the caller's verdict; the last one is kept for status.
      this.errors++;
      this.lastError = err;
      return false;
    }
  }

  close(): void {
    this.socket.close();
  }

  /** The dotted string of `dst`, from a direct-mapped cache: allocates only on a miss. */
  private addr(dst: number): string {
    const i = Math.imul(dst, 0x9e3779b1) >>> (32 - CACHE_BITS);
    if (this.cacheUsed[i] === 1 && this.cacheAddr[i] === dst) return this.cacheStr[i];
    const s = ipv4ToString(dst >>> 0);
    this.cacheAddr[i] = dst;
    this.cacheUsed[i] = 1;
    this.cacheStr[i] = s;
    return s;
  }
}
