// lvsadm: ipvsadm's command line and output against a running lvsd. Commands are parsed as ipvsadm parses
// them (control/ipvsadm-args.ts), turned into control requests, and answered in ipvsadm's formats.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request } from '../control/client';
import { LvsError } from '../control/errors';
import { connAddrs, formatConns } from '../control/format-conns';
import { connsJson, daemonJson, listJson, timeoutJson } from '../control/format-json';
import { formatList, listAddrs, pickFormat, type ListFormat } from '../control/format-list';
import { formatDaemon, formatTimeout, type Timeouts } from '../control/format-timeout';
import { formatSave } from '../control/format-save';
import { E_TRYHELP, E_POPT, E_USAGE, parseEndpoint, parseIpvsadm, type ParsedArgs } from '../control/ipvsadm-args';
import { namedNamer, NUMERIC, resolveAddrs, type Namer } from '../control/names';
import { socketPath, type ConnView, type ListResult } from '../control/protocol';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';

const VERSION = 'lvsadm v0.1.0 (userlvs; ipvsadm v1.31 compatible)';
const TRY = "Try `lvsadm -h' or 'lvsadm --help' for more information.";

const USAGE = `${VERSION}
Usage:
  lvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]
  lvsadm -D virtual-service
  lvsadm -C
  lvsadm -R
  lvsadm -S [-n]
  lvsadm -a|e virtual-service -r server-address [options]
  lvsadm -d virtual-service -r server-address [--graceful [seconds]]
  lvsadm -L|l [virtual-service] [options]
  lvsadm -Z [virtual-service]
  lvsadm --set tcp tcpfin udp
  lvsadm -h
Commands:
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --help            -h        display this help message
Virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero; with -A, --match 'nft match' says
                                      which traffic lvsd marks and takes (e.g. 'ip daddr 10.0.0.100 tcp dport { 80, 443 }')
Options:
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh|twos, the default is wlc
  --persistent   -p [timeout]         persistent service (default 360 s)
  --netmask      -M netmask           persistent granularity mask
  --sched-flags  -b flags             scheduler flags (comma-separated) with -A/-E
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --fullnat      -b                   FullNAT (with -a/-e, as DPVS's ipvsadm)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --drain [seconds]                   with -e -w 0: remove the server when its connections end (or after seconds)
  --graceful [seconds]                with -d: the same, as a removal
  --numeric      -n                   numeric output of addresses and ports
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact        -X                   expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --json                              with -L or -S: one JSON document of the raw data, for scripts
  --socket PATH                       lvsd's control socket (default /run/lvsd.sock, or $LVSD_SOCKET)
`;

/** host[:port] -> address and port: numbers as the parser left them, names resolved as ipvsadm resolves them. */
async function endpoint(text: string, what: string, defaultPort: number | null, proto = PROTO_TCP): Promise<{ addr: string; port: number }> {
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

async function serviceOf(p: ParsedArgs): Promise<Record<string, unknown> | undefined> {
  const fw = p.opts.get('fwmark-service');
  if (fw !== undefined) {
    if (fw === true || !/^\d+$/.test(fw) || Number(fw) === 0) throw new LvsError('EUSAGE', 'illegal virtual service fwmark');
    return { fwmark: Number(fw) };
  }
  if (p.opts.has('sctp-service')) throw new LvsError('EUSAGE', 'SCTP services are not supported by lvsd');
  const t = p.opts.get('tcp-service') ?? p.opts.get('udp-service');
  if (t === undefined) return undefined;
  const proto = p.opts.has('tcp-service') ? 'tcp' : 'udp';
  const e = await endpoint(String(t), 'virtual server', 0, proto === 'tcp' ? PROTO_TCP : PROTO_UDP);
  return { proto, addr: e.addr, port: e.port };
}

const num = (p: ParsedArgs, name: string): number | undefined => {
  const v = p.opts.get(name);
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v)) throw new LvsError('EUSAGE', `illegal ${name} specified`);
  return Number(v);
};

/** The forwarding method ipvsadm's flags name (default -g, as ipvsadm). */
function forward(p: ParsedArgs): string {
  const chosen = [['gatewaying', 'dr'], ['ipip', 'tun'], ['masquerading', 'nat'], ['fullnat', 'fullnat']].filter(([o]) => p.opts.has(o));
  if (chosen.length > 1) throw new LvsError('EUSAGE', 'multiple forwarding methods specified');
  if (p.opts.has('tun-type') && p.opts.get('tun-type') !== 'ipip') throw new LvsError('EUSAGE', `tunnel type ${String(p.opts.get('tun-type'))} is not supported yet (ipip is)`);
  return chosen[0]?.[1] ?? 'dr';
}

/** Without -n, names for the addresses a listing shows (ports are named from /etc/services as it prints). */
async function namer(p: ParsedArgs, addrs: number[]): Promise<Namer> {
  return p.opts.has('numeric') ? NUMERIC : namedNamer(await resolveAddrs(addrs));
}

type Call = (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;

/** -L: the table, one service (-t/-u/-f), the connections (-c), the timeouts or the sync daemon; text or --json. */
async function list(p: ParsedArgs, call: Call, out: (s: string) => void): Promise<void> {
  const json = p.opts.has('json');
  if (p.opts.has('connection')) {
    const r = (await call('conns')) as ConnView[] | { conns: ConnView[]; truncated?: boolean };
    const conns = Array.isArray(r) ? r : r.conns;
    const truncated = !Array.isArray(r) && r.truncated === true;
    if (json) out(connsJson(conns, truncated));
    else out(formatConns(conns, { names: await namer(p, connAddrs(conns)), persistentConn: p.opts.has('persistent-conn') }));
    if (truncated && !json) process.stderr.write(`lvsadm: only the first ${conns.length} connection entries are listed\n`);
    return;
  }
  if (p.opts.has('timeout')) {
    const t = (await call('timeouts')) as Timeouts;
    out(json ? timeoutJson(t) : formatTimeout(t));
    return;
  }
  if (p.opts.has('daemon')) {
    out(json ? daemonJson() : formatDaemon());
    return;
  }
  let table = (await call('list')) as ListResult;
  const svc = await serviceOf(p);
  if (svc) {
    // ipvsadm -L <service>: that service alone, without the version line.
    const vip = svc.fwmark ? 0 : parseEndpoint(String(svc.addr), PROTO_TCP)!.addr;
    const one = table.services.filter((s) => (svc.fwmark ? s.fwmark === svc.fwmark
      : !s.fwmark && s.proto === (svc.proto === 'udp' ? PROTO_UDP : PROTO_TCP) && s.port === svc.port && s.vip >>> 0 === vip));
    if (one.length === 0) throw new LvsError('ESRCH', 'No such service');
    table = { ...table, services: one };
  }
  const sort = !p.opts.has('nosort');
  if (json) {
    out(listJson(table, { sort }));
    return;
  }
  out(formatList(table, {
    sort, header: !svc, exact: p.opts.has('exact'), names: await namer(p, listAddrs(table)),
    format: pickFormat((f: ListFormat) => p.opts.has(f)),
  }));
}

async function run(p: ParsedArgs, sock: string, out: (s: string) => void): Promise<void> {
  const needSvc = async (): Promise<Record<string, unknown>> => {
    const svc = await serviceOf(p);
    if (!svc) throw new LvsError('EUSAGE', 'You need to supply the \'virtual-service\' option');
    return svc;
  };
  const needDest = async (svc: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const r = p.opts.get('real-server');
    if (r === undefined || r === true) throw new LvsError('EUSAGE', `You need to supply the 'real-server' option for the '${p.command}' command`);
    return endpoint(r, 'real server', svc.port as number, svc.proto === 'udp' ? PROTO_UDP : PROTO_TCP);
  };
  const call = (cmd: string, args: Record<string, unknown> = {}): Promise<unknown> => request(sock, cmd, args);
  const svcOptions = (): Record<string, unknown> => {
    const pers = p.opts.get('persistent');
    return {
      scheduler: p.opts.get('scheduler') ?? 'wlc',
      persistent: pers === undefined ? false : pers === true ? true : Number(pers),
      ...(p.opts.has('netmask') ? { netmask: p.opts.get('netmask') } : {}),
      flags: p.opts.has('sched-flags') ? String(p.opts.get('sched-flags')).split(',') : [],
      ...(p.opts.has('match') ? { match: String(p.opts.get('match')) } : {}),
    };
  };
  const destOptions = (): Record<string, unknown> => ({
    forward: forward(p),
    weight: num(p, 'weight') ?? 1,
    ...(p.opts.has('u-threshold') ? { uthreshold: num(p, 'u-threshold') } : {}),
    ...(p.opts.has('l-threshold') ? { lthreshold: num(p, 'l-threshold') } : {}),
  });
  const seconds = (name: string): number | true | undefined => {
    const v = p.opts.get(name);
    return v === undefined ? undefined : v === true ? true : Number(v);
  };

  switch (p.command) {
    case 'help': out(USAGE); return;
    case 'version': out(`${VERSION}\n`); return;
    case 'add-service': await call('addService', { svc: await needSvc(), ...svcOptions() }); return;
    case 'edit-service': await call('editService', { svc: await needSvc(), ...svcOptions() }); return;
    case 'delete-service': await call('deleteService', { svc: await needSvc() }); return;
    case 'clear': await call('clear'); return;
    case 'add-server': {
      const svc = await needSvc();
      await call('addDest', { svc, dest: await needDest(svc), ...destOptions() });
      return;
    }
    case 'edit-server': {
      const svc = await needSvc();
      const drain = seconds('drain');
      await call('editDest', { svc, dest: await needDest(svc), ...destOptions(), ...(drain !== undefined ? { drain } : {}) });
      return;
    }
    case 'delete-server': {
      const svc = await needSvc();
      const graceful = seconds('graceful');
      await call('deleteDest', { svc, dest: await needDest(svc), ...(graceful !== undefined ? { graceful } : {}) });
      return;
    }
    case 'set': {
      const [tcp, tcpfin, udp] = p.rest.map((v) => {
        if (!/^\d+$/.test(v)) throw new LvsError('EUSAGE', `illegal timeout value ${v}`);
        return Number(v);
      });
      await call('setTimeouts', { tcp, tcpfin, udp });
      return;
    }
    case 'zero': {
      const svc = await serviceOf(p);
      await call('zero', svc ? { svc } : {});
      return;
    }
    case 'save': {
      const table = (await call('list')) as ListResult;
      out(p.opts.has('json') ? listJson(table) : formatSave(table, { names: await namer(p, listAddrs(table)) }));
      return;
    }
    case 'restore': {
      // One ipvsadm argv per line; the word "ipvsadm" (or "lvsadm") is ignored wherever it stands.
      const lines = readFileSync(0, 'utf8').split('\n');
      for (const line of lines) {
        const words = splitWords(line).filter((w) => w !== 'ipvsadm' && w !== 'lvsadm');
        if (words.length === 0) continue;
        const sub = parseIpvsadm(words);
        if (sub.command === 'restore') throw new LvsError('EUSAGE', '-R inside -R is not allowed');
        await run(sub, sock, out);
      }
      return;
    }
    case 'list': await list(p, call, out); return;
    case 'start-daemon':
    case 'stop-daemon':
      throw new LvsError('EUSAGE', 'the connection sync daemon is not supported by this lvsd yet');
  }
}

/** Words of a -R line: whitespace-separated, with '...' or "..." quoting (for a --match expression). */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let p: ParsedArgs;
  try {
    p = parseIpvsadm(argv);
  } catch (err) {
    return refuse(err, null);
  }
  try {
    const sock = socketPath(p.opts.get('socket') === undefined ? undefined : String(p.opts.get('socket')));
    await run(p, sock, (s) => process.stdout.write(s));
    return 0;
  } catch (err) {
    return refuse(err, p.command);
  }
}

/**
 * A refusal, worded and exited as ipvsadm does: a bad command line is its message and exit 2 (fail), a popt error
 * or an unreadable command line exit 255 ("Try ... -h" alone for the latter); lvsd unreachable is exit 2, as
 * ipvsadm's "Can't initialize ipvs"; the daemon's refusals exit 1 when listing and 255 otherwise (ipvsadm returns -1).
 */
function refuse(err: unknown, command: string | null): number {
  if (!(err instanceof LvsError)) {
    process.stderr.write(`${String(err)}\n`);
    return 1;
  }
  if (err.code === E_TRYHELP) {
    process.stderr.write(`${TRY}\n`);
    return 255;
  }
  process.stderr.write(`${err.message}\n`);
  if (err.code === E_POPT) return 255;
  if (err.code === E_USAGE || UNREACHABLE.has(err.code)) return 2;
  return command === 'list' ? 1 : 255;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EPROTO']);

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
