// The packet I/O a daemon runs on, by the config's `io:` name: how lvsd and its capture workers make their
// per-interface captures and their L3 sender (one place, so both always agree).
import type { Logger } from 'pino';
import type { IoBackend } from '../control/config';
import type { IpSender } from './ip-sender';
import type { PacketIo } from './packet-io';
import { PcapIo } from './pcap-io';
import { RawIpSender } from './raw-ip';
import { RingIpSender } from './ring-ip-sender';
import { RingSession } from './ring-session';

export interface IoMakers {
  makeIo: (iface: string, filter: string) => PacketIo;
  makeIp: () => IpSender;
}

/**
 * `pcap`: libpcap capture (a frame per call) and raw-socket emit (a sendto per packet), the default that always
 * works. `ring`: the packet_ring addon: a PACKET_MMAP receive ring handed over a wake-up at a time (Pipeline.onFrames)
 * and emits sent with one sendmmsg per batch.
 */
export function ioMakers(kind: IoBackend, log: Logger): IoMakers {
  const warn = (msg: string): void => log.warn({ component: kind }, msg);
  const info = (msg: string): void => log.info({ component: kind }, msg);
  if (kind === 'ring') {
    return {
      makeIo: (iface, filter) => new PcapIo(iface, filter, warn, info, (o) => new RingSession(o)),
      makeIp: () => new RingIpSender(),
    };
  }
  return { makeIo: (iface, filter) => new PcapIo(iface, filter, warn, info), makeIp: () => new RawIpSender() };
}
