// lvsd with two capture workers (workers: 2) in the netns lab: each worker captures its share of the flows with
// its own BPF filter and keeps its own connection table, and the control plane stays one. Shown end to end:
// requests succeed in every mode (NAT and FullNAT replies must meet the worker that holds their connection, or
// they are dropped), both workers carry traffic, lvsadm shows one director (counts summed), live edits reach every
// worker, persistence holds across workers, and a killed lvsd leaves no worker behind. The per-mode cases run on
// both packet I/O backends (libpcap, and the ring, whose workers swap their share's filter in place).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../src/control/client';
import { admOn, alive, countBy, inNs, labDown, labStatus, labUnavailable, labUp, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();

interface Status {
  workers: number;
  conns: number;
  load: { worker: number; conns: number; forwarded: number }[];
}

/** n curls, each a new connection from a new client port (the split is by client address and port). */
const curls = (prefix: string, n: number): string[] =>
  inNs(`${prefix}client`, `for i in $(seq ${n}); do curl -s -m 3 http://10.0.0.100/ || echo FAIL; done`).trim().split('\n');

/** The lvsd workers: child processes of the lab's lvsd. */
const workerPids = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n')
    .filter((l) => l.includes('shard-main')).map((l) => Number(l.trim().split(/\s+/)[0]));

/** Sum of the InActConn + ActiveConn columns of lvsadm -L -n for the TCP service. */
function listedConns(sock: string): number {
  const out = admOn(sock, '-L', '-n', '-t', '10.0.0.100:80');
  return out.split('\n').filter((l) => l.includes('->') && /\d+\.\d+\.\d+\.\d+:\d+/.test(l))
    .reduce((n, l) => {
      const f = l.trim().split(/\s+/);
      return n + Number(f[f.length - 1]) + Number(f[f.length - 2]);
    }, 0);
}

const CASES = (['pcap', 'ring'] as const).flatMap((io) => (['dr', 'nat', 'fullnat'] as const).map((mode) => ({ mode, io })));

describe.each(CASES)('two capture workers, $mode, io $io', ({ mode, io }) => {
  const run = skip === null;
  const prefix = uniquePrefix(`w${mode[0]}${io[0]}`);
  const sock = socketOf(prefix);
  beforeAll(() => {
    if (run) labUp(prefix, ['--mode', mode, '--rs', '2', '--sched', 'rr', '--no-udp', '--workers', '2', '--io', io]);
  }, 120_000);
  afterAll(() => {
    if (run) labDown(prefix);
  });

  it.skipIf(!run)('every request is answered, both real servers serve, and both workers carry connections', async () => {
    const answers = curls(prefix, 40);
    const c = countBy(answers);
    expect(c.FAIL).toBeUndefined();
    expect((c.rs1 ?? 0) + (c.rs2 ?? 0)).toBe(40);
    expect(c.rs1).toBeGreaterThan(0);
    expect(c.rs2).toBeGreaterThan(0);
    const st = (await request(sock, 'status')) as Status & { io: string };
    expect(st.io).toBe(io);
    expect(st.workers).toBe(2);
    expect(st.load).toHaveLength(2);
    for (const w of st.load) expect(w.forwarded, `worker ${w.worker}`).toBeGreaterThan(0);
    // lvsadm sums the workers: 40 connections (closing, so inactive) across both RS.
    expect(listedConns(sock)).toBe(40);
    expect(st.conns).toBeGreaterThanOrEqual(40);
  });

  it.skipIf(!run)('a live edit reaches every worker: with rs1 at weight 0 all new connections go to rs2', () => {
    admOn(sock, '-e', '-t', '10.0.0.100:80', '-r', mode === 'dr' ? '10.0.0.11:80' : labRs(prefix, 0), mode === 'dr' ? '-g' : mode === 'nat' ? '-m' : '-b', '-w', '0');
    try {
      expect(countBy(curls(prefix, 20))).toEqual({ rs2: 20 });
    } finally {
      admOn(sock, '-e', '-t', '10.0.0.100:80', '-r', mode === 'dr' ? '10.0.0.11:80' : labRs(prefix, 0), mode === 'dr' ? '-g' : mode === 'nat' ? '-m' : '-b', '-w', '1');
    }
    const c = countBy(curls(prefix, 20));
    expect(c.rs1).toBeGreaterThan(0);
    expect(c.FAIL).toBeUndefined();
  });
});

/** RS k's address:port as the lab built it (NAT and FullNAT put the RS on their own nets). */
function labRs(prefix: string, k: number): string {
  const st = labStatus(prefix) as { rs: { ip: string }[] };
  return `${st.rs[k].ip}:80`;
}

describe.skipIf(skip !== null)('two capture workers: persistence and lifecycle', () => {
  const prefix = uniquePrefix('wp');
  const sock = socketOf(prefix);
  afterAll(() => labDown(prefix));

  it('a persistent service keeps a client on one RS: it is steered by client address, not by port', async () => {
    labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr', '--no-udp', '--workers', '2']);
    admOn(sock, '-E', '-t', '10.0.0.100:80', '-s', 'rr', '-p', '60');
    // The workers' captures reopen on the new steering (README: a change of persistence moves flows between workers).
    await new Promise((r) => setTimeout(r, 1000));
    const c = countBy(curls(prefix, 20));
    expect(Object.keys(c)).toHaveLength(1);
    expect(c.FAIL).toBeUndefined();
    // One template for the client in the whole director: its connections all met the worker that holds it.
    const templates = admOn(sock, '-L', '-n', '-c').split('\n').filter((l) => /\bNONE\b/.test(l));
    expect(templates).toHaveLength(1);
  });

  it('lvsd killed with SIGKILL takes its worker with it', async () => {
    const st = labStatus(prefix) as { pid: number };
    const workers = workerPids(st.pid);
    expect(workers).toHaveLength(1);
    process.kill(st.pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && workers.some(alive)) await new Promise((r) => setTimeout(r, 100));
    expect(workers.filter(alive)).toEqual([]);
  });
});
