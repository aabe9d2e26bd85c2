// A parsed ipvsadm command line as the control request it stands for. Shared by lvsadm and by lvsd's config
// (`rules:` holds ipvsadm-save text), so a rule means the same thing typed, restored or configured.
import { lookup } from 'node:dns/promises';
import { parseEndpoint, E_USAGE, type ParsedArgs } from './ipvsadm-args';
import { LvsError } from './errors';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';

export interface ControlRequest {
  cmd: string;
  args: Record<string, unknown>;
}

/** host[:port] -> address and port: numbers as the parser left them, names resolved as ipvsadm resolves them. */
export async function endpoint(text: string, what: string, defaultPort: number | null, proto = PROTO_TCP): Promise<{ addr: string; port: number }> {
  const illegal = `illegal ${what} address[:port] specified`;
  const e = parseEndpoint(text, proto);
  if (!e) throw new LvsError(E_USAGE, illegal);
  let addr = e.addr >= 0 ? ipv4ToString(e.addr) : e.host;
  if (e.addr < 0) {
    try {
      addr = (await lookup(e.host, { family: 4 })).address;
    } catch {
      throw new LvsError(E_USAGE, illegal);
    }
  }
  return { addr, port: e.port ?? defaultPort ?? 0 };
}

export async function serviceOf(p: ParsedArgs): Promise<Record<string, unknown> | undefined> {
  const fw = p.opts.get('fwmark-service');
  if (fw !== undefined) {
    if (fw === true || !/^\d+$/.test(fw) || Number(fw) === 0) throw new LvsError(E_USAGE, 'illegal virtual service fwmark');
    return { fwmark: Number(fw) };
  }
  if (p.opts.has('sctp-service')) throw new LvsError(E_USAGE, 'SCTP services are not supported by lvsd');
  const t = p.opts.get('tcp-service') ?? p.opts.get('udp-service');
  if (t === undefined) return undefined;
  const proto = p.opts.has('tcp-service') ? 'tcp' : 'udp';
  const e = await endpoint(String(t), 'virtual server', 0, proto === 'tcp' ? PROTO_TCP : PROTO_UDP);
  return { proto, addr: e.addr, port: e.port };
}

const num = (p: ParsedArgs, name: string): number | undefined => {
  const v = p.opts.get(name);
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v)) throw new LvsError(E_USAGE, `illegal ${name} specified`);
  return Number(v);
};

/** The forwarding method ipvsadm's flags name (default -g, as ipvsadm). */
function forward(p: ParsedArgs): string {
  const chosen = [['gatewaying', 'dr'], ['ipip', 'tun'], ['masquerading', 'nat'], ['fullnat', 'fullnat']].filter(([o]) => p.opts.has(o));
  if (chosen.length > 1) throw new LvsError(E_USAGE, 'multiple forwarding methods specified');
  if (p.opts.has('tun-type') && p.opts.get('tun-type') !== 'ipip') {
    throw new LvsError(E_USAGE, `tunnel type ${String(p.opts.get('tun-type'))} is not supported by lvsd yet (ipip is)`);
  }
  return chosen[0]?.[1] ?? 'dr';
}

const seconds = (p: ParsedArgs, name: string): number | true | undefined => {
  const v = p.opts.get(name);
  return v === undefined ? undefined : v === true ? true : Number(v);
};

/** The request a table-changing command stands for, or null for the commands that only read (list, save...). */
export async function toRequest(p: ParsedArgs): Promise<ControlRequest | null> {
  const needSvc = async (): Promise<Record<string, unknown>> => {
    const svc = await serviceOf(p);
    if (!svc) throw new LvsError(E_USAGE, "You need to supply the 'service-address' option");
    return svc;
  };
  const needDest = async (svc: Record<string, unknown>, fwd: string | null): Promise<Record<string, unknown>> => {
    const r = p.opts.get('real-server');
    if (r === undefined || r === true) throw new LvsError(E_USAGE, `You need to supply the 'real-server' option for the '${p.command}' command`);
    const e = await endpoint(r, 'real server', svc.port as number, svc.proto === 'udp' ? PROTO_UDP : PROTO_TCP);
    // ipvsadm forces a DR or TUN real server's port to the service's (not for a mark service).
    if ((fwd === 'dr' || fwd === 'tun') && !svc.fwmark) e.port = svc.port as number;
    return e;
  };
  const svcOptions = (): Record<string, unknown> => {
    const pers = p.opts.get('persistent');
    return {
      scheduler: p.opts.get('scheduler') ?? 'wlc',
      persistent: pers === undefined ? false : pers === true ? true : Number(pers),
      ...(p.opts.has('netmask') ? { netmask: p.opts.get('netmask') } : {}),
      flags: p.opts.has('sched-flags') ? String(p.opts.get('sched-flags')).split(',').filter(Boolean) : [],
      ...(p.opts.has('match') ? { match: String(p.opts.get('match')) } : {}),
    };
  };
  const destOptions = (): Record<string, unknown> => ({
    forward: forward(p),
    weight: num(p, 'weight') ?? 1,
    ...(p.opts.has('u-threshold') ? { uthreshold: num(p, 'u-threshold') } : {}),
    ...(p.opts.has('l-threshold') ? { lthreshold: num(p, 'l-threshold') } : {}),
  });
  switch (p.command) {
    case 'add-service': return { cmd: 'addService', args: { svc: await needSvc(), ...svcOptions() } };
    case 'edit-service': return { cmd: 'editService', args: { svc: await needSvc(), ...svcOptions() } };
    case 'delete-service': return { cmd: 'deleteService', args: { svc: await needSvc() } };
    case 'clear': return { cmd: 'clear', args: {} };
    case 'add-server': {
      const svc = await needSvc();
      return { cmd: 'addDest', args: { svc, dest: await needDest(svc, forward(p)), ...destOptions() } };
    }
    case 'edit-server': {
      const svc = await needSvc();
      const drain = seconds(p, 'drain');
      return { cmd: 'editDest', args: { svc, dest: await needDest(svc, forward(p)), ...destOptions(), ...(drain !== undefined ? { drain } : {}) } };
    }
    case 'delete-server': {
      const svc = await needSvc();
      const graceful = seconds(p, 'graceful');
      return { cmd: 'deleteDest', args: { svc, dest: await needDest(svc, null), ...(graceful !== undefined ? { graceful } : {}) } };
    }
    case 'set': {
      const [tcp, tcpfin, udp] = p.rest.map((v) => {
        if (!/^\d+$/.test(v)) throw new LvsError(E_USAGE, `illegal timeout value ${v}`);
        return Number(v);
      });
      return { cmd: 'setTimeouts', args: { tcp, tcpfin, udp } };
    }
    case 'zero': {
      const svc = await serviceOf(p);
      return { cmd: 'zero', args: svc ? { svc } : {} };
    }
    case 'add-laddr': return { cmd: 'addLaddr', args: { svc: await needSvc(), laddr: p.opts.get('laddr') } };
    case 'del-laddr': return { cmd: 'delLaddr', args: { svc: await needSvc(), laddr: p.opts.get('laddr') } };
    default: return null;
  }
}

/** Words of a -R line: whitespace-separated, with '...' or "..." quoting (for a --match expression). */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}
