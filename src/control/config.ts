// lvsd's config file (YAML, or JSON, which is YAML too): parsed with positions, validated whole, and
// refused with the file, line and field of the first problem. Nothing is applied from a file that fails.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { IPv4, Validator } from 'ip-num';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { DEFAULT_AM_DROPRATE, defaultAmemthresh, type DefenseConfig } from '../conn/defense';
import { FORWARDERS, forwarderNames } from '../forward';
import { schedulerNames } from '../sched';
import { PROTO_TCP, PROTO_UDP, type Ipv4, type Proto } from '../service/types';
import { notUnicast } from '../service/unicast';
import { DEFAULT_PERSISTENCE, SCHED_FLAG_NAMES } from './service-control';
import { FwmarkMatch } from '../service/fwmark-match';
import { parseIpvsadm } from './ipvsadm-args';
import { splitWords } from './ipvsadm-requests';
import { groupId } from './unix-group';

export interface RealServerConfig {
  ip: Ipv4;
  port: number;
  weight: number;
  forward: string;
}

export interface ServiceConfig {
  proto: Proto;
  vip: Ipv4;
  port: number;
  scheduler: string;
  /** FullNAT local addresses (DPVS's laddr pool). */
  localAddresses: Ipv4[];
  /** A firewall-mark service (-f): its mark and nftables match; then proto/vip/port are unused. */
  fwmark: number;
  match: FwmarkMatch | null;
  /** Persistence timeout in seconds (0 = not persistent) and the client netmask (-p, -M). */
  persistent: number;
  netmask: Ipv4;
  schedFlags: number;
  mhTableSize: number;
  reals: RealServerConfig[];
}

export interface DaemonConfig {
  /** Capture interfaces: where requests arrive and, for NAT, where replies come back. */
  interfaces: string[];
  connMax: number;
  /** Capture workers (threads), each owning a share of the flows; `auto` in the file is one per core. */
  workers: number;
  /**
   * Packet I/O: `pcap` (libpcap capture, raw-socket emit: the default that always works) or `ring` (the
   * packet_ring addon: a PACKET_MMAP receive ring handed over a wake-up at a time, and one sendmmsg per batch).
   */
  io: IoBackend;
  fence: { enabled: boolean; table: string };
  timeouts: { tcp: number; tcpfin: number; udp: number };
  /**
   * `defense:`: IPVS's drop_entry and secure_tcp modes (0..3), amemthresh in free connection slots. Always set
   * from a file; absent means the defaults (conn/defense.ts defaultDefense).
   */
  defense?: DefenseConfig;
  services: ServiceConfig[];
  /** `rules:`: ipvsadm-save lines (what `lvsadm -S` prints), applied after `services` as one batch. */
  rules: string[];
  /** Prometheus endpoint: on loopback unless told otherwise, and then only with a token. */
  metrics: { enabled: boolean; listen: string; token?: string };
  /** `control: { socket_group: NAME }`: that group may use the control socket too (root:NAME, 0660). */
  control?: { socketGroup: string; gid: number };
}

export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9100';

export const IO_BACKENDS = ['pcap', 'ring'] as const;
export type IoBackend = (typeof IO_BACKENDS)[number];

export const DEFAULT_CONN_MAX = 262144;
/** One worker keeps IPVS's exact scheduling (one rr position, global connection counts); see README. */
export const DEFAULT_WORKERS = 1;
export const MAX_WORKERS = 64;
export const DEFAULT_SCHEDULER = 'wlc'; // as ipvsadm
export const DEFAULT_FORWARD = 'dr'; // ipvsadm's -g

export class ConfigError extends Error {
  constructor(readonly where: string, readonly field: string, readonly problem: string) {
    super(`${where}: ${field}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Path = (string | number)[];

/** Reads a config file and validates it; throws ConfigError naming file:line and the field. */
export function loadConfigFile(path: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, 'file', (err as Error).message);
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, name = 'config'): DaemonConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    throw new ConfigError(`${name}:${pos.line}:${pos.col}`, 'syntax', e.message.split('\n')[0]);
  }
  return new Validator_(doc, lc, name).root();
}

class Validator_ {
  constructor(private readonly doc: Document, private readonly lc: LineCounter, private readonly name: string) {}

  root(): DaemonConfig {
    const top = this.doc.toJS() as unknown;
    if (!isObject(top)) this.fail([], 'the file must be a mapping (key: value)');
    this.onlyKeys([], top, ['interface', 'conn_max', 'workers', 'io', 'fence', 'timeouts', 'services', 'rules', 'metrics', 'control', 'defense']);
    const metrics = top.metrics === undefined ? {} : top.metrics;
    if (!isObject(metrics)) this.fail(['metrics'], 'must be a mapping');
    this.onlyKeys(['metrics'], metrics, ['enabled', 'listen', 'token']);
    const fence = top.fence === undefined ? {} : top.fence;
    if (!isObject(fence)) this.fail(['fence'], 'must be a mapping');
    this.onlyKeys(['fence'], fence, ['enabled', 'table']);
    const timeouts = top.timeouts === undefined ? {} : top.timeouts;
    if (!isObject(timeouts)) this.fail(['timeouts'], 'must be a mapping');
    this.onlyKeys(['timeouts'], timeouts, ['tcp', 'tcpfin', 'udp']);
    const servicesRaw = top.services === undefined ? [] : top.services;
    if (!Array.isArray(servicesRaw)) this.fail(['services'], 'must be a list');
    const services = servicesRaw.map((s, i) => this.service(['services', i], s));
    const seen = new Set<string>();
    services.forEach((s, i) => {
      const key = s.fwmark ? `fwmark/${s.fwmark}` : `${s.proto}/${s.vip}/${s.port}`;
      if (seen.has(key)) this.fail(['services', i], 'duplicate service (same proto, vip and port as an earlier one)');
      seen.add(key);
    });
    const ifRaw = Array.isArray(top.interface) ? top.interface : [top.interface];
    if (ifRaw.length === 0) this.fail(['interface'], 'must name at least one interface');
    const interfaces = ifRaw.map((v, i) =>
      this.str(Array.isArray(top.interface) ? ['interface', i] : ['interface'], v, /^[A-Za-z0-9_.:@-]{1,15}$/, 'an interface name'));
    if (new Set(interfaces).size !== interfaces.length) this.fail(['interface'], 'lists an interface twice');
    const connMax = this.int(['conn_max'], top.conn_max ?? DEFAULT_CONN_MAX, 1, 1 << 24);
    return {
      interfaces,
      connMax,
      workers: this.workers(top.workers ?? DEFAULT_WORKERS),
      io: this.io(top.io ?? 'pcap'),
      fence: {
        enabled: this.bool(['fence', 'enabled'], fence.enabled ?? true),
        table: this.str(['fence', 'table'], fence.table ?? 'userlvs', /^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'an nftables table name'),
      },
      timeouts: {
        tcp: this.int(['timeouts', 'tcp'], timeouts.tcp ?? 900, 1, 2678400),
        tcpfin: this.int(['timeouts', 'tcpfin'], timeouts.tcpfin ?? 120, 1, 2678400),
        udp: this.int(['timeouts', 'udp'], timeouts.udp ?? 300, 1, 2678400),
      },
      defense: this.defense(top.defense, connMax),
      services,
      rules: this.rules(top.rules),
      metrics: this.metrics(metrics),
      ...this.control(top.control),
    };
  }

  /** The control socket's group, resolved now: an unknown group refuses the file, naming it. */
  private control(v: unknown): Pick<DaemonConfig, 'control'> {
    if (v === undefined) return {};
    if (!isObject(v)) this.fail(['control'], 'must be a mapping');
    this.onlyKeys(['control'], v, ['socket_group']);
    if (v.socket_group === undefined) return {};
    const name = this.str(['control', 'socket_group'], v.socket_group, /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/, 'a group name');
    const gid = groupId(name);
    if (gid === null) this.fail(['control', 'socket_group'], `unknown group ${show(name)} (not in /etc/group nor known to getent)`);
    return { control: { socketGroup: name, gid } };
  }

  private metrics(m: Record<string, unknown>): DaemonConfig['metrics'] {
    const listen = this.str(['metrics', 'listen'], m.listen ?? DEFAULT_METRICS_LISTEN, /^[0-9.]+:\d{1,5}$/, 'an IPv4 address:port');
    const loopback = listen.startsWith('127.');
    if (!loopback && typeof m.token !== 'string') {
      this.fail(['metrics', 'token'], `listening on ${listen} (not loopback) needs a token: scrapers then send Authorization: Bearer <token>`);
    }
    // The token is a secret: a refusal describes it, never shows it (the message reaches stderr and logs).
    if (m.token !== undefined && (typeof m.token !== 'string' || !/^\S{16,}$/.test(m.token))) {
      this.fail(['metrics', 'token'], `must be a token of at least 16 characters, no spaces (got ${typeof m.token === 'string' ? `${m.token.length} characters` : typeof m.token}; not shown)`);
    }
    return { enabled: this.bool(['metrics', 'enabled'], m.enabled ?? true), listen, ...(typeof m.token === 'string' ? { token: m.token } : {}) };
  }

  /** `defense:` as the kernel's sysctls: 0 off, 1 and 2 automatic (by free slots), 3 always. */
  private defense(v: unknown, connMax: number): DefenseConfig {
    const d = v === undefined ? {} : v;
    if (!isObject(d)) this.fail(['defense'], 'must be a mapping (drop_entry, secure_tcp, drop_packet, amemthresh, am_droprate)');
    this.onlyKeys(['defense'], d, ['drop_entry', 'secure_tcp', 'drop_packet', 'amemthresh', 'am_droprate']);
    return {
      dropEntry: this.int(['defense', 'drop_entry'], d.drop_entry ?? 1, 0, 3),
      secureTcp: this.int(['defense', 'secure_tcp'], d.secure_tcp ?? 1, 0, 3),
      amemthresh: this.int(['defense', 'amemthresh'], d.amemthresh ?? defaultAmemthresh(connMax), 0, connMax),
      dropPacket: this.int(['defense', 'drop_packet'], d.drop_packet ?? 0, 0, 3),
      amDroprate: this.int(['defense', 'am_droprate'], d.am_droprate ?? DEFAULT_AM_DROPRATE, 1, 1 << 30),
    };
  }

  /** ipvsadm-save text, each line parsed now so a bad one is refused with its line, as lvsadm -R would. */
  private rules(v: unknown): string[] {
    if (v === undefined) return [];
    if (typeof v !== 'string') this.fail(['rules'], 'must be ipvsadm-save text (a YAML block: rules: |)');
    const out: string[] = [];
    v.split('\n').forEach((line, i) => {
      const words = splitWords(line).filter((w) => w !== 'ipvsadm' && w !== 'lvsadm');
      if (words.length === 0) return;
      let cmd: string;
      try {
        cmd = parseIpvsadm(words).command;
      } catch (err) {
        this.fail(['rules'], `line ${i + 1} of the rules: ${(err as Error).message}`);
      }
      if (!['add-service', 'edit-service', 'add-server', 'edit-server', 'set', 'add-laddr'].includes(cmd!)) {
        this.fail(['rules'], `line ${i + 1} of the rules: ${cmd!} does not build a table`);
      }
      out.push(line);
    });
    return out;
  }

  private service(p: Path, s: unknown): ServiceConfig {
    if (!isObject(s)) this.fail(p, 'must be a mapping');
    this.onlyKeys(p, s, ['proto', 'vip', 'port', 'fwmark', 'match', 'scheduler', 'local_addresses', 'persistent', 'netmask', 'sched_flags', 'mh_table_size', 'reals']);
    const fwmark = s.fwmark === undefined ? 0 : this.int([...p, 'fwmark'], s.fwmark, 1, 0xffffffff);
    let match: FwmarkMatch | null = null;
    if (fwmark) {
      for (const k of ['proto', 'vip', 'port']) if (s[k] !== undefined) this.fail([...p, k], 'a fwmark service is defined by its match, not by proto/vip/port');
      if (typeof s.match !== 'string') this.fail([...p, 'match'], 'a fwmark service needs its nftables match, e.g. "ip daddr 10.0.0.100 tcp dport { 80, 443 }"');
      try {
        match = FwmarkMatch.parse(s.match);
      } catch (err) {
        this.fail([...p, 'match'], (err as Error).message);
      }
    } else if (s.match !== undefined) {
      this.fail([...p, 'match'], 'only a fwmark service has a match');
    }
    const protoName = s.proto ?? 'tcp';
    if (protoName !== 'tcp' && protoName !== 'udp') this.fail([...p, 'proto'], `must be tcp or udp, got ${show(protoName)}`);
    const port = fwmark ? 0 : this.int([...p, 'port'], s.port, 1, 65535);
    const scheduler = s.scheduler ?? DEFAULT_SCHEDULER;
    if (typeof scheduler !== 'string' || !schedulerNames().includes(scheduler)) {
      this.fail([...p, 'scheduler'], `unknown scheduler ${show(scheduler)} (have: ${schedulerNames().join(', ')})`);
    }
    const realsRaw = s.reals ?? [];
    if (!Array.isArray(realsRaw)) this.fail([...p, 'reals'], 'must be a list');
    const reals = realsRaw.map((r, i) => this.real([...p, 'reals', i], r, port, fwmark !== 0));
    const seen = new Set<string>();
    reals.forEach((r, i) => {
      if (seen.has(`${r.ip}:${r.port}`)) this.fail([...p, 'reals', i], 'duplicate real server (same ip and port as an earlier one)');
      seen.add(`${r.ip}:${r.port}`);
    });
    const laddrsRaw = s.local_addresses ?? [];
    if (!Array.isArray(laddrsRaw)) this.fail([...p, 'local_addresses'], 'must be a list of IPv4 addresses');
    const localAddresses = laddrsRaw.map((a, i) => this.ip([...p, 'local_addresses', i], a));
    const fullnatAt = reals.findIndex((r) => r.forward === 'fullnat');
    if (fullnatAt >= 0 && localAddresses.length === 0) {
      this.fail([...p, 'reals', fullnatAt, 'forward'], 'fullnat needs local_addresses on the service (the LIP pool)');
    }
    const persistent = s.persistent === undefined || s.persistent === false ? 0
      : s.persistent === true ? DEFAULT_PERSISTENCE : this.int([...p, 'persistent'], s.persistent, 1, 2678400);
    const flagsRaw = s.sched_flags ?? [];
    if (!Array.isArray(flagsRaw)) this.fail([...p, 'sched_flags'], 'must be a list of scheduler flags');
    let schedFlags = 0;
    flagsRaw.forEach((fl, i) => {
      const bit = typeof fl === 'string' ? SCHED_FLAG_NAMES[fl] : undefined;
      if (bit === undefined) this.fail([...p, 'sched_flags', i], `unknown scheduler flag ${show(fl)} (have: ${Object.keys(SCHED_FLAG_NAMES).join(', ')})`);
      if ((fl.startsWith('sh-') && scheduler !== 'sh') || (fl.startsWith('mh-') && scheduler !== 'mh')) {
        this.fail([...p, 'sched_flags', i], `${fl} needs scheduler ${fl.slice(0, 2)}`);
      }
      schedFlags |= bit;
    });
    const mhTableSize = this.int([...p, 'mh_table_size'], s.mh_table_size ?? 4093, 251, 131071);
    if (!isPrime(mhTableSize)) this.fail([...p, 'mh_table_size'], `must be a prime (4093 is the kernel's default, 65537 Katran's), got ${mhTableSize}`);
    return {
      proto: protoName === 'udp' ? PROTO_UDP : PROTO_TCP, vip: fwmark ? 0 : this.ip([...p, 'vip'], s.vip), port, scheduler,
      localAddresses, fwmark, match, persistent, netmask: s.netmask === undefined ? 0xffffffff : this.ip([...p, 'netmask'], s.netmask),
      schedFlags, mhTableSize, reals,
    };
  }

  private real(p: Path, r: unknown, vport: number, mark: boolean): RealServerConfig {
    if (!isObject(r)) this.fail(p, 'must be a mapping');
    this.onlyKeys(p, r, ['ip', 'port', 'weight', 'forward']);
    const forward = r.forward ?? DEFAULT_FORWARD;
    if (typeof forward !== 'string' || !forwarderNames().includes(forward)) {
      this.fail([...p, 'forward'], `unknown forwarding method ${show(forward)} (have: ${forwarderNames().join(', ')})`);
    }
    // A fwmark service's RS port may be 0: the packet keeps its own.
    const port = this.int([...p, 'port'], r.port ?? vport, mark ? 0 : 1, 65535);
    // ipvsadm forces the RS port to the service port for DR and TUN: the packet is not rewritten.
    if (!mark && !FORWARDERS.find((f) => f.name === forward)!.mapsPorts && port !== vport) {
      this.fail([...p, 'port'], `${forward.toUpperCase()} cannot map ports: must equal the service port ${vport}, got ${port}`);
    }
    const ip = this.ip([...p, 'ip'], r.ip);
    const why = notUnicast(ip);
    if (why) this.fail([...p, 'ip'], `${show(r.ip)} is not a unicast host address: ${why}`);
    return { ip, port, weight: this.int([...p, 'weight'], r.weight ?? 1, 0, 65535), forward };
  }

  private ip(p: Path, v: unknown): Ipv4 {
    if (typeof v !== 'string') this.fail(p, `must be an IPv4 address, got ${show(v)}`);
    const [ok, why] = Validator.isValidIPv4String(v);
    if (!ok) this.fail(p, `${show(v)} is not an IPv4 address (${why.join('; ')})`);
    return Number(new IPv4(v).getValue());
  }

  private io(v: unknown): IoBackend {
    if (!IO_BACKENDS.includes(v as IoBackend)) this.fail(['io'], `must be one of ${IO_BACKENDS.join(', ')}, got ${show(v)}`);
    return v as IoBackend;
  }

  /** `auto`: one worker per core. */
  private workers(v: unknown): number {
    if (v === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_WORKERS) {
      this.fail(['workers'], `must be auto or an integer 1..${MAX_WORKERS}, got ${show(v)}`);
    }
    return v;
  }

  private int(p: Path, v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(p, `must be an integer ${min}..${max}, got ${show(v)}`);
    }
    return v;
  }

  private bool(p: Path, v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(p, `must be true or false, got ${show(v)}`);
    return v;
  }

  private str(p: Path, v: unknown, re: RegExp, what: string): string {
    if (typeof v !== 'string' || !re.test(v)) this.fail(p, `must be ${what}, got ${show(v)}`);
    return v;
  }

  private onlyKeys(p: Path, o: Record<string, unknown>, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail([...p, k], `unknown field (allowed here: ${allowed.join(', ')})`);
    }
  }

  private fail(p: Path, problem: string): never {
    throw new ConfigError(this.where(p), fieldName(p), problem);
  }

  /** file:line of the deepest node of `p` that exists in the document. */
  private where(p: Path): string {
    for (let n = p.length; n >= 0; n--) {
      const node = (n === 0 ? this.doc.contents : this.doc.getIn(p.slice(0, n), true)) as Node | null | undefined;
      if (node && node.range) {
        // For a missing key, point at the mapping that lacks it; for a present one, at the key's line.
        const key = n > 0 ? this.keyNode(p.slice(0, n)) : undefined;
        const pos = this.lc.linePos((key ?? node).range![0]);
        return `${this.name}:${pos.line}`;
      }
    }
    return this.name;
  }

  private keyNode(p: Path): Node | undefined {
    const parent = p.length === 1 ? this.doc.contents : this.doc.getIn(p.slice(0, -1), true);
    if (!isMap(parent)) return isSeq(parent) ? (parent.items[p[p.length - 1] as number] as Node) : undefined;
    const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === p[p.length - 1]);
    return pair?.key as Node | undefined;
  }
}

function fieldName(p: Path): string {
  if (p.length === 0) return '(top)';
  return p.map((x, i) => (typeof x === 'number' ? `[${x}]` : i === 0 ? x : `.${x}`)).join('');
}

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));
