// Driving the netns lab from tests: a unique prefix per run, and a teardown that runs even on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const LAB = join(ROOT, 'scripts', 'lab');

/** Why the netns tests cannot run here, or null when they can. */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (the lab needs network namespaces)';
  for (const bin of ['ip', 'nginx', 'curl', 'nft', 'ethtool']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (run scripts/setup)`;
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'lvsd.js'))) return 'lvsd is not built (run scripts/setup)';
  return null;
}

export const uniquePrefix = (tag: string): string => `${tag}${randomBytes(2).toString('hex')}-`;

export const socketOf = (prefix: string): string => (prefix === 'lvs-' ? '/run/lvsd.sock' : `/run/lvsd-${prefix.replace(/-$/, '')}.sock`);

export function labUp(prefix: string, args: string[]): void {
  const r = spawnSync(LAB, ['up', '--prefix', prefix, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`lab up failed (${r.status}): ${r.stderr}\n${r.stdout}`);
}

export function labDown(prefix: string): void {
  spawnSync(LAB, ['down', '--prefix', prefix], { encoding: 'utf8', timeout: 60_000 });
}

export function labStatus(prefix: string): Record<string, unknown> {
  const r = spawnSync(LAB, ['status', '--json', '--prefix', prefix], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Run a shell command inside one of the lab's namespaces; returns stdout. */
export function inNs(ns: string, script: string, timeout = 120_000): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', script], { encoding: 'utf8', timeout });
}

export function lvsadm(args: string[], socket: string): { code: number; out: string; err: string } {
  const r = spawnSync(join(ROOT, 'bin', 'lvsadm'), ['--socket', socket, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** n sequential curls to the VIP from the client; each answer line is the RS name or FAIL. */
export function curlLoop(prefix: string, n: number): string[] {
  const out = inNs(`${prefix}client`, `for i in $(seq ${n}); do curl -s -m 3 http://10.0.0.100/ || echo FAIL; done`);
  return out.trim().split('\n');
}

export function countBy(lines: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const l of lines) c[l] = (c[l] ?? 0) + 1;
  return c;
}

export const namespacesWith = (prefix: string): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix));

/** Whether a process runs (a zombie waiting for its reaper counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Debian's python3, which has python3-scapy (a pyenv python on PATH may not). */
export const SCAPY_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** lvsadm against a lab's daemon that must succeed (throws with lvsadm's stderr when it does not). */
export function admOn(socket: string, ...args: string[]): string {
  const r = lvsadm(args, socket);
  if (r.code !== 0) throw new Error(`lvsadm ${args.join(' ')}: ${r.err}`);
  return r.out;
}
