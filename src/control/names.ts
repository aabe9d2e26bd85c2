// ipvsadm's name lookups. Without -n, ipvsadm prints addresses as gethostbyaddr names and ports as getservbyport
// names; on input it takes service names for ports (getservbyname). Here: ports <-> names from /etc/services,
// addresses -> names from /etc/hosts first, then a reverse (PTR) query bounded by a short timeout, and the number
// when neither answers, which is where gethostbyaddr leaves ipvsadm too.
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { ipv4ToString, parseIpv4 } from '../packet/format';
import { PROTO_TCP, PROTO_UDP } from '../service/types';

/** How a listing spells an address and a port (numeric with -n). */
export interface Namer {
  addr(a: number): string;
  /** proto: 6 or 17; any other (0 for IP templates) has no service names, as in getservbyport. */
  port(p: number, proto: number): string;
}

export const NUMERIC: Namer = { addr: (a) => ipv4ToString(a >>> 0), port: (p) => String(p) };

const protoName = (proto: number): string | null => (proto === PROTO_TCP ? 'tcp' : proto === PROTO_UDP ? 'udp' : null);

export interface ServicesDb {
  /** "80/tcp" -> "http": the first entry for the port, its official name (getservbyport). */
  byPort: Map<string, string>;
  /** "http/tcp" or an alias -> 80 (getservbyname). */
  byName: Map<string, number>;
}

/** /etc/services: "name port/proto [aliases...] [# comment]"; the first entry wins, as the files NSS module reads. */
export function parseServices(text: string): ServicesDb {
  const byPort = new Map<string, string>();
  const byName = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(words[1] ?? '');
    if (!words[0] || !m) continue;
    const port = Number(m[1]);
    if (port > 65535) continue;
    if (!byPort.has(`${port}/${m[2]}`)) byPort.set(`${port}/${m[2]}`, words[0]);
    for (const n of [words[0], ...words.slice(2)]) if (!byName.has(`${n}/${m[2]}`)) byName.set(`${n}/${m[2]}`, port);
  }
  return { byPort, byName };
}

/** /etc/hosts: the first line naming an address gives its name (h_name is that line's first name). */
export function parseHosts(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const raw of text.split('\n')) {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/);
    const a = parseIpv4(words[0] ?? '');
    if (a >= 0 && words[1] && !out.has(a)) out.set(a, words[1]);
  }
  return out;
}

const readOr = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

let services: ServicesDb | null = null;
/** The system's /etc/services, read once. */
export function systemServices(): ServicesDb {
  services ??= parseServices(readOr('/etc/services'));
  return services;
}

/** getservbyname(name, proto): the port, or -1. */
export function serviceToPort(name: string, proto: number, db: ServicesDb = systemServices()): number {
  const p = protoName(proto);
  return p === null ? -1 : db.byName.get(`${name}/${p}`) ?? -1;
}

export interface ResolveOptions {
  /** Bound on one PTR query (ms). */
  timeoutMs?: number;
  hosts?: Map<number, string>;
  /** PTR lookup; by default node's resolver with the timeout, one try. */
  reverse?: (ip: string) => Promise<string[]>;
}

/** Names for a set of addresses, looked up in parallel; an address with no name keeps its number. */
export async function resolveAddrs(addrs: Iterable<number>, opts: ResolveOptions = {}): Promise<Map<number, string>> {
  const hosts = opts.hosts ?? parseHosts(readOr('/etc/hosts'));
  const timeoutMs = opts.timeoutMs ?? 1000;
  let resolver: Resolver | null = null;
  const reverse = opts.reverse ?? ((ip: string) => {
    resolver ??= new Resolver({ timeout: timeoutMs, tries: 1 });
    return resolver.reverse(ip);
  });
  const out = new Map<number, string>();
  const pending: Promise<void>[] = [];
  for (const a of new Set([...addrs].map((x) => x >>> 0))) {
    const h = hosts.get(a);
    if (h !== undefined) {
      out.set(a, h);
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs + 100);
    });
    pending.push(Promise.race([reverse(ipv4ToString(a)).catch(() => []), bound]).then((names) => {
      clearTimeout(timer);
      if (names.length > 0) out.set(a, names[0]);
    }));
  }
  await Promise.all(pending);
  (resolver as Resolver | null)?.cancel();
  return out;
}

/** A Namer over names looked up beforehand (resolveAddrs) and a services database. */
export function namedNamer(addrNames: Map<number, string>, db: ServicesDb = systemServices()): Namer {
  return {
    addr: (a) => addrNames.get(a >>> 0) ?? ipv4ToString(a >>> 0),
    port: (p, proto) => {
      const n = protoName(proto);
      return (n !== null && db.byPort.get(`${p}/${n}`)) || String(p);
    },
  };
}
