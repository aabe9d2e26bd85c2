// lvsd refuses clearly, and leaves nothing behind, when it cannot work.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labUnavailable, ROOT, uniquePrefix } from './lab';

const LVSD = join(ROOT, 'dist', 'cli', 'lvsd.js');
const skip = labUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'lvsd-refusals-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o644 });
  return p;
}

const run = (args: string[], prefix: string[] = []) => {
  const r = spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), LVSD, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, err: r.stderr };
};

describe.skipIf(skip !== null)(skip ? `lvsd refusals (skipped: ${skip})` : 'lvsd refusals', () => {
  it('refuses a bad config with file, line and field, exit 2', () => {
    const p = config('bad.yaml', 'interface: eth0\nservices:\n  - { vip: 10.0.0.1, port: 99999 }\n');
    const r = run(['--config', p, '--socket', join(dir, 's1.sock')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${p}:3: services[0].port: must be an integer 1..65535, got 99999`);
  });

  it('--check validates and exits without starting', () => {
    const p = config('ok.yaml', 'interface: eth0\nservices: []\n');
    const r = spawnSync(process.execPath, [LVSD, '--config', p, '--check'], { encoding: 'utf8' });
    expect([r.status, r.stdout.trim()]).toEqual([0, `${p}: OK (0 services)`]);
  });

  it('refuses to start when not root', () => {
    const p = config('ok2.yaml', 'interface: lo\nservices: []\n');
    const r = run(['--config', p, '--socket', join(dir, 's2.sock')], ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('lvsd: must run as root');
  });

  describe('in a scratch namespace', () => {
    const ns = `${uniquePrefix('tz')}x`;
    spawnSync('ip', ['netns', 'add', ns]);
    spawnSync('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    afterAll(() => spawnSync('ip', ['netns', 'del', ns]));
    const inNs = (args: string[]) => {
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, LVSD, ...args], { encoding: 'utf8', timeout: 20_000 });
      return { code: r.status, err: r.stderr };
    };

    it('refuses a missing interface by name', () => {
      const sock = join(dir, 's3.sock');
      const r = inNs(['--config', config('nosuch.yaml', 'interface: nosuch0\nservices: []\n'), '--socket', sock]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('lvsd: interface nosuch0 does not exist');
      expect(existsSync(sock)).toBe(false);
    });

    it("refuses when libpcap cannot open the interface, with libpcap's reason, and removes its fence", () => {
      const sock = join(dir, 's4.sock');
      const p = config('down.yaml', 'interface: d0\nservices:\n  - { vip: 10.9.0.1, port: 80, scheduler: rr }\n');
      const r = inNs(['--config', p, '--socket', sock]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('lvsd: d0: That device is not up');
      expect(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout).not.toContain('userlvs');
      expect(existsSync(sock)).toBe(false);
    });
  });
});
