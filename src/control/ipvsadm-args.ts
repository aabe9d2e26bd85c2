// ipvsadm's command line, parsed and checked as ipvsadm 1.31 does (popt, then process_options), with ipvsadm's
// own words for every refusal: options each at most once per kind, short flags bundled (-Ln), long options with
// = or a separate value, -p's optional timeout, values checked as they are read, then the scheduler flags, the
// commands_v_options matrix, zero ports, one-packet scheduling, tunnel options and list conflicts, in that order.
// Two liberties: the command need not come first, and host names are checked by lvsadm (they need DNS).
// Produces a plain command record; nothing here talks to the daemon.
import { LvsError } from './errors';
import { serviceToPort } from './names';
import { ipv4ToString } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';

export type CommandName =
  | 'add-service' | 'edit-service' | 'delete-service' | 'clear' | 'restore' | 'save' | 'add-server' | 'edit-server'
  | 'delete-server' | 'list' | 'zero' | 'set' | 'start-daemon' | 'stop-daemon' | 'help' | 'version'
  // userlvs: which RS a flow gets (Katran's simulator); DPVS's local-address (FullNAT LIP) pool commands.
  | 'which' | 'add-laddr' | 'del-laddr' | 'get-laddr';

export interface ParsedArgs {
  command: CommandName;
  /**
   * Option name (long form) -> value (true for flags). Numeric addresses come back as dotted quads and ports as
   * numbers ("-t 10.1:http" -> "0.10.0.1:80"); host names are left for lvsadm to resolve.
   */
  opts: Map<string, string | true>;
  /** --set's three values, --start/--stop-daemon's state. */
  rest: string[];
}

/**
 * Error codes of a refused command line, as ipvsadm exits: EUSAGE is fail() (the message, exit 2), EPOPT a popt
 * error ("-t: missing argument", exit 255), ETRYHELP only the "Try ... -h" line (exit 255).
 */
export const E_USAGE = 'EUSAGE';
export const E_POPT = 'EPOPT';
export const E_TRYHELP = 'ETRYHELP';

const fail = (msg: string): never => {
  throw new LvsError(E_USAGE, msg);
};

/** The option kinds of ipvsadm (optnames[], in OPTC order), then userlvs's. Messages name options by these. */
const KINDS = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server', 'forwarding-method',
  'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon', 'stats', 'rate', 'thresholds',
  'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl',
  'sync-maxlen', 'tun-info', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
  // userlvs: a mark service's nftables match, graceful drain and removal, JSON listings, -W's client, -z LIP.
  'match', 'drain', 'graceful', 'json', 'client', 'laddr',
] as const;
type Kind = (typeof KINDS)[number];

/**
 * commands_v_options, one character per kind in KINDS order: '+' compulsory, 'x' illegal, '1' exclusive (one of
 * them at most), '.' optional. The first 34 columns are ipvsadm 1.31's table; the last four are userlvs's.
 */
const MATRIX: Partial<Record<CommandName, string>> = {
  /*                     -n-c svc-s-p-M-r fwd-w-x-y mc tot dmn st rt thr pc srt sid ex ops pe -b grp prt ttl len tinf type tprt nocs csum remc | match drain grace json */
  'add-service':    'xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx' + '.xxx',
  'edit-service':   'xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx' + '.xxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx',
  clear:            'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx',
  list:             '.11xxxxxxxxx11.......xxxxxxx.xxxxx' + 'xxx.',
  'add-server':     'xx+xxx+....xxxxxxxxxxxxxxxxxx.....' + 'xxxx',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xx.x',
  'edit-server':    'xx+xxx+....xxxxxxxxxxxxxxxxxx.....' + 'x.xx',
  set:              'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx',
  'start-daemon':   'xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx' + 'xxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx' + 'xxxx',
  restore:          'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx',
  save:             '.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxx.',
  zero:             'xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx',
};
// The two last columns (client, laddr) are userlvs's too: only its own commands take them.
for (const c of Object.keys(MATRIX) as CommandName[]) MATRIX[c] += 'xx';
MATRIX.which = '.x+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxx.' + '+x';
MATRIX['add-laddr'] = 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx' + 'x+';
MATRIX['del-laddr'] = 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxxx' + 'x+';
MATRIX['get-laddr'] = '.x.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + 'xxx.' + 'xx';

/** cmdnames[]: how ipvsadm's messages name a command. */
const CMD_WORD: Partial<Record<CommandName, string>> = { clear: 'flush' };
const cmdWord = (c: CommandName): string => CMD_WORD[c] ?? c;

interface OptDef {
  long: string;
  short?: string;
  /** The kind it counts as (duplicates, legality); none for -6, --sort and --socket, as in ipvsadm. */
  kind?: Kind;
  /** 'none' flag, 'required' value, 'optional' value (taken when the next word does not start with '-'). */
  arg: 'none' | 'required' | 'optional';
}

const COMMANDS: { long: string; short?: string; name: CommandName; arg?: true }[] = [
  { long: 'add-service', short: 'A', name: 'add-service' },
  { long: 'edit-service', short: 'E', name: 'edit-service' },
  { long: 'delete-service', short: 'D', name: 'delete-service' },
  { long: 'clear', short: 'C', name: 'clear' },
  { long: 'restore', short: 'R', name: 'restore' },
  { long: 'save', short: 'S', name: 'save' },
  { long: 'add-server', short: 'a', name: 'add-server' },
  { long: 'edit-server', short: 'e', name: 'edit-server' },
  { long: 'delete-server', short: 'd', name: 'delete-server' },
  { long: 'list', short: 'L', name: 'list' },
  { long: 'list', short: 'l', name: 'list' },
  { long: 'zero', short: 'Z', name: 'zero' },
  { long: 'set', name: 'set' },
  { long: 'start-daemon', name: 'start-daemon', arg: true },
  { long: 'stop-daemon', name: 'stop-daemon', arg: true },
  { long: 'help', short: 'h', name: 'help' },
  { long: 'version', short: 'v', name: 'version' },
  { long: 'which', short: 'W', name: 'which' },
  { long: 'add-laddr', short: 'P', name: 'add-laddr' },
  { long: 'del-laddr', short: 'Q', name: 'del-laddr' },
  { long: 'get-laddr', short: 'G', name: 'get-laddr' },
];

const OPTIONS: OptDef[] = [
  { long: 'tcp-service', short: 't', kind: 'service-address', arg: 'required' },
  { long: 'client', kind: 'client', arg: 'required' },
  { long: 'laddr', short: 'z', kind: 'laddr', arg: 'required' },
  { long: 'udp-service', short: 'u', kind: 'service-address', arg: 'required' },
  { long: 'sctp-service', kind: 'service-address', arg: 'required' },
  { long: 'fwmark-service', short: 'f', kind: 'service-address', arg: 'required' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'scheduler', short: 's', kind: 'scheduler', arg: 'required' },
  { long: 'persistent', short: 'p', kind: 'persistent', arg: 'optional' },
  { long: 'netmask', short: 'M', kind: 'netmask', arg: 'required' },
  { long: 'pe', kind: 'pe', arg: 'required' },
  { long: 'sched-flags', short: 'b', kind: 'sched-flags', arg: 'required' },
  { long: 'ops', short: 'o', kind: 'ops', arg: 'none' },
  { long: 'real-server', short: 'r', kind: 'real-server', arg: 'required' },
  { long: 'gatewaying', short: 'g', kind: 'forwarding-method', arg: 'none' },
  { long: 'ipip', short: 'i', kind: 'forwarding-method', arg: 'none' },
  { long: 'masquerading', short: 'm', kind: 'forwarding-method', arg: 'none' },
  { long: 'fullnat', kind: 'forwarding-method', arg: 'none' },
  { long: 'tun-type', kind: 'tun-type', arg: 'required' },
  { long: 'tun-port', kind: 'tun-port', arg: 'required' },
  { long: 'tun-nocsum', kind: 'tun-nocsum', arg: 'none' },
  { long: 'tun-csum', kind: 'tun-csum', arg: 'none' },
  { long: 'tun-remcsum', kind: 'tun-remcsum', arg: 'none' },
  { long: 'weight', short: 'w', kind: 'weight', arg: 'required' },
  { long: 'u-threshold', short: 'x', kind: 'u-threshold', arg: 'required' },
  { long: 'l-threshold', short: 'y', kind: 'l-threshold', arg: 'required' },
  { long: 'numeric', short: 'n', kind: 'numeric', arg: 'none' },
  { long: 'connection', short: 'c', kind: 'connection', arg: 'none' },
  { long: 'stats', kind: 'stats', arg: 'none' },
  { long: 'rate', kind: 'rate', arg: 'none' },
  { long: 'thresholds', kind: 'thresholds', arg: 'none' },
  { long: 'persistent-conn', kind: 'persistent-conn', arg: 'none' },
  { long: 'tun-info', kind: 'tun-info', arg: 'none' },
  { long: 'exact', short: 'X', kind: 'exact', arg: 'none' },
  { long: 'nosort', kind: 'nosort', arg: 'none' },
  { long: 'sort', arg: 'none' },
  { long: 'timeout', kind: 'timeout', arg: 'none' },
  { long: 'daemon', kind: 'daemon', arg: 'none' },
  { long: 'syncid', kind: 'syncid', arg: 'required' },
  { long: 'mcast-interface', kind: 'mcast-interface', arg: 'required' },
  { long: 'mcast-group', kind: 'mcast-group', arg: 'required' },
  { long: 'mcast-port', kind: 'mcast-port', arg: 'required' },
  { long: 'mcast-ttl', kind: 'mcast-ttl', arg: 'required' },
  { long: 'sync-maxlen', kind: 'sync-maxlen', arg: 'required' },
  // userlvs extensions: a mark service's nftables match, graceful drain, JSON output, where the daemon listens.
  { long: 'match', kind: 'match', arg: 'required' },
  { long: 'drain', kind: 'drain', arg: 'optional' },
  { long: 'graceful', kind: 'graceful', arg: 'optional' },
  { long: 'json', kind: 'json', arg: 'none' },
  { long: 'socket', arg: 'required' },
];

/** Options that are not ipvsadm's command line (where lvsadm listens): they do not make a command line. */
const TRANSPARENT = new Set(['socket', 'json']);

const optByLong = new Map(OPTIONS.map((o) => [o.long, o]));
const optByShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));
const cmdByLong = new Map(COMMANDS.map((c) => [c.long, c]));
const cmdByShort = new Map(COMMANDS.filter((c) => c.short).map((c) => [c.short!, c]));

/** 31 days: ipvsadm's MAX_TIMEOUT. */
export const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 0x7fffffff;

/** string_to_number(): strtol base 10 of the whole word (leading blanks and a sign allowed), in [min, max]; else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (!m) return -1;
  const v = Number(m[1]) + 0;
  return v >= min && v <= max ? v : -1;
}

/** inet_aton(): 1 to 4 parts, each decimal, 0-octal or 0x-hex, the last filling the remaining bytes; -1 if invalid. */
export function inetAton(text: string): number {
  const head = text.split(/[ \t\n\v\f\r]/, 1)[0];
  const parts = head.split('.');
  if (parts.length > 4) return -1;
  const vals: number[] = [];
  for (const p of parts) {
    const m = /^(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9]\d*))$/.exec(p);
    if (!m) return -1;
    const v = m[1] !== undefined ? parseInt(m[1], 16) : m[2] !== undefined ? parseInt(m[2], 8) : Number(m[3]);
    if (!Number.isFinite(v) || v > 0xffffffff) return -1;
    vals.push(v);
  }
  const last = vals.pop()!;
  if (vals.some((v) => v > 0xff) || last > [0xffffffff, 0xffffff, 0xffff, 0xff][vals.length]) return -1;
  return (vals.reduce((acc, v, i) => acc + v * 2 ** (24 - 8 * i), 0) + last) >>> 0;
}

export interface Endpoint {
  /** The address when numeric, else -1 (a host name for lvsadm to resolve). */
  addr: number;
  host: string;
  /** null when the word names no port. */
  port: number | null;
}

/** A host name as a resolver would try it (a word of digits and dots is an address or nothing, as in glibc). */
const HOSTNAME = /^(?=.*[A-Za-z_-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * parse_service(): "host[:port]" with the port a number or a service name of the protocol; null when ipvsadm
 * would refuse it. A bracketed or colon-rich word is IPv6, which lvsd does not carry.
 */
export function parseEndpoint(text: string, proto: number): Endpoint | null {
  if (/^\d*$/.test(text)) return null;
  if (text.startsWith('[') || (text.match(/:/g) ?? []).length > 1) {
    throw new LvsError(E_USAGE, `IPv6 addresses are not supported by lvsd: ${text}`);
  }
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  const addr = inetAton(host);
  if (addr < 0 && !HOSTNAME.test(host)) return null;
  if (colon < 0) return { addr, host, port: null };
  const word = text.slice(colon + 1);
  let port = stringToNumber(word, 0, 65535);
  if (port < 0) port = serviceToPort(word, proto);
  return port < 0 ? null : { addr, host, port };
}

/** An endpoint written back with what is known: "10.0.0.1:80", "www.example.com:80", "10.0.0.1". */
const endpointText = (e: Endpoint): string => `${e.addr >= 0 ? ipv4ToString(e.addr) : e.host}${e.port === null ? '' : `:${e.port}`}`;

const isMulticast = (a: number): boolean => a >>> 28 === 0xe;

/** The checks ipvsadm makes on an option's value as it reads it; returns the value to keep. */
function checkValue(o: OptDef, v: string, opts: Map<string, string | true>): string {
  const svcProto = opts.has('udp-service') ? PROTO_UDP : opts.has('sctp-service') ? 132 : PROTO_TCP;
  const number = (min: number, max: number, msg: string): string => {
    const n = stringToNumber(v, min, max);
    return n < 0 ? fail(msg) : String(n);
  };
  switch (o.long) {
    case 'tcp-service':
    case 'udp-service':
    case 'sctp-service': {
      const e = parseEndpoint(v, o.long === 'udp-service' ? PROTO_UDP : o.long === 'tcp-service' ? PROTO_TCP : 132);
      return e ? endpointText(e) : fail('illegal virtual server address[:port] specified');
    }
    case 'fwmark-service': {
      const n = stringToNumber(v, 1, 0xffffffff);
      return n < 1 ? fail(`invalid fwmark value \`${v}' specified`) : String(n);
    }
    case 'persistent': return number(1, MAX_TIMEOUT, `invalid timeout value \`${v}' specified`);
    case 'netmask': {
      const m = inetAton(v);
      return m < 0 ? fail('illegal virtual server persistent mask specified') : ipv4ToString(m);
    }
    case 'real-server': {
      const e = parseEndpoint(v, svcProto);
      return e ? endpointText(e) : fail('illegal real server address[:port] specified');
    }
    case 'client': {
      const e = parseEndpoint(v, svcProto);
      return e && e.addr >= 0 ? endpointText(e) : fail('illegal client address[:port] specified');
    }
    case 'laddr': {
      const a = inetAton(v);
      return a < 0 ? fail('illegal local address specified') : ipv4ToString(a);
    }
    case 'weight': return number(0, 65535, 'illegal weight specified');
    case 'u-threshold': return number(0, INT_MAX, 'illegal u_threshold specified');
    case 'l-threshold': return number(0, INT_MAX, 'illegal l_threshold specified');
    case 'syncid': return number(0, 255, 'illegal syncid specified');
    case 'tun-type': return ['ipip', 'gue', 'gre'].includes(v) ? v : fail('illegal tunnel type specified');
    case 'tun-port': return number(1, 65535, 'illegal tunnel port specified');
    case 'mcast-group': {
      if (v.includes(':')) return fail(`invalid IPv6 mcast-group \`${v}'`);
      const g = /^\d+\.\d+\.\d+\.\d+$/.test(v) ? inetAton(v) : -1;
      return g < 0 || !isMulticast(g) ? fail(`invalid IPv4 mcast-group \`${v}'`) : v;
    }
    case 'mcast-port': return number(1, 65535, 'illegal mcast-port specified');
    case 'mcast-ttl': return number(1, 255, 'illegal mcast-ttl specified');
    case 'sync-maxlen': return number(1, 65535 - 20 - 8, 'illegal sync-maxlen specified');
    // userlvs: --drain/--graceful seconds, checked as -p's timeout is.
    case 'drain':
    case 'graceful': return number(1, MAX_TIMEOUT, `invalid timeout value \`${v}' specified`);
    default: return v;
  }
}

/** parse_sched_flags(): each comma-separated flag known, and sh-… or mh-… flags only with their scheduler (default wlc). */
function checkSchedFlags(text: string, scheduler: string): void {
  for (const flag of text.split(',').filter((f) => f !== '')) {
    if (flag === 'flag-1' || flag === 'flag-2' || flag === 'flag-3') continue;
    const m = /^(sh|mh)-(fallback|port)$/.exec(flag);
    if (!m) fail(`invalid scheduler flag \`${flag}'`);
    if (m![1] !== scheduler) fail(`incompatible scheduler flag \`${flag}'`);
  }
}

/** generic_opt_check(): the commands_v_options row, kind by kind in ipvsadm's order. */
function checkMatrix(cmd: CommandName, kinds: Set<Kind>): void {
  const row = MATRIX[cmd];
  if (!row) return;
  let first: Kind | null = null;
  KINDS.forEach((k, j) => {
    const rule = row[j];
    if (!kinds.has(k)) {
      if (rule === '+') fail(`You need to supply the '${k}' option for the '${cmdWord(cmd)}' command`);
      return;
    }
    if (rule === 'x') fail(`Illegal '${k}' option with the '${cmdWord(cmd)}' command`);
    if (rule === '1') {
      if (first === null) first = k;
      else fail(`The option '${k}' conflicts with the '${first}' option in the '${cmdWord(cmd)}' command`);
    }
  });
}

/** tunnel_types_v_options: ipip takes no tunnel option; gue needs --tun-port and one checksum mode; gre one mode. */
const TUNNEL_RULES: Record<string, string> = { ipip: 'xxxx', gue: '+111', gre: 'x11x' };
const TUNNEL_KINDS: Kind[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];

function checkTunnel(type: string, kinds: Set<Kind>): void {
  const row = TUNNEL_RULES[type];
  let first: Kind | null = null;
  TUNNEL_KINDS.forEach((k, j) => {
    if (!kinds.has(k)) {
      if (row[j] === '+') fail(`You need to supply the '${k}' option for the '${type}' tunnel type`);
      return;
    }
    if (row[j] === 'x') fail(`Illegal '${k}' option with the '${type}' tunnel type`);
    if (row[j] === '1') {
      if (first === null) first = k;
      else fail(`The option '${k}' conflicts with the '${first}' option in the '${type}' tunnel type`);
    }
  });
}

const popt = (word: string, why: string): never => {
  throw new LvsError(E_POPT, `${word}: ${why}`);
};

export function parseIpvsadm(argv: string[]): ParsedArgs {
  // With -a/-e, DPVS's ipvsadm reads -b as FullNAT (a flag); with -A/-E it is the sched-flags option.
  const serverCmd = argv.some((a) => a === '--add-server' || a === '--edit-server' || /^-[a-zA-Z]*[ae]/.test(a) && !a.startsWith('--'));
  let command = null as CommandName | null;
  const opts = new Map<string, string | true>();
  const kinds = new Set<Kind>();
  const positional: string[] = [];
  let daemonState: string | null = null;
  let seen = 0; // options and commands read so far: ipvsadm answers an unreadable first word with "Try ... -h"
  const setCommand = (c: CommandName): void => {
    if (command !== null) fail('multiple commands specified');
    command = c;
  };
  const setOpt = (o: OptDef, v: string | true): void => {
    if (o.kind) {
      if (kinds.has(o.kind)) fail(`multiple '${o.kind}' options specified`);
      kinds.add(o.kind);
    }
    if (o.long === 'ipv6' && !opts.has('fwmark-service')) fail('-6 used before -f\n');
    if (o.long === 'ipv6') fail('IPv6 firewall-mark services are not supported by lvsd');
    opts.set(o.long, v === true ? true : checkValue(o, v, opts));
  };
  const poptError = (word: string, why: string): never => {
    if (seen === 0) throw new LvsError(E_TRYHELP, '');
    return popt(word, why);
  };
  // popt's optional argument: the next word, unless there is none or it starts with '-'.
  const optional = (i: number): string | null => (i < argv.length && !argv[i].startsWith('-') ? argv[i] : null);
  const daemonCommand = (c: { name: CommandName }, word: string, value: string | undefined): void => {
    if (value === undefined) poptError(word, 'missing argument');
    setCommand(c.name);
    if (value !== 'master' && value !== 'backup') {
      fail(c.name === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
    }
    daemonState = value!;
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      const cmd = cmdByLong.get(name);
      const o = optByLong.get(name);
      if (cmd) {
        if (cmd.arg) daemonCommand(cmd, a, inline ?? (i + 1 < argv.length ? argv[++i] : undefined));
        else if (inline !== undefined) poptError(a, 'option does not take an argument');
        else setCommand(cmd.name);
      } else if (!o) {
        poptError(a, 'unknown option');
      } else if (o.arg === 'none') {
        if (inline !== undefined) poptError(a, 'option does not take an argument');
        setOpt(o, true);
      } else if (inline !== undefined) {
        setOpt(o, inline);
      } else if (o.arg === 'required') {
        if (i + 1 >= argv.length) poptError(a, 'missing argument');
        setOpt(o, argv[++i]);
      } else {
        const v = optional(i + 1);
        if (v !== null) i++;
        setOpt(o, v ?? true);
      }
      if (!TRANSPARENT.has(name)) seen++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && a !== '--') {
      // A bundle of short options: flags, then at most one taking a value (the rest of the word or the next).
      for (let k = 1; k < a.length; k++) {
        const ch = a[k];
        const cmd = cmdByShort.get(ch);
        if (cmd) {
          setCommand(cmd.name);
          seen++;
          continue;
        }
        const o = ch === 'b' && serverCmd ? optByLong.get('fullnat')! : optByShort.get(ch);
        if (!o) poptError(a, 'unknown option');
        seen++;
        if (o!.arg === 'none') {
          setOpt(o!, true);
          continue;
        }
        const tail = a.slice(k + 1);
        if (tail) setOpt(o!, tail);
        else if (o!.arg === 'required') {
          if (i + 1 >= argv.length) poptError(a, 'missing argument');
          setOpt(o!, argv[++i]);
        } else {
          const v = optional(i + 1);
          if (v !== null) i++;
          setOpt(o!, v ?? true);
        }
        break;
      }
      continue;
    }
    positional.push(a);
  }

  if (command === null) {
    // Bare "ipvsadm" lists the table; options without a command are refused with only the "Try" line.
    if ([...opts.keys()].some((k) => !TRANSPARENT.has(k)) || positional.length > 0) throw new LvsError(E_TRYHELP, '');
    command = 'list';
  }
  const cmd: CommandName = command;
  if (cmd === 'help' || cmd === 'version') return { command: cmd, opts, rest: [] };

  let rest: string[] = [];
  if (cmd === 'set') {
    if (positional.length < 3) fail('--set option requires 3 timeout values');
    rest = positional.splice(0, 3).map((v) => {
      const t = stringToNumber(v, 0, MAX_TIMEOUT);
      return t < 0 ? fail(`invalid timeout value \`${v}' specified`) : String(t);
    });
  }
  if (daemonState !== null) rest = [daemonState];
  if (positional.length > 0) fail(`unexpected argument ${positional[0]}`);

  const flags = opts.get('sched-flags');
  if (typeof flags === 'string' && flags !== '') checkSchedFlags(flags, String(opts.get('scheduler') || 'wlc'));

  checkMatrix(cmd, kinds);

  if (cmd === 'add-service' || cmd === 'edit-service') {
    const svcText = opts.get('tcp-service') ?? opts.get('udp-service') ?? opts.get('sctp-service');
    const port = typeof svcText === 'string' ? /:(\d+)$/.exec(svcText)?.[1] ?? '0' : null;
    if (port === '0' && !opts.has('persistent')) fail('Zero port specified for non-persistent service');
    if (opts.has('ops') && !opts.has('fwmark-service') && !opts.has('udp-service')) {
      fail('One-Packet Scheduling is only for UDP virtual services');
    }
  }
  if (cmd === 'add-server' || cmd === 'edit-server') {
    if (TUNNEL_KINDS.some((k) => kinds.has(k)) || kinds.has('tun-type')) {
      if (!opts.has('ipip')) fail('Tunnel options conflict with forward method');
    }
    checkTunnel(String(opts.get('tun-type') ?? 'ipip'), kinds);
  }
  if (cmd === 'list') {
    const has = (...k: Kind[]): boolean => k.some((x) => kinds.has(x));
    if ((has('connection', 'timeout', 'daemon') && has('stats', 'rate', 'thresholds')) ||
      (has('timeout', 'daemon') && has('persistent-conn'))) {
      fail('options conflicts in the list command');
    }
  }
  return { command: cmd, opts, rest };
}
