// MISC_CHECK with real programs: exit statuses (plain and misc_dynamic), the argument vector reaching the
// program verbatim (no shell), the timeout killing the program's whole process group, and abort.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChecker } from '../../../src/health/index';
import { miscCheck, miscVerdict } from '../../../src/health/misc-check';
import type { CheckerSpec } from '../../../src/health/types';
import { processGone, sleep, spec, target } from './health-helpers';

const dir = mkdtempSync(join(tmpdir(), 'userlvs-misc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (miscPath: string[], over: Partial<CheckerSpec> = {}, signal = new AbortController().signal) =>
  miscCheck.check(target(80), spec('MISC_CHECK', { miscPath, ...over }), signal);

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  for (const t0 = Date.now(); !cond(); await sleep(10)) if (Date.now() - t0 > ms) throw new Error('condition not met in time');
}

describe('MISC_CHECK', () => {
  it('is registered under keepalived\'s name', () => {
    expect(findChecker('MISC_CHECK')).toBe(miscCheck);
  });

  it.each<[string, string[], boolean, { ok: boolean; reason: string; weight?: number }]>([
    ['/bin/true is up', ['/bin/true'], false, { ok: true, reason: 'exit 0' }],
    ['/bin/false is down', ['/bin/false'], false, { ok: false, reason: 'exit 1' }],
    ['exit 5 is down without misc_dynamic', ['/bin/sh', '-c', 'exit 5'], false, { ok: false, reason: 'exit 5' }],
    ['exit 5 with misc_dynamic is up with weight 3', ['/bin/sh', '-c', 'exit 5'], true, { ok: true, reason: 'exit 5, weight 3', weight: 3 }],
    ['exit 1 with misc_dynamic is down', ['/bin/sh', '-c', 'exit 1'], true, { ok: false, reason: 'exit 1' }],
    ['exit 0 with misc_dynamic is up, weight unchanged', ['/bin/true'], true, { ok: true, reason: 'exit 0' }],
    ['exit 2 with misc_dynamic is up with weight 0', ['/bin/sh', '-c', 'exit 2'], true, { ok: true, reason: 'exit 2, weight 0', weight: 0 }],
    ['death by a signal is down', ['/bin/sh', '-c', 'kill -TERM $$'], false, { ok: false, reason: 'killed by SIGTERM' }],
  ])('%s', async (_name, argv, miscDynamic, want) => {
    expect(await run(argv, { miscDynamic })).toEqual(want);
  });

  it('is down with the errno when the program does not exist, and without misc_path', async () => {
    expect(await run(['/nonexistent/userlvs-check'])).toEqual({ ok: false, reason: 'spawn /nonexistent/userlvs-check ENOENT' });
    expect(await run([])).toEqual({ ok: false, reason: 'no misc_path' });
  });

  it('passes the arguments as a vector: spaces, ; and $() reach the program verbatim (no shell)', async () => {
    const out = join(dir, 'argv.json');
    const args = ['a b', 'x; touch /tmp/userlvs-pwned', '$(id)', '*', "'q'"];
    const script = "require('fs').writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))";
    expect(await run([process.execPath, '-e', script, out, ...args], { miscTimeout: 5 })).toEqual({ ok: true, reason: 'exit 0' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(args);
    expect(existsSync('/tmp/userlvs-pwned')).toBe(false);
  });

  it('kills the whole process group after misc_timeout, and settles once the program is gone', async () => {
    const pids = join(dir, 'pids');
    const t0 = Date.now();
    const r = await run(['/bin/sh', '-c', `sleep 30 & echo $! > ${pids}; echo $$ >> ${pids}; wait`], { miscTimeout: 0.4 });
    const took = Date.now() - t0;
    expect(r).toEqual({ ok: false, reason: 'timeout after 0.4 s' });
    expect(took).toBeLessThan(1500);
    const [sleeper, shell] = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(processGone(shell)).toBe(true);
    await waitFor(() => processGone(sleeper), 1000); // the orphan is reaped by init, not by us
  });

  it('times out at delay_loop when misc_timeout is not set', async () => {
    const r = await run(['/bin/sleep', '5'], { delayLoop: 0.2 });
    expect(r).toEqual({ ok: false, reason: 'timeout after 0.2 s' });
  });

  it('kills the program on abort', async () => {
    const pids = join(dir, 'pid-abort');
    const ac = new AbortController();
    const p = run(['/bin/sh', '-c', `echo $$ > ${pids}; exec sleep 30`], { miscTimeout: 10 }, ac.signal);
    await waitFor(() => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'));
    ac.abort();
    expect(await p).toEqual({ ok: false, reason: 'aborted' });
    expect(processGone(Number(readFileSync(pids, 'utf8')))).toBe(true);
  });

  it.each<[number | null, NodeJS.Signals | null, boolean, boolean, number | undefined]>([
    [0, null, false, true, undefined],
    [0, null, true, true, undefined],
    [1, null, true, false, undefined],
    [2, null, true, true, 0],
    [255, null, true, true, 253],
    [255, null, false, false, undefined],
    [null, 'SIGKILL', true, false, undefined],
  ])('keepalived\'s mapping: exit %s signal %s dynamic %s -> ok %s weight %s', (code, sig, dyn, ok, weight) => {
    const v = miscVerdict(code, sig, dyn);
    expect(v.ok).toBe(ok);
    expect(v.weight).toBe(weight);
  });
});
