// keepalived.conf as lvsd's service table: the virtual_server blocks (keepalived's LVS side) become services,
// real servers and checkers, with keepalived's defaults and its inheritance (virtual_server -> real_server ->
// checker). Everything else keepalived does (VRRP, BFD, mail) is keepalived's job: those blocks are skipped and
// listed as notices, never silently. Inside an LVS block a directive lvsd does not implement is refused by
// name, file and line; a few that change nothing lvsd does (smtp_alert, snmp_name, warmup...) are noticed.
import { readFileSync } from 'node:fs';
import type { CheckerSpec } from '../health/types';
import { ipv4ToString, parseIpv4 } from '../packet/format';
import { schedulerNames } from '../sched';
import { PROTO_TCP, PROTO_UDP, type Ipv4, type Proto } from '../service/types';
import { notUnicast } from '../service/unicast';
import type { RealServerConfig, ServiceConfig } from './config';
import { fsIncludeReader } from './keepalived-include';
import {
  KeepalivedError, lexKeepalived, splitQuotedEscaped, type IncludeReader, type KaStatement, type KeepalivedNotice,
} from './keepalived-lexer';
import { DEFAULT_PERSISTENCE, SCHED_FLAG_NAMES } from './service-control';

export { KeepalivedError, type IncludeFile, type IncludeReader, type KeepalivedNotice } from './keepalived-lexer';
export { fsIncludeReader } from './keepalived-include';

/** Checker timing as set on a virtual_server (what its real servers and checkers inherit). */
export interface KeepalivedHealth {
  /** Seconds between checks (delay_loop; keepalived's default 60). */
  delayLoop: number;
  /** Seconds (connect_timeout; default 5). */
  connectTimeout: number;
  /** retry; null when unset here, so each checker's own default applies (1, MISC_CHECK 0). */
  retry: number | null;
  /** Seconds (delay_before_retry); null when unset here: HTTP_GET/SSL_GET then wait 3 s, other checkers 1 s. */
  delayBeforeRetry: number | null;
}

export interface KeepalivedSource {
  file: string;
  line: number;
}

export interface KeepalivedRealServer extends RealServerConfig {
  /** Every checker must pass for the real server to be up; none = always up. Values resolved (inherited, defaulted). */
  checkers: CheckerSpec[];
  /** On failure set the weight to 0 instead of removing the real server. */
  inhibitOnFailure: boolean;
  /** Start as down until the checkers pass. */
  alpha: boolean;
  /** notify_up / notify_down: argument vectors, run without a shell. */
  notifyUp?: string[];
  notifyDown?: string[];
  /** Connection thresholds (ipvsadm -x / -y); unset = 0 = none. */
  uthreshold?: number;
  lthreshold?: number;
  source: KeepalivedSource;
}

export interface KeepalivedSorryServer {
  ip: Ipv4;
  port: number;
  forward: string;
  /** sorry_server_inhibit. */
  inhibitOnFailure: boolean;
}

export interface KeepalivedService extends ServiceConfig {
  reals: KeepalivedRealServer[];
  health: KeepalivedHealth;
  /** Replaces every real server while the quorum is lost. */
  sorryServer?: KeepalivedSorryServer;
  /** Minimum total weight of live real servers (default 1), and the weight tolerance around it (default 0). */
  quorum: number;
  hysteresis: number;
  /** The virtual server's inhibit_on_failure (real servers inherit it; see each real's own). */
  inhibitOnFailure: boolean;
  alpha: boolean;
  /** Run quorum_down and notify_down at shutdown. */
  omega: boolean;
  quorumUp?: string[];
  quorumDown?: string[];
  /** Host header for HTTP_GET/SSL_GET checkers that set none. */
  virtualhost?: string;
  source: KeepalivedSource;
}

/** global_defs lvs_timeouts: only what is given (keepalived leaves the others as they are). */
export interface KeepalivedTimeouts {
  tcp?: number;
  tcpfin?: number;
  udp?: number;
}

export interface KeepalivedConfig {
  services: KeepalivedService[];
  timeouts?: KeepalivedTimeouts;
  notices: KeepalivedNotice[];
  /** Every file read, the main one first, then includes in the order read. */
  files: string[];
}

// keepalived's defaults (check_data.c alloc_vs, check_api.c, check_http.c, check_misc.c).
export const KA_DELAY_LOOP = 60;
export const KA_CONNECT_TIMEOUT = 5;
export const KA_RETRY = 1;
export const KA_MISC_RETRY = 0;
export const KA_DELAY_BEFORE_RETRY = 1;
export const KA_HTTP_DELAY_BEFORE_RETRY = 3;
export const KA_STATUS_CODES: [number, number] = [200, 299];
const KA_DEFAULT_SCHED = 'wlc'; // IPVS_DEF_SCHED
const KA_DEFAULT_FORWARD = 'nat'; // lvs_method NAT
const MAX_TIMEOUT = 2678400; // LVS_MAX_TIMEOUT, ipvsadm's 31 days
const DEFAULT_MH_TABLE_SIZE = 4093;
const HTTP_STATUS_MIN = 100;
const HTTP_STATUS_MAX = 599;

/** Reads a keepalived.conf and everything it includes; throws KeepalivedError naming the file and line. */
export function parseKeepalived(path: string): KeepalivedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeepalivedError(path, 0, 'file', (err as Error).message);
  }
  return parseKeepalivedText(text, path, fsIncludeReader);
}

/** Parses keepalived.conf text named `name` (includes resolve against its directory through `readInclude`). */
export function parseKeepalivedText(text: string, name = 'keepalived.conf', readInclude: IncludeReader = fsIncludeReader): KeepalivedConfig {
  const notices: KeepalivedNotice[] = [];
  const { statements, files } = lexKeepalived(text, name, readInclude, notices);
  const reader = new Reader(notices);
  reader.top(statements);
  const out: KeepalivedConfig = { services: reader.services, notices, files };
  if (reader.timeouts) out.timeouts = reader.timeouts;
  return out;
}

const VRRP_NOTE = 'not used by lvsd (VRRP: run keepalived for it)';
const TOP_NOTES: Record<string, string> = {
  global_defs: 'not used by lvsd apart from lvs_timeouts (mail, router_id and VRRP settings: run keepalived for them)',
  bfd_instance: 'not used by lvsd (BFD: run keepalived for it)',
  garp_group: VRRP_NOTE,
  linkbeat_interfaces: VRRP_NOTE,
  track_file: VRRP_NOTE,
  track_process: VRRP_NOTE,
  net_namespace: 'not used by lvsd (a keepalived process setting)',
  net_namespace_ipvs: 'not used by lvsd (a keepalived process setting)',
  namespace_with_ipsets: 'not used by lvsd (a keepalived process setting)',
  instance: 'not used by lvsd (a keepalived process setting)',
  use_pid_dir: 'not used by lvsd (a keepalived process setting)',
  linkbeat_use_polling: 'not used by lvsd (a keepalived process setting)',
  child_wait_time: 'not used by lvsd (a keepalived process setting)',
};

/** Known keepalived directives that change nothing lvsd does: read, noticed, not used. */
const IGNORED: Record<string, string> = {
  smtp_alert: 'lvsd sends no email',
  snmp_name: 'lvsd has no SNMP agent',
  warmup: 'lvsd starts the first check at once',
  log_all_failures: 'lvsd logs every failed check',
  ha_suspend: 'lvsd checks whether or not the VIP is local',
  hashed: 'an IPVS-internal service flag',
  nat_mask: 'gone from keepalived 2 (it never changed forwarding)',
};

const OTHER_CHECKERS = new Set(['SMTP_CHECK', 'DNS_CHECK', 'BFD_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK']);
// VIP_PATH_CHECK is lvsd's own (health/vip-path.ts): keepalived has no such checker.
const CHECKER_KINDS = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK', 'VIP_PATH_CHECK'] as const;
type KaCheckerKind = (typeof CHECKER_KINDS)[number];
const BLOCK_DIRECTIVES = new Set(['real_server', 'url', ...CHECKER_KINDS, ...OTHER_CHECKERS]);
const SCHED_FLAG_WORDS = ['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];

interface Timing {
  delayLoop?: number;
  connectTimeout?: number;
  retry?: number;
  delayBeforeRetry?: number;
}

interface RawChecker extends Timing {
  st: KaStatement;
  kind: KaCheckerKind;
  connectIp?: Ipv4;
  connectPort?: number;
  virtualhost?: string;
  urls: { path: string; codes: Set<number>; digest?: string }[];
  miscPath?: string[];
  miscTimeout?: number;
  miscDynamic: boolean;
  enableSni?: boolean;
  sniName?: string;
}

interface RawReal extends Timing {
  st: KaStatement;
  ip: Ipv4;
  port: number;
  weight?: number;
  forward?: string;
  inhibit?: boolean;
  alpha?: boolean;
  notifyUp?: string[];
  notifyDown?: string[];
  uthreshold?: number;
  lthreshold?: number;
  virtualhost?: string;
  checkers: RawChecker[];
}

interface RawService extends Timing {
  st: KaStatement;
  vip: Ipv4;
  port: number;
  proto?: Proto;
  sched?: string;
  flags: KaStatement[];
  forward?: string;
  persistent?: number;
  netmask?: Ipv4;
  inhibit?: boolean;
  alpha: boolean;
  omega: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: string[];
  quorumDown?: string[];
  virtualhost?: string;
  weight: number;
  sorry?: { st: KaStatement; ip: Ipv4; port: number };
  sorryInhibit?: KaStatement;
  sorryForward?: string;
  reals: RawReal[];
}

class Reader {
  readonly services: KeepalivedService[] = [];
  timeouts: KeepalivedTimeouts | undefined;

  constructor(private readonly notices: KeepalivedNotice[]) {}

  top(statements: KaStatement[]): void {
    const seen = new Map<string, KaStatement>();
    for (const st of statements) {
      switch (st.name) {
        case 'virtual_server': {
          const svc = this.virtualServer(st);
          if (!svc) break;
          const key = `${svc.proto}/${svc.vip}/${svc.port}`;
          const earlier = seen.get(key);
          if (earlier) fail(st, `duplicate virtual_server: same address, port and protocol as ${where(earlier)}`);
          seen.set(key, st);
          this.services.push(svc);
          break;
        }
        case 'virtual_server_group':
          fail(st, `virtual_server_group ${st.args[0] ?? ''}: virtual server groups are not supported by lvsd; write one virtual_server per address`);
        case 'SSL':
          fail(st, 'SSL { } (a client certificate for SSL_GET) is not supported by lvsd; SSL_GET checks without one');
        case 'global_defs':
          this.globalDefs(st);
          break;
        default: {
          const note = TOP_NOTES[st.name] ?? (/^(vrrp_|static_)/.test(st.name) ? VRRP_NOTE : undefined);
          if (!note) fail(st, `unknown keyword '${st.name}' (not a keepalived top-level block)`);
          this.notice(st, note);
        }
      }
    }
  }

  private globalDefs(st: KaStatement): void {
    this.notice(st, TOP_NOTES.global_defs);
    for (const c of st.block ?? []) {
      if (c.name === 'lvs_timeouts') {
        this.timeouts = { ...this.timeouts, ...lvsTimeouts(c) };
      } else if (c.name === 'lvs_flush') {
        this.notice(c, 'lvsd starts with an empty table: nothing to flush');
      } else if (c.name === 'lvs_flush_on_stop') {
        this.notice(c, 'lvsd removes its whole table (and its fence) when it stops');
      } else if (c.name === 'lvs_sync_daemon') {
        this.notice(c, 'not used by lvsd (connection sync is not set from keepalived.conf)');
      }
    }
  }

  private virtualServer(st: KaStatement): KeepalivedService | null {
    const [a0, a1] = st.args;
    if (a0 === 'group') {
      fail(st, `virtual_server group ${a1 ?? ''}: virtual server groups are not supported by lvsd; write one virtual_server per address`);
    }
    if (a0 === 'fwmark') {
      fail(st, `virtual_server fwmark ${a1 ?? ''}: lvsd needs the mark's match (keepalived leaves the marking to iptables); declare the service in lvsd.yaml with fwmark and match`);
    }
    args(st, 1, 2, '<IP> [<PORT>]');
    needBlock(st);
    const vs: RawService = {
      st, vip: ip(st, a0), port: a1 === undefined ? 0 : int(st, a1, 0, 65535, 'a port'), flags: [],
      alpha: false, omega: false, quorum: 1, hysteresis: 0, weight: 1, reals: [],
    };
    for (const c of st.block!) this.vsDirective(vs, c);
    return this.finishService(vs);
  }

  private vsDirective(vs: RawService, c: KaStatement): void {
    blockShape(c);
    if (this.timing(vs, c)) return;
    switch (c.name) {
      case 'lb_algo':
      case 'lvs_sched': {
        args(c, 1, 1, '<scheduler>');
        if (!schedulerNames().includes(c.args[0])) fail(c, `unknown scheduler '${c.args[0]}' (have: ${schedulerNames().join(', ')})`);
        vs.sched = c.args[0];
        return;
      }
      case 'lb_kind':
      case 'lvs_method':
        vs.forward = method(c);
        return;
      case 'persistence_timeout':
        args(c, 0, 1, '[<seconds>]');
        vs.persistent = c.args.length === 0 ? DEFAULT_PERSISTENCE : int(c, c.args[0], 1, MAX_TIMEOUT, 'a timeout in seconds');
        return;
      case 'persistence_granularity':
        args(c, 1, 1, '<netmask>');
        vs.netmask = netmask(c, c.args[0]);
        return;
      case 'protocol': {
        args(c, 1, 1, 'TCP|UDP');
        const p = c.args[0].toUpperCase();
        if (p === 'SCTP') fail(c, 'protocol SCTP is not supported by lvsd (TCP and UDP are)');
        if (p !== 'TCP' && p !== 'UDP') fail(c, `unknown protocol '${c.args[0]}' (TCP or UDP)`);
        vs.proto = p === 'TCP' ? PROTO_TCP : PROTO_UDP;
        return;
      }
      case 'sorry_server':
        args(c, 1, 2, '<IP> [<PORT>]');
        vs.sorry = { st: c, ip: ip(c, c.args[0]), port: c.args[1] === undefined ? 0 : int(c, c.args[1], 0, 65535, 'a port') };
        return;
      case 'sorry_server_inhibit':
        args(c, 0, 0, '');
        vs.sorryInhibit = c;
        return;
      case 'sorry_server_lvs_method':
        vs.sorryForward = method(c);
        return;
      case 'inhibit_on_failure':
        vs.inhibit = bool(c);
        return;
      case 'alpha':
        vs.alpha = bool(c);
        return;
      case 'omega':
        vs.omega = bool(c);
        return;
      case 'quorum':
        args(c, 1, 1, '<weight>');
        vs.quorum = int(c, c.args[0], 1, 0xffffffff, 'a weight of at least 1');
        return;
      case 'hysteresis':
        args(c, 1, 1, '<weight>');
        vs.hysteresis = int(c, c.args[0], 0, 0xffffffff, 'a weight');
        return;
      case 'quorum_up':
        vs.quorumUp = script(c);
        return;
      case 'quorum_down':
        vs.quorumDown = script(c);
        return;
      case 'virtualhost':
        args(c, 1, 1, '<host>');
        vs.virtualhost = c.args[0];
        return;
      case 'weight':
        args(c, 1, 1, '<weight>');
        vs.weight = int(c, c.args[0], 0, 65535, 'a weight');
        return;
      case 'ip_family':
        args(c, 1, 1, 'inet|inet6');
        if (c.args[0] === 'inet6') fail(c, 'ip_family inet6: IPv6 is not supported by lvsd');
        if (c.args[0] !== 'inet') fail(c, `unknown ip_family '${c.args[0]}' (inet or inet6)`);
        return;
      case 'ops':
        unsupported(c, 'virtual_server', 'one-packet scheduling is not supported by lvsd');
      case 'persistence_engine':
        unsupported(c, 'virtual_server', 'persistence engines (sip) are not supported by lvsd');
      case 'real_server':
        vs.reals.push(this.realServer(c));
        return;
      default:
        if (SCHED_FLAG_WORDS.includes(c.name)) {
          args(c, 0, 0, '');
          vs.flags.push(c);
          return;
        }
        if (this.ignored(c)) return;
        unsupported(c, 'virtual_server');
    }
  }

  private realServer(st: KaStatement): RawReal {
    args(st, 1, 2, '<IP> [<PORT>]');
    needBlock(st);
    // keepalived reads port 0 as "no port": the virtual server's.
    const addr = ip(st, st.args[0]);
    const why = notUnicast(addr);
    if (why) fail(st, `real_server ${st.args[0]}: not a unicast host address: ${why}`);
    const rs: RawReal = { st, ip: addr, port: st.args[1] === undefined ? 0 : int(st, st.args[1], 0, 65535, 'a port'), checkers: [] };
    for (const c of st.block!) {
      blockShape(c);
      if (this.timing(rs, c)) continue;
      switch (c.name) {
        case 'weight':
          args(c, 1, 1, '<weight>');
          rs.weight = int(c, c.args[0], 0, 65535, 'a weight');
          break;
        case 'lvs_method':
          rs.forward = method(c);
          break;
        case 'inhibit_on_failure':
          rs.inhibit = bool(c);
          break;
        case 'alpha':
          rs.alpha = bool(c);
          break;
        case 'notify_up':
          rs.notifyUp = script(c);
          break;
        case 'notify_down':
          rs.notifyDown = script(c);
          break;
        case 'uthreshold':
          args(c, 1, 1, '<connections>');
          rs.uthreshold = int(c, c.args[0], 0, 0xffffffff, 'a number of connections');
          break;
        case 'lthreshold':
          args(c, 1, 1, '<connections>');
          rs.lthreshold = int(c, c.args[0], 0, 0xffffffff, 'a number of connections');
          break;
        case 'virtualhost':
          args(c, 1, 1, '<host>');
          rs.virtualhost = c.args[0];
          break;
        case 'TCP_CHECK':
        case 'HTTP_GET':
        case 'SSL_GET':
        case 'MISC_CHECK':
        case 'VIP_PATH_CHECK':
          rs.checkers.push(this.checker(c, c.name));
          break;
        default:
          if (OTHER_CHECKERS.has(c.name)) unsupported(c, 'real_server', 'lvsd implements TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK');
          if (this.ignored(c)) break;
          unsupported(c, 'real_server');
      }
    }
    return rs;
  }

  private checker(st: KaStatement, kind: KaCheckerKind): RawChecker {
    args(st, 0, 0, '');
    needBlock(st);
    const ch: RawChecker = { st, kind, urls: [], miscDynamic: false };
    const misc = kind === 'MISC_CHECK';
    const http = kind === 'HTTP_GET' || kind === 'SSL_GET';
    for (const c of st.block!) {
      blockShape(c);
      if (c.name === 'connect_timeout' && misc) unsupported(c, kind, 'a MISC_CHECK program has misc_timeout');
      if (this.timing(ch, c)) continue;
      if (!misc && this.connectOption(ch, c)) continue;
      if (http && this.httpOption(ch, c)) continue;
      if (misc && this.miscOption(ch, c)) continue;
      if (c.name === 'alpha') unsupported(c, kind, 'set alpha on the real_server or the virtual_server');
      if (this.ignored(c)) continue;
      unsupported(c, kind);
    }
    if (http && ch.urls.length === 0) fail(st, `${kind} has no url { path ... } to check`);
    if (misc && !ch.miscPath) fail(st, 'MISC_CHECK has no misc_path');
    if (ch.sniName !== undefined && !ch.enableSni) {
      this.notice(st, 'sni_name without enable_sni: no SNI is sent, as keepalived sends none');
    }
    return ch;
  }

  private connectOption(ch: RawChecker, c: KaStatement): boolean {
    switch (c.name) {
      case 'connect_ip':
        args(c, 1, 1, '<IP>');
        ch.connectIp = ip(c, c.args[0]);
        return true;
      case 'connect_port':
        args(c, 1, 1, '<port>');
        ch.connectPort = int(c, c.args[0], 1, 65535, 'a port');
        return true;
      case 'bindto':
      case 'bind_port':
      case 'bind_if':
      case 'fwmark':
        unsupported(c, ch.kind, 'lvsd connects from the address and port the route gives');
    }
    return false;
  }

  private httpOption(ch: RawChecker, c: KaStatement): boolean {
    switch (c.name) {
      case 'nb_get_retry': // keepalived's deprecated name for retry
        args(c, 1, 1, '<count>');
        ch.retry = int(c, c.args[0], 0, 0xffffffff, 'a count');
        return true;
      case 'virtualhost':
        args(c, 1, 1, '<host>');
        ch.virtualhost = c.args[0];
        return true;
      case 'url':
        ch.urls.push(url(c));
        return true;
      case 'enable_sni':
      case 'sni_name':
      case 'tls_compliant':
        if (ch.kind !== 'SSL_GET') unsupported(c, ch.kind, `${c.name} is for SSL_GET`);
        if (c.name === 'enable_sni') ch.enableSni = bool(c);
        else if (c.name === 'tls_compliant') this.notice(c, 'ignored: lvsd\'s TLS client closes connections its own way');
        else {
          args(c, 1, 1, '<name>');
          ch.sniName = c.args[0];
        }
        return true;
      case 'http_protocol':
      case 'fast_recovery':
        unsupported(c, ch.kind, `lvsd's ${ch.kind} has no ${c.name}`);
    }
    return false;
  }

  private miscOption(ch: RawChecker, c: KaStatement): boolean {
    switch (c.name) {
      case 'misc_path':
        ch.miscPath = script(c);
        return true;
      case 'misc_timeout':
        args(c, 1, 1, '<seconds>');
        ch.miscTimeout = int(c, c.args[0], 0, 0xffffffff, 'seconds');
        return true;
      case 'misc_dynamic':
        args(c, 0, 0, '');
        ch.miscDynamic = true;
        return true;
      case 'user':
        unsupported(c, 'MISC_CHECK', 'lvsd runs check programs as itself');
    }
    return false;
  }

  /** delay_loop, connect_timeout, retry, delay_before_retry: at every level, each inheriting the one above. */
  private timing(t: Timing, c: KaStatement): boolean {
    switch (c.name) {
      case 'delay_loop':
        args(c, 1, 1, '<seconds>');
        t.delayLoop = timer(c, c.args[0], false);
        return true;
      case 'connect_timeout':
        args(c, 1, 1, '<seconds>');
        t.connectTimeout = timer(c, c.args[0], false);
        return true;
      case 'retry':
        args(c, 1, 1, '<count>');
        t.retry = int(c, c.args[0], 0, 0xffffffff, 'a count');
        return true;
      case 'delay_before_retry':
        args(c, 1, 1, '<seconds>');
        t.delayBeforeRetry = timer(c, c.args[0], true);
        return true;
    }
    return false;
  }

  private ignored(c: KaStatement): boolean {
    const why = IGNORED[c.name];
    if (why === undefined) return false;
    this.notice(c, `ignored: ${why}`);
    return true;
  }

  private notice(st: KaStatement, note: string): void {
    this.notices.push({ file: st.file, line: st.line, name: st.name, note });
  }

  /** keepalived's validate_check_config(): defaults, inheritance, port and quorum corrections. */
  private finishService(vs: RawService): KeepalivedService | null {
    const st = vs.st;
    if (vs.reals.length === 0) {
      this.notice(st, `virtual_server ${st.args.join(' ')} has no real servers: ignored, as keepalived ignores it`);
      return null;
    }
    if (vs.proto === undefined) {
      this.notice(st, 'no protocol: UDP, as keepalived defaults it (write protocol TCP for TCP)');
      vs.proto = PROTO_UDP;
    }
    if (vs.sched === undefined) {
      this.notice(st, `no lvs_sched: ${KA_DEFAULT_SCHED}, as keepalived defaults it`);
      vs.sched = KA_DEFAULT_SCHED;
    }
    if (vs.forward === undefined && (vs.reals.some((r) => r.forward === undefined) || (vs.sorry && !vs.sorryForward))) {
      this.notice(st, 'no lvs_method: NAT, as keepalived defaults it');
    }
    const vsForward = vs.forward ?? KA_DEFAULT_FORWARD;
    let persistent = vs.persistent ?? 0;
    if (!persistent && vs.netmask !== undefined) persistent = DEFAULT_PERSISTENCE; // as keepalived's persistence_granularity
    if (!persistent && vs.port === 0) {
      this.notice(st, `no port: a port-0 service is persistent, so persistence_timeout ${DEFAULT_PERSISTENCE}, as keepalived sets it`);
      persistent = DEFAULT_PERSISTENCE;
    }
    let schedFlags = 0;
    for (const f of vs.flags) {
      if ((f.name.startsWith('sh-') && vs.sched !== 'sh') || (f.name.startsWith('mh-') && vs.sched !== 'mh')) {
        fail(f, `${f.name} needs lvs_sched ${f.name.slice(0, 2)} (this virtual_server's is ${vs.sched})`);
      }
      schedFlags |= SCHED_FLAG_NAMES[f.name];
    }
    const health: KeepalivedHealth = {
      delayLoop: vs.delayLoop ?? KA_DELAY_LOOP,
      connectTimeout: vs.connectTimeout ?? KA_CONNECT_TIMEOUT,
      retry: vs.retry ?? null,
      delayBeforeRetry: vs.delayBeforeRetry ?? null,
    };
    const seen = new Map<string, KaStatement>();
    const reals = vs.reals.map((r) => {
      const real = this.finishReal(vs, r, vsForward, health);
      const key = `${real.ip}:${real.port}`;
      const earlier = seen.get(key);
      if (earlier) fail(r.st, `duplicate real_server ${ipv4ToString(real.ip)} ${real.port}: the same as ${where(earlier)}`);
      seen.set(key, r.st);
      return real;
    });
    const weightSum = reals.reduce((s, r) => s + r.weight, 0);
    let quorum = vs.quorum;
    if (quorum > weightSum) {
      this.notice(st, `quorum ${quorum} exceeds the real servers' total weight ${weightSum}: quorum ${weightSum}, as keepalived reduces it`);
      quorum = weightSum;
    }
    let hysteresis = vs.hysteresis;
    if (quorum > 0 && hysteresis >= quorum) {
      this.notice(st, `hysteresis ${hysteresis} >= quorum ${quorum}: hysteresis ${quorum - 1}, as keepalived reduces it`);
      hysteresis = quorum - 1;
    }
    if (vs.sorryInhibit && !vs.sorry) fail(vs.sorryInhibit, 'sorry_server_inhibit without a sorry_server');
    const svc: KeepalivedService = {
      proto: vs.proto, vip: vs.vip, port: vs.port, scheduler: vs.sched, localAddresses: [], fwmark: 0, match: null,
      persistent, netmask: vs.netmask ?? 0xffffffff, schedFlags, mhTableSize: DEFAULT_MH_TABLE_SIZE, reals,
      health, quorum, hysteresis, inhibitOnFailure: vs.inhibit ?? false, alpha: vs.alpha, omega: vs.omega,
      source: { file: st.file, line: st.line },
    };
    if (vs.sorry) {
      const forward = vs.sorryForward ?? vsForward;
      svc.sorryServer = {
        ip: vs.sorry.ip, port: this.realPort(vs, vs.sorry.st, vs.sorry.port, forward, 'sorry_server'), forward,
        inhibitOnFailure: vs.sorryInhibit !== undefined,
      };
    }
    if (vs.quorumUp) svc.quorumUp = vs.quorumUp;
    if (vs.quorumDown) svc.quorumDown = vs.quorumDown;
    if (vs.virtualhost !== undefined) svc.virtualhost = vs.virtualhost;
    return svc;
  }

  private finishReal(vs: RawService, r: RawReal, vsForward: string, h: KeepalivedHealth): KeepalivedRealServer {
    const forward = r.forward ?? vsForward;
    const inherited = {
      delayLoop: r.delayLoop ?? h.delayLoop,
      connectTimeout: r.connectTimeout ?? h.connectTimeout,
      retry: r.retry ?? h.retry,
      delayBeforeRetry: r.delayBeforeRetry ?? h.delayBeforeRetry,
      virtualhost: r.virtualhost ?? vs.virtualhost,
    };
    const real: KeepalivedRealServer = {
      ip: r.ip, port: this.realPort(vs, r.st, r.port, forward, 'real_server'), weight: r.weight ?? vs.weight, forward,
      checkers: r.checkers.map((c) => checkerSpec(c, inherited)),
      inhibitOnFailure: r.inhibit ?? vs.inhibit ?? false, alpha: r.alpha ?? vs.alpha,
      source: { file: r.st.file, line: r.st.line },
    };
    if (r.notifyUp) real.notifyUp = r.notifyUp;
    if (r.notifyDown) real.notifyDown = r.notifyDown;
    if (r.uthreshold !== undefined) real.uthreshold = r.uthreshold;
    if (r.lthreshold !== undefined) real.lthreshold = r.lthreshold;
    return real;
  }

  /** No port: the virtual server's. DR and TUN cannot map ports: keepalived resets a different one, and says so. */
  private realPort(vs: RawService, st: KaStatement, port: number, forward: string, what: string): number {
    if (port === 0) return vs.port;
    if (forward !== 'nat' && port !== vs.port) {
      this.notice(st, `${forward.toUpperCase()} cannot map ports: ${what} port ${port} reset to the virtual_server's ${vs.port}, as keepalived resets it`);
      return vs.port;
    }
    return port;
  }
}

function checkerSpec(c: RawChecker, rs: { delayLoop: number; connectTimeout: number; retry: number | null; delayBeforeRetry: number | null; virtualhost?: string }): CheckerSpec {
  const misc = c.kind === 'MISC_CHECK';
  const http = c.kind === 'HTTP_GET' || c.kind === 'SSL_GET';
  const spec: CheckerSpec = {
    kind: c.kind === 'VIP_PATH_CHECK' ? 'VIP_PATH' : c.kind,
    connectTimeout: c.connectTimeout ?? rs.connectTimeout,
    retry: c.retry ?? rs.retry ?? (misc ? KA_MISC_RETRY : KA_RETRY),
    delayBeforeRetry: c.delayBeforeRetry ?? rs.delayBeforeRetry ?? (http ? KA_HTTP_DELAY_BEFORE_RETRY : KA_DELAY_BEFORE_RETRY),
    delayLoop: c.delayLoop ?? rs.delayLoop,
  };
  if (c.connectIp !== undefined) spec.connectIp = ipv4ToString(c.connectIp);
  if (c.connectPort !== undefined) spec.connectPort = c.connectPort;
  if (http) {
    spec.urls = c.urls.map((u) => {
      const out: NonNullable<CheckerSpec['urls']>[number] = { path: u.path, statusCodes: u.codes.size ? ranges(u.codes) : [[...KA_STATUS_CODES]] };
      if (u.digest !== undefined) out.digest = u.digest;
      return out;
    });
    const vh = c.virtualhost ?? rs.virtualhost;
    if (vh !== undefined) spec.virtualhost = vh;
    // enable_sni sends sni_name, else the Host the checker sends.
    const sni = c.enableSni ? c.sniName ?? vh : undefined;
    if (sni !== undefined) spec.sniName = sni;
  }
  if (misc) {
    spec.miscPath = c.miscPath;
    spec.miscTimeout = c.miscTimeout || spec.delayLoop; // keepalived: 0 or unset = delay_loop
    spec.miscDynamic = c.miscDynamic;
  }
  return spec;
}

function url(st: KaStatement): { path: string; codes: Set<number>; digest?: string } {
  args(st, 0, 0, '');
  needBlock(st);
  let path: string | undefined;
  let digest: string | undefined;
  const codes = new Set<number>();
  for (const c of st.block!) {
    blockShape(c);
    switch (c.name) {
      case 'path':
        args(c, 1, 1, '<path>');
        path = c.args[0];
        break;
      case 'digest':
        args(c, 1, 1, '<md5 from genhash>');
        if (!/^[0-9a-fA-F]{32}$/.test(c.args[0])) fail(c, `digest '${c.args[0]}' is not an MD5 sum (32 hex digits, as genhash prints)`);
        if (digest !== undefined) fail(c, 'a second digest in one url');
        digest = c.args[0].toLowerCase();
        break;
      case 'status_code':
        args(c, 1, Infinity, '<code|low-high> ...');
        for (const a of c.args) {
          const m = /^(\d+)(?:-(\d+))?$/.exec(a);
          const lo = m ? Number(m[1]) : NaN;
          const hi = m && m[2] !== undefined ? Number(m[2]) : lo;
          if (!m || lo < HTTP_STATUS_MIN || hi > HTTP_STATUS_MAX || lo > hi) {
            fail(c, `status_code '${a}' is not a code or range in ${HTTP_STATUS_MIN}-${HTTP_STATUS_MAX}`);
          }
          for (let s = lo; s <= hi; s++) codes.add(s);
        }
        break;
      case 'virtualhost':
        unsupported(c, 'url', 'set virtualhost on the checker, the real_server or the virtual_server');
      case 'regex':
      case 'regex_no_match':
      case 'regex_options':
      case 'regex_stack':
      case 'regex_min_offset':
      case 'regex_max_offset':
        unsupported(c, 'url', 'lvsd checks status codes and digests, not regular expressions');
      default:
        unsupported(c, 'url');
    }
  }
  if (path === undefined) fail(st, 'url has no path');
  const out: { path: string; codes: Set<number>; digest?: string } = { path, codes };
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** A set of status codes as sorted, merged [low, high] ranges. */
function ranges(codes: Set<number>): [number, number][] {
  const sorted = [...codes].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && c === last[1] + 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}

/** lvs_method NAT|DR|TUN [type ipip]: lvsd's forwarder name. */
function method(c: KaStatement): string {
  args(c, 1, 6, 'NAT|DR|TUN [type ipip]');
  const [m, ...rest] = c.args;
  if (m === 'NAT' || m === 'DR') {
    if (rest.length) fail(c, `${c.name} ${m} takes no options, got '${rest.join(' ')}'`);
    return m === 'NAT' ? 'nat' : 'dr';
  }
  if (m === 'TUN') {
    if (rest.length === 0) return 'tun';
    if (rest[0] !== 'type' || rest.length < 2) fail(c, `${c.name} TUN: expected 'type ipip', got '${rest.join(' ')}'`);
    if (rest[1] === 'gue' || rest[1] === 'gre') fail(c, `${c.name} TUN type ${rest[1]}: lvsd tunnels with IPIP only (type ipip)`);
    if (rest[1] !== 'ipip') fail(c, `${c.name} TUN: unknown tunnel type '${rest[1]}' (lvsd tunnels with ipip)`);
    if (rest.length > 2) fail(c, `${c.name} TUN type ipip: '${rest.slice(2).join(' ')}' applies to gue and gre tunnels only`);
    return 'tun';
  }
  if (/^(FNAT|FULLNAT)$/i.test(m)) fail(c, `${c.name} ${m}: keepalived has no FullNAT; declare a FullNAT service in lvsd.yaml (forward: fullnat, local_addresses)`);
  fail(c, `unknown ${c.name} '${m}' (NAT, DR or TUN)`);
}

/** lvs_timeouts [tcp N] [tcpfin N] [udp N]: at least one. */
function lvsTimeouts(c: KaStatement): KeepalivedTimeouts {
  if (c.args.length === 0 || c.args.length % 2 !== 0) fail(c, 'lvs_timeouts takes [tcp <s>] [tcpfin <s>] [udp <s>], at least one');
  const out: KeepalivedTimeouts = {};
  for (let i = 0; i < c.args.length; i += 2) {
    const k = c.args[i];
    if (k !== 'tcp' && k !== 'tcpfin' && k !== 'udp') fail(c, `lvs_timeouts: unknown timeout '${k}' (tcp, tcpfin or udp)`);
    out[k] = int(c, c.args[i + 1], 1, MAX_TIMEOUT, 'seconds');
  }
  return out;
}

/**
 * A script directive (notify_up, quorum_down, misc_path...) as keepalived reads it: the line re-split with quotes
 * and escapes, the script string is the first word after the keyword, and that string is split again into the
 * program and its arguments. Words after it are keepalived's user [group] to run it as: lvsd runs it as itself.
 */
function script(c: KaStatement): string[] {
  const words = splitQuotedEscaped(c.raw);
  if (typeof words === 'string') fail(c, `${c.name}: ${words}`);
  if (words.length < 2 || words[1].trim() === '') fail(c, `${c.name} needs a program to run`);
  if (words.length > 2) {
    fail(c, `${c.name}: '${words.slice(2).join(' ')}' after the program is keepalived's user [group] to run it as, and lvsd runs programs as itself; `
      + `to pass arguments, quote the whole command: ${c.name} "${words.slice(1).join(' ')}"`);
  }
  const argv = splitQuotedEscaped(words[1]);
  if (typeof argv === 'string') fail(c, `${c.name}: ${argv}`);
  return argv;
}

function args(c: KaStatement, min: number, max: number, usage: string): void {
  if (c.args.length >= min && c.args.length <= max) return;
  if (max === 0) fail(c, `'${c.name}' takes no arguments, got '${c.args.join(' ')}'`);
  const extra = c.args.length > max
    ? ` (keepalived reads one directive per line: '${c.args[max]}' cannot follow on the same line)` : '';
  fail(c, `'${c.name}' takes ${usage}, got ${c.args.length === 0 ? 'nothing' : `'${c.args.join(' ')}'`}${extra}`);
}

function blockShape(c: KaStatement): void {
  if (c.block && !BLOCK_DIRECTIVES.has(c.name)) fail(c, `'${c.name}' takes no { } block`);
}

function needBlock(c: KaStatement): void {
  if (!c.block) fail(c, `'${c.name}' needs a { } block`);
}

function bool(c: KaStatement): boolean {
  args(c, 0, 1, '[on|off|true|false|yes|no]');
  const v = c.args[0];
  if (v === undefined || v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  fail(c, `'${c.name}' takes on|off|true|false|yes|no, got '${v}'`);
}

function int(c: KaStatement, s: string, min: number, max: number, what: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) fail(c, `'${c.name}': '${s}' is not ${what} (${min}..${max})`);
  return n;
}

/** keepalived's <TIMER>: seconds, fractions allowed. */
function timer(c: KaStatement, s: string, zeroOk: boolean): number {
  const n = /^(\d+\.?\d*|\.\d+)$/.test(s) ? Number(s) : NaN;
  if (!(n > 0 || (zeroOk && n === 0)) || n > MAX_TIMEOUT) fail(c, `'${c.name}': '${s}' is not a time in seconds (${zeroOk ? '0' : 'above 0'} up to ${MAX_TIMEOUT})`);
  return n;
}

function ip(c: KaStatement, s: string): Ipv4 {
  if (s.includes(':')) fail(c, `${c.name} ${s}: IPv6 is not supported by lvsd`);
  const v = parseIpv4(s);
  if (v < 0) fail(c, `${c.name}: '${s}' is not an IPv4 address`);
  return v;
}

/** persistence_granularity: a contiguous IPv4 netmask (keepalived refuses a mask with holes). */
function netmask(c: KaStatement, s: string): Ipv4 {
  const v = parseIpv4(s);
  if (v < 0) fail(c, `persistence_granularity: '${s}' is not an IPv4 netmask`);
  const inv = ~v >>> 0;
  if ((inv & (inv + 1)) !== 0) fail(c, `persistence_granularity: ${s} is not a contiguous netmask`);
  return v;
}

function unsupported(c: KaStatement, block: string, why?: string): never {
  fail(c, `unsupported directive '${c.name}' in ${block}${why ? ` (${why})` : ''}`);
}

function fail(c: KaStatement, problem: string): never {
  throw new KeepalivedError(c.file, c.line, c.name, problem);
}

function where(st: KaStatement): string {
  return `${st.file}:${st.line}`;
}
