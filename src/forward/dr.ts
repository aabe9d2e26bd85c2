// Direct routing (-g, gatewaying): the RS holds the VIP on lo, so only the L2 header changes:
// destination = the RS's MAC, source = the director's interface. IP and L4 bytes are untouched.
import { copyMac, ETH_ALEN } from '../packet/ethernet';
import { V_DROP_NEIGH } from '../verdict';
import type { Forwarder } from './forwarder';

export const dr: Forwarder = {
  name: 'dr',
  label: 'Route',
  flag: '-g',
  seesReplies: false,
  request(ctx, b, f, rs) {
    const slot = rs.neighSlot;
    if (slot < 0 || ctx.neighResolved[slot] === 0) return -V_DROP_NEIGH;
    copyMac(b, 0, ctx.neighMacs, slot * ETH_ALEN);
    copyMac(b, ETH_ALEN, ctx.ifMac, ctx.ifMacOff);
    return f.frameLen;
  },
};
