// lvsd's control surface end to end without a wire: a Daemon on memory I/O (interface lo, no fence), its rules
// from config, and lvsadm's main() talking to it over a real unix socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/lvsadm';
import { parseConfig } from '../../../src/control/config';
import { Daemon } from '../../../src/daemon';
import { MemoryIo } from '../../../src/io/memory-io';
import { createLogger } from '../../../src/log';

const RULES = `-A -t 10.0.0.100:80 -s wrr -p 120 -M 255.255.255.0
-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3
-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1
-A -u 10.0.0.100:53 -s sh -b sh-fallback,sh-port
-a -u 10.0.0.100:53 -r 10.0.1.11:5353 -m -w 1
`;

const dir = mkdtempSync(join(tmpdir(), 'lvsd-rules-'));
const socket = join(dir, 'lvsd.sock');
let daemon: Daemon;

async function lvsadm(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return lvsadmArgv(['--socket', socket, ...argv]);
}

/** lvsadm's main() on exactly these arguments, its output captured. */
async function lvsadmArgv(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe('a daemon built from config rules', () => {
  beforeAll(async () => {
    const config = parseConfig(`interface: lo\nfence: { enabled: false }\nmetrics: { listen: '127.0.0.1:0' }\nrules: |\n${RULES.split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    const io = new MemoryIo();
    daemon = new Daemon(config, { socket, log: createLogger('silent'), makeIo: () => io, makeIp: () => io, fence: false });
    await daemon.start();
  });
  afterAll(() => {
    daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lvsadm status prints the daemon status as JSON; a stray argument is a usage error', async () => {
    const r = await lvsadmArgv(['status', '--socket', socket]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const st = JSON.parse(r.out) as { io: string; interfaces: string[]; ipSend: { errors: number }; verdicts: Record<string, number> };
    expect(st.io).toBe('pcap');
    expect(st.interfaces).toEqual(['lo']);
    expect(st.ipSend.errors).toBe(0);
    expect(typeof st.verdicts.forwarded).toBe('number');
    expect(await lvsadmArgv(['status', '--bogus'])).toEqual({ code: 2, out: '', err: 'Usage: lvsadm status [--socket PATH]\n' });
  });

  it('holds exactly the rules: -S -n prints them back', async () => {
    const r = await lvsadm('-S', '-n');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out.split('\n').filter(Boolean).sort()).toEqual(RULES.split('\n').filter(Boolean).sort());
  });

  it('-R with a bad line refuses the whole restore, naming the line, and the table stays', async () => {
    const before = (await lvsadm('-S', '-n')).out;
    // lvsadm -R reads stdin (its parsing is tested with the invalid command lines); here the batch it sends.
    const { request } = await import('../../../src/control/client');
    await expect(request(socket, 'batch', { commands: [
      { cmd: 'addService', args: { svc: { proto: 'tcp', addr: '10.0.0.100', port: 81 }, scheduler: 'rr' }, line: 1 },
      { cmd: 'addDest', args: { svc: { proto: 'tcp', addr: '10.0.0.100', port: 81 }, dest: { addr: '10.0.0.11', port: 81 }, forward: 'dr', weight: 1 }, line: 2 },
      { cmd: 'addDest', args: { svc: { proto: 'tcp', addr: '10.0.0.100', port: 82 }, dest: { addr: '10.0.0.11', port: 82 }, forward: 'dr', weight: 1 }, line: 3 },
    ] })).rejects.toThrow('line 3: Service not defined');
    expect((await lvsadm('-S', '-n')).out).toBe(before);
  });

  it('-W says which real server a client gets: sh hashes, so the answer is exact', async () => {
    const a = await lvsadm('-W', '-u', '10.0.0.100:53', '--client', '10.9.8.7:4000');
    expect(a).toMatchObject({ code: 0, out: '10.0.1.11:5353 (scheduler)\n' });
    const b = await lvsadm('-W', '-t', '10.0.0.100:80', '--client', '10.9.8.7:4000', '--json');
    expect(JSON.parse(b.out)).toMatchObject({ via: 'scheduler', exact: false });
  });

  it('--add-laddr / -G / --del-laddr manage a FullNAT pool (DPVS)', async () => {
    expect((await lvsadm('-P', '-t', '10.0.0.100:80', '-z', '10.0.0.200')).code).toBe(0);
    expect((await lvsadm('-G', '-t', '10.0.0.100:80')).out).toBe('VIP:VPORT                    SNAT_IP          CONNS\nTCP  10.0.0.100:80           10.0.0.200       0\n');
    expect(await lvsadm('-P', '-t', '10.0.0.100:80', '-z', '10.0.0.200')).toMatchObject({ code: 255, err: 'Local address already exists\n' });
    expect((await lvsadm('-Q', '-t', '10.0.0.100:80', '-z', '10.0.0.200')).code).toBe(0);
  });

  it('serves Prometheus metrics on loopback, named in status', async () => {
    const { request } = await import('../../../src/control/client');
    const st = (await request(socket, 'status')) as { metrics: string };
    expect(st.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await (await fetch(st.metrics)).text();
    expect(text).toContain('lvs_real_server_connections_total{vip="10.0.0.100",port="80",proto="tcp",real="10.0.0.11:80"} 0');
  });

  it('says clearly when lvsd is not there', async () => {
    const r = await main(['--socket', join(dir, 'nope.sock'), '-L', '-n']).catch(() => -1);
    expect(r).toBe(2);
  });
});
