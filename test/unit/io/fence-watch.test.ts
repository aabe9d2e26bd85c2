// The fence watcher against real nftables, in a scratch network namespace (never the host's ruleset): a table
// deleted, a chain flushed or a rule added by hand is put back from `nft monitor` events alone; lvsd's own
// re-applies are not "repaired"; with the monitor off, the poll finds it; stop() leaves a removed table removed.
import { execFileSync, spawnSync } from 'node:child_process';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fence } from '../../../src/io/fence';
import { FenceWatch } from '../../../src/io/fence-watch';
import { serviceWith } from '../../helpers/services';

const NS = `tf${process.pid.toString(16).padStart(4, '0').slice(-4)}-fence`;
const TABLE = 'userlvs';
const skip = process.getuid?.() !== 0 ? 'not root (needs a network namespace and nft)'
  : spawnSync('sh', ['-c', 'command -v nft']).status !== 0 ? 'nft is not installed' : null;

const nft = (...args: string[]) => spawnSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' });
const run = (script: string): void => {
  execFileSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
};
const listSync = (table: string): string | null => {
  const r = nft('-s', 'list', 'table', 'netdev', table);
  return r.status === 0 ? r.stdout : null;
};
const list = (table: string): Promise<string | null> => Promise.resolve(listSync(table));
const rules = (): number => (listSync(TABLE) ?? '').split('\n').filter((l) => / drop$/.test(l.trim())).length;

// Services as the daemon's table holds them: :80 alone, then :80 and :443.
const SVC = serviceWith('rr', [1]).table.list();
const SVC2 = serviceWith('rr', [1], serviceWith('rr', [1]).table, { port: 443 }).table.list();

function logs(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await new Promise((r) => setTimeout(r, 20))) if (cond()) return true;
  return cond();
}

describe.skipIf(skip !== null)(skip ? `fence watch (skipped: ${skip})` : 'fence watch (real nft, scratch namespace)', () => {
  beforeAll(() => {
    spawnSync('ip', ['netns', 'add', NS]);
    spawnSync('ip', ['-n', NS, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NS]);
  });

  const watched = (monitor: boolean, pollMs = 60_000) => {
    const fence = new Fence(TABLE, ['d0'], [], run, listSync);
    const { log, lines } = logs();
    const watch = new FenceWatch(fence, log, {
      monitor, pollMs, settleMs: 50, list, monitorCommand: ['ip', 'netns', 'exec', NS, 'nft', 'monitor'],
    });
    return { fence, watch, lines };
  };

  it.each([
    ['the table deleted', ['delete', 'table', 'netdev', TABLE], 'table missing'],
    ['the chain flushed', ['flush', 'chain', 'netdev', TABLE, 'ingress0'], 'table changed'],
    ['a rule added', ['add', 'rule', 'netdev', TABLE, 'ingress0', 'ip', 'daddr', '10.9.9.9', 'accept'], 'table changed'],
    ['the whole ruleset flushed', ['flush', 'ruleset'], 'table missing'],
  ])('%s by hand: put back from the monitor\'s event, with a warning', async (_what, cmd, found) => {
    const { fence, watch, lines } = watched(true);
    try {
      fence.apply(SVC);
      const want = listSync(TABLE);
      expect(rules()).toBe(1);
      watch.start();
      await new Promise((r) => setTimeout(r, 300)); // the monitor is listening
      expect(nft(...cmd).status).toBe(0);
      expect(await until(() => watch.restores === 1)).toBe(true);
      expect(listSync(TABLE)).toBe(want);
      expect(lines.filter((l) => l.level === 40)).toMatchObject([{ table: TABLE, found, msg: 'nftables fence was changed outside lvsd: restored' }]);
    } finally {
      watch.stop();
      fence.remove();
    }
  });

  it("lvsd's own applies are not repaired, and a later hand edit puts back the latest table", async () => {
    const { fence, watch } = watched(true);
    try {
      fence.apply(SVC);
      watch.start();
      await new Promise((r) => setTimeout(r, 300));
      fence.apply(SVC2);
      fence.apply(SVC);
      fence.apply(SVC2);
      await new Promise((r) => setTimeout(r, 500));
      expect(watch.checks).toBeGreaterThan(0); // the events did trigger checks...
      expect(watch.restores).toBe(0); // ...which found the table as applied
      expect(rules()).toBe(2);
      nft('flush', 'chain', 'netdev', TABLE, 'ingress0');
      expect(await until(() => watch.restores === 1)).toBe(true);
      expect(rules()).toBe(2);
    } finally {
      watch.stop();
      fence.remove();
    }
  });

  it('a hand flush between nft -f and the listing after it does not become the reference: the next check restores', async () => {
    let race = true;
    const racing = (table: string): string | null => {
      if (race) nft('flush', 'chain', 'netdev', TABLE, 'ingress0'); // the hand edit lands in that gap
      race = false;
      return listSync(table);
    };
    const fence = new Fence(TABLE, ['d0'], [], run, racing);
    const { log, lines } = logs();
    const watch = new FenceWatch(fence, log, { monitor: false, list });
    try {
      fence.apply(SVC);
      expect(rules()).toBe(0);
      watch.start();
      await watch.check();
      expect(watch.restores).toBe(1);
      expect(rules()).toBe(1);
      expect(lines.filter((l) => l.level === 40)).toMatchObject([{ found: 'table changed' }]);
      await watch.check(); // the restore's own listing is the reference now
      expect(watch.restores).toBe(1);
    } finally {
      watch.stop();
      fence.remove();
    }
  });

  it('a listing that fails is tried again within a second, not at the next poll', async () => {
    const fence = new Fence(TABLE, ['d0'], [], run, listSync);
    const { log, lines } = logs();
    let fails = 1;
    const flaky = (table: string): Promise<string | null> => (fails-- > 0 ? Promise.reject(new Error('Interrupted system call')) : list(table));
    const watch = new FenceWatch(fence, log, { monitor: false, list: flaky });
    try {
      fence.apply(SVC);
      watch.start();
      nft('delete', 'table', 'netdev', TABLE);
      await watch.check();
      expect(watch.restores).toBe(0);
      expect(lines.filter((l) => l.level === 40)).toMatchObject([{ msg: 'cannot list the nftables fence to check it' }]);
      expect(await until(() => watch.restores === 1, 3000)).toBe(true);
      expect(rules()).toBe(1);
    } finally {
      watch.stop();
      fence.remove();
    }
  });

  it('without the monitor, the poll finds and restores a deleted table', async () => {
    const { fence, watch } = watched(false, 100);
    try {
      fence.apply(SVC);
      watch.start();
      nft('delete', 'table', 'netdev', TABLE);
      expect(await until(() => watch.restores === 1)).toBe(true);
      expect(rules()).toBe(1);
    } finally {
      watch.stop();
      fence.remove();
    }
  });

  it('after stop() a removed table stays removed, and the monitor process is gone', async () => {
    const { fence, watch } = watched(true, 50);
    fence.apply(SVC);
    watch.start();
    await new Promise((r) => setTimeout(r, 300));
    const monitors = () => spawnSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(monitors().length).toBe(1);
    watch.stop();
    fence.remove();
    await new Promise((r) => setTimeout(r, 400));
    expect(listSync(TABLE)).toBeNull();
    expect(watch.restores).toBe(0);
    expect(await until(() => monitors().length === 0, 2000)).toBe(true);
  });

  it('a monitor that dies is restarted, and the check it missed runs at once', async () => {
    const { fence, watch, lines } = watched(true);
    try {
      fence.apply(SVC);
      watch.start();
      await new Promise((r) => setTimeout(r, 300));
      const [pid] = spawnSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      nft('delete', 'table', 'netdev', TABLE);
      process.kill(pid, 'SIGKILL'); // may or may not have seen the event: the check on its death covers it
      expect(await until(() => watch.restores === 1)).toBe(true);
      expect(lines.some((l) => l.msg === 'fence monitor stopped; checking by poll until it restarts')).toBe(true);
      expect(await until(() => spawnSync('ip', ['netns', 'pids', NS], { encoding: 'utf8' }).stdout.trim() !== '', 3000)).toBe(true);
      nft('flush', 'chain', 'netdev', TABLE, 'ingress0');
      expect(await until(() => watch.restores === 2)).toBe(true);
    } finally {
      watch.stop();
      fence.remove();
    }
  });
});
