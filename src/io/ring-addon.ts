// The ring I/O backend's native addon (native/packet-ring), loaded on first use: libpcap stays the default and
// a checkout that never built the addon must still load every module.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** An open socket inside the addon (an N-API external). */
export interface NativeHandle {
  readonly __nativeHandle: unique symbol;
}

export interface PacketRingAddon {
  /** Frames handed over per wake-up at most, and int32 fields per frame in the rx descriptors. */
  readonly RX_BUDGET: number;
  readonly RX_FIELDS: number;
  /**
   * An AF_PACKET capture with a TPACKET_V2 ring on `iface`. Each wake-up writes up to RX_BUDGET descriptors
   * into `rx` (slot, offset of the frame in the ring, captured length, wire length) and calls `onWake(n)`; the
   * frames return to the kernel when it returns. n = 0: the socket reported an error (a link flap). Throws an
   * Error "<step>: <errno text>", "filter: <libpcap's text>" or "no such interface".
   */
  ringOpen(iface: string, filter: string, snaplen: number, bufferSize: number, rx: Int32Array, onWake: (n: number) => void): NativeHandle;
  /** The whole ring; detached (every view reads as empty) at close. */
  ringMemory(h: NativeHandle): ArrayBuffer;
  /** [frame size, frames, frames per block, block size]. */
  ringLayout(h: NativeHandle, out: Int32Array): void;
  /** Replace the filter in place; throws "filter: ..." and keeps the old one. */
  ringSetFilter(h: NativeHandle, filter: string): void;
  /** [received (ps_recv), dropped (ps_drop), callback errors], totals since open. */
  ringStats(h: NativeHandle, out: Float64Array): void;
  /** A raw IPv4 socket (IPPROTO_RAW: header included). Throws "raw IPv4 socket: <errno text>". */
  ipOpen(): NativeHandle;
  /** Copy `buf[off, off+len)` into the handle's staging area (`dst`: IPv4 as uint32, IP handles only); false when full. */
  txQueue(h: NativeHandle, buf: Uint8Array, off: number, len: number, dst: number): boolean;
  /** Send everything queued (sendmmsg); returns how many failed. */
  txFlush(h: NativeHandle): number;
  /** Send one packet now; 0 or the errno. */
  txSend(h: NativeHandle, buf: Uint8Array, off: number, len: number, dst: number): number;
  /** The errno text of the last queued send that failed. */
  txError(h: NativeHandle): string;
  errnoText(errno: number): string;
  /** Close either kind of handle; idempotent. */
  close(h: NativeHandle): void;
}

const RELATIVE = join('native', 'packet-ring', 'build', 'Release', 'packet_ring.node');
const MISSING = 'the ring I/O backend needs its addon: run scripts/setup (native/packet-ring not built)';

let loaded: PacketRingAddon | null = null;

/** The checkout's root: the nearest directory up from here with a package.json (dist/io/, dist-bench/src/io/, src/io/). */
function root(): string | null {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return null;
  }
}

export function ringAddon(): PacketRingAddon {
  if (loaded !== null) return loaded;
  const r = root();
  const path = r === null ? null : join(r, RELATIVE);
  if (path === null || !existsSync(path)) throw new Error(MISSING);
  loaded = require(path) as PacketRingAddon;
  return loaded;
}

