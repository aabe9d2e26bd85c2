// Editing a live director under load, as operators do with ipvsadm: adding a RS while wrk runs loses no
// request; deleting a RS with an idle keep-alive connection removes it at once, as IPVS with
// expire_nodest_conn=1 does (the connection's next packet finds no connection and is dropped).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, curlLoop, labDown, labStatus, labUnavailable, labUp, admOn, ROOT, SCAPY_PYTHON, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const prefix = uniquePrefix('tl');
const sock = socketOf(prefix);
const children: ChildProcessWithoutNullStreams[] = [];

const adm = (...args: string[]): string => admOn(sock, ...args);

const accessLines = (k: number): number => {
  const s = labStatus(prefix) as { rs: { accessLog: string }[] };
  return readFileSync(s.rs[k].accessLog, 'utf8').split('\n').filter(Boolean).length;
};

describe.skipIf(skip !== null)(skip ? `live edits (skipped: ${skip})` : 'live edits under load', () => {
  beforeAll(() => labUp(prefix, ['--mode', 'dr', '--rs', '3', '--sched', 'rr', '--no-udp']), 120_000);
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    labDown(prefix);
  });

  it('lvsadm -a of a third RS during a wrk run adds it with no failed request', async () => {
    adm('-d', '-t', '10.0.0.100:80', '-r', '10.0.0.13:80');
    const before = accessLines(2);
    // 6 s of load; nginx closes a keep-alive connection every 1000 requests, so new connections keep coming.
    const wrk = spawn('ip', ['netns', 'exec', `${prefix}client`, 'wrk', '-t1', '-c8', '-d6s', 'http://10.0.0.100/']);
    children.push(wrk as unknown as ChildProcessWithoutNullStreams);
    let out = '';
    wrk.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((r) => setTimeout(r, 2000));
    adm('-a', '-t', '10.0.0.100:80', '-r', '10.0.0.13:80', '-g', '-w', '1');
    const code = await new Promise<number | null>((r) => wrk.on('exit', r));
    expect(code).toBe(0);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    expect(requests).toBeGreaterThan(1000);
    expect(out).not.toMatch(/Socket errors|Non-2xx/);
    expect(accessLines(2) - before).toBeGreaterThan(0);
  }, 30_000);

  it('lvsadm -d of a RS with an idle keep-alive connection removes it and its connection at once', async () => {
    const ka = spawn('ip', ['netns', 'exec', `${prefix}client`, SCAPY_PYTHON, `${ROOT}/scripts/lib/keepalive-client.py`, '10.0.0.100']);
    children.push(ka);
    const lines = createInterface({ input: ka.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<string> => String((await lines.next()).value);
    expect(await next()).toBe('ready');
    ka.stdin.write('get\n');
    const rs = await next();
    expect(rs).toMatch(/^rs[123]$/);
    const addr = `10.0.0.${10 + Number(rs.slice(2))}:80`;
    adm('-d', '-t', '10.0.0.100:80', '-r', addr);
    expect(adm('-L', '-n')).not.toContain(addr);
    // Its next request finds no connection on the director: dropped, as IPVS drops it; the client times out.
    ka.stdin.write('get\n');
    expect(await next()).toMatch(/^ERROR/);
    const others = Object.keys(countBy(curlLoop(prefix, 4)));
    expect(others).not.toContain(rs);
    expect(others).toHaveLength(2);
  }, 30_000);
});
