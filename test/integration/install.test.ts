// scripts/install and scripts/uninstall, staged with --root into a temporary directory: nothing on this box
// changes. The installed copy must run on its own (native addons included), the units must pass
// systemd-analyze, a second install must keep the admin's config, and the installed save/restore helpers
// must carry a live table across an lvsd restart.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labUnavailable, ROOT, uniquePrefix } from './lab';

const INSTALL = join(ROOT, 'scripts', 'install');
const UNINSTALL = join(ROOT, 'scripts', 'uninstall');
const UNITS = ['lvsd.service', 'lvsd-save.service', 'lvsd-save.timer'];
const PREFIX = '/opt/userlvs-test'; // not the default: uninstall must find it from the links

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (scripts/install installs root-owned files; run the suite as root)';
  for (const f of ['dist/cli/lvsd.js', 'dist/cli/lvsadm.js', 'dist/lvs-decap', 'node_modules/pcap']) {
    if (!existsSync(join(ROOT, f))) return `${f} is missing (run scripts/setup)`;
  }
  return null;
}
const skip = unavailable();

const tmp = mkdtempSync(join(tmpdir(), 'lvs-install-'));
const dir = join(tmp, 'root'); // the staging root: DIR/etc, DIR/usr/local, DIR/opt/...
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const at = (p: string): string => join(dir, p);
const run = (cmd: string, args: string[], timeout = 120_000) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/**
 * Every path under DIR with its kind and, for files and links, size, mode or target: a tree to compare. The
 * prefix counts as its top-level names only (it is a fresh copy of the checkout's build each time).
 */
function tree(base: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      const rel = relative(base, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) { out.push(`${rel}/`); if (relative(at(PREFIX), p).startsWith('..')) walk(p); else out.push(...readdirSync(p).sort()); }
      else out.push(`${rel} ${st.size} ${(st.mode & 0o7777).toString(8)}`);
    }
  };
  walk(base);
  return out;
}

describe.skipIf(skip !== null)(skip ? `scripts/install (skipped: ${skip})` : 'scripts/install --root', () => {
  let first = '';

  it('installs the program, links, config, defaults and units under the root', () => {
    const r = run(INSTALL, ['--root', dir, '--prefix', PREFIX]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    first = r.out;
    expect(r.out).toContain('--root: systemctl not run');
    for (const u of UNITS) {
      expect(readFileSync(at(`etc/systemd/system/${u}`), 'utf8')).toBe(readFileSync(join(ROOT, 'packaging', 'systemd', u), 'utf8'));
    }
    expect(readFileSync(at('etc/default/lvsd'), 'utf8')).toBe(readFileSync(join(ROOT, 'packaging', 'default', 'lvsd'), 'utf8'));
    expect(readFileSync(at('etc/lvsd/lvsd.yaml'), 'utf8')).toBe(readFileSync(join(ROOT, 'packaging', 'etc-lvsd', 'lvsd.yaml'), 'utf8'));
    const p = at(PREFIX);
    expect(readFileSync(join(p, '.userlvs-install'), 'utf8')).toMatch(/^userlvs \d+\.\d+\.\d+ /);
    // Production dependencies only, native addons included, root-owned and not writable by others.
    expect(existsSync(join(p, 'node_modules', 'pcap', 'build', 'Release', 'pcap_binding.node'))).toBe(true);
    expect(existsSync(join(p, 'node_modules', 'raw-socket', 'build', 'Release', 'raw.node'))).toBe(true);
    // io: ring's addon, where ring-addon.ts looks for it from the installed dist/.
    expect(existsSync(join(p, 'native', 'packet-ring', 'build', 'Release', 'packet_ring.node'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'eslint']) expect(existsSync(join(p, 'node_modules', dev))).toBe(false);
    for (const f of ['bin/lvsd', 'dist/cli/lvsd.js', 'libexec/lvsd-save-rules', 'node_modules/pcap/package.json']) {
      const st = statSync(join(p, f));
      expect([f, st.uid, st.mode & 0o022]).toEqual([f, 0, 0]);
    }
  });

  it('links /usr/local/bin and /usr/local/sbin into the prefix with relative links', () => {
    const links: [string, string][] = [
      ['usr/local/bin/lvsd', 'bin/lvsd'], ['usr/local/bin/lvsadm', 'bin/lvsadm'], ['usr/local/bin/lvs-decap', 'bin/lvs-decap'],
      ['usr/local/sbin/lvsd-save-rules', 'libexec/lvsd-save-rules'], ['usr/local/sbin/lvsd-restore-rules', 'libexec/lvsd-restore-rules'],
    ];
    for (const [link, target] of links) {
      expect(readlinkSync(at(link)).startsWith('/')).toBe(false);
      expect(realpathSync(at(link))).toBe(realpathSync(join(at(PREFIX), target)));
    }
  });

  it('runs from the copied prefix: lvsd validates the installed config, lvsadm and lvs-decap start', () => {
    const cfg = at('etc/lvsd/lvsd.yaml');
    const r = run(at('usr/local/bin/lvsd'), ['--config', cfg, '--check']);
    expect([r.code, r.out.trim(), r.err]).toEqual([0, `${cfg}: OK (0 services)`, '']);
    expect(run(at('usr/local/bin/lvsadm'), ['--version']).out).toMatch(/^lvsadm v\d/);
    const d = run(at('usr/local/bin/lvs-decap'), ['--help']);
    expect([d.code, d.out]).toEqual([0, expect.stringContaining('usage: lvs-decap')]);
    // The installed dist/ finds the installed ring addon (io: ring), not the checkout's.
    const ring = run(process.execPath, ['-e', `const a = require(${JSON.stringify(join(at(PREFIX), 'dist', 'io', 'ring-addon.js'))}).ringAddon(); console.log(typeof a.ringOpen)`]);
    expect([ring.code, ring.out.trim(), ring.err]).toEqual([0, 'function', '']);
  });

  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
  it.skipIf(!analyze)(analyze ? 'the units pass systemd-analyze verify' : 'the units pass systemd-analyze verify (skipped: systemd-analyze is not installed)', () => {
    // verify checks that each Exec path is an executable: point them at the staged /usr/local.
    const vdir = join(tmp, 'verify');
    mkdirSync(vdir, { recursive: true });
    for (const u of UNITS) {
      writeFileSync(join(vdir, u), readFileSync(at(`etc/systemd/system/${u}`), 'utf8').replaceAll('/usr/local/', `${at('usr/local')}/`));
    }
    const r = run('systemd-analyze', ['verify', '--man=no', ...UNITS.map((u) => join(vdir, u))]);
    expect([r.code, r.err.trim()]).toEqual([0, '']);
  });

  it('a second install changes nothing it should keep: the admin config, /etc/default/lvsd, links, units', () => {
    const cfg = at('etc/lvsd/lvsd.yaml');
    appendFileSync(cfg, '# edited by the admin\n');
    appendFileSync(at('etc/default/lvsd'), 'LVSD_LOG_LEVEL=debug\n');
    const cfgBefore = readFileSync(cfg, 'utf8');
    const defBefore = readFileSync(at('etc/default/lvsd'), 'utf8');
    const before = tree(dir);
    const r = run(INSTALL, ['--root', dir, '--prefix', PREFIX]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain('kept /etc/lvsd/lvsd.yaml (exists');
    expect(r.out).toContain('kept /etc/default/lvsd (exists)');
    expect(r.out).toContain(`replaced ${PREFIX}`);
    expect(r.out.match(/\(unchanged\)/g)?.length).toBe(5 + UNITS.length);
    expect(first).not.toContain('(unchanged)');
    expect(readFileSync(cfg, 'utf8')).toBe(cfgBefore);
    expect(readFileSync(at('etc/default/lvsd'), 'utf8')).toBe(defBefore);
    expect(tree(dir)).toEqual(before);
  });

  it('refuses a shared prefix, a directory that is not an install, and a file where a link goes', () => {
    const usr = run(INSTALL, ['--root', dir, '--prefix', '/usr/local']);
    expect([usr.code, usr.err]).toEqual([2, expect.stringContaining('shared system directory')]);
    const other = at('srv/other');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'keep'), 'mine\n');
    const r = run(INSTALL, ['--root', dir, '--prefix', '/srv/other']);
    expect([r.code, r.err]).toEqual([1, expect.stringContaining('is not a userlvs install')]);
    expect(readdirSync(other)).toEqual(['keep']);
    const dir2 = join(tmp, 'root2');
    mkdirSync(join(dir2, 'usr', 'local', 'bin'), { recursive: true });
    writeFileSync(join(dir2, 'usr', 'local', 'bin', 'lvsadm'), '#!/bin/sh\n', { mode: 0o755 });
    const f = run(INSTALL, ['--root', dir2]);
    expect([f.code, f.err]).toEqual([1, expect.stringContaining('/usr/local/bin/lvsadm exists and is not a link')]);
    expect(readFileSync(join(dir2, 'usr', 'local', 'bin', 'lvsadm'), 'utf8')).toBe('#!/bin/sh\n');
  });

  const lab = labUnavailable();
  describe.skipIf(lab !== null)(lab ? `the saved table across a restart (skipped: ${lab})` : 'the saved table across a restart', () => {
    // The installed lvsd in a scratch namespace (a veth pair); the helpers run as lvsd.service runs them.
    const ns = `${uniquePrefix('inst')}x`;
    const sock = join(tmp, 'lvsd.sock');
    const rules = join(tmp, 'rules');
    const cfg = join(tmp, 'lvsd.yaml');
    let lvsd: ChildProcess | null = null;
    const adm = (...args: string[]) => run(at('usr/local/bin/lvsadm'), ['--socket', sock, ...args]);
    const save = () => run(at('usr/local/sbin/lvsd-save-rules'), ['--socket', sock, '--rules', rules]);
    const restore = (env: Record<string, string> = {}) => {
      const r = spawnSync(at('usr/local/sbin/lvsd-restore-rules'), ['--socket', sock, '--rules', rules, '--config', cfg, '--wait', '30'],
        { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LVSD_RESTORE: 'auto', LVSD_OPTS: '', ...env } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const start = (): void => {
      lvsd = spawn('ip', ['netns', 'exec', ns, at('usr/local/bin/lvsd'), '--config', cfg, '--socket', sock], { stdio: 'ignore' });
    };
    const stop = async (): Promise<void> => {
      const p = lvsd;
      lvsd = null;
      if (!p || p.exitCode !== null) return;
      const done = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      await done;
    };
    afterAll(async () => {
      await stop();
      spawnSync('ip', ['netns', 'del', ns]);
    });

    it('restores nothing at the first start, saves live edits once, and refuses to save without lvsd', async () => {
      for (const c of [['netns', 'add', ns], ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'],
        ['-n', ns, 'link', 'set', 'd0', 'up'], ['-n', ns, 'link', 'set', 'd1', 'up'], ['-n', ns, 'link', 'set', 'lo', 'up']]) {
        expect(run('ip', c).code).toBe(0);
      }
      writeFileSync(cfg, 'interface: d0\nservices:\n  - { vip: 10.9.0.1, port: 80, scheduler: rr, reals: [ { ip: 10.9.0.11 } ] }\n');
      utimesSync(cfg, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
      start();
      const first = restore();
      expect([first.code, first.err]).toEqual([0, '']);
      expect(first.out).toContain(`no saved table in ${rules}`);
      expect(adm('-A', '-t', '10.9.0.2:443', '-s', 'wlc').code).toBe(0);
      expect(adm('-a', '-t', '10.9.0.2:443', '-r', '10.9.0.12', '-i', '-w', '3').code).toBe(0);
      const s = save();
      expect([s.code, s.out.trim(), s.err]).toEqual([0, `lvsd-save-rules: saved 2 services, 2 real servers to ${rules}`, '']);
      expect(statSync(rules).mode & 0o777).toBe(0o600);
      expect(readFileSync(rules, 'utf8')).toBe(adm('-S', '-n').out);
      const mtime = statSync(rules).mtimeMs;
      expect(save()).toEqual({ code: 0, out: '', err: '' });
      expect(statSync(rules).mtimeMs).toBe(mtime);
      await stop();
      const kept = readFileSync(rules, 'utf8');
      const none = save();
      expect([none.code, none.err]).toEqual([1, expect.stringContaining(`${rules} left as it was`)]);
      expect(readFileSync(rules, 'utf8')).toBe(kept);
    }, 90_000);

    it('after a restart, puts the saved table back in one batch over the config\'s own service', async () => {
      start();
      const r = restore();
      expect([r.code, r.out.trim(), r.err]).toEqual([0, `lvsd-restore-rules: restored 2 services, 2 real servers from ${rules}`, '']);
      expect(adm('-S', '-n').out).toBe(readFileSync(rules, 'utf8'));
      expect(restore().out).toContain('the live table already equals');
      // keepalived.conf owns the table: auto leaves it alone.
      expect(restore({ LVSD_OPTS: '--keepalived /etc/keepalived/keepalived.conf' }).out).toContain('keepalived.conf owns the table');
    }, 90_000);

    it('lets a config edited after the last save win, and keeps the saved table aside', () => {
      const saved = readFileSync(rules, 'utf8');
      utimesSync(cfg, new Date(), new Date(Date.now() + 5000));
      const r = restore();
      expect([r.code, r.err]).toEqual([0, '']);
      expect(r.out).toContain(`${cfg} changed after the last save`);
      expect(existsSync(rules)).toBe(false);
      expect(readFileSync(`${rules}.prev`, 'utf8')).toBe(saved);
    }, 60_000);

    it('keeps a saved table that lvsd refuses as FILE.failed, naming its line, and lvsd runs on', () => {
      writeFileSync(rules, '-A -t 10.9.0.3:80 -s rr\n-a -t 10.9.0.4:80 -r 10.9.0.13\n');
      const r = restore({ LVSD_RESTORE: 'always' });
      expect(r.code).toBe(0);
      expect(r.err).toContain(`${rules} line 2:`);
      expect(existsSync(`${rules}.failed`)).toBe(true);
      expect(adm('-L', '-n').code).toBe(0);
    }, 60_000);
  });

  it('uninstall (prefix found from the links) removes units, links and the prefix, and keeps /etc/lvsd', () => {
    const cfg = readFileSync(at('etc/lvsd/lvsd.yaml'), 'utf8');
    const r = run(UNINSTALL, ['--root', dir]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toContain(`removed ${PREFIX}`);
    for (const u of UNITS) expect(existsSync(at(`etc/systemd/system/${u}`))).toBe(false);
    for (const l of ['usr/local/bin/lvsd', 'usr/local/bin/lvsadm', 'usr/local/bin/lvs-decap', 'usr/local/sbin/lvsd-save-rules', 'usr/local/sbin/lvsd-restore-rules']) {
      expect(lstatSync(at(l), { throwIfNoEntry: false })).toBeUndefined();
    }
    expect(existsSync(at(PREFIX))).toBe(false);
    expect(readFileSync(at('etc/lvsd/lvsd.yaml'), 'utf8')).toBe(cfg);
    expect(existsSync(at('etc/default/lvsd'))).toBe(true);
    expect(readdirSync(at('srv/other'))).toEqual(['keep']);
    expect(run(UNINSTALL, ['--root', dir]).out).toContain('nothing to remove');
  });

  it('uninstall --purge removes /etc/lvsd and /etc/default/lvsd too', () => {
    const r = run(UNINSTALL, ['--root', dir, '--purge']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(existsSync(at('etc/lvsd'))).toBe(false);
    expect(existsSync(at('etc/default/lvsd'))).toBe(false);
  });
});
