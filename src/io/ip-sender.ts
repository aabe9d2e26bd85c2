// The L3 emit seam: hand a whole IPv4 packet to the kernel, which routes it and fills in the L2 header.
// TUN, NAT and FullNAT emit this way; DR needs its own L2 header and injects on the capture interface.

export interface IpSender {
  /** Send `buf[off, off+len)`, an IPv4 packet with its own header, towards `dst` (wire int32 form). */
  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean;
  close(): void;
  /** Sends that failed (at once, or when their batch was flushed) and the last reason, for status. */
  readonly errors?: number;
  readonly lastError?: unknown;
}
