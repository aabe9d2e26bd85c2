import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as lvsadm } from '../../../src/cli/lvsadm';
import { main as top, parseTopArgs, renderTop, uptime } from '../../../src/cli/lvsadm-top';
import { ControlServer } from '../../../src/control/server';
import { LIST, STATUS } from './fixture';

const FRAME = [
  'lvsd on eth0,eth1, up 1h02m05s   conns 49/262144 (0.0%)   forwarded 5004',
  'drops: malformed 3 (truncated-ip 2, bad-ihl 1), no-conn 9, send-failed 1',
  'capture handler errors: eth1 2',
  '',
  'Prot LocalAddress:Port Sched Forward Weight ActiveConn  InActConn      CPS    InPPS   OutPPS    InBPS   OutBPS  Health',
  'TCP  10.0.0.100:80 wlc                              43          6       12      150      120    15000  2500000  1/2 up',
  '  -> 10.0.0.11:80            Masq         3         40          5       12      147      118    14700  2499800  up',
  '  -> 10.0.0.12:80            Masq         0          2          1        0        3        2      300      200  down: TCP_CHECK: connection refused',
  '  -> 10.0.0.13:8080          Masq         0          1          0        0        0        0        0        0  draining: 1 open, 42s left',
  'UDP  10.0.0.100:53 rr                                0          7        1       10        0      600        0',
  '  -> 10.0.0.21:53            Route        1          0          7        0        0        0        0        0  -',
  'FWM  7 sh                                            1          0        0        0        0        0        0',
  '  -> 10.0.0.31:0             Route        2          1          0        0        0        0        0        0  -',
  '',
].join('\n');

describe('renderTop', () => {
  it('draws the header, then services and real servers in ipvsadm order with counts, rates, health and drains', () => {
    expect(renderTop(LIST, STATUS)).toBe(FRAME);
  });

  it('uses print_largenum for big rates, and says when nothing is dropped or configured', () => {
    const big = { ...LIST, services: [{ ...LIST.services[1], rates: [1, 2, 3, 123_456_789, 45_000_000_000], dests: [] }] };
    const text = renderTop(big, { conns: 0, connMax: 0, verdicts: { forwarded: 0, 'no-conn': 0 } });
    expect(text).toContain('drops: none');
    expect(text).toMatch(/ {2}123456K {3}45000M$/m);
    expect(renderTop({ ...LIST, services: [] }, {})).toMatch(/\(no virtual services\)\n$/);
  });

  it('widens the first column for a long label', () => {
    const long = { ...LIST, services: [{ ...LIST.services[1], scheduler: 'lblcr', vip: 0xfffffffe, port: 65535 }] };
    const lines = renderTop(long, STATUS).split('\n');
    const at = lines[4].indexOf(' Forward');
    expect(lines[5].slice(0, at)).toBe('TCP  255.255.255.254:65535 lblcr');
    expect(lines[6].slice(at + 1, at + 5)).toBe('Masq');
  });
});

describe('arguments', () => {
  it.each([
    [[], { interval: 1, once: false }],
    [['--once'], { interval: 1, once: true }],
    [['--interval', '2.5', '--socket', '/tmp/x.sock'], { interval: 2.5, once: false, socket: '/tmp/x.sock' }],
    [['--interval=0.5', '--socket=/s'], { interval: 0.5, once: false, socket: '/s' }],
  ])('%j', (argv, want) => {
    expect(parseTopArgs(argv)).toEqual(want);
  });

  it.each([
    [['--interval', '0'], /--interval must be a number of seconds >= 0.1, got "0"/],
    [['--interval', 'x'], /got "x"/],
    [['--interval'], /--interval needs a value/],
    [['-n'], /unknown option "-n"/],
  ])('refuses %j', (argv, msg) => {
    expect(() => parseTopArgs(argv)).toThrow(msg);
  });

  it.each([[0, '0s'], [59, '59s'], [61, '1m01s'], [3725, '1h02m05s'], [90061, '1d01h01m']])('uptime(%s) = %s', (s, text) => {
    expect(uptime(s)).toBe(text);
  });
});

describe('lvsadm top --once against a stand-in lvsd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsadm-top-'));
  const sock = join(dir, 'lvsd.sock');
  const server = new ControlServer(sock, { list: () => LIST, status: () => STATUS }, pino({ level: 'silent' }));
  beforeAll(() => server.listen());
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    try {
      return { code: await lvsadm(argv), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('prints one plain frame (no escapes) and exits 0', async () => {
    expect(await run(['top', '--once', '--socket', sock])).toEqual({ code: 0, out: FRAME, err: '' });
  });

  it('exits 2 with lvsadm\'s words when lvsd is not there', async () => {
    const r = await run(['top', '--once', '--socket', join(dir, 'none.sock')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Can't connect to lvsd on .*none\.sock \(is lvsd running\?\)\n$/);
  });

  it('exits 2 with the usage on a bad option', async () => {
    const r = await run(['top', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('lvsadm top: unknown option "--bogus"\nUsage: lvsadm top [--socket PATH] [--interval SECONDS] [--once]\n');
  });
});

describe('lvsadm top without --once, output not a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsadm-top-'));
  const sock = join(dir, 'lvsd.sock');
  const server = new ControlServer(sock, { list: () => LIST, status: () => STATUS }, pino({ level: 'silent' }));
  beforeAll(() => server.listen());
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a stamped plain frame every interval until SIGINT, then exits 0 and lets SIGINT go', async () => {
    const frames: string[] = [];
    const sigints = process.listenerCount('SIGINT');
    const done = top(['--interval', '0.1', '--socket', sock], { out: { write: (s: string) => frames.push(s) > 0 }, err: { write: () => true }, in: null });
    await vi.waitFor(() => expect(frames.length).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 20 });
    process.emit('SIGINT');
    expect(await done).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(sigints);
    for (const f of frames) {
      expect(f).toMatch(/^\d\d:\d\d:\d\d {2}every 0\.1s\n/);
      expect(f.slice(f.indexOf('\n') + 1)).toBe(`${FRAME}\n`);
      expect(f).not.toContain('\x1b');
    }
  });
});
