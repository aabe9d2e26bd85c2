// lvsadm --json: one JSON document per listing with the raw data (addresses dotted, counters whole), in the
// order the text would list them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connsJson, listJson, timeoutJson } from '../../../src/control/format-json';
import { fakeDaemon, runMain } from './golden/harness';
import { CONNS, TABLE, TIMEOUTS } from './golden/table';

describe('--json documents', () => {
  it('-L --json: every service with its real servers, counters and rates', () => {
    const doc = JSON.parse(listJson(TABLE));
    expect([doc.version, doc.size, doc.services.length]).toEqual(['1.2.1', 4096, 8]);
    expect(doc.services.map((s: { address: string | null; fwmark: number | null }) => s.address ?? `fwmark ${s.fwmark}`)).toEqual([
      '192.168.50.10', '10.0.0.100', '10.0.0.100', '10.0.0.100', '10.0.0.53', '10.0.0.54', 'fwmark 1', 'fwmark 2',
    ]);
    expect(doc.services[4]).toEqual({
      protocol: 'udp', address: '10.0.0.53', port: 53, fwmark: null, scheduler: 'sh', flags: ['sh-fallback', 'sh-port'],
      ops: false, persistent: 0, netmask: '255.255.255.255',
      stats: { conns: 98765432109, inpkts: 100000000, outpkts: 99999999, inbytes: 123456789012345, outbytes: 5000000000000 },
      rates: { cps: 123456789, inpps: 99999999, outpps: 100000000, inbps: 1000000000, outbps: 999999999 },
      dests: [
        {
          address: '10.0.3.31', port: 5353, forward: 'nat', weight: 1, activeConns: 0, inactConns: 250, persistConns: 0,
          uthreshold: 1000, lthreshold: 800, stats: { conns: 9, inpkts: 1, outpkts: 0, inbytes: 120, outbytes: 0 },
          rates: { cps: 0, inpps: 1, outpps: 0, inbps: 60, outbps: 0 }, drain: null,
        },
        expect.objectContaining({ address: '10.0.3.32', port: 53, weight: 65535, inactConns: 4000000 }),
      ],
    });
    expect(doc.services[6]).toEqual(expect.objectContaining({
      protocol: 'fwmark', address: null, port: null, fwmark: 1, scheduler: 'mh', flags: ['mh-fallback'], persistent: 300, netmask: '255.255.0.0',
    }));
    expect(doc.services[5].flags).toEqual(['flag-3']); // sh with flag-3: the text prints "()", the data keeps the bit
  });

  it('--nosort keeps the daemon order', () => {
    expect(JSON.parse(listJson(TABLE, { sort: false })).services[0].address).toBe('10.0.0.53');
  });

  it('-c --json: connections and templates, a fwmark template with its mark', () => {
    const doc = JSON.parse(connsJson(CONNS));
    expect(doc.truncated).toBe(false);
    expect(doc.connections[0]).toEqual({
      proto: 'TCP', expire: 231, state: 'ESTABLISHED', caddr: '192.168.56.1', cport: 56954, vaddr: '10.0.0.100', vport: 80,
      daddr: '10.0.1.11', dport: 80, template: false,
    });
    expect(doc.connections[6]).toEqual(expect.objectContaining({ proto: 'IP', vaddr: '0.0.0.1', fwmark: 1, template: true, state: 'NONE' }));
  });

  it('--timeout --json', () => {
    expect(JSON.parse(timeoutJson(TIMEOUTS))).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
  });
});

describe('lvsadm --json', () => {
  const daemon = fakeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.stop());
  const lvsadm = (...argv: string[]) => runMain(['--socket', daemon.sock, ...argv]);

  it.each([
    [['-L', '-n', '--json'], listJson(TABLE)],
    [['-L', '--json'], listJson(TABLE)],
    [['-L', '--stats', '--json'], listJson(TABLE)],
    [['-L', '--rate', '--json', '--nosort'], listJson(TABLE, { sort: false })],
    [['-S', '--json'], listJson(TABLE)],
    [['-L', '-c', '--json'], connsJson(CONNS)],
    [['-L', '--timeout', '--json'], timeoutJson(TIMEOUTS)],
    [['-L', '--daemon', '--json'], '{\n  "daemons": []\n}\n'],
    [['--json'], listJson(TABLE)],
  ])('lvsadm %j', async (argv, out) => {
    expect(await lvsadm(...argv)).toEqual({ code: 0, out, err: '' });
  });

  it('-L -t <service> --json: that service alone', async () => {
    const r = await lvsadm('-L', '-t', '10.0.0.100:443', '--json');
    const doc = JSON.parse(r.out);
    expect(doc.services.map((s: { port: number }) => s.port)).toEqual([443]);
  });

  it('--json is a listing option: refused with the other commands', async () => {
    expect(await runMain(['-A', '-t', '10.0.0.1:80', '--json'])).toEqual({
      code: 2, out: '', err: "Illegal 'json' option with the 'add-service' command\n",
    });
  });
});
