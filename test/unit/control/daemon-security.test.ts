// A daemon (memory I/O, no fence) configured as an operator would secure it: the control socket's group from the
// config reaches the socket (root:group 0660), and a whole session at log level trace (scrapes with no, a wrong
// and the right metrics token; frames carrying a marker in their payload, well-formed, stray and truncated;
// refused and accepted control commands; a reload) logs neither the token nor any payload byte.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../../src/control/client';
import { parseConfig } from '../../../src/control/config';
import { Daemon } from '../../../src/daemon';
import { MemoryIo } from '../../../src/io/memory-io';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const MARK = `PAYLOAD-${randomBytes(6).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'lvsd-sec-'));
const socket = join(dir, 'lvsd.sock');
const root = process.getuid?.() === 0;

const yaml = (weight: number): string => `interface: lo
fence: { enabled: false }
metrics: { listen: '127.0.0.1:0', token: ${TOKEN} }
${root ? 'control: { socket_group: nogroup }\n' : ''}services:
  - { vip: 10.0.0.100, port: 80, scheduler: rr, reals: [ { ip: 10.0.0.11, weight: ${weight}, forward: nat } ] }
`;

const lines: string[] = [];
const log = pino({ level: 'trace' }, new Writable({
  write(c: Buffer, _e, cb) {
    lines.push(...c.toString().split('\n').filter(Boolean));
    cb();
  },
}));
let daemon: Daemon;
let io: MemoryIo;

describe('a daemon secured by its config', () => {
  beforeAll(async () => {
    io = new MemoryIo();
    daemon = new Daemon(parseConfig(yaml(1)), { socket, log, makeIo: () => io, makeIp: () => io, fence: false });
    await daemon.start();
  });
  afterAll(() => {
    daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!root)('puts the configured group on the control socket: root:nogroup 0660', () => {
    const st = statSync(socket);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o660, 0, 65534]);
  });

  it('asks scrapers for the token: 401 without it or with a wrong one, 200 with it', async () => {
    const url = (daemon.status() as { metrics: string }).metrics;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('handles frames whose payload carries a marker (a connection, a stray ACK, a truncated frame)', async () => {
    const syn = FrameBuilder.tcp().from('10.0.0.2', 40001).to('10.0.0.100', 80).data(MARK).build();
    const stray = FrameBuilder.tcp().from('10.0.0.2', 40002).to('10.0.0.100', 80).tcpFlags(FLAGS.PA).data(MARK).build();
    io.receive(syn);
    io.receive(stray);
    io.receive(syn.subarray(0, 40)); // cut inside the TCP header
    io.failSends = true; // an emit failure is logged (once a second, with counts)
    io.receive(FrameBuilder.tcp().from('10.0.0.2', 40003).to('10.0.0.100', 80).data(MARK).build());
    io.failSends = false;
    expect(io.sentIp.some((p) => p.packet.includes(MARK))).toBe(true); // the payload did go through
    await new Promise((r) => setTimeout(r, 2200)); // a tick or two: drops are logged
    expect(lines.some((l) => l.includes('packets dropped'))).toBe(true);
  });

  it('refuses and applies control commands, and reloads', async () => {
    await expect(request(socket, 'addService', { svc: { proto: 'tcp', addr: '10.0.0.100', port: 80 } })).rejects.toThrow('Service already exists');
    await expect(request(socket, 'nope')).rejects.toThrow('unknown command');
    await request(socket, 'addService', { svc: { proto: 'tcp', addr: '10.0.0.100', port: 81 }, scheduler: 'rr' });
    await daemon.reload(parseConfig(yaml(3)));
    expect(lines.some((l) => l.includes('config reloaded'))).toBe(true);
  });

  it('logged all of that (at trace) without the token or a payload byte', () => {
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const m of ['lvsd started', 'metrics exporter listening', 'packets dropped', 'service table changed']) expect(msgs).toContain(m);
    expect(lines.some((l) => l.includes('metrics exporter listening') && l.includes('"auth":true'))).toBe(true);
    const all = lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(MARK);
    expect(all).not.toContain(Buffer.from(MARK).toString('hex'));
    expect(all).not.toContain('"type":"Buffer"'); // no buffer serialized at all
  });
});
