// Receive aggregation: which features `ethtool -k` shows on, and what off/restore ask ethtool to do.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregationOn, ledgerPath, RxAggregation } from '../../../src/io/rx-aggregation';

const features = (gro: string, lro: string, hw: string): string => [
  'Features for eth0:',
  'rx-checksumming: on',
  'tcp-segmentation-offload: on',
  '\ttx-tcp-segmentation: on',
  'generic-segmentation-offload: on',
  `generic-receive-offload: ${gro}`,
  `large-receive-offload: ${lro}`,
  'rx-vlan-offload: on',
  `rx-gro-hw: ${hw}`,
  'rx-gro-list: off',
  'rx-udp-gro-forwarding: off',
  '',
].join('\n');

describe('aggregationOn', () => {
  it.each([
    ['a veth as created (GRO off)', features('off', 'off [fixed]', 'off [fixed]'), []],
    ['a NIC with GRO on', features('on', 'off [fixed]', 'off [fixed]'), ['gro']],
    ['a NIC with GRO, LRO and hardware GRO on', features('on', 'on', 'on'), ['gro', 'lro', 'rx-gro-hw']],
    ['fixed features cannot be switched: left out', features('on [fixed]', 'on [fixed]', 'on'), ['rx-gro-hw']],
    ['segmentation offloads (what this host sends) are not touched', 'tcp-segmentation-offload: on\ngeneric-segmentation-offload: on\n', []],
    ['garbage', 'ethtool: bad command line\n', []],
  ])('%s', (_what, text, want) => {
    expect(aggregationOn(text)).toEqual(want);
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v ethtool']).status !== 0)('reads real ethtool -k output (lo: GRO on and changeable)', () => {
    const out = spawnSync('ethtool', ['-k', 'lo'], { encoding: 'utf8' }).stdout;
    const gro = /^generic-receive-offload: (on|off)( \[fixed\])?$/m.exec(out);
    expect(gro).not.toBeNull();
    expect(aggregationOn(out).includes('gro')).toBe(gro![1] === 'on' && gro![2] === undefined);
  });
});

describe('RxAggregation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rx-aggregation-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fake(k: string, fail: Record<string, Error> = {}, ledger: string | null = null) {
    const calls: string[][] = [];
    const logs: string[] = [];
    const run = (args: string[]): string => {
      calls.push(args);
      const e = fail[args[0]];
      if (e) throw e;
      return args[0] === '-k' ? k : '';
    };
    const agg = new RxAggregation('eth0', (m) => logs.push(`warn ${m}`), (m) => logs.push(`info ${m}`), run, ledger);
    return { agg, calls, logs };
  }

  it('switches off what is on, and restore switches exactly that back on', () => {
    const { agg, calls, logs } = fake(features('on', 'on', 'off [fixed]'));
    agg.off();
    agg.restore();
    expect(calls).toEqual([['-k', 'eth0'], ['-K', 'eth0', 'gro', 'off', 'lro', 'off'], ['-K', 'eth0', 'gro', 'on', 'lro', 'on']]);
    expect(logs[0]).toMatch(/^info capture on eth0: receive aggregation off while capturing \(gro, lro; restored at stop\)/);
    expect(logs[1]).toBe('info capture on eth0: receive aggregation restored (gro, lro on)');
  });

  it('nothing on: asks, changes nothing, restores nothing', () => {
    const { agg, calls, logs } = fake(features('off', 'off [fixed]', 'off [fixed]'));
    agg.off();
    agg.restore();
    expect(calls).toEqual([['-k', 'eth0']]);
    expect(logs).toEqual([]);
  });

  it('a failing ethtool is warned once per distinct error, and nothing is restored', () => {
    const err = Object.assign(new Error('spawn ethtool ENOENT'), { code: 'ENOENT' });
    const { agg, calls, logs } = fake(features('on', 'off', 'off'), { '-k': err });
    agg.off();
    agg.off();
    agg.restore();
    expect(calls).toHaveLength(2);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^warn capture on eth0: cannot switch receive aggregation \(GRO\/LRO\) off: ethtool is not installed;/);
  });

  it('writes down what it switched off, and forgets it once restored', () => {
    const ledger = ledgerPath('eth0', dir);
    const { agg } = fake(features('on', 'off', 'off [fixed]'), {}, ledger);
    agg.off();
    expect(JSON.parse(readFileSync(ledger, 'utf8'))).toEqual({ pid: process.pid, features: ['gro'] });
    agg.restore();
    expect(existsSync(ledger)).toBe(false);
  });

  it("restores at stop what a process that is gone (SIGKILLed) switched off, though it finds it off", () => {
    const ledger = ledgerPath('eth0', dir);
    const dead = spawnSync('true').pid!; // exited: its pid names no process now
    writeFileSync(ledger, JSON.stringify({ pid: dead, features: ['gro', 'lro'] }));
    const { agg, calls, logs } = fake(features('off', 'off', 'off [fixed]'), {}, ledger);
    agg.off();
    expect(logs[0]).toBe(`info capture on eth0: receive aggregation (gro, lro) was switched off by process ${dead}, which is gone: restored at stop`);
    expect(JSON.parse(readFileSync(ledger, 'utf8'))).toEqual({ pid: process.pid, features: ['gro', 'lro'] });
    agg.restore();
    expect(calls).toEqual([['-k', 'eth0'], ['-K', 'eth0', 'gro', 'on', 'lro', 'on']]);
    expect(existsSync(ledger)).toBe(false);
  });

  it("leaves alone what a process that still runs switched off (another worker's, or another lvsd's)", () => {
    const ledger = ledgerPath('eth0', dir);
    writeFileSync(ledger, JSON.stringify({ pid: 1, features: ['gro'] }));
    const { agg, calls } = fake(features('off', 'off', 'off [fixed]'), {}, ledger);
    agg.off();
    agg.restore();
    expect(calls).toEqual([['-k', 'eth0']]);
    expect(existsSync(ledger)).toBe(true);
  });

  it('names the ledger by network namespace and interface', () => {
    expect(ledgerPath('eth0', '/run/x')).toMatch(/^\/run\/x\/rx-aggregation\.\d+\.eth0\.json$/);
  });
});
