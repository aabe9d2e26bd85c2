// The lvsd control protocol: newline-delimited JSON over a unix socket, one request and one response per line.
// Versioned so an old lvsadm talking to a new lvsd (or the reverse) fails with a clear message.
export const PROTOCOL_VERSION = 1;
export const DEFAULT_SOCKET = '/run/lvsd.sock';

export interface Request {
  v: number;
  cmd: string;
  args?: Record<string, unknown>;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Response = { v: number; ok: true; result: unknown } | { v: number; ok: false; error: ErrorBody };

export interface DestView {
  addr: number;
  port: number;
  forward: string;
  weight: number;
  activeConns: number;
  inactConns: number;
  persistConns?: number;
  uthreshold?: number;
  lthreshold?: number;
  /** ipvsadm --stats: [conns, inpkts, outpkts, inbytes, outbytes] since start or -Z. */
  stats: number[];
  /** ipvsadm --rate: [cps, inpps, outpps, inbps, outbps], 2-second estimates smoothed as ip_vs_est does. */
  rates?: number[];
  /** The health checks' verdict, when the RS is checked. */
  health?: { up: boolean; reason: string };
  /** Present while the RS drains: seconds of grace left and connections still open. */
  drain?: { left: number; open: number };
}

export interface ServiceView {
  proto: number;
  vip: number;
  port: number;
  scheduler: string;
  stats: number[];
  rates?: number[];
  /** -f: the firewall mark and its match, for a firewall-mark service. */
  fwmark?: number;
  match?: string;
  /** Scheduler flags (0x08 flag-1, 0x10 flag-2, 0x20 flag-3); persistence timeout (0 = none); -M netmask. */
  flags?: number;
  persistent?: number;
  netmask?: number;
  dests: DestView[];
}

export interface ListResult {
  /** The IPVS version ipvsadm prints, kept for scripts that parse the header. */
  version: string;
  /** Connection hash size (ipvsadm's "size"). */
  size: number;
  services: ServiceView[];
}

/** One entry of lvsadm -c (ipvsadm -L -c): a connection or a persistence template. */
export interface ConnView {
  /** TCP, UDP, or IP (a firewall-mark template). */
  proto: string;
  /** Seconds until it expires. */
  expire: number;
  /** IPVS state name (NONE for templates, UDP for UDP). */
  state: string;
  caddr: number;
  cport: number;
  /** The virtual address (the mark for a fwmark template), port. */
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  template: boolean;
}

export function socketPath(cli?: string): string {
  return cli ?? process.env.LVSD_SOCKET ?? DEFAULT_SOCKET;
}
