// VIP-path checks (neither keepalived, IPVS nor Katran has them): a probe that travels the data path itself,
// so it proves the real server serves the VIP, not only that its port is open. DR: a SYN to VIP:port in a frame
// addressed to the RS's MAC; TUN: the same SYN inside IPIP; NAT/FullNAT: a connect to the rewritten RIP:rport.
// The RS answers the director's address from the VIP; the pipeline hands such answers (destination port in the
// probe range) back here. A plain connect to RIP:port runs first, so a failure says which of the two broke.
import { setIpv4HeaderChecksum, setL4Checksum } from '../packet/checksum';
import { ETH_HLEN, ETHERTYPE_IPV4, setEthType } from '../packet/ethernet';
import type { Flow } from '../packet/flow';
import { parseIpv4 } from '../packet/format';
import { IPPROTO_IPIP, IPPROTO_TCP, writeU16, writeU32 } from '../packet/ipv4';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../packet/tcp';
import { tcpConnect } from './tcp-check';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

export const PROBE_PORT_LO = 61000;
export const PROBE_PORT_HI = 61999;

/** What a probe needs from the daemon: how to reach the RS on L2 (DR) and L3 (TUN). */
export interface ProbeWire {
  /** For DR: write the RS's MAC and ours into `frame` (dst at 0, src at 6) and say on which interface; -1 if unknown. */
  l2(rip: number, frame: Buffer): number;
  sendFrame(ifIndex: number, frame: Buffer, len: number): boolean;
  sendIp(buf: Buffer, off: number, len: number, dst: number): boolean;
  /** The director's address towards `rip` (the probe's source and the answer's destination). */
  source(rip: number): number;
}

interface Pending {
  resolve(flags: number): void;
  vip: number;
  vport: number;
}

export class VipPathChecker implements Checker {
  readonly kind = 'VIP_PATH' as const;
  private nextPort = PROBE_PORT_LO;
  private readonly pending = new Map<number, Pending>();
  private readonly frame = Buffer.alloc(128);

  constructor(private readonly wire: ProbeWire) {}

  /** From the pipeline, for a TCP packet to a probe port: the RS's answer (or anything else, ignored). */
  onReply(f: Flow): void {
    const p = this.pending.get(f.dport);
    if (!p || f.saddr !== (p.vip | 0) || f.sport !== p.vport) return;
    this.pending.delete(f.dport);
    p.resolve(f.tcpFlags);
  }

  async check(t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
    const port = spec.connectPort ?? t.port;
    const plain = await tcpConnect(spec.connectIp ?? t.ip, port, spec.connectTimeout, signal);
    if (!plain.ok) return { ok: false, reason: `port ${port} closed (${plain.reason})` };
    if (t.forward === 'nat' || t.forward === 'fullnat' || !t.vip || !t.vport) {
      // The director rewrites to RIP:rport: the plain connect is the data path.
      return { ok: true, reason: `port ${port} open` };
    }
    const flags = await this.probe(t, spec.connectTimeout, signal);
    const vip = `${t.vip}:${t.vport}`;
    if (flags < 0) {
      const hint = t.forward === 'tun' ? 'tunnel down, VIP not on the tunnel device, or rp_filter drop?' : 'VIP not configured on the RS?';
      return { ok: false, reason: `port ${port} open, but not serving VIP ${t.vip} (${hint})` };
    }
    if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) return { ok: true, reason: `serving ${vip}` };
    if (flags & TCP_RST) return { ok: false, reason: `port ${port} open, but ${vip} refused (nothing listening on the VIP?)` };
    return { ok: false, reason: `unexpected answer from ${vip} (flags 0x${flags.toString(16)})` };
  }

  /** Send the SYN along the data path; resolves the answer's TCP flags, or -1 on timeout. */
  private probe(t: CheckTarget, timeoutS: number, signal: AbortSignal): Promise<number> {
    const rip = parseIpv4(t.ip);
    const vip = parseIpv4(t.vip!);
    const src = this.wire.source(rip);
    const sport = this.takePort();
    const b = this.frame;
    const ip = ETH_HLEN + (t.forward === 'tun' ? 20 : 0); // TUN: room for the outer header
    const len = writeSyn(b, ip, src, vip, sport, t.vport!);
    let sent: boolean;
    if (t.forward === 'tun') {
      writeOuter(b, ETH_HLEN, src, rip, len);
      sent = this.wire.sendIp(b, ETH_HLEN, len + 20, rip);
    } else {
      const ifIndex = this.wire.l2(rip, b);
      setEthType(b, 0, ETHERTYPE_IPV4);
      sent = ifIndex >= 0 && this.wire.sendFrame(ifIndex, b, ETH_HLEN + len);
    }
    if (!sent) return Promise.resolve(-1);
    return new Promise((resolve) => {
      const done = (v: number): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        this.pending.delete(sport);
        resolve(v);
      };
      const abort = (): void => done(-1);
      const timer = setTimeout(() => done(-1), timeoutS * 1000);
      signal.addEventListener('abort', abort);
      this.pending.set(sport, { resolve: done, vip, vport: t.vport! });
    });
  }

  private takePort(): number {
    for (let i = 0; i <= PROBE_PORT_HI - PROBE_PORT_LO; i++) {
      const p = this.nextPort;
      this.nextPort = p === PROBE_PORT_HI ? PROBE_PORT_LO : p + 1;
      if (!this.pending.has(p)) return p;
    }
    return this.nextPort;
  }
}

/** A SYN at `ip` (IPv4 + TCP, 40 bytes); returns its length. */
function writeSyn(b: Buffer, ip: number, src: number, dst: number, sport: number, dport: number): number {
  b.fill(0, ip, ip + 40);
  b[ip] = 0x45;
  writeU16(b, ip + 2, 40);
  writeU16(b, ip + 4, sport);
  writeU16(b, ip + 6, 0x4000);
  b[ip + 8] = 64;
  b[ip + 9] = IPPROTO_TCP;
  writeU32(b, ip + 12, src);
  writeU32(b, ip + 16, dst);
  setIpv4HeaderChecksum(b, ip);
  const t = ip + 20;
  writeU16(b, t, sport);
  writeU16(b, t + 2, dport);
  writeU32(b, t + 4, (Math.random() * 0xffffffff) >>> 0);
  b[t + 12] = 5 << 4;
  b[t + 13] = TCP_SYN;
  writeU16(b, t + 14, 64240);
  setL4Checksum(b, ip, t, IPPROTO_TCP);
  return 40;
}

function writeOuter(b: Buffer, at: number, src: number, dst: number, innerLen: number): void {
  b.fill(0, at, at + 20);
  b[at] = 0x45;
  writeU16(b, at + 2, innerLen + 20);
  b[at + 8] = 64;
  b[at + 9] = IPPROTO_IPIP;
  writeU32(b, at + 12, src);
  writeU32(b, at + 16, dst);
  setIpv4HeaderChecksum(b, at);
}
