// Direct routing (-g, gatewaying): the RS holds the VIP on lo, so only the L2 header changes:
// destination = the RS's MAC, source = the director's interface. IP and L4 bytes are untouched.
import { copyMac, ETH_ALEN } from '../packet/ethernet';
import { V_DROP_NEIGH, V_DROP_SEND, V_FORWARDED, V_NOT_OURS } from '../verdict';
import type { ForwardContext, Forwarder } from './forwarder';
import type { Flow } from '../packet/flow';
import type { RealServer } from '../service/types';
import { DIR_IN } from '../conn/table';

function toRs(ctx: ForwardContext, b: Buffer, f: Flow, rs: RealServer): number {
  const slot = rs.neighSlot;
  if (slot < 0 || ctx.neighResolved[slot] === 0) return V_DROP_NEIGH;
  copyMac(b, 0, ctx.neighMacs, slot * ETH_ALEN);
  copyMac(b, ETH_ALEN, ctx.ifMacs, ctx.ifMacOff);
  return ctx.sendFrame(b, f.frameLen) ? V_FORWARDED : V_DROP_SEND;
}

export const dr: Forwarder = {
  name: 'dr',
  label: 'Route',
  flag: '-g',
  seesReplies: false,
  mapsPorts: false,
  bind: () => 0,
  request: (ctx, b, f, _c, rs) => toRs(ctx, b, f, rs),
  reply: () => V_NOT_OURS,
  // An ICMP error to the VIP about the RS's reply goes to the RS untouched, as its packets do.
  icmp: (ctx, b, f, _c, dir, rs) => (dir === DIR_IN ? toRs(ctx, b, f, rs) : V_NOT_OURS),
};
