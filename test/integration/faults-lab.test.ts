// Faults in the DR lab, as they happen to a running director:
// - the nftables fence deleted or flushed by hand is put back by lvsd (with a warning) and traffic goes on;
// - lvsd killed with SIGKILL leaves its fence (which then blackholes the VIP) and its control socket; the next
//   start clears both: one table, a working socket, traffic split again;
// - a real server dying mid-connection (nginx stopped: its clients get a reset; its link down: they time out) is
//   removed by its health check, new connections go to the others, and lvsd serves on.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import {
  admOn, alive, countBy, curlLoop, inNs, labDown, labStatus, labUnavailable, labUp, lvsadm, ROOT, SCAPY_PYTHON, socketOf, uniquePrefix,
} from './lab';

const skip = labUnavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);

interface LabState { pid: number; socket: string; config: string; log: string; stateDir: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(100)) if (what()) return true;
  return what();
}
/** The JSON log lines lvsd wrote from byte `from` on. */
const logLines = (file: string, from = 0): Record<string, unknown>[] => readFileSync(file).subarray(from).toString().split('\n')
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
const tables = (prefix: string): string[] => inNs(`${prefix}director`, 'nft list tables').trim().split('\n').filter(Boolean);
const fenceRules = (prefix: string): number => {
  const r = spawnSync('ip', ['netns', 'exec', `${prefix}director`, 'nft', '-s', 'list', 'table', 'netdev', 'userlvs'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((l) => / drop$/.test(l.trim())).length : -1;
};

describe.skipIf(skip !== null)(title('the fence changed by hand, and lvsd killed with SIGKILL'), () => {
  const prefix = uniquePrefix('tf');
  const sock = socketOf(prefix);
  afterAll(() => labDown(prefix));

  it('a fence deleted, then flushed, by hand is put back with a warning, and requests keep succeeding', async () => {
    labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr', '--no-udp']);
    const st = labStatus(prefix) as unknown as LabState;
    const rules = fenceRules(prefix);
    expect(rules).toBeGreaterThan(0);
    expect(countBy(curlLoop(prefix, 4))).toEqual({ rs1: 2, rs2: 2 });
    const from = statSync(st.log).size;

    inNs(`${prefix}director`, 'nft delete table netdev userlvs');
    expect(await waitFor(() => fenceRules(prefix) === rules, 5000)).toBe(true);
    inNs(`${prefix}director`, 'nft flush chain netdev userlvs ingress0');
    expect(await waitFor(() => fenceRules(prefix) === rules && logLines(st.log, from).filter((l) => l.component === 'fence').length >= 2, 5000)).toBe(true);

    const warned = logLines(st.log, from).filter((l) => l.component === 'fence');
    expect(warned.map((l) => [l.level, l.msg, l.found])).toEqual([
      [40, 'nftables fence was changed outside lvsd: restored', 'table missing'],
      [40, 'nftables fence was changed outside lvsd: restored', 'table changed'],
    ]);
    expect(tables(prefix)).toEqual(['table netdev userlvs']);
    expect(countBy(curlLoop(prefix, 10))).toEqual({ rs1: 5, rs2: 5 });
    expect(alive(st.pid)).toBe(true);
  }, 120_000);

  it('SIGKILL leaves the fence and the socket; the next start clears both and serves', async () => {
    const st = labStatus(prefix) as unknown as LabState;
    const director = `${prefix}director`;
    const argv = readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const monitor = Number(spawnSync('pgrep', ['-P', String(st.pid), '-x', 'nft'], { encoding: 'utf8' }).stdout.trim());
    expect(monitor).toBeGreaterThan(0); // the fence watcher's nft monitor

    process.kill(st.pid, 'SIGKILL');
    expect(await waitFor(() => !alive(st.pid), 5000)).toBe(true);
    // What a killed daemon leaves: its table, still dropping VIP:80, so the VIP is dark; and its socket file.
    expect(tables(prefix)).toEqual(['table netdev userlvs']);
    expect(statSync(sock).isSocket()).toBe(true);
    const dead = lvsadm(['-L', '-n'], sock);
    expect([dead.code, dead.err]).toEqual([2, `Can't connect to lvsd on ${sock} (is lvsd running?)\n`]);
    expect(curlLoop(prefix, 1)).toEqual(['FAIL']);

    // Start it again as the lab does (own session; lab down finds it by its pid file).
    const from = statSync(st.log).size;
    const out = openSync(st.log, 'a');
    const child = spawn('ip', ['netns', 'exec', director, 'setsid', ...argv], { stdio: ['ignore', out, out] });
    closeSync(out);
    child.unref();
    writeFileSync(join(st.stateDir, 'lvsd.pid'), `${child.pid}\n`);
    expect(await waitFor(() => lvsadm(['-L', '-n'], sock).code === 0, 15_000)).toBe(true);

    expect(logLines(st.log, from).map((l) => l.msg)).toContain('removed stale control socket');
    expect(tables(prefix)).toEqual(['table netdev userlvs']);
    expect(admOn(sock, '-L', '-n')).toMatch(/\nTCP {2}10\.0\.0\.100:80 rr\n {2}-> 10\.0\.0\.11:80 +Route +1 .*\n {2}-> 10\.0\.0\.12:80 +Route +1 /);
    expect(countBy(curlLoop(prefix, 10))).toEqual({ rs1: 5, rs2: 5 });
    // The killed daemon's monitor died at the new daemon's first ruleset change (its pipe had no reader).
    expect(await waitFor(() => !alive(monitor), 3000)).toBe(true);
  }, 60_000);
});

/** keepalived.conf for 3 RS with a quick TCP_CHECK: a dead RS leaves within delay_loop + retry * (1 + 1) = 3 s. */
const KA = `virtual_server 10.0.0.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
${[11, 12, 13].map((k) => `    real_server 10.0.0.${k} 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }`).join('\n')}
}
`;

describe.skipIf(skip !== null)(title('a real server that dies mid-connection'), () => {
  const prefix = uniquePrefix('tm');
  const sock = socketOf(prefix);
  const tmp = mkdtempSync(join(tmpdir(), 'faults-lab-'));
  const kaFile = join(tmp, 'keepalived.conf');
  const children: ChildProcessWithoutNullStreams[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    labDown(prefix);
    rmSync(tmp, { recursive: true, force: true });
  });

  /** One keep-alive connection from the client; `get` answers the RS name or "ERROR ...". */
  async function keepAlive(): Promise<{ get(): Promise<string> }> {
    const ka = spawn('ip', ['netns', 'exec', `${prefix}client`, SCAPY_PYTHON, `${ROOT}/scripts/lib/keepalive-client.py`, '10.0.0.100']);
    children.push(ka);
    const lines = createInterface({ input: ka.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<string> => String((await lines.next()).value);
    expect(await next()).toBe('ready');
    return {
      get: async () => {
        ka.stdin.write('get\n');
        return next();
      },
    };
  }
  const listed = (rs: string): boolean => admOn(sock, '-L', '-n').includes(`-> ${rs}:80 `);
  const rsIp = (name: string): string => `10.0.0.${10 + Number(name.slice(2))}`;

  it('nginx stopped: its open connection is reset, the health check removes it, new connections go to the others', async () => {
    writeFileSync(kaFile, KA);
    labUp(prefix, ['--mode', 'dr', '--rs', '3', '--no-udp', '--keepalived', kaFile]);
    const pid = labStatus(prefix).pid as number;
    const conn = await keepAlive();
    const victim = await conn.get();
    expect(victim).toMatch(/^rs[123]$/);
    expect(await conn.get()).toBe(victim); // the same connection, the same RS

    const master = Number(readFileSync(`/run/userlvs-lab/${prefix}/${victim}/nginx.pid`, 'utf8'));
    process.kill(master, 'SIGTERM'); // nginx stop: it closes its connections and exits
    expect(await waitFor(() => !listed(rsIp(victim)), 10_000)).toBe(true);
    expect(await conn.get()).toMatch(/^ERROR .*(reset|closed|Broken pipe|Remote end)/i);

    const after = countBy(curlLoop(prefix, 10));
    expect(after).toEqual(Object.fromEntries(['rs1', 'rs2', 'rs3'].filter((r) => r !== victim).map((r) => [r, 5])));
    expect(alive(pid)).toBe(true);
  }, 120_000);

  it('its link down: its open connection times out, the health check removes it, the last RS takes everything', async () => {
    const pid = labStatus(prefix).pid as number;
    const conn = await keepAlive();
    const victim = await conn.get();
    expect(victim).toMatch(/^rs[123]$/);
    const rest = ['rs1', 'rs2', 'rs3'].filter((r) => r !== victim && listed(rsIp(r)));
    expect(rest).toHaveLength(1);

    inNs(`${prefix}${victim}`, 'ip link set eth0 down');
    expect(await waitFor(() => !listed(rsIp(victim)), 10_000)).toBe(true);
    // The director has nowhere to send its packets any more: they are dropped, and the client gives up (5 s).
    expect(await conn.get()).toMatch(/^ERROR .*timed out/i);
    expect(countBy(curlLoop(prefix, 10))).toEqual({ [rest[0]]: 10 });
    expect(alive(pid)).toBe(true);
    expect(admOn(sock, '-L', '-n', '-c').includes(`${rsIp(victim)}:80`)).toBe(false);

    // Back up: the check puts it back and it takes new connections again.
    inNs(`${prefix}${victim}`, 'ip link set eth0 up');
    expect(await waitFor(() => listed(rsIp(victim)), 10_000)).toBe(true);
    expect(Object.keys(countBy(curlLoop(prefix, 10))).sort()).toEqual([rest[0], victim].sort());
    expect(existsSync(sock)).toBe(true);
  }, 120_000);
});
