// ipvsadm's listings, character for character, against golden files. The goldens (golden/*.txt) were not
// produced by this TypeScript: a small C program, written for this purpose and kept out of the repository,
// holds the table of golden/table.ts transcribed by hand and prints it with ipvsadm 1.31's own printf format
// strings (ipvsadm.c print_title, print_service_entry, print_largenum, list_conn/print_conn, list_timeout, and
// the FMT_RULE lines of -S), sorting with qsort and libipvs's ipvs_cmp_services / ipvs_cmp_dests; it was
// compiled with gcc and run once per file. So these tests compare two independent renderings.
// The same files are then checked through lvsadm's main() against a stand-in lvsd on a unix socket.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatConns } from '../../../src/control/format-conns';
import { formatList, type ListOptions } from '../../../src/control/format-list';
import { formatSave } from '../../../src/control/format-save';
import { formatTimeout } from '../../../src/control/format-timeout';
import type { ListResult } from '../../../src/control/protocol';
import { fakeDaemon, runMain } from './golden/harness';
import { CONNS, TABLE, TIMEOUTS } from './golden/table';

const golden = (name: string): string => readFileSync(join(__dirname, 'golden', `${name}.txt`), 'utf8');
const only = (pick: (s: ListResult['services'][number]) => boolean): ListResult => ({ ...TABLE, services: TABLE.services.filter(pick) });
const UDP53 = only((s) => s.proto === 17 && s.port === 53);
const TCP443 = only((s) => s.proto === 6 && s.port === 443);

describe('listing formats against golden files (ipvsadm 1.31 printf formats)', () => {
  const table: [string, () => string][] = [
    ['list', () => formatList(TABLE)],
    ['stats', () => formatList(TABLE, { format: 'stats' })],
    ['stats-exact', () => formatList(TABLE, { format: 'stats', exact: true })],
    ['rate', () => formatList(TABLE, { format: 'rate' })],
    ['rate-exact', () => formatList(TABLE, { format: 'rate', exact: true })],
    ['thresholds', () => formatList(TABLE, { format: 'thresholds' })],
    ['persistent-conn', () => formatList(TABLE, { format: 'persistent-conn' })],
    ['tun-info', () => formatList(TABLE, { format: 'tun-info' })],
    ...(['plain', 'stats', 'rate', 'thresholds', 'persistent-conn'] as const).map((f): [string, () => string] =>
      [f === 'plain' ? 'one' : `one-${f}`, () => formatList(UDP53, { format: f, header: false } satisfies ListOptions)]),
    ['one-tun-info', () => formatList(TCP443, { format: 'tun-info', header: false })],
    ['save', () => formatSave(TABLE)],
    ['conns', () => formatConns(CONNS)],
    ['conns-pe', () => formatConns(CONNS, { persistentConn: true })],
    ['timeout', () => formatTimeout(TIMEOUTS)],
  ];

  it.each(table)('%s', (name, render) => {
    expect(render()).toBe(golden(name));
  });

  it('--nosort keeps the daemon order of services and real servers', () => {
    const text = formatList(TABLE, { sort: false });
    const lines = text.split('\n').filter((l) => !l.startsWith('  ->') && /^(TCP|UDP|FWM)/.test(l)).map((l) => l.split(' ').filter(Boolean)[1]);
    expect(lines).toEqual(['10.0.0.53:53', '10.0.0.100:443', '192.168.50.10:8080', '2', '10.0.0.100:80', '10.0.0.54:5353', '1', '10.0.0.100:0']);
    expect(text).toContain('  -> 10.0.3.32:53                 Masq    65535  0          4000000   \n  -> 10.0.3.31:5353');
  });
});

describe('lvsadm main() prints the golden listings from a daemon', () => {
  const daemon = fakeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.stop());
  const lvsadm = (...argv: string[]) => runMain(['--socket', daemon.sock, ...argv]);

  it.each([
    [['-L', '-n'], 'list'],
    [['-ln'], 'list'],
    [['-L', '-n', '--stats'], 'stats'],
    [['-L', '-n', '--stats', '--exact'], 'stats-exact'],
    [['-L', '-n', '--rate', '-X'], 'rate-exact'],
    [['-L', '-n', '--rate'], 'rate'],
    [['-Ln', '--thresholds'], 'thresholds'],
    [['-L', '-n', '--persistent-conn'], 'persistent-conn'],
    [['-L', '-n', '--tun-info'], 'tun-info'],
    [['-L', '-n', '-u', '10.0.0.53:53'], 'one'],
    [['-L', '-n', '-u', '10.0.0.53:53', '--stats'], 'one-stats'],
    [['-L', '-n', '--rate', '-u', '10.0.0.53:53'], 'one-rate'],
    [['-L', '-n', '-u', '10.0.0.53:53', '--thresholds'], 'one-thresholds'],
    [['-L', '-n', '-u', '10.0.0.53:53', '--persistent-conn'], 'one-persistent-conn'],
    [['-L', '-n', '-t', '10.0.0.100:443', '--tun-info'], 'one-tun-info'],
    [['-L', '-n', '-c'], 'conns'],
    [['-L', '-n', '-c', '--persistent-conn'], 'conns-pe'],
    [['-L', '--timeout'], 'timeout'],
    [['-S', '-n'], 'save'],
  ])('lvsadm %j', async (argv, name) => {
    expect(await lvsadm(...argv)).toEqual({ code: 0, out: golden(name), err: '' });
  });

  it('-L --daemon prints nothing: lvsd runs no sync daemon', async () => {
    expect(await lvsadm('-L', '--daemon')).toEqual({ code: 0, out: '', err: '' });
  });

  it('-L -t of a service that does not exist: "No such service", exit 1, as list_service', async () => {
    expect(await lvsadm('-L', '-n', '-t', '10.0.0.100:81')).toEqual({ code: 1, out: '', err: 'No such service\n' });
  });

  it('-L -f picks the firewall-mark service', async () => {
    const r = await lvsadm('-L', '-n', '-f', '1');
    expect(r.out).toBe(golden('list').split('\n').slice(1, 3).concat(golden('list').split('\n').slice(21, 24)).join('\n') + '\n');
  });
});
