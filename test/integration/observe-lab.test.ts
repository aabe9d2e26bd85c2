// A running director observed and reloaded as operators do: the metrics endpoint counts exactly what crossed
// the director (the kernel's own fence counter is the witness), lvsadm --stats agrees with it, and a SIGHUP
// reload that changes weights keeps a keep-alive wrk run error-free.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admOn, curlLoop, inNs, labDown, labStatus, labUnavailable, labUp, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const prefix = uniquePrefix('to');
const sock = socketOf(prefix);

/** Sum of a metric's samples whose labels contain every `want` pair. */
function metric(text: string, name: string, want: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

const scrape = (): string => inNs(`${prefix}director`, `curl -s ${String(labStatus(prefix).metrics)}`);
/** Packets the kernel's fence saw (and dropped for lvsd) to VIP:80. */
const fenceCount = (): number =>
  Number(/tcp dport 80 counter packets (\d+)/.exec(inNs(`${prefix}director`, 'nft list table netdev userlvs'))?.[1] ?? -1);

describe.skipIf(skip !== null)(skip ? `observing the director (skipped: ${skip})` : 'observing and reloading a running director', () => {
  beforeAll(() => labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp']), 120_000);
  afterAll(() => labDown(prefix));

  it('100 requests raise the per-RS metrics by exactly the connections and packets that crossed; --stats agrees', () => {
    const m0 = scrape();
    const f0 = fenceCount();
    expect(curlLoop(prefix, 100)).toHaveLength(100);
    const m1 = scrape();
    const seen = fenceCount() - f0;
    const conns = (m: string, rs: string) => metric(m, 'lvs_real_server_connections_total', { real: rs });
    const pkts = (m: string) => metric(m, 'lvs_real_server_packets_total', { direction: 'in' });
    expect([conns(m1, '10.0.0.11:80') - conns(m0, '10.0.0.11:80'), conns(m1, '10.0.0.12:80') - conns(m0, '10.0.0.12:80')]).toEqual([50, 50]);
    expect(seen).toBeGreaterThanOrEqual(500); // at least SYN, ACK, request, FIN, ACK per connection
    expect(pkts(m1) - pkts(m0)).toBe(seen);
    // lvsadm --stats --exact: the same totals (connections, in-packets) per real server.
    const rows = admOn(sock, '-L', '-n', '--stats', '--exact').split('\n').filter((l) => l.startsWith('  -> 10.'));
    const stat = rows.map((l) => l.trim().split(/\s+/).slice(2, 4).map(Number));
    const total = (m: string, rs: string) => [conns(m, rs), metric(m, 'lvs_real_server_packets_total', { real: rs, direction: 'in' })];
    expect(stat).toEqual([total(m1, '10.0.0.11:80'), total(m1, '10.0.0.12:80')]);
  });

  it('a SIGHUP reload that changes weights keeps a keep-alive wrk run error-free, and logs the change', async () => {
    const state = labStatus(prefix) as { config: string; pid: number; log: string };
    const wrk = spawn('ip', ['netns', 'exec', `${prefix}client`, 'wrk', '-t1', '-c8', '-d5s', 'http://10.0.0.100/']);
    let out = '';
    wrk.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((r) => setTimeout(r, 1500));
    const cfg = readFileSync(state.config, 'utf8');
    writeFileSync(state.config, cfg.replace(/(ip: 10\.0\.0\.11, port: 80, weight: )1/, '$13'));
    process.kill(state.pid, 'SIGHUP');
    expect(await new Promise((r) => wrk.on('exit', r))).toBe(0);
    expect(Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)).toBeGreaterThan(1000);
    expect(out).not.toMatch(/Socket errors|Non-2xx/);
    expect(admOn(sock, '-L', '-n')).toMatch(/10\.0\.0\.11:80 +Route +3 /);
    expect(readFileSync(state.log, 'utf8')).toContain('config reloaded: 1 change(s)');
    writeFileSync(state.config, cfg);
  }, 30_000);
});
