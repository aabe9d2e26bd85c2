// A capture interface's kernel state as sysfs shows it: which device the name is now (ifindex), whether it is
// administratively up, and its MTU. Read once a second by the capture watch, never per frame.
import { readFileSync } from 'node:fs';

const IFF_UP = 0x1;

export interface LinkState {
  /** 0 when the interface does not exist (removed, or renamed away). */
  ifindex: number;
  up: boolean;
  mtu: number;
}

export const LINK_GONE: Readonly<LinkState> = Object.freeze({ ifindex: 0, up: false, mtu: 0 });

/** The interface's state now; LINK_GONE when it does not exist. */
export function readLinkState(iface: string, sysfs = '/sys/class/net'): LinkState {
  try {
    const dir = `${sysfs}/${iface}`;
    const ifindex = Number.parseInt(readFileSync(`${dir}/ifindex`, 'utf8'), 10);
    const flags = Number.parseInt(readFileSync(`${dir}/flags`, 'utf8'), 16);
    const mtu = Number.parseInt(readFileSync(`${dir}/mtu`, 'utf8'), 10);
    if (!(ifindex > 0) || Number.isNaN(flags) || !(mtu > 0)) return LINK_GONE;
    return { ifindex, up: (flags & IFF_UP) !== 0, mtu };
  } catch {
    return LINK_GONE;
  }
}

/**
 * The capture length for an interface of this MTU: the largest frame it can receive whole, Ethernet header
 * plus two VLAN tags beyond the IP MTU. Not 64 KiB: libpcap sizes every ring slot to it (TPACKET_V2, immediate
 * mode), and 64 KiB slots leave a 32 MiB ring with 512 frames. Bigger frames only come from receive
 * aggregation (GRO/LRO), which the daemon switches off on the interfaces it captures; any that still come are
 * truncated by the kernel, and the capture counts and drops them rather than forwarding part of a frame.
 */
export function snaplenFor(mtu: number): number {
  return Math.max(mtu, 576) + 14 + 8;
}
