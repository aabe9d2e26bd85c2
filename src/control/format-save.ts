// ipvsadm -S (save): one -A line per service and one -a line per real server, the rules -R reads back
// (print_service_entry with FMT_RULE). Thresholds are not saved, as ipvsadm does not save them.
import { FORWARDERS } from '../forward';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import { destLabel, hasMask, hasSchedFlags, isOnePacket, schedFlagNames, sortedServices } from './format-list';
import { NUMERIC, type Namer } from './names';
import type { ListResult, ServiceView } from './protocol';

/** option_from_protocol(): how -S names a service's protocol. */
const serviceOption = (p: number): string => (p === PROTO_TCP ? '-t' : p === PROTO_UDP ? '-u' : '--xxx-service');

/** The virtual-service words of a rule: "-t addr:port", "-u addr:port" or "-f mark". */
export const ruleService = (s: ServiceView, names: Namer = NUMERIC): string =>
  (s.fwmark ? `-f ${s.fwmark}` : `${serviceOption(s.proto)} ${names.addr(s.vip)}:${names.port(s.port, s.proto)}`);

export function formatSave(list: ListResult, opts: { sort?: boolean; names?: Namer } = {}): string {
  const names = opts.names ?? NUMERIC;
  const out: string[] = [];
  for (const s of sortedServices(list, opts.sort !== false)) {
    const svc = ruleService(s, names);
    let line = `-A ${svc} -s ${s.scheduler}`;
    if (s.persistent) {
      line += ` -p ${s.persistent}`;
      if (hasMask(s)) line += ` -M ${ipv4ToString(s.netmask! >>> 0)}`;
    }
    if (isOnePacket(s)) line += ' -o';
    if (hasSchedFlags(s)) line += ` -b ${schedFlagNames(s.flags ?? 0, s.scheduler).join(',')}`;
    // userlvs extension: the match is part of a mark service here (ipvsadm leaves it to iptables).
    if (s.match) line += ` --match '${s.match}'`;
    out.push(line);
    for (const d of s.dests) {
      const fwd = FORWARDERS.find((f) => f.name === d.forward);
      let row = `-a ${svc} -r ${destLabel(s, d, names, false)} ${fwd?.flag ?? '-g'} -w ${d.weight}`;
      if (d.forward === 'tun') row += ' --tun-type ipip';
      out.push(row);
    }
  }
  return out.map((l) => `${l}\n`).join('');
}
