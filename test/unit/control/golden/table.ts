// The one table behind the golden listings: what lvsd's `list`, `conns` and `timeouts` answer for a director
// with TCP, UDP and firewall-mark services, all four forwarding methods, persistence with a netmask, scheduler
// flags, thresholds, a quiescent RS, and counters large enough for print_largenum's K, M, G and T. It is given
// out of order on purpose: ipvsadm sorts services and real servers (and, comparing unsigned differences as a C
// int, puts 192.168.50.10 before 10.0.0.100 and 172.16.0.x before 10.9.9.9).
// The same data is written out by hand in the C program that rendered the *.txt files (see format-golden.test.ts).
import type { ConnView, DestView, ListResult } from '../../../../src/control/protocol';
import { parseIpv4 } from '../../../../src/packet/format';

const ip = parseIpv4;
const dest = (addr: string, port: number, forward: string, weight: number, more: Partial<DestView> = {}): DestView => ({
  addr: ip(addr), port, forward, weight, activeConns: 0, inactConns: 0, persistConns: 0, uthreshold: 0, lthreshold: 0,
  stats: [0, 0, 0, 0, 0], rates: [0, 0, 0, 0, 0], ...more,
});

export const TABLE: ListResult = {
  version: '1.2.1',
  size: 4096,
  services: [
    {
      proto: 17, vip: ip('10.0.0.53'), port: 53, scheduler: 'sh', flags: 0x18, persistent: 0, netmask: 0xffffffff,
      stats: [98765432109, 100000000, 99999999, 123456789012345, 5000000000000],
      rates: [123456789, 99999999, 100000000, 1000000000, 999999999],
      dests: [
        dest('10.0.3.32', 53, 'nat', 65535, {
          activeConns: 0, inactConns: 4000000, uthreshold: 0, lthreshold: 0,
          stats: [98765432100, 99999999, 99999999, 99999999999, 100000000000], rates: [123456789, 99999999, 100000000, 123, 0],
        }),
        dest('10.0.3.31', 5353, 'nat', 1, {
          activeConns: 0, inactConns: 250, uthreshold: 1000, lthreshold: 800,
          stats: [9, 1, 0, 120, 0], rates: [0, 1, 0, 60, 0],
        }),
      ],
    },
    {
      proto: 6, vip: ip('10.0.0.100'), port: 443, scheduler: 'rr', flags: 0, persistent: 3600, netmask: ip('255.255.255.0'),
      stats: [4521, 90210, 88001, 12345678, 987654321], rates: [1, 22, 21, 2900, 180000],
      dests: [
        dest('10.0.2.22', 443, 'tun', 2, { activeConns: 1, inactConns: 2, persistConns: 7, stats: [2000, 40000, 0, 5000000, 0], rates: [1, 10, 0, 1300, 0] }),
        dest('10.0.2.21', 443, 'tun', 1, { activeConns: 3, inactConns: 0, persistConns: 3, stats: [2521, 50210, 0, 7345678, 0], rates: [0, 12, 0, 1600, 0] }),
      ],
    },
    {
      proto: 6, vip: ip('192.168.50.10'), port: 8080, scheduler: 'lc', flags: 0, persistent: 0, netmask: 0xffffffff,
      stats: [700, 7000, 6900, 700000, 7000000], rates: [2, 20, 19, 2000, 20000],
      dests: [
        dest('10.9.9.9', 80, 'fullnat', 3, { activeConns: 2, inactConns: 1, stats: [300, 3000, 2900, 300000, 3000000] }),
        dest('172.16.0.5', 80, 'fullnat', 3, { activeConns: 1, inactConns: 1, stats: [200, 2000, 2000, 200000, 2000000] }),
        dest('172.16.0.4', 8080, 'fullnat', 3, { activeConns: 1, inactConns: 0, stats: [200, 2000, 2000, 200000, 2000000] }),
      ],
    },
    {
      proto: 0, vip: 0, port: 0, fwmark: 2, scheduler: 'wlc', flags: 0x20, persistent: 0, netmask: 0xffffffff,
      stats: [0, 0, 0, 0, 0], rates: [0, 0, 0, 0, 0], dests: [],
    },
    {
      proto: 6, vip: ip('10.0.0.100'), port: 80, scheduler: 'wrr', flags: 0, persistent: 0, netmask: 0xffffffff,
      stats: [113786, 19495479, 0, 2110000000, 0], rates: [12, 2345, 0, 193456, 0],
      dests: [
        dest('10.0.1.12', 80, 'dr', 5, { activeConns: 17, inactConns: 0, stats: [12883, 1679941, 0, 181747000, 0], rates: [3, 12, 0, 54000, 0] }),
        dest('10.0.1.13', 80, 'dr', 0, { activeConns: 0, inactConns: 12, stats: [4, 40, 0, 4000, 0] }),
        dest('10.0.1.11', 80, 'dr', 5, { activeConns: 5, inactConns: 3, stats: [100899, 17815538, 0, 1928253000, 0], rates: [9, 2333, 0, 139456, 0] }),
      ],
    },
    {
      proto: 17, vip: ip('10.0.0.54'), port: 5353, scheduler: 'sh', flags: 0x20, persistent: 0, netmask: 0xffffffff,
      stats: [0, 0, 0, 0, 0], rates: [0, 0, 0, 0, 0],
      dests: [dest('10.0.3.33', 5353, 'nat', 1)],
    },
    {
      proto: 0, vip: 0, port: 0, fwmark: 1, scheduler: 'mh', flags: 0x08, persistent: 300, netmask: ip('255.255.0.0'),
      stats: [10, 100, 90, 10000, 90000], rates: [0, 1, 1, 100, 900],
      dests: [
        dest('10.0.4.42', 8080, 'nat', 2, { activeConns: 4, inactConns: 1, persistConns: 2, uthreshold: 50, lthreshold: 40 }),
        dest('10.0.4.41', 0, 'dr', 1, { activeConns: 1, inactConns: 0, persistConns: 1 }),
      ],
    },
    {
      proto: 6, vip: ip('10.0.0.100'), port: 0, scheduler: 'rr', flags: 0, persistent: 360, netmask: 0xffffffff,
      stats: [1, 2, 3, 4, 5], rates: [0, 0, 0, 0, 0],
      dests: [dest('10.0.2.21', 0, 'dr', 1, { persistConns: 1 })],
    },
  ],
};

const conn = (proto: string, expire: number, state: string, c: string, cport: number, v: string, vport: number, d: string, dport: number): ConnView => ({
  proto, expire, state, caddr: ip(c), cport, vaddr: ip(v), vport, daddr: ip(d), dport, template: cport === 0,
});

/** lvsd's `conns`, in its (hash) order: ipvsadm -c does not sort. */
export const CONNS: ConnView[] = [
  conn('TCP', 231, 'ESTABLISHED', '192.168.56.1', 56954, '10.0.0.100', 80, '10.0.1.11', 80),
  conn('TCP', 118, 'FIN_WAIT', '192.168.56.1', 57322, '10.0.0.100', 80, '10.0.1.12', 80),
  conn('TCP', 59, 'SYN_RECV', '192.168.100.200', 65535, '10.0.0.100', 80, '10.0.1.12', 80),
  conn('UDP', 300, 'UDP', '10.1.1.5', 40000, '10.0.0.53', 53, '10.0.3.31', 5353),
  conn('TCP', 3600, 'NONE', '192.168.56.0', 0, '10.0.0.100', 443, '10.0.2.21', 443),
  conn('TCP', 895, 'ESTABLISHED', '192.168.56.7', 50001, '10.0.0.100', 443, '10.0.2.21', 443),
  conn('IP', 10800, 'NONE', '192.168.0.0', 0, '0.0.0.1', 0, '10.0.4.41', 0),
  conn('TCP', 0, 'TIME_WAIT', '172.16.9.1', 1024, '192.168.50.10', 8080, '10.9.9.9', 80),
  conn('TCP', 5, 'CLOSE', '10.1.1.5', 1, '10.0.0.100', 80, '10.0.1.11', 80),
];

export const TIMEOUTS = { tcp: 900, tcpfin: 120, udp: 300 };
