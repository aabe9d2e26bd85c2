import { describe, expect, it } from 'vitest';
import { formatList } from '../../../src/control/format-list';
import type { ListResult } from '../../../src/control/protocol';
import { parseIpv4 } from '../../../src/packet/format';

const rs = (addr: string, port: number, weight: number, active: number, inact: number) => ({
  addr: parseIpv4(addr), port, forward: 'dr', weight, activeConns: active, inactConns: inact, stats: [0, 0, 0, 0, 0],
});

describe('lvsadm -L -n format (ipvsadm 1.31)', () => {
  it('prints the header, sorts services and dests, and pads rows as ipvsadm does', () => {
    const list: ListResult = {
      version: '1.2.1',
      size: 4096,
      services: [
        { proto: 17, vip: parseIpv4('10.0.0.53'), port: 53, scheduler: 'rr', stats: [], dests: [] },
        {
          proto: 6, vip: parseIpv4('10.100.5.98'), port: 6030, scheduler: 'wrr', stats: [],
          dests: [rs('10.100.5.87', 6030, 5, 17, 0), rs('10.100.5.86', 6030, 5, 5, 0)],
        },
      ],
    };
    // Expected bytes from ipvsadm's format strings ("  -> %-28s %-7s %-6d %-10u %-10u"), trailing spaces included.
    expect(formatList(list)).toBe(
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        'TCP  10.100.5.98:6030 wrr\n' +
        '  -> 10.100.5.86:6030             Route   5      5          0         \n' +
        '  -> 10.100.5.87:6030             Route   5      17         0         \n' +
        'UDP  10.0.0.53:53 rr\n',
    );
  });

  it('--nosort keeps the table order', () => {
    const list: ListResult = {
      version: '1.2.1', size: 1,
      services: [{ proto: 6, vip: 2, port: 1, scheduler: 'rr', stats: [], dests: [rs('10.0.0.2', 1, 1, 0, 0), rs('10.0.0.1', 1, 1, 0, 0)] }],
    };
    const lines = formatList(list, { sort: false }).split('\n');
    expect(lines[4]).toMatch(/^ {2}-> 10\.0\.0\.2:1/);
  });
});
