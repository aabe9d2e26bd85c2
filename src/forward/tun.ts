// IP tunnelling (-i, ipip): the client's IP packet, untouched, inside a new IPv4 header (protocol 4) from the
// director to the RS, which decapsulates it (tunl0, or lvs-decap) and answers the client directly from the VIP.
// As IPVS (ip_vs_tunnel_xmit): DF copied from the inner packet, and an inner DF packet that would not fit the
// path MTU once wrapped is answered with ICMP fragmentation-needed carrying the reduced MTU.
import { DIR_IN } from '../conn/table';
import { setIpv4HeaderChecksum } from '../packet/checksum';
import type { Flow } from '../packet/flow';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, writeIcmpError } from '../packet/icmp';
import { IP_DF, IPPROTO_IPIP, ipTos, writeU16, writeU32 } from '../packet/ipv4';
import type { RealServer } from '../service/types';
import { V_DROP_SEND, V_DROP_TOO_BIG, V_FORWARDED, V_NOT_OURS } from '../verdict';
import type { ForwardContext, Forwarder } from './forwarder';

const OUTER = 20;

function encapsulate(ctx: ForwardContext, b: Buffer, f: Flow, rs: RealServer): number {
  const inner = f.ipTotalLen;
  if (inner + OUTER > rs.mtu) {
    if ((f.fragWord & IP_DF) !== 0) {
      // Tell the client the MTU that fits once wrapped; it is the VIP that answers, as the kernel's icmp_send would.
      const n = writeIcmpError(ctx.tx, 0, f.daddr, f.saddr, ctx.nextIpId(), ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
        rs.mtu - OUTER, b, f.l3Off, f.ipHdrLen + 8);
      ctx.sendIp(ctx.tx, 0, n, f.saddr);
    }
    return V_DROP_TOO_BIG;
  }
  const t = ctx.tx;
  t[0] = 0x45;
  t[1] = ipTos(b, f.l3Off);
  writeU16(t, 2, inner + OUTER);
  writeU16(t, 4, ctx.nextIpId());
  writeU16(t, 6, f.fragWord & IP_DF);
  t[8] = 64;
  t[9] = IPPROTO_IPIP;
  writeU32(t, 12, rs.localAddr);
  writeU32(t, 16, rs.addr);
  setIpv4HeaderChecksum(t, 0);
  b.copy(t, OUTER, f.l3Off, f.l3Off + inner);
  return ctx.sendIp(t, 0, inner + OUTER, rs.addr) ? V_FORWARDED : V_DROP_SEND;
}

export const tun: Forwarder = {
  name: 'tun',
  label: 'Tunnel',
  flag: '-i',
  seesReplies: false,
  mapsPorts: false,
  bind: () => 0,
  request: (ctx, b, f, _c, rs) => encapsulate(ctx, b, f, rs),
  reply: () => V_NOT_OURS,
  icmp: (ctx, b, f, _c, dir, rs) => (dir === DIR_IN ? encapsulate(ctx, b, f, rs) : V_NOT_OURS),
};
