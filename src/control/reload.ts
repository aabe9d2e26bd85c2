// Reload (SIGHUP): the edits that turn the live table into a newly read config's, as the same commands lvsadm
// sends. Services and real servers that did not change are left alone, so their connections are untouched; a
// removed real server's connections expire with it, as with lvsadm -d.
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP, type VirtualService } from '../service/types';
import type { ServiceConfig } from './config';
import type { ControlRequest } from './ipvsadm-requests';
import { schedFlagNames } from './format-list';

/** How a control request names a service: by mark, or by protocol, address and port. */
export const svcKey = (s: { proto: number; vip: number; port: number; fwmark: number }): Record<string, unknown> =>
  s.fwmark ? { fwmark: s.fwmark } : { proto: s.proto === PROTO_UDP ? 'udp' : 'tcp', addr: ipv4ToString(s.vip >>> 0), port: s.port };
const same = (a: { proto: number; vip: number; port: number; fwmark: number }, b: typeof a): boolean =>
  a.fwmark ? a.fwmark === b.fwmark : !b.fwmark && a.proto === b.proto && a.vip >>> 0 === b.vip >>> 0 && a.port === b.port;

/** The requests, in order, that take `live` to `want`. */
export function reloadPlan(live: readonly VirtualService[], want: readonly ServiceConfig[]): ControlRequest[] {
  const out: ControlRequest[] = [];
  for (const s of live) {
    if (!want.some((w) => same(s, w))) out.push({ cmd: 'deleteService', args: { svc: svcKey(s) } });
  }
  for (const w of want) {
    const svc = svcKey(w);
    const opts = {
      scheduler: w.scheduler, persistent: w.persistent || false,
      ...(w.persistent ? { netmask: ipv4ToString(w.netmask >>> 0) } : {}), flags: schedFlagNames(w.schedFlags, w.scheduler),
    };
    const cur = live.find((s) => same(s, w));
    if (!cur) {
      out.push({ cmd: 'addService', args: { svc, ...opts, ...(w.match ? { match: w.match.text } : {}), laddrs: w.localAddresses.map((a) => ipv4ToString(a >>> 0)) } });
    } else if (cur.schedName !== w.scheduler || cur.persistTimeout !== w.persistent || cur.schedFlags !== w.schedFlags ||
      (w.persistent && cur.netmask >>> 0 !== w.netmask >>> 0)) {
      out.push({ cmd: 'editService', args: { svc, ...opts } });
    }
    const dests = cur?.dests ?? [];
    for (const d of dests) {
      if (!w.reals.some((r) => r.ip >>> 0 === d.addr >>> 0 && r.port === d.port)) {
        out.push({ cmd: 'deleteDest', args: { svc, dest: { addr: ipv4ToString(d.addr >>> 0), port: d.port } } });
      }
    }
    for (const r of w.reals) {
      const dest = { addr: ipv4ToString(r.ip >>> 0), port: r.port };
      const d = dests.find((x) => x.addr >>> 0 === r.ip >>> 0 && x.port === r.port);
      if (!d) out.push({ cmd: 'addDest', args: { svc, dest, forward: r.forward, weight: r.weight } });
      else if (d.weight !== r.weight || d.forward !== r.forward) out.push({ cmd: 'editDest', args: { svc, dest, forward: r.forward, weight: r.weight } });
    }
  }
  return out;
}
