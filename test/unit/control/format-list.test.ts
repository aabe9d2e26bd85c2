import { describe, expect, it } from 'vitest';
import { formatList, serviceLine } from '../../../src/control/format-list';
import { formatSave } from '../../../src/control/format-save';
import { largenum } from '../../../src/control/format-stats';
import type { ListResult, ServiceView } from '../../../src/control/protocol';
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

describe('print_largenum and the smaller corners of print_service_entry', () => {
  it.each([
    [0, false, '        0'], [99999999, false, ' 99999999'], [100000000, false, '  100000K'], [999999999, false, '  999999K'],
    [1e9, false, '    1000M'], [99999999999, false, '   99999M'], [1e11, false, '     100G'], [99999999999999, false, '   99999G'],
    [1e14, false, '     100T'], [123456789012345678, false, '  123456T'],
    [123, true, '      123'], [12345678, true, ' 12345678'], [123456789, true, ' 123456789'], [1e14, true, ' 100000000000000'],
    [2.6, false, '        3'], [-5, false, '        0'], [undefined, false, '        0'],
  ])('%s (exact: %s)', (v, exact, text) => {
    expect(largenum(v, exact)).toBe(text);
  });

  const svc = (more: Partial<ServiceView>): ServiceView => ({ proto: 17, vip: parseIpv4('10.0.0.53'), port: 53, scheduler: 'rr', stats: [], dests: [], ...more });

  it('one-packet scheduling: " ops" in the listing, " -o" in the save, in ipvsadm\'s order', () => {
    const s = svc({ flags: 0x04 | 0x08, persistent: 60, netmask: parseIpv4('255.255.255.0') });
    expect(serviceLine(s)).toBe('UDP  10.0.0.53:53 rr (flag-1) persistent 60 mask 255.255.255.0 ops');
    expect(formatSave({ version: '1.2.1', size: 1, services: [s] })).toBe('-A -u 10.0.0.53:53 -s rr -p 60 -M 255.255.255.0 -o -b flag-1\n');
  });

  it('the mask shows only with persistence; a fwmark service saves its match (userlvs)', () => {
    expect(serviceLine(svc({ netmask: parseIpv4('255.255.255.0') }))).toBe('UDP  10.0.0.53:53 rr');
    const f = svc({ proto: 6, vip: 0, port: 0, fwmark: 7, match: 'ip daddr 10.0.0.1 tcp dport 80', dests: [rs('10.0.0.9', 0, 1, 0, 0)] });
    expect(formatSave({ version: '1.2.1', size: 1, services: [f] })).toBe(
      "-A -f 7 -s rr --match 'ip daddr 10.0.0.1 tcp dport 80'\n-a -f 7 -r 10.0.0.9:0 -g -w 1\n");
  });

  it('a draining real server says so after its row (userlvs), in the plain listing only', () => {
    const s = svc({ dests: [{ ...rs('10.0.0.9', 53, 0, 2, 1), drain: { left: 20, open: 2 } }] });
    const list = { version: '1.2.1', size: 1, services: [s] };
    expect(formatList(list, { header: false }).split('\n')[3]).toBe('  -> 10.0.0.9:53                  Route   0      2          1          draining: 2 open, 20s left');
    expect(formatList(list, { header: false, format: 'thresholds' }).split('\n')[3]).toBe('  -> 10.0.0.9:53                  0          0          2          1         ');
  });
});
