// Services and real servers for unit tests, built through the real ServiceTable.
import { forwarderId } from '../../src/forward';
import { parseIpv4 } from '../../src/packet/format';
import { ServiceTable } from '../../src/service/table';
import { PROTO_TCP, type RealServer, type VirtualService } from '../../src/service/types';

export function serviceWith(
  scheduler: string,
  weights: number[],
  table = new ServiceTable(16, 256),
): { table: ServiceTable; svc: VirtualService; rs: RealServer[] } {
  const svc = table.addService({ proto: PROTO_TCP, vip: parseIpv4('10.0.0.100'), port: 80, scheduler });
  const rs = weights.map((w, i) =>
    table.addDest(svc, { addr: parseIpv4(`10.0.0.${11 + i}`), port: 80, weight: w, forward: 'dr', fwdId: forwarderId('dr') }),
  );
  return { table, svc, rs };
}
