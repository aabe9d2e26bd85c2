// IPVS connection semantics in the DR lab, driven with lvsadm as an operator would: graceful drain, weight 0
// quiescing, wlc steering around a slow RS, and persistence (-p) pinning a client.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, curlLoop, labDown, labUnavailable, labUp, admOn, ROOT, SCAPY_PYTHON, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const prefix = uniquePrefix('tc');
const sock = socketOf(prefix);
const children: ChildProcessWithoutNullStreams[] = [];

/** lvsadm against this lab's daemon; fails the test on a non-zero exit. */
const adm = (...args: string[]): string => admOn(sock, ...args);

/** A keep-alive HTTP connection from the client namespace, driven request by request. */
async function keepAlive(port = 80): Promise<{ get(): Promise<string>; close(): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', `${prefix}client`, SCAPY_PYTHON, `${ROOT}/scripts/lib/keepalive-client.py`, '10.0.0.100', String(port)]);
  children.push(child);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => String((await lines.next()).value ?? 'EOF');
  expect(await next()).toBe('ready');
  return {
    get: async () => {
      child.stdin.write('get\n');
      return next();
    },
    close: async () => {
      child.stdin.write('close\n');
      await next();
    },
  };
}

/** The RS rows of one service in lvsadm -L -n: address -> the rest of the row. */
function rows(service: string): Map<string, string> {
  const out = adm('-L', '-n').split('\n');
  const at = out.findIndex((l) => l.startsWith(service));
  const m = new Map<string, string>();
  for (let i = at + 1; i < out.length && out[i].startsWith('  ->'); i++) {
    const [addr, ...rest] = out[i].slice(5).trim().split(/\s+/);
    m.set(addr, rest.join(' '));
  }
  return m;
}

const until = async (what: () => boolean, ms: number): Promise<boolean> => {
  for (let t = 0; t < ms; t += 200) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return what();
};

describe.skipIf(skip !== null)(skip ? `connection semantics (skipped: ${skip})` : 'connection semantics in the DR lab', () => {
  beforeAll(() => labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr', '--no-udp']), 120_000);
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    labDown(prefix);
  });

  it('weight 0 keeps an open keep-alive connection working while new connections go elsewhere', async () => {
    const ka = await keepAlive();
    const first = await ka.get();
    expect(first).toMatch(/^rs[12]$/);
    const addr = first === 'rs1' ? '10.0.0.11' : '10.0.0.12';
    adm('-e', '-t', '10.0.0.100:80', '-r', `${addr}:80`, '-g', '-w', '0');
    for (let i = 0; i < 5; i++) expect(await ka.get()).toBe(first);
    const other = first === 'rs1' ? 'rs2' : 'rs1';
    expect(countBy(curlLoop(prefix, 10))).toEqual({ [other]: 10 });
    await ka.close();
    adm('-e', '-t', '10.0.0.100:80', '-r', `${addr}:80`, '-g', '-w', '1');
  });

  it('a graceful removal lets the open connection finish, sends nothing new there, then removes the RS', async () => {
    const ka = await keepAlive();
    const first = await ka.get();
    const addr = first === 'rs1' ? '10.0.0.11' : '10.0.0.12';
    adm('-d', '-t', '10.0.0.100:80', '-r', `${addr}:80`, '--graceful', '60');
    expect(rows('TCP  10.0.0.100:80').get(`${addr}:80`)).toMatch(/^Route 0 1 \d+ draining: 1 open, \d+s left$/);
    const other = first === 'rs1' ? 'rs2' : 'rs1';
    expect(countBy(curlLoop(prefix, 10))).toEqual({ [other]: 10 });
    for (let i = 0; i < 3; i++) expect(await ka.get()).toBe(first);
    expect(rows('TCP  10.0.0.100:80').has(`${addr}:80`)).toBe(true);
    await ka.close();
    // Its last open connection ended: gone at the next tick of the daemon's clock.
    expect(await until(() => !rows('TCP  10.0.0.100:80').has(`${addr}:80`), 5000)).toBe(true);
    adm('-a', '-t', '10.0.0.100:80', '-r', `${addr}:80`, '-g', '-w', '1');
  });

  it('-s wlc sends new connections away from a RS busy with slow requests (rr would alternate)', async () => {
    // A second service whose RSs answer from a small server: rs1's takes 8 s, rs2's answers at once.
    for (const [rs, delay] of [['rs1', 8], ['rs2', 0]] as const) {
      const c = spawn('ip', ['netns', 'exec', `${prefix}${rs}`, SCAPY_PYTHON, `${ROOT}/scripts/lib/slow-http.py`, rs, '8081', String(delay)]);
      children.push(c);
    }
    await new Promise((r) => setTimeout(r, 800));
    adm('-A', '-t', '10.0.0.100:8081', '-s', 'wlc');
    adm('-a', '-t', '10.0.0.100:8081', '-r', '10.0.0.12', '-g');
    adm('-a', '-t', '10.0.0.100:8081', '-r', '10.0.0.11', '-g');
    // The kernel's list is newest first, so rs1 heads it: the first connection goes to rs1 (a tie goes to the
    // first in the list) and stays ESTABLISHED for 8 s.
    const slow = spawn('ip', ['netns', 'exec', `${prefix}client`, 'curl', '-s', '-m', '20', 'http://10.0.0.100:8081/']);
    children.push(slow as unknown as ChildProcessWithoutNullStreams);
    await until(() => (rows('TCP  10.0.0.100:8081').get('10.0.0.11:8081') ?? '').startsWith('Route 1 1'), 3000);
    expect(rows('TCP  10.0.0.100:8081').get('10.0.0.11:8081')).toMatch(/^Route 1 1 0/);
    const r = spawnSync('ip', ['netns', 'exec', `${prefix}client`, 'bash', '-c', 'for i in $(seq 20); do curl -s -m 5 http://10.0.0.100:8081/; done'], { encoding: 'utf8' });
    expect(countBy(r.stdout.trim().split('\n'))).toEqual({ rs2: 20 });
  });

  it('-p 60 keeps 20 connections from one client on one RS', () => {
    adm('-E', '-t', '10.0.0.100:80', '-s', 'rr', '-p', '60');
    expect(adm('-L', '-n')).toContain('TCP  10.0.0.100:80 rr persistent 60');
    const got = countBy(curlLoop(prefix, 20));
    expect(Object.values(got)).toEqual([20]);
    adm('-E', '-t', '10.0.0.100:80', '-s', 'rr');
    expect(Object.keys(countBy(curlLoop(prefix, 4))).sort()).toEqual(['rs1', 'rs2']);
  });

  it('-f 1 with -p groups TCP :80 and UDP :5353 of one client on one RS; the daemon owns the marking rule', () => {
    adm('-D', '-t', '10.0.0.100:80');
    adm('-A', '-f', '1', '-s', 'rr', '-p', '60', '--match', 'ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 5353 }');
    adm('-a', '-f', '1', '-r', '10.0.0.11:0', '-g');
    adm('-a', '-f', '1', '-r', '10.0.0.12:0', '-g');
    const nft = spawnSync('ip', ['netns', 'exec', `${prefix}director`, 'nft', 'list', 'table', 'netdev', 'userlvs'], { encoding: 'utf8' }).stdout;
    expect(nft).toContain('ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 5353 } meta mark set 0x00000001');
    const tcp = countBy(curlLoop(prefix, 6));
    const udp = spawnSync('ip', ['netns', 'exec', `${prefix}client`, SCAPY_PYTHON, `${ROOT}/scripts/lib/udp-ask.py`, '10.0.0.100', '5353', '--count', '6', '--sport-base', '31000'], { encoding: 'utf8' }).stdout;
    expect(Object.keys(tcp)).toHaveLength(1);
    expect(countBy(udp.trim().split('\n'))).toEqual(tcp);
  });

  it('-S then -C then -R restores the same table', () => {
    const saved = adm('-S');
    expect(saved).toContain("-A -f 1 -s rr -p 60 --match 'ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 5353 }'");
    adm('-C');
    expect(adm('-S')).toBe('');
    const r = spawnSync(`${ROOT}/bin/lvsadm`, ['--socket', sock, '-R'], { input: saved, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(adm('-S')).toBe(saved);
    // A bad line refuses the whole restore, by its number, and nothing of it is applied.
    const bad = spawnSync(`${ROOT}/bin/lvsadm`, ['--socket', sock, '-R'], {
      input: '-A -t 10.0.0.100:90 -s rr\n-a -t 10.0.0.100:90 -r 10.0.0.11 -g\n-a -t 10.0.0.100:91 -r 10.0.0.11 -g\n', encoding: 'utf8',
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('line 3: Service not defined');
    expect(adm('-S')).toBe(saved);
  });
});
