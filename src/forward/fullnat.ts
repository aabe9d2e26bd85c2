// FullNAT (-b, from Alibaba LVS and DPVS): both ends rewritten. Requests: CIP:cport -> LIP:lport (a local
// address from the service's pool) and VIP:vport -> RIP:rport. Replies to LIP:lport come back to the director
// by plain routing (the RS needs only a route to the LIPs) and are mapped back to VIP:vport -> CIP:cport.
import { DIR_IN, DIR_OUT } from '../conn/table';
import type { Flow } from '../packet/flow';
import type { VirtualService } from '../service/types';
import { V_DROP_LADDR, V_DROP_SEND, V_FORWARDED } from '../verdict';
import type { ForwardContext, Forwarder } from './forwarder';
import { rewriteIcmpError, rewriteTuple } from './rewrite';

export const LPORT_MIN = 1024;
export const LPORT_MAX = 65535;
/** Ports tried per local address before the next one; bounds the work a new connection can cost. */
const TRIES_PER_LIP = 64;

const send = (ctx: ForwardContext, b: Buffer, f: Flow, dst: number): number =>
  ctx.sendIp(b, f.l3Off, f.ipTotalLen, dst) ? V_FORWARDED : V_DROP_SEND;

/**
 * Pick a (LIP, lport) whose reply tuple (RIP:rport -> LIP:lport) no live connection holds: the connection table
 * itself is the allocation state, so a port is free again the moment its connection expires.
 */
function allocate(ctx: ForwardContext, c: number, svc: VirtualService, rip: number, rport: number): boolean {
  const pool = svc.laddrs;
  const t = ctx.conns;
  const proto = t.protoOf(c);
  const span = LPORT_MAX - LPORT_MIN + 1;
  // With several capture workers, replies to LIP:lport are steered by lport alone (io/steer.ts): take only
  // ports of this worker's residue.
  const { index, count } = ctx.services.lportShard;
  for (let k = 0; k < pool.length; k++) {
    const lip = pool[(svc.laddrNext + k) % pool.length];
    for (let n = 0; n < TRIES_PER_LIP; n++) {
      const raw = LPORT_MIN + ((svc.lportNext + n * count) % span);
      const lport = raw + ((index - (raw % count) + count) % count);
      if (lport > LPORT_MAX) continue;
      if (t.lookup(proto, rip, rport, lip, lport) < 0) {
        t.addReplyTuple(c, rip, rport, lip, lport);
        svc.lportNext = (svc.lportNext + (n + 1) * count) % span;
        svc.laddrNext = (svc.laddrNext + k + 1) % pool.length;
        return true;
      }
    }
  }
  return false;
}

export const fullnat: Forwarder = {
  name: 'fullnat',
  label: 'FullNat',
  flag: '-b',
  seesReplies: true,
  mapsPorts: true,
  bind(ctx, c, svc, rs) {
    return allocate(ctx, c, svc, rs.addr | 0, rs.port || ctx.conns.tDport(c * 2 + DIR_IN)) ? 0 : V_DROP_LADDR;
  },
  request(ctx, b, f, c, rs) {
    const o = c * 2 + DIR_OUT;
    rewriteTuple(b, f, ctx.conns.tDst(o), ctx.conns.tDport(o), rs.addr | 0, ctx.conns.tSport(o));
    return send(ctx, b, f, rs.addr | 0);
  },
  reply(ctx, b, f, c) {
    const t = ctx.conns;
    const i = c * 2 + DIR_IN;
    rewriteTuple(b, f, t.tDst(i), t.tDport(i), t.tSrc(i), t.tSport(i));
    return send(ctx, b, f, t.tSrc(i));
  },
  icmp(ctx, b, f, c, dir, rs) {
    const t = ctx.conns;
    const i = c * 2 + DIR_IN;
    const o = c * 2 + DIR_OUT;
    if (dir === DIR_OUT) {
      // From the RS side, quoting LIP:lport -> RIP:rport: to the client, quoting CIP:cport -> VIP:vport.
      rewriteIcmpError(b, f, t.tDst(i), t.tSrc(i), t.tSrc(i), t.tSport(i), t.tDst(i), t.tDport(i));
      return send(ctx, b, f, t.tSrc(i));
    }
    // From the client side, quoting VIP:vport -> CIP:cport: to the RS, quoting RIP:rport -> LIP:lport.
    rewriteIcmpError(b, f, t.tDst(o), rs.addr | 0, rs.addr | 0, t.tSport(o), t.tDst(o), t.tDport(o));
    return send(ctx, b, f, rs.addr | 0);
  },
};
