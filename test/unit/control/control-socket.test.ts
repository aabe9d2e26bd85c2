// Who may use the control socket: root only (0600) by default, root:group 0660 when a group is configured, never
// wider even under umask 0; a user outside gets EACCES. A socket left by a SIGKILLed daemon is cleared at start;
// one still answered by a live daemon is refused.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../../../src/control/client';
import { ControlServer } from '../../../src/control/server';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-ctl-'));
chmodSync(dir, 0o755); // nobody must reach the socket's directory: only the socket's own mode may stop it
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOBODY = 65534; // nobody:nogroup on Debian
const root = process.getuid?.() === 0;

function capture(): { log: pino.Logger; msgs: string[] } {
  const msgs: string[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      for (const l of c.toString().split('\n').filter(Boolean)) msgs.push((JSON.parse(l) as { msg: string }).msg);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), msgs };
}

const server = (path: string, gid?: number) => new ControlServer(path, { ping: () => 'pong' }, capture().log, gid === undefined ? {} : { gid });

/** Connect as nobody:nogroup (no other groups); returns "connected" or the errno code. */
function connectAsNobody(path: string): string {
  const js = `require('net').createConnection(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0); })`
    + `.on('error', (e) => { console.log(e.code); process.exit(0); })`;
  const r = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '-e', js], { encoding: 'utf8' });
  return r.stdout.trim() || r.stderr.trim();
}

describe('control socket access', () => {
  it('is 0600 and owned by the daemon\'s user by default, even under umask 0; it answers', async () => {
    const path = join(dir, 'default.sock');
    const old = process.umask(0);
    const s = server(path);
    try {
      await s.listen();
      const st = statSync(path);
      expect([st.isSocket(), st.mode & 0o777, st.uid]).toEqual([true, 0o600, process.getuid?.()]);
      expect(process.umask()).toBe(0); // listen() put the caller's umask back
      expect(await request(path, 'ping')).toBe('pong');
    } finally {
      process.umask(old);
      s.close();
    }
    expect(existsSync(path)).toBe(false);
  });

  it.skipIf(!root)('with a group: root:group and 0660', async () => {
    const path = join(dir, 'group.sock');
    const s = server(path, NOBODY);
    try {
      await s.listen();
      const st = statSync(path);
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o660, 0, NOBODY]);
    } finally {
      s.close();
    }
  });

  it.skipIf(!root || spawnSync('sh', ['-c', 'command -v setpriv']).status !== 0)(
    'a user outside the group is refused (EACCES); a member of the group gets in', async () => {
      const closed = join(dir, 'closed.sock');
      const open = join(dir, 'open.sock');
      const a = server(closed);
      const b = server(open, NOBODY);
      try {
        await a.listen();
        await b.listen();
        expect(connectAsNobody(closed)).toBe('EACCES');
        expect(connectAsNobody(open)).toBe('connected');
      } finally {
        a.close();
        b.close();
      }
    });

  it('a socket left by a killed daemon is removed at start, with a warning', async () => {
    const path = join(dir, 'stale.sock');
    // A real listener in another process, killed with SIGKILL: its socket file stays, nobody answers it.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(path).isSocket()).toBe(true);
    const { log, msgs } = capture();
    const s = new ControlServer(path, { ping: () => 'pong' }, log);
    try {
      await s.listen();
      expect(msgs).toContain('removed stale control socket');
      expect(await request(path, 'ping')).toBe('pong');
    } finally {
      s.close();
    }
  });

  it('a socket a live daemon still answers is refused, and left to it', async () => {
    const path = join(dir, 'live.sock');
    const first = server(path);
    await first.listen();
    try {
      await expect(server(path).listen()).rejects.toThrow(`another lvsd is already listening on ${path}`);
      expect(await request(path, 'ping')).toBe('pong');
    } finally {
      first.close();
    }
  });
});
