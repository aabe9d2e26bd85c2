// The HealthManager with real checkers on short real timers: a MISC_CHECK program whose exit status comes from a
// state file (each attempt appends a line to a log, so attempts can be counted) and TCP_CHECK / HTTP_GET
// against loopback servers. Verdict changes are acted on inside onChange, between two attempts, so counts are exact.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HealthManager, type HealthManagerOptions, type HealthState } from '../../../src/health/manager';
import type { Checker, CheckerSpec } from '../../../src/health/types';
import { activeCounts, closedPort, processGone, sleep, spec, target, tcpServer, webServer, type WebServer } from './health-helpers';

const dir = mkdtempSync(join(tmpdir(), 'userlvs-mgr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A MISC_CHECK whose exit status is whatever set() wrote last, counting its attempts. */
function scripted(first: number, over: Partial<CheckerSpec> = {}) {
  const id = n++;
  const state = join(dir, `state-${id}`);
  const log = join(dir, `log-${id}`);
  writeFileSync(state, String(first));
  writeFileSync(log, '');
  return {
    spec: spec('MISC_CHECK', { miscPath: ['/bin/sh', '-c', 'echo . >> "$1"; exit $(cat "$2")', 'sh', log, state], miscTimeout: 2, ...over }),
    set: (code: number) => writeFileSync(state, String(code)),
    attempts: () => readFileSync(log, 'utf8').length / 2,
  };
}

interface Change { key: string; up: boolean; reason: string; weight?: number; attempts?: number }

/** A manager recording its changes; `react` runs inside onChange (between attempts). */
function manager(react: (c: Change) => void = () => undefined, over: Partial<HealthManagerOptions> = {}) {
  const changes: Change[] = [];
  const m = new HealthManager({
    onChange: (key, up, reason, weight) => {
      const c: Change = { key, up, reason, ...(weight === undefined ? {} : { weight }) };
      changes.push(c);
      react(c);
    },
    ...over,
  });
  managers.push(m);
  const nth = async (k: number, ms = 3000): Promise<Change> => {
    for (const t0 = Date.now(); changes.length < k; await sleep(5)) if (Date.now() - t0 > ms) throw new Error(`only ${changes.length} changes`);
    return changes[k - 1];
  };
  return { m, changes, nth };
}

const managers: HealthManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

describe('HealthManager', () => {
  it('takes a checker down after retry+1 failed attempts, and up again on the first success', async () => {
    const c = scripted(1, { retry: 2 });
    const seen: number[] = [];
    const { m, nth } = manager((ch) => {
      seen.push(c.attempts());
      if (!ch.up) c.set(0);
    });
    expect(m.add('rs1', target(80), [c.spec])).toMatchObject({ up: true, reason: 'not checked yet' });
    expect(await nth(1)).toEqual({ key: 'rs1', up: false, reason: 'MISC_CHECK: exit 1' });
    expect(seen[0]).toBe(3);
    expect(m.state('rs1')).toMatchObject({ up: false, reason: 'MISC_CHECK: exit 1' });
    expect(await nth(2)).toEqual({ key: 'rs1', up: true, reason: 'MISC_CHECK: exit 0' });
    expect(seen[1]).toBe(4);
  });

  it('spaces retries by delay_before_retry and runs by delay_loop', async () => {
    const c = scripted(1, { retry: 1, delayBeforeRetry: 0.3, delayLoop: 5 });
    const t0 = Date.now();
    const { m, nth } = manager();
    m.add('rs', target(80), [c.spec]);
    await nth(1);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(1500);
    await sleep(300);
    expect(c.attempts()).toBe(2); // the next run is delay_loop (5 s) away
  });

  it('needs fall failed runs to go down and rise good runs to come up', async () => {
    const c = scripted(1);
    const seen: number[] = [];
    const { m, nth } = manager((ch) => {
      seen.push(c.attempts());
      c.set(ch.up ? 1 : 0);
    });
    m.add('rs', target(80), [c.spec], { rise: 3, fall: 2 });
    expect((await nth(1)).up).toBe(false);
    expect((await nth(2)).up).toBe(true);
    expect(seen).toEqual([2, 5]);
  });

  it('alpha: starts down and comes up once the checks pass', async () => {
    const c = scripted(0);
    const seen: number[] = [];
    const { m, nth } = manager(() => seen.push(c.attempts()));
    expect(m.add('rs', target(80), [c.spec], { alpha: true })).toMatchObject({ up: false });
    expect(m.state('rs')?.up).toBe(false);
    expect(await nth(1)).toEqual({ key: 'rs', up: true, reason: 'MISC_CHECK: exit 0' });
    expect(seen).toEqual([1]);
  });

  it('alpha with rise 2 needs two good runs in a row; a failure in between starts the count over', async () => {
    const log = join(dir, 'rise-log');
    writeFileSync(log, '');
    // good, bad, good, good: up after the 4th attempt
    const failSecond = ['/bin/sh', '-c', 'echo . >> "$1"; [ "$(wc -c < "$1")" -eq 4 ] && exit 1; exit 0', 'sh', log];
    const seen: number[] = [];
    const { m, nth } = manager(() => seen.push(readFileSync(log, 'utf8').length / 2));
    m.add('rs', target(80), [spec('MISC_CHECK', { miscPath: failSecond, miscTimeout: 2 })], { alpha: true, rise: 2 });
    expect(await nth(1)).toEqual({ key: 'rs', up: true, reason: 'MISC_CHECK: exit 0' });
    expect(seen).toEqual([4]);
  });

  it('a real server with two checkers is down while either is down', async () => {
    const misc = scripted(0);
    const srv = await tcpServer();
    const port = srv.port;
    let tcp = srv;
    const { m, nth, changes } = manager();
    m.add('rs', target(port), [misc.spec, spec('TCP_CHECK', { connectTimeout: 0.5 })]);
    for (; m.checkers('rs')!.some((c) => c.lastCheck === 0); await sleep(5));
    expect(m.state('rs')?.up).toBe(true);

    await tcp.close();
    expect(await nth(1)).toEqual({ key: 'rs', up: false, reason: 'TCP_CHECK: connect ECONNREFUSED' });
    misc.set(1); // now both fail
    for (; m.checkers('rs')![0].up; await sleep(5));
    tcp = await tcpServer(port); // TCP recovers, MISC still failing
    for (; !m.checkers('rs')![1].up; await sleep(5));
    expect(changes).toHaveLength(1);
    expect(m.state('rs')).toMatchObject({ up: false, reason: 'MISC_CHECK: exit 1' });
    misc.set(0);
    expect(await nth(2)).toEqual({ key: 'rs', up: true, reason: 'MISC_CHECK: exit 0' });
    await tcp.close();
  });

  it('reports a misc_dynamic weight while up, and with the verdict', async () => {
    const c = scripted(5, { miscDynamic: true });
    const { m, nth } = manager((ch) => {
      if (ch.weight === 3) c.set(1);
      if (!ch.up) c.set(12);
    });
    m.add('rs', target(80), [c.spec]);
    expect(await nth(1)).toEqual({ key: 'rs', up: true, reason: 'MISC_CHECK: exit 5, weight 3', weight: 3 });
    expect(await nth(2)).toEqual({ key: 'rs', up: false, reason: 'MISC_CHECK: exit 1', weight: 3 });
    expect(await nth(3)).toEqual({ key: 'rs', up: true, reason: 'MISC_CHECK: exit 12, weight 10', weight: 10 });
    expect(m.state('rs')).toMatchObject({ up: true, weight: 10 });
  });

  it('a hanging check blocks no other loop, and stop() aborts it leaving no timer, socket or process', async () => {
    const before = activeCounts();
    const web: WebServer = await webServer();
    const pidFile = join(dir, 'stop-pid');
    const c = scripted(1);
    const { m, nth } = manager(undefined, { unrefTimers: false });
    m.add('hang', target(web.port), [spec('HTTP_GET', { urls: [{ path: '/hang' }], connectTimeout: 10 })]);
    m.add('slow', target(80), [spec('MISC_CHECK', { miscPath: ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], miscTimeout: 10 })]);
    m.add('tcp', target(await closedPort()), [spec('TCP_CHECK', { delayLoop: 5 })], { alpha: true });
    m.add('flap', target(80), [c.spec]);
    expect(await nth(1)).toMatchObject({ key: 'flap', up: false }); // while the others hang
    for (; web.hanging === 0 || !existsSync(pidFile) || !readFileSync(pidFile, 'utf8').endsWith('\n'); await sleep(5));
    const during = activeCounts();
    expect(during.Timeout ?? 0).toBeGreaterThan(before.Timeout ?? 0);
    expect(during.ProcessWrap ?? 0).toBeGreaterThan(before.ProcessWrap ?? 0);

    const t0 = Date.now();
    await m.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(processGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
    expect(m.states().size).toBe(0);
    await web.close();
    await expect.poll(() => activeCounts(), { timeout: 1000 }).toEqual(before);
  });

  it('remove() stops one server\'s loops only', async () => {
    const a = scripted(0);
    const b = scripted(0);
    const { m } = manager();
    m.add('a', target(80), [a.spec]);
    m.add('b', target(80), [b.spec]);
    await sleep(150);
    await m.remove('a');
    expect(m.state('a')).toBeUndefined();
    const na = a.attempts();
    const nb = b.attempts();
    await sleep(300);
    expect(a.attempts()).toBe(na);
    expect(b.attempts()).toBeGreaterThan(nb);
  });

  it('add() replaces a server under the same key; no checker means always up; an unknown kind is refused', () => {
    const { m } = manager();
    const c = scripted(0);
    expect(m.add('rs', target(80), [c.spec], { alpha: true }).up).toBe(false);
    expect(m.add('rs', target(80), [])).toMatchObject({ up: true, reason: 'no checker' });
    expect(m.add('alpha-none', target(80), [], { alpha: true }).up).toBe(true);
    expect(() => m.add('vp', target(80), [spec('VIP_PATH')])).toThrow('no health checker for VIP_PATH');
    expect([...m.states().keys()].sort()).toEqual(['alpha-none', 'rs']);
  });

  it('uses the checkers it is given (the daemon\'s VIP_PATH), survives one that throws, and stamps since with its clock', async () => {
    let clock = 1000;
    const calls: string[] = [];
    const vipPath: Checker = {
      kind: 'VIP_PATH',
      check: async () => {
        calls.push('vip');
        throw new Error('broken');
      },
    };
    const { m, nth } = manager(undefined, { checkers: [vipPath], now: () => clock });
    expect(m.add('rs', target(80), [spec('VIP_PATH')])).toEqual<HealthState>({ up: true, reason: 'not checked yet', since: 1000 });
    clock = 2000;
    expect(await nth(1)).toEqual({ key: 'rs', up: false, reason: 'VIP_PATH: checker threw: broken' });
    expect(m.state('rs')?.since).toBe(2000);
    expect(m.checkers('rs')).toEqual([{ kind: 'VIP_PATH', up: false, reason: 'checker threw: broken', retrying: 0, lastCheck: 2000 }]);
    expect(calls.length).toBeGreaterThan(0);
  });

  it('keeps going when onChange throws', async () => {
    const c = scripted(1);
    const { m, nth } = manager((ch) => {
      c.set(ch.up ? 1 : 0);
      throw new Error('table edit failed');
    });
    m.add('rs', target(80), [c.spec]);
    expect((await nth(1)).up).toBe(false);
    expect((await nth(2)).up).toBe(true);
  });
});
