// ipvsadm's command line, parsed as ipvsadm 1.31 parses it (popt): one command, options each at most once,
// short flags bundled (-Ln), long options with = or a separate value, -p's optional timeout, and the
// commands_v_options legality matrix. Produces a plain command record; nothing here talks to the daemon.
import { LvsError } from './errors';

export type CommandName =
  | 'add-service' | 'edit-service' | 'delete-service' | 'clear' | 'restore' | 'save' | 'add-server' | 'edit-server'
  | 'delete-server' | 'list' | 'zero' | 'set' | 'start-daemon' | 'stop-daemon' | 'help' | 'version';

export interface ParsedArgs {
  command: CommandName;
  /** Option name (long form) -> value (true for flags). */
  opts: Map<string, string | true>;
  /** --set's three values, --start/--stop-daemon's state. */
  rest: string[];
}

interface OptDef {
  long: string;
  short?: string;
  /** 'none' flag, 'required' value, 'optional' value (only -p: taken when the next word is a number). */
  arg: 'none' | 'required' | 'optional';
}

const COMMANDS: { long: string; short?: string; name: CommandName }[] = [
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
  { long: 'start-daemon', name: 'start-daemon' },
  { long: 'stop-daemon', name: 'stop-daemon' },
  { long: 'help', short: 'h', name: 'help' },
  { long: 'version', short: 'v', name: 'version' },
];

const OPTIONS: OptDef[] = [
  { long: 'tcp-service', short: 't', arg: 'required' },
  { long: 'udp-service', short: 'u', arg: 'required' },
  { long: 'sctp-service', arg: 'required' },
  { long: 'fwmark-service', short: 'f', arg: 'required' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'scheduler', short: 's', arg: 'required' },
  { long: 'persistent', short: 'p', arg: 'optional' },
  { long: 'netmask', short: 'M', arg: 'required' },
  { long: 'pe', arg: 'required' },
  { long: 'sched-flags', short: 'b', arg: 'required' },
  { long: 'ops', short: 'o', arg: 'none' },
  { long: 'real-server', short: 'r', arg: 'required' },
  { long: 'gatewaying', short: 'g', arg: 'none' },
  { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'masquerading', short: 'm', arg: 'none' },
  { long: 'fullnat', arg: 'none' },
  { long: 'tun-type', arg: 'required' },
  { long: 'tun-port', arg: 'required' },
  { long: 'tun-nocsum', arg: 'none' },
  { long: 'tun-csum', arg: 'none' },
  { long: 'tun-remcsum', arg: 'none' },
  { long: 'weight', short: 'w', arg: 'required' },
  { long: 'u-threshold', short: 'x', arg: 'required' },
  { long: 'l-threshold', short: 'y', arg: 'required' },
  { long: 'numeric', short: 'n', arg: 'none' },
  { long: 'connection', short: 'c', arg: 'none' },
  { long: 'stats', arg: 'none' },
  { long: 'rate', arg: 'none' },
  { long: 'thresholds', arg: 'none' },
  { long: 'persistent-conn', arg: 'none' },
  { long: 'tun-info', arg: 'none' },
  { long: 'exact', short: 'X', arg: 'none' },
  { long: 'nosort', arg: 'none' },
  { long: 'sort', arg: 'none' },
  { long: 'timeout', arg: 'none' },
  { long: 'daemon', arg: 'none' },
  { long: 'syncid', arg: 'required' },
  { long: 'mcast-interface', arg: 'required' },
  // userlvs extensions: a mark service's nftables match, graceful drain, and where the daemon listens.
  { long: 'match', arg: 'required' },
  { long: 'drain', arg: 'optional' },
  { long: 'graceful', arg: 'optional' },
  { long: 'socket', arg: 'required' },
];

const SERVICE = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'];
const LIST_FORMATS = ['stats', 'rate', 'thresholds', 'persistent-conn', 'tun-info', 'exact', 'nosort', 'sort', 'numeric'];

/** Which options each command accepts (ipvsadm's commands_v_options, with our two extensions). */
const ALLOWED: Record<CommandName, string[]> = {
  'add-service': [...SERVICE, 'ipv6', 'scheduler', 'persistent', 'netmask', 'pe', 'sched-flags', 'ops', 'match'],
  'edit-service': [...SERVICE, 'ipv6', 'scheduler', 'persistent', 'netmask', 'pe', 'sched-flags', 'ops', 'match'],
  'delete-service': [...SERVICE, 'ipv6'],
  clear: [],
  restore: [],
  save: ['numeric'],
  'add-server': [...SERVICE, 'ipv6', 'real-server', 'gatewaying', 'ipip', 'masquerading', 'fullnat', 'sched-flags', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum', 'weight', 'u-threshold', 'l-threshold'],
  'edit-server': [...SERVICE, 'ipv6', 'real-server', 'gatewaying', 'ipip', 'masquerading', 'fullnat', 'sched-flags', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum', 'weight', 'u-threshold', 'l-threshold', 'drain'],
  'delete-server': [...SERVICE, 'ipv6', 'real-server', 'graceful'],
  list: [...SERVICE, 'ipv6', 'connection', 'timeout', 'daemon', ...LIST_FORMATS],
  zero: [...SERVICE, 'ipv6'],
  set: [],
  'start-daemon': ['syncid', 'mcast-interface'],
  'stop-daemon': ['syncid'],
  help: [],
  version: [],
};

const optByLong = new Map(OPTIONS.map((o) => [o.long, o]));
const optByShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));
const cmdByLong = new Map(COMMANDS.map((c) => [c.long, c]));
const cmdByShort = new Map(COMMANDS.filter((c) => c.short).map((c) => [c.short!, c]));

/** The short spelling ipvsadm uses in its messages ('-x'), or the long one when there is none. */
export const optLabel = (long: string): string => {
  const o = optByLong.get(long);
  return o?.short ? `-${o.short}` : `--${long}`;
};
const cmdLabel = (c: CommandName): string => {
  const d = COMMANDS.find((x) => x.name === c)!;
  return d.short ? `-${d.short}` : `--${d.long}`;
};

export function parseIpvsadm(argv: string[]): ParsedArgs {
  // With -a/-e, DPVS's ipvsadm reads -b as FullNAT (a flag); with -A/-E it is the sched-flags option.
  const serverCmd = argv.some((a) => a === '--add-server' || a === '--edit-server' || /^-[a-zA-Z]*[ae]/.test(a) && !a.startsWith('--'));
  let command: CommandName | null = null;
  const opts = new Map<string, string | true>();
  const rest: string[] = [];
  const setCommand = (c: CommandName): void => {
    if (command !== null) throw new LvsError('EUSAGE', 'multiple commands specified');
    command = c;
  };
  const setOpt = (o: OptDef, v: string | true): void => {
    if (opts.has(o.long)) throw new LvsError('EUSAGE', `multiple '${optLabel(o.long)}' options specified`);
    opts.set(o.long, v);
  };
  // -p [timeout], --drain [seconds]: the next word is the value only when it is a number.
  const optional = (i: number): string | null => (i < argv.length && /^\d+$/.test(argv[i]) ? argv[i] : null);

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const cmd = cmdByLong.get(name);
      if (cmd) {
        setCommand(cmd.name);
        continue;
      }
      const o = optByLong.get(name);
      if (!o) throw new LvsError('EUSAGE', `invalid option \`${a}'`);
      if (o.arg === 'none') setOpt(o, true);
      else if (inline !== undefined) setOpt(o, inline);
      else if (o.arg === 'required') {
        if (i + 1 >= argv.length) throw new LvsError('EUSAGE', `option \`${a}' requires an argument`);
        setOpt(o, argv[++i]);
      } else {
        const v = optional(i + 1);
        if (v !== null) i++;
        setOpt(o, v ?? true);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A bundle of short options: flags, then at most one taking a value (the rest of the word or the next).
      for (let k = 1; k < a.length; k++) {
        const ch = a[k];
        const cmd = cmdByShort.get(ch);
        if (cmd) {
          setCommand(cmd.name);
          continue;
        }
        const o = ch === 'b' && serverCmd ? optByLong.get('fullnat')! : optByShort.get(ch);
        if (!o) throw new LvsError('EUSAGE', `invalid option \`-${ch}'`);
        if (o.arg === 'none') {
          setOpt(o, true);
          continue;
        }
        const tail = a.slice(k + 1);
        if (tail) setOpt(o, tail);
        else if (o.arg === 'required') {
          if (i + 1 >= argv.length) throw new LvsError('EUSAGE', `option \`-${ch}' requires an argument`);
          setOpt(o, argv[++i]);
        } else {
          const v = optional(i + 1);
          if (v !== null) i++;
          setOpt(o, v ?? true);
        }
        break;
      }
      continue;
    }
    rest.push(a);
  }
  const cmd: CommandName = (command as CommandName | null) ?? 'list'; // no command = -L, as ipvsadm
  for (const name of opts.keys()) {
    if (name === 'socket') continue;
    if (!ALLOWED[cmd].includes(name)) {
      throw new LvsError('EUSAGE', `Illegal '${optLabel(name)}' option with the '${cmdLabel(cmd)}' command`);
    }
  }
  if (cmd === 'list') {
    const exclusive = ['connection', 'timeout', 'daemon'].filter((o) => opts.has(o));
    const service = SERVICE.some((o) => opts.has(o));
    const formats = ['stats', 'rate', 'thresholds'].some((o) => opts.has(o));
    if (exclusive.length + (service ? 1 : 0) > 1 || (exclusive.length > 0 && formats) ||
      ((opts.has('timeout') || opts.has('daemon')) && opts.has('persistent-conn'))) {
      throw new LvsError('EUSAGE', 'options conflicts in the list command');
    }
  }
  if (cmd === 'set' && rest.length !== 3) throw new LvsError('EUSAGE', '--set option requires 3 timeout values');
  if (cmd !== 'set' && cmd !== 'start-daemon' && cmd !== 'stop-daemon' && rest.length > 0) {
    throw new LvsError('EUSAGE', `unexpected argument ${rest[0]}`);
  }
  return { command: cmd, opts, rest };
}
