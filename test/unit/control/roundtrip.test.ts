// -S then -R, without a daemon: a random table (tcp, udp and fwmark services, every scheduler, persistence
// with and without a netmask, scheduler flags, real servers with all four forwarding methods and weights)
// is saved, each saved line is read back with the ipvsadm parser into the same structure, and saved again:
// the two saves are identical. (The live round trip through lvsd is tested elsewhere.)
// The tables keep to what ipvsadm can save and read back: DR and TUN real servers on the service port
// (ipvsadm forces it), no port 0 without persistence, sh/mh without flag-3 (ipvsadm saves that as a bare "-b").
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitWords } from '../../../src/control/ipvsadm-requests';
import { formatSave } from '../../../src/control/format-save';
import { parseIpvsadm, type ParsedArgs } from '../../../src/control/ipvsadm-args';
import type { DestView, ListResult, ServiceView } from '../../../src/control/protocol';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/format';
import { schedulerNames } from '../../../src/sched';

const FORWARDS = ['dr', 'tun', 'nat', 'fullnat'];
const FLAG_BITS: Record<string, number> = {
  'flag-1': 0x08, 'flag-2': 0x10, 'flag-3': 0x20, 'sh-fallback': 0x08, 'sh-port': 0x10, 'mh-fallback': 0x08, 'mh-port': 0x10,
};

const serviceArb = fc.record({
  kind: fc.constantFrom('tcp', 'udp', 'fwmark'),
  vip: fc.integer({ min: 0x0a000001, max: 0xdfffffff }),
  port: fc.integer({ min: 0, max: 65535 }),
  fwmark: fc.integer({ min: 1, max: 0xffffffff }),
  scheduler: fc.constantFrom(...schedulerNames()),
  flags: fc.constantFrom(0, 0x08, 0x10, 0x18, 0x20, 0x38),
  persistent: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2678400 })),
  prefix: fc.integer({ min: 0, max: 32 }),
  match: fc.option(fc.constantFrom('ip daddr 10.0.0.1 tcp dport 80', 'ip daddr 10.0.0.0/24 tcp dport { 80, 443 }'), { nil: undefined }),
  dests: fc.array(fc.record({
    addr: fc.integer({ min: 0x0a000001, max: 0xdfffffff }),
    port: fc.integer({ min: 0, max: 65535 }),
    forward: fc.constantFrom(...FORWARDS),
    weight: fc.integer({ min: 0, max: 65535 }),
  }), { maxLength: 6 }),
});

type Generated = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;

/** A generated service made valid for ipvsadm -S / -R. */
function service(g: Generated): ServiceView {
  const fwmark = g.kind === 'fwmark' ? g.fwmark : undefined;
  const port = fwmark ? 0 : g.persistent === 0 && g.port === 0 ? 80 : g.port;
  const hashed = g.scheduler === 'sh' || g.scheduler === 'mh';
  const seen = new Set<string>();
  const dests: DestView[] = [];
  for (const d of g.dests) {
    const dport = !fwmark && (d.forward === 'dr' || d.forward === 'tun') ? port : d.port;
    if (seen.has(`${d.addr}:${dport}`)) continue;
    seen.add(`${d.addr}:${dport}`);
    dests.push({ addr: d.addr, port: dport, forward: d.forward, weight: d.weight, activeConns: 0, inactConns: 0, stats: [] });
  }
  return {
    proto: g.kind === 'udp' ? 17 : g.kind === 'tcp' ? 6 : 0, vip: fwmark ? 0 : g.vip, port, fwmark,
    ...(fwmark && g.match ? { match: g.match } : {}),
    scheduler: g.scheduler, flags: hashed ? g.flags & 0x18 : g.flags, persistent: g.persistent,
    netmask: !g.persistent ? 0xffffffff : g.prefix === 0 ? 0 : (0xffffffff << (32 - g.prefix)) >>> 0,
    stats: [], dests,
  };
}

const keyOf = (s: ServiceView): string => (s.fwmark ? `f${s.fwmark}` : `${s.proto}/${s.vip}/${s.port}`);

const tableArb = fc.uniqueArray(serviceArb, { minLength: 50, maxLength: 80, selector: (g) => keyOf(service(g)) })
  .map((gs): ListResult => ({ version: '1.2.1', size: 4096, services: gs.map(service) }));

/** The table a sequence of -A / -a command lines describes, read as lvsadm reads them. */
function restore(text: string): ListResult {
  const services: ServiceView[] = [];
  const find = (p: ParsedArgs): ServiceView => {
    const k = key(p);
    return services.find((s) => (k.fwmark ? s.fwmark === k.fwmark : !s.fwmark && s.proto === k.proto && s.vip === k.vip && s.port === k.port))!;
  };
  for (const line of text.split('\n').filter(Boolean)) {
    const p = parseIpvsadm(splitWords(line));
    const opt = (n: string): string | undefined => {
      const v = p.opts.get(n);
      return v === undefined || v === true ? undefined : v;
    };
    if (p.command === 'add-service') {
      const k = key(p);
      const sched = opt('scheduler') ?? 'wlc';
      const pers = p.opts.get('persistent');
      services.push({
        ...k, vip: k.vip ?? 0, port: k.port ?? 0, scheduler: sched, stats: [], dests: [],
        flags: (opt('sched-flags') ?? '').split(',').filter(Boolean).reduce((f, n) => f | FLAG_BITS[n], 0),
        persistent: pers === undefined ? 0 : pers === true ? 360 : Number(pers),
        netmask: opt('netmask') === undefined ? 0xffffffff : parseIpv4(opt('netmask')!),
        ...(opt('match') ? { match: opt('match') } : {}),
      });
    } else if (p.command === 'add-server') {
      const s = find(p);
      const [addr, port] = opt('real-server')!.split(':');
      const forward = p.opts.has('ipip') ? 'tun' : p.opts.has('masquerading') ? 'nat' : p.opts.has('fullnat') ? 'fullnat' : 'dr';
      s.dests.push({
        addr: parseIpv4(addr), port: port === undefined ? s.port : Number(port), forward, weight: Number(opt('weight') ?? 1),
        activeConns: 0, inactConns: 0, stats: [],
      });
    } else {
      throw new Error(`unexpected ${p.command} in a save: ${line}`);
    }
  }
  return { version: '1.2.1', size: 4096, services };
}

function key(p: ParsedArgs): { proto: number; vip?: number; port?: number; fwmark?: number } {
  const f = p.opts.get('fwmark-service');
  if (typeof f === 'string') return { proto: 0, fwmark: Number(f) };
  const text = String(p.opts.get('tcp-service') ?? p.opts.get('udp-service'));
  const [addr, port] = text.split(':');
  return { proto: p.opts.has('udp-service') ? 17 : 6, vip: parseIpv4(addr), port: Number(port ?? 0) };
}

describe('-S | -R round trip (fast-check, fixed seed)', () => {
  it('save -> parse every line -> save again is identical, for tables of 50+ services', () => {
    fc.assert(fc.property(tableArb, (table) => {
      expect(table.services.length).toBeGreaterThanOrEqual(50);
      const saved = formatSave(table);
      expect(formatSave(restore(saved))).toBe(saved);
    }), { seed: 20240611, numRuns: 40 });
  });

  it('covers every forwarding method, every scheduler, fwmark services, masks and flags', () => {
    const [table] = fc.sample(tableArb, { seed: 20240611, numRuns: 1 });
    const saved = formatSave(table);
    for (const w of [' -g -w ', ' -i -w ', ' -m -w ', ' -b -w ', '-A -f ', '-A -t ', '-A -u ', ' -M ', ' -b ', '--tun-type ipip', '--match ']) {
      expect(saved).toContain(w);
    }
    for (const s of schedulerNames()) expect(saved).toContain(` -s ${s}`);
    expect(ipv4ToString(table.services[0].vip)).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
