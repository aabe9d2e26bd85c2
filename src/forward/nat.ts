// Masquerading (-m, NAT): requests DNAT VIP:vport -> RIP:rport; the RS routes its replies through the director
// (its gateway is the DIP), where they are SNATed RIP:rport -> VIP:vport. Port mapping is allowed.
// Each connection hashes its reply tuple (RIP:rport -> CIP:cport) so a reply is one lookup.
import { DIR_IN, DIR_OUT } from '../conn/table';
import type { Flow } from '../packet/flow';
import { V_DROP_SEND, V_FORWARDED } from '../verdict';
import type { ForwardContext, Forwarder } from './forwarder';
import { rewriteIcmpError, rewriteTuple } from './rewrite';

const send = (ctx: ForwardContext, b: Buffer, f: Flow, dst: number): number =>
  ctx.sendIp(b, f.l3Off, f.ipTotalLen, dst) ? V_FORWARDED : V_DROP_SEND;

export const nat: Forwarder = {
  name: 'nat',
  label: 'Masq',
  flag: '-m',
  seesReplies: true,
  mapsPorts: true,
  bind(ctx, c, _svc, rs) {
    const t = ctx.conns;
    const e = c * 2 + DIR_IN;
    t.addReplyTuple(c, rs.addr | 0, rs.port || t.tDport(e), t.tSrc(e), t.tSport(e));
    return 0;
  },
  request(ctx, b, f, _c, rs) {
    // RS port 0 (a firewall-mark service): the packet keeps its destination port.
    rewriteTuple(b, f, f.saddr, f.sport, rs.addr | 0, rs.port || f.dport);
    return send(ctx, b, f, rs.addr | 0);
  },
  reply(ctx, b, f, c) {
    const t = ctx.conns;
    const e = c * 2 + DIR_IN;
    rewriteTuple(b, f, t.tDst(e), t.tDport(e), f.daddr, f.dport);
    return send(ctx, b, f, f.daddr);
  },
  icmp(ctx, b, f, c, dir, rs) {
    const t = ctx.conns;
    const e = c * 2 + DIR_IN;
    if (dir === DIR_OUT) {
      // From the RS side about client -> RS: the client must see VIP:vport, from the VIP.
      rewriteIcmpError(b, f, t.tDst(e), f.daddr, f.innerSrc, f.innerSport, t.tDst(e), t.tDport(e));
      return send(ctx, b, f, f.daddr);
    }
    // From the client side about our VIP -> client reply: the RS must see its own RIP:rport.
    rewriteIcmpError(b, f, f.saddr, rs.addr | 0, rs.addr | 0, t.tSport(c * 2 + DIR_OUT), f.innerDst, f.innerDport);
    return send(ctx, b, f, rs.addr | 0);
  },
};
