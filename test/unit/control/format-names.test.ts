// Without -n: addresses and ports by name, as ipvsadm prints them (gethostbyaddr, getservbyport), cut to the
// same widths (the service label at 33 characters, a real server at 28), sorted by number all the same.
import { describe, expect, it } from 'vitest';
import { formatConns } from '../../../src/control/format-conns';
import { formatList } from '../../../src/control/format-list';
import { formatSave } from '../../../src/control/format-save';
import { namedNamer, NUMERIC, parseHosts, parseServices, resolveAddrs, serviceToPort } from '../../../src/control/names';
import type { ListResult } from '../../../src/control/protocol';
import { parseIpv4 } from '../../../src/packet/format';

const SERVICES = parseServices([
  '# a few lines of /etc/services',
  'domain\t\t53/tcp\t\t\t\t# Domain Name Server',
  'domain\t\t53/udp',
  'http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP',
  'mdns\t\t5353/udp\t\t\t# Multicast DNS',
  'http-alt\t8080/tcp\twebcache\t# WWW caching service',
  'alt-http\t8080/tcp',
].join('\n'));

const ip = parseIpv4;
const NAMES = new Map([
  [ip('10.0.0.100'), 'www.example-service.internal'],
  [ip('10.0.1.11'), 'rs1.backend.example.internal'],
  [ip('10.0.0.53'), 'ns'],
  [ip('10.0.3.31'), 'rs-dns'],
]);
const named = namedNamer(NAMES, SERVICES);
const d = (addr: string, port: number, forward: string, weight: number) => ({
  addr: ip(addr), port, forward, weight, activeConns: 0, inactConns: 0, stats: [0, 0, 0, 0, 0],
});
const TABLE: ListResult = {
  version: '1.2.1', size: 4096,
  services: [
    { proto: 0, vip: 0, port: 0, fwmark: 1, scheduler: 'mh', stats: [], dests: [d('10.0.4.42', 8080, 'nat', 2)] },
    { proto: 17, vip: ip('10.0.0.53'), port: 53, scheduler: 'sh', stats: [], dests: [d('10.0.3.31', 5353, 'nat', 1)] },
    { proto: 6, vip: ip('10.0.0.100'), port: 80, scheduler: 'wrr', stats: [], dests: [d('10.0.1.11', 80, 'dr', 5)] },
  ],
};

describe('names instead of numbers (no -n)', () => {
  it('-L: names cut to 33 and 28 characters, fwmark real servers named under tcp', () => {
    expect(formatList(TABLE, { names: named })).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  www.example-service.internal wrr\n' +
      '  -> rs1.backend.example.internal Route   5      0          0         \n' +
      'UDP  ns:domain sh\n' +
      '  -> rs-dns:mdns                  Masq    1      0          0         \n' +
      'FWM  1 mh\n' +
      '  -> 10.0.4.42:http-alt           Masq    2      0          0         \n');
  });

  it('--stats: the same cut labels', () => {
    expect(formatList(TABLE, { names: named, format: 'stats', header: false }).split('\n')[2])
      .toBe('TCP  www.example-service.internal        0        0        0        0        0');
  });

  it('-S: names in full (ipvsadm-save without -n)', () => {
    expect(formatSave(TABLE, { names: named })).toBe(
      '-A -t www.example-service.internal:http -s wrr\n' +
      '-a -t www.example-service.internal:http -r rs1.backend.example.internal:http -g -w 5\n' +
      '-A -u ns:domain -s sh\n' +
      '-a -u ns:domain -r rs-dns:mdns -m -w 1\n' +
      '-A -f 1 -s mh\n' +
      '-a -f 1 -r 10.0.4.42:http-alt -m -w 2\n');
  });

  it('-c: named endpoints; an IP (fwmark) template has no port names', () => {
    const text = formatConns([
      { proto: 'TCP', expire: 61, state: 'ESTABLISHED', caddr: ip('10.9.0.1'), cport: 56954, vaddr: ip('10.0.0.100'), vport: 80, daddr: ip('10.0.1.11'), dport: 80, template: false },
      { proto: 'IP', expire: 300, state: 'NONE', caddr: ip('10.9.0.0'), cport: 0, vaddr: 1, vport: 0, daddr: ip('10.0.4.42'), dport: 8080, template: true },
    ], { names: named });
    expect(text.split('\n').slice(2, 4)).toEqual([
      'TCP 01:01  ESTABLISHED 10.9.0.1:56954     www.example-service.internal:http rs1.backend.example.internal:http',
      'IP  05:00  NONE        10.9.0.0:0         0.0.0.1:0          10.0.4.42:8080',
    ]);
  });

  it('-n output does not depend on any name', () => {
    expect(formatList(TABLE, { names: NUMERIC })).toBe(formatList(TABLE));
  });
});

describe('/etc/services and /etc/hosts', () => {
  it('getservbyport gives the first entry\'s official name; getservbyname takes aliases', () => {
    expect(named.port(8080, 6)).toBe('http-alt');
    expect(named.port(8080, 17)).toBe('8080');
    expect(named.port(80, 0)).toBe('80');
    expect(serviceToPort('www', 6, SERVICES)).toBe(80);
    expect(serviceToPort('webcache', 6, SERVICES)).toBe(8080);
    expect(serviceToPort('mdns', 6, SERVICES)).toBe(-1);
    expect(serviceToPort('mdns', 17, SERVICES)).toBe(5353);
  });

  it('the first hosts line naming an address gives its name', () => {
    const hosts = parseHosts('127.0.0.1\tlocalhost\n# 10.0.0.1 commented\n10.0.0.1 a.example a\n10.0.0.1 b.example\n::1 ip6-localhost\n');
    expect([...hosts]).toEqual([[ip('127.0.0.1'), 'localhost'], [ip('10.0.0.1'), 'a.example']]);
  });

  it('resolveAddrs: hosts first, then PTR; no answer, an error or a slow answer leave the number', async () => {
    const hosts = new Map([[ip('10.0.0.100'), 'vip.hosts']]);
    const asked: string[] = [];
    const reverse = (a: string): Promise<string[]> => {
      asked.push(a);
      if (a === '10.0.1.11') return Promise.resolve(['rs1.example']);
      if (a === '10.0.1.12') return Promise.reject(Object.assign(new Error('queryPtr ENOTFOUND'), { code: 'ENOTFOUND' }));
      return new Promise(() => undefined); // never answers
    };
    const t0 = Date.now();
    const names = await resolveAddrs([ip('10.0.0.100'), ip('10.0.1.11'), ip('10.0.1.12'), ip('10.0.1.13'), ip('10.0.1.11')], { hosts, reverse, timeoutMs: 50 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([...names]).toEqual([[ip('10.0.0.100'), 'vip.hosts'], [ip('10.0.1.11'), 'rs1.example']]);
    expect(asked.sort()).toEqual(['10.0.1.11', '10.0.1.12', '10.0.1.13']);
    const n = namedNamer(names, SERVICES);
    expect([n.addr(ip('10.0.1.13')), n.addr(ip('10.0.1.11'))]).toEqual(['10.0.1.13', 'rs1.example']);
  });
});
