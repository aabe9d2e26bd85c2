// The pipeline assembled on memory I/O, as the daemon assembles it on libpcap.
import { Clock } from '../../src/clock';
import { ConnTable } from '../../src/conn/table';
import { defaultTimeouts } from '../../src/conn/timeouts';
import { MemoryIo } from '../../src/io/memory-io';
import { NeighbourTable } from '../../src/io/neighbour';
import { parseIpv4, parseMac } from '../../src/packet/format';
import { Pipeline } from '../../src/pipeline';
import { ServiceTable } from '../../src/service/table';
import type { RealServer } from '../../src/service/types';
import { serviceWith, type ServiceOpts } from './services';

export const DIRECTOR_MAC = '02:00:00:00:00:0a';
export const rsMac = (i: number): string => `02:00:00:00:00:${(0x0b + i).toString(16).padStart(2, '0')}`;

export interface Assembly {
  io: MemoryIo;
  pipeline: Pipeline;
  conns: ConnTable;
  clock: Clock;
  rs: RealServer[];
  services: ServiceTable;
  neigh: NeighbourTable;
}

export function assemble(
  opts: { scheduler?: string; weights?: number[]; connMax?: number; resolve?: boolean } & ServiceOpts = {},
): Assembly {
  const services = new ServiceTable(16, 256);
  const { rs } = serviceWith(opts.scheduler ?? 'rr', opts.weights ?? [1, 1], services, opts);
  const neigh = new NeighbourTable(256);
  const mac = new Uint8Array(6);
  rs.forEach((r, i) => {
    r.neighSlot = neigh.slotFor(r.addr);
    parseMac(rsMac(i), mac, 0);
    if (opts.resolve !== false) neigh.learn(r.addr, mac, 0, 1);
  });
  const clock = new Clock();
  let pipeline: Pipeline | null = null;
  const conns = new ConnTable(opts.connMax ?? 1024, { onExpire: (c) => pipeline!.onExpire(c) });
  const io = new MemoryIo();
  const ifMac = new Uint8Array(6);
  parseMac(DIRECTOR_MAC, ifMac, 0);
  pipeline = new Pipeline({ services, conns, neigh, clock, timeouts: defaultTimeouts(), ios: [io], ifMacs: ifMac, ip: io });
  io.start(pipeline.sinks[0]);
  return { io, pipeline, conns, clock, rs, services, neigh };
}

export const ip = parseIpv4;
