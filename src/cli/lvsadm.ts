// lvsadm: ipvsadm's command line and output against a running lvsd. Commands are parsed as ipvsadm parses
// them (control/ipvsadm-args.ts), turned into control requests, and answered in ipvsadm's formats.
import { readFileSync } from 'node:fs';
import { request } from '../control/client';
import { LvsError } from '../control/errors';
import { connAddrs, formatConns } from '../control/format-conns';
import { connsJson, daemonJson, listJson, timeoutJson } from '../control/format-json';
import { formatList, listAddrs, pickFormat, type ListFormat } from '../control/format-list';
import { formatDaemon, formatTimeout, type SyncDaemonView, type Timeouts } from '../control/format-timeout';
import { formatSave } from '../control/format-save';
import { E_TRYHELP, E_POPT, E_USAGE, parseEndpoint, parseIpvsadm, type ParsedArgs } from '../control/ipvsadm-args';
import { endpoint, serviceOf, splitWords, toRequest, type ControlRequest } from '../control/ipvsadm-requests';
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
  --which           -W        which real server a client's flow gets (with --client IP:port)
  --add-laddr       -P        add a FullNAT local address (-z LIP) to a service (as DPVS)
  --del-laddr       -Q        remove one
  --get-laddr       -G        list them, with the connections each carries
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
    const daemons = (await call('daemonStatus')) as SyncDaemonView[];
    out(json ? daemonJson(daemons) : formatDaemon(daemons));
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
  const call = (cmd: string, args: Record<string, unknown> = {}): Promise<unknown> => request(sock, cmd, args);
  const edit = await toRequest(p);
  if (edit) {
    await call(edit.cmd, edit.args);
    return;
  }
  switch (p.command) {
    case 'help': out(USAGE); return;
    case 'version': out(`${VERSION}\n`); return;
    case 'save': {
      const table = (await call('list')) as ListResult;
      out(p.opts.has('json') ? listJson(table) : formatSave(table, { names: await namer(p, listAddrs(table)) }));
      return;
    }
    case 'restore': {
      // One ipvsadm argv per line ("ipvsadm"/"lvsadm" ignored wherever it stands), all parsed first and sent as
      // one batch: a bad line refuses the whole restore, and the live table is left as it was.
      const commands: (ControlRequest & { line: number })[] = [];
      const lines = readFileSync(0, 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        const words = splitWords(line).filter((w) => w !== 'ipvsadm' && w !== 'lvsadm');
        if (words.length === 0) continue;
        try {
          const sub = parseIpvsadm(words);
          if (sub.command === 'restore') throw new LvsError(E_USAGE, '-R inside -R is not allowed');
          const r = await toRequest(sub);
          if (!r) throw new LvsError(E_USAGE, `${sub.command} does not change the table`);
          commands.push({ ...r, line: i + 1 });
        } catch (err) {
          throw new LvsError(E_USAGE, `line ${i + 1}: ${(err as Error).message}`);
        }
      }
      await call('batch', { commands });
      return;
    }
    case 'which': {
      const svc = await serviceOf(p);
      const client = await endpoint(String(p.opts.get('client')), 'client', 0, svc?.proto === 'udp' ? PROTO_UDP : PROTO_TCP);
      const r = (await call('which', { svc, client })) as { rs: string | null; via: string; exact: boolean };
      if (p.opts.has('json')) out(`${JSON.stringify(r)}\n`);
      else out(`${r.rs ?? 'none'} (${r.via}${r.exact ? '' : ', depends on the connections before it'})\n`);
      return;
    }
    case 'get-laddr': {
      const svcs = (await call('list')) as ListResult;
      const want = await serviceOf(p);
      const rows: string[] = [];
      for (const s of svcs.services.filter((x) => x.fwmark === undefined && x.proto !== 0)) {
        const key = { proto: s.proto === PROTO_UDP ? 'udp' : 'tcp', addr: ipv4ToString(s.vip >>> 0), port: s.port };
        if (want && (want.addr !== key.addr || want.port !== key.port || want.proto !== key.proto)) continue;
        const l = (await call('getLaddr', { svc: key })) as { laddr: string; conns: number }[];
        for (const x of l) rows.push(`${`${key.proto.toUpperCase()}  ${key.addr}:${key.port}`.padEnd(28)} ${x.laddr.padEnd(16)} ${x.conns}`);
      }
      if (p.opts.has('json')) out(`${JSON.stringify(rows)}\n`);
      else out(`${'VIP:VPORT'.padEnd(28)} ${'SNAT_IP'.padEnd(16)} CONNS\n${rows.map((r) => `${r}\n`).join('')}`);
      return;
    }
    case 'list': await list(p, call, out); return;
    case 'start-daemon': {
      const n = (o: string): number | undefined => (p.opts.has(o) ? Number(p.opts.get(o)) : undefined);
      await call('startDaemon', {
        state: p.rest[0], mcastInterface: p.opts.get('mcast-interface'), syncid: n('syncid'),
        group: p.opts.get('mcast-group'), port: n('mcast-port'), ttl: n('mcast-ttl'), maxlen: n('sync-maxlen'),
      });
      return;
    }
    case 'stop-daemon':
      await call('stopDaemon', { state: p.rest[0] });
      return;
    default:
      throw new LvsError(E_USAGE, `${p.command}: not supported`);
  }
}

/** `lvsadm status [--socket PATH]`: the daemon's status as JSON (every worker added up), an lvsadm extension. */
async function status(argv: string[]): Promise<number> {
  let sock: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--socket' && i + 1 < argv.length) {
      sock = argv[++i];
    } else {
      process.stderr.write('Usage: lvsadm status [--socket PATH]\n');
      return 2;
    }
  }
  try {
    process.stdout.write(`${JSON.stringify(await request(socketPath(sock), 'status'), null, 2)}\n`);
    return 0;
  } catch (err) {
    return refuse(err, 'status');
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'top') return (await import('./lvsadm-top')).main(argv.slice(1));
  if (argv[0] === 'status') return status(argv.slice(1));
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
