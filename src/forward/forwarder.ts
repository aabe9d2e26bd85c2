// The forwarding seam: one file per method, chosen once per connection (DPVS), applied in place.
// A forwarder rewrites and emits through the context; it returns a verdict (V_FORWARDED or why not).
import type { ConnTable } from '../conn/table';
import type { Flow } from '../packet/flow';
import type { ServiceTable } from '../service/table';
import type { RealServer, VirtualService } from '../service/types';

/** What a forwarder may use: tables, the arrival interface's MAC, neighbour MACs, the two emit paths. */
export interface ForwardContext {
  readonly conns: ConnTable;
  readonly services: ServiceTable;
  /** MACs of the capture interfaces, 6 bytes each; the arrival interface's is at `ifMacOff`. */
  readonly ifMacs: Uint8Array;
  readonly ifMacOff: number;
  /** Neighbour MAC storage: slot s is at offset s*6; `neighResolved[s]` says whether it is valid. */
  readonly neighMacs: Uint8Array;
  readonly neighResolved: Uint8Array;
  /** Scratch for packets that grow (an outer header) or are made here (ICMP); 64 KiB + headroom. */
  readonly tx: Buffer;
  /** Emit an Ethernet frame on the interface the frame arrived on. */
  sendFrame(b: Buffer, len: number): boolean;
  /** Emit an IPv4 packet for the kernel to route. */
  sendIp(b: Buffer, off: number, len: number, dst: number): boolean;
  /** A fresh IPv4 identification for packets the director originates. */
  nextIpId(): number;
}

export interface Forwarder {
  /** The config token: 'dr', 'tun', 'nat', 'fullnat'. */
  readonly name: string;
  /** The Forward column of ipvsadm -L. */
  readonly label: string;
  /** The ipvsadm -S flag (-g, -i, -m, -b). */
  readonly flag: string;
  /** Replies come back through the director (NAT kinds): a reply tuple is hashed, the INPUT/OUTPUT tables apply. */
  readonly seesReplies: boolean;
  /** The RS port may differ from the service port (ipvsadm forces them equal for DR and TUN). */
  readonly mapsPorts: boolean;
  /** Per-connection setup after scheduling (reply tuple, local address). Returns 0, or a verdict to refuse. */
  bind(ctx: ForwardContext, c: number, svc: VirtualService, rs: RealServer): number;
  /** A client -> RS packet of connection `c`. */
  request(ctx: ForwardContext, b: Buffer, f: Flow, c: number, rs: RealServer): number;
  /** A RS -> client packet (only for `seesReplies`). */
  reply(ctx: ForwardContext, b: Buffer, f: Flow, c: number, rs: RealServer): number;
  /**
   * An ICMP error quoting a packet of connection `c` (f.inner* parsed). `dir` is the tuple the quoted packet
   * matched in reverse: DIR_OUT = it came from the RS side, DIR_IN = from the client side.
   */
  icmp(ctx: ForwardContext, b: Buffer, f: Flow, c: number, dir: number, rs: RealServer): number;
}
