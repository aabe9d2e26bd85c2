// Services and real servers for unit tests, built through the real ServiceTable.
import { forwarderId } from '../../src/forward';
import { parseIpv4 } from '../../src/packet/format';
import { ServiceTable } from '../../src/service/table';
import { PROTO_TCP, type Proto, type RealServer, type VirtualService } from '../../src/service/types';

export interface ServiceOpts {
  forward?: string;
  proto?: Proto;
  port?: number;
  rport?: number;
  /** First RS address; the rest follow (10.0.0.11, .12, ...). */
  rsBase?: string;
  laddrs?: string[];
}

export function serviceWith(
  scheduler: string,
  weights: number[],
  table = new ServiceTable(16, 256),
  o: ServiceOpts = {},
): { table: ServiceTable; svc: VirtualService; rs: RealServer[] } {
  const forward = o.forward ?? 'dr';
  const svc = table.addService({
    proto: o.proto ?? PROTO_TCP, vip: parseIpv4('10.0.0.100'), port: o.port ?? 80, scheduler,
    laddrs: (o.laddrs ?? []).map(parseIpv4),
  });
  const base = parseIpv4(o.rsBase ?? '10.0.0.11');
  // The kernel's list is newest first: add the last one first, so the list reads in `weights` order
  // (rs[i] is the i-th in the list, at address base + i).
  const rs: RealServer[] = [];
  for (let i = weights.length - 1; i >= 0; i--) {
    rs[i] = table.addDest(svc, {
      addr: base + i, port: o.rport ?? o.port ?? 80, weight: weights[i], forward, fwdId: forwarderId(forward),
      localAddr: parseIpv4('10.0.0.10'), mtu: 1500,
    });
  }
  return { table, svc, rs };
}
