// A daemon snapshot built by hand: a TCP service with a checked, a failed and a draining RS, an unchecked UDP
// service, a firewall-mark service, and a status with drops, parse errors and capture errors.
import type { ListResult } from '../../../src/control/protocol';
import { parseIpv4 } from '../../../src/packet/format';

export const LIST: ListResult = {
  version: '1.2.1',
  size: 4096,
  services: [
    {
      proto: 17, vip: parseIpv4('10.0.0.100'), port: 53, scheduler: 'rr', stats: [7, 70, 0, 4200, 0], rates: [1, 10, 0, 600, 0],
      dests: [{ addr: parseIpv4('10.0.0.21'), port: 53, forward: 'dr', weight: 1, activeConns: 0, inactConns: 7, stats: [7, 70, 0, 4200, 0] }],
    },
    {
      proto: 6, vip: parseIpv4('10.0.0.100'), port: 80, scheduler: 'wlc',
      stats: [300, 3000, 2500, 250000, 3000000], rates: [12, 150, 120, 15000, 2500000],
      dests: [
        {
          addr: parseIpv4('10.0.0.12'), port: 80, forward: 'nat', weight: 0, activeConns: 2, inactConns: 1, persistConns: 0,
          stats: [100, 1000, 900, 80000, 1000000], rates: [0, 3, 2, 300, 200],
          health: { up: false, reason: 'TCP_CHECK: connection refused' },
        },
        {
          addr: parseIpv4('10.0.0.11'), port: 80, forward: 'nat', weight: 3, activeConns: 40, inactConns: 5, persistConns: 2,
          stats: [120, 2000, 1600, 170000, 2000000], rates: [12, 147, 118, 14700, 2499800],
          health: { up: true, reason: '' },
        },
        {
          addr: parseIpv4('10.0.0.13'), port: 8080, forward: 'nat', weight: 0, activeConns: 1, inactConns: 0,
          stats: [80, 0, 0, 0, 0], rates: [0, 0, 0, 0, 0], drain: { left: 42, open: 1 },
        },
      ],
    },
    {
      proto: 0, vip: 0, port: 0, fwmark: 7, match: 'ip daddr 10.0.0.101', scheduler: 'sh', stats: [5, 50, 0, 5000, 0],
      dests: [{ addr: parseIpv4('10.0.0.31'), port: 0, forward: 'dr', weight: 2, activeConns: 1, inactConns: 0, stats: [5, 50, 0, 5000, 0] }],
    },
  ],
};

export const STATUS: Record<string, unknown> = {
  interfaces: ['eth0', 'eth1'],
  uptime: 3725,
  conns: 49,
  connMax: 262144,
  verdicts: {
    forwarded: 5000, 'not-ours': 800, arp: 12, malformed: 3, 'no-conn': 9, 'no-dest': 0, 'conn-table-full': 0,
    'neigh-unresolved': 0, fragment: 0, 'send-failed': 1, 'dest-gone': 0, 'too-big': 0, 'laddr-exhausted': 0, 'icmp-forwarded': 4,
  },
  parseErrors: {
    'truncated-ethernet': 0, 'truncated-ip': 2, 'bad-ip-version': 0, 'bad-ihl': 1, 'bad-total-length': 0,
    'truncated-l4': 0, 'bad-tcp-data-offset': 0, 'truncated-arp': 0,
  },
  defense: {
    drop_entry: 2, secure_tcp: 1, drop_packet: 2, amemthresh: 1024, dropping: true, secure: false, drop_rate: 10, evicted: 17, scanned: 40, shed: 3,
  },
  capture: [{ interface: 'eth0', handlerErrors: 0, lastHandlerError: null }, { interface: 'eth1', handlerErrors: 2, lastHandlerError: 'x' }],
  health: [],
};
