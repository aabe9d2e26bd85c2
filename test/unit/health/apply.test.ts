// What verdicts do to the live table (health/apply.ts), with a checker the test controls: removal, inhibit at
// weight 0, return with the configured (or misc_dynamic) weight, the sorry server while the quorum is lost,
// and the notify programs, which run as argument vectors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKeepalivedText } from '../../../src/control/keepalived';
import { ServiceControl } from '../../../src/control/service-control';
import { HealthControl } from '../../../src/health/apply';
import type { Checker, CheckResult } from '../../../src/health/types';
import { createLogger } from '../../../src/log';
import { assemble, type Assembly } from '../../helpers/assembly';

/** TCP_CHECK replaced by a verdict per real server address that the test sets. */
class Switchboard implements Checker {
  readonly kind = 'TCP_CHECK' as const;
  readonly verdicts = new Map<string, CheckResult>();
  async check(t: { ip: string }): Promise<CheckResult> {
    return this.verdicts.get(t.ip) ?? { ok: true, reason: 'ok' };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'health-apply-'));
let health: HealthControl | null = null;
afterEach(async () => {
  await health?.stop();
  health = null;
});

function setup(extra: string, rsExtra = ''): { a: Assembly; sw: Switchboard; dests: () => string[] } {
  const conf = parseKeepalivedText(`virtual_server 10.0.0.100 80 {
    delay_loop 0.05
    lb_algo rr
    lb_kind DR
    protocol TCP
${extra}
    real_server 10.0.0.11 80 {
        weight 2
${rsExtra}
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
    real_server 10.0.0.12 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`, 'test.conf');
  const a = assemble({ weights: [2, 1] });
  const ctl = new ServiceControl({
    services: a.services, conns: a.conns, release: (c) => a.pipeline.release(c), timeouts: a.pipeline.timeouts,
    now: () => a.clock.now, prepareDest: () => undefined, changed: () => undefined,
  });
  const sw = new Switchboard();
  health = new HealthControl(ctl, a.services, createLogger('silent'), [sw]);
  health.load(conf.services);
  const dests = () => a.services.list()[0].dests.map((d) => `${d.addr >>> 24}.${(d.addr >>> 16) & 255}.${(d.addr >>> 8) & 255}.${d.addr & 255}:${d.weight}`).sort();
  return { a, sw, dests };
}

const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(what()).toBe(true);
};

describe('health verdicts on the table', () => {
  it('a failed RS leaves the table and comes back with its weight', async () => {
    const { sw, dests } = setup('');
    sw.verdicts.set('10.0.0.11', { ok: false, reason: 'connect ECONNREFUSED' });
    await until(() => dests().join() === '10.0.0.12:1');
    sw.verdicts.delete('10.0.0.11');
    await until(() => dests().join() === '10.0.0.11:2,10.0.0.12:1');
  });

  it('inhibit_on_failure keeps it at weight 0, and health.stateOf says why', async () => {
    const { a, sw, dests } = setup('    inhibit_on_failure');
    sw.verdicts.set('10.0.0.11', { ok: false, reason: 'connect ECONNREFUSED' });
    await until(() => dests().join() === '10.0.0.11:0,10.0.0.12:1');
    const s = a.services.list()[0];
    expect(health!.stateOf(s.vip, 80, 6, 0x0a00000b, 80)).toEqual({ up: false, reason: 'TCP_CHECK: connect ECONNREFUSED' });
  });

  it('the sorry server takes the service while no RS is up, and leaves when one is back', async () => {
    const { sw, dests } = setup('    sorry_server 10.0.0.99 80');
    sw.verdicts.set('10.0.0.11', { ok: false, reason: 'down' });
    sw.verdicts.set('10.0.0.12', { ok: false, reason: 'down' });
    await until(() => dests().join() === '10.0.0.99:1');
    sw.verdicts.delete('10.0.0.12');
    await until(() => dests().join() === '10.0.0.12:1');
  });

  it('quorum 3 with hysteresis 0: losing the weight-2 RS loses the quorum (1 < 3): the sorry server serves', async () => {
    const { sw, dests } = setup('    quorum 3\n    sorry_server 10.0.0.99 80');
    expect(dests().join()).toBe('10.0.0.11:2,10.0.0.12:1');
    sw.verdicts.set('10.0.0.11', { ok: false, reason: 'down' });
    await until(() => dests().join() === '10.0.0.99:1');
    sw.verdicts.delete('10.0.0.11');
    await until(() => dests().join() === '10.0.0.11:2,10.0.0.12:1');
  });

  it('notify_down and notify_up run as argument vectors (no shell)', async () => {
    const log = join(dir, 'notify.log');
    const { sw } = setup('', `        notify_down "/bin/sh -c 'echo down \\"$0\\" >> ${log}' 'a;b c'"\n        notify_up "/bin/sh -c 'echo up >> ${log}'"`);
    sw.verdicts.set('10.0.0.11', { ok: false, reason: 'down' });
    await until(() => { try { return readFileSync(log, 'utf8').includes('down'); } catch { return false; } });
    sw.verdicts.delete('10.0.0.11');
    await until(() => readFileSync(log, 'utf8').includes('up'));
    // The argument with ';' and a space reached the program as one word: no shell split it.
    expect(readFileSync(log, 'utf8')).toContain('down a;b c');
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
