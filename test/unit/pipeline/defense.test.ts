// The SYN-flood defense through the whole pipeline (conn/defense.ts): IPVS's drop_entry and secure_tcp modes
// following the table's fill as the kernel's follow free memory, half-open entries aging fast, room made for new
// connections at a full table while established ones go on.
import { describe, expect, it } from 'vitest';
import { DEFAULT_AM_DROPRATE, type DefenseConfig } from '../../../src/conn/defense';
import { ConfigError, parseConfig } from '../../../src/control/config';
import {
  DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, nextTcpState, S_ESTABLISHED, S_SYN_RECV, S_SYNACK, STATE_NAMES,
} from '../../../src/conn/tcp-state';
import { ipv4ToString } from '../../../src/packet/format';
import { ipDst } from '../../../src/packet/ipv4';
import { parseIpv4 } from '../../../src/packet/format';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../src/packet/ipv4';
import { TCP_ACK, TCP_SYN } from '../../../src/packet/tcp';
import { V_DROP_TABLE_FULL, VERDICT_NAMES } from '../../../src/verdict';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';
import { assemble, push, type Rig, settle } from '../fuzz/fuzz-rig';

const VIP = '10.0.0.100';
/** A TCP segment from client n (10.3.x.y) port p. */
const seg = (n: number, p: number, flags: number, data = ''): Buffer =>
  FrameBuilder.tcp().from(`10.3.${n >> 8}.${n & 255}`, p).to(VIP, 80).tcpFlags(flags).data(data).build();

function send(rig: Rig, f: Buffer): string {
  const why = push(rig, f);
  if (why) throw new Error(why);
  return VERDICT_NAMES[rig.pipeline.last];
}

function connOf(rig: Rig, n: number, p: number): number {
  const e = rig.conns.lookup(IPPROTO_TCP, parseIpv4(`10.3.${n >> 8}.${n & 255}`) | 0, p, parseIpv4(VIP) | 0, 80);
  return e < 0 ? -1 : e >>> 1;
}

/** The next second of the coarse clock, as the daemon's tick makes it; the defense runs on its first frame. */
function nextSecond(rig: Rig, seconds = 1): void {
  rig.clock.now += seconds;
  rig.conns.advance(rig.clock.now);
}

const cfg = (dropEntry: number, secureTcp: number, amemthresh: number, dropPacket = 0): DefenseConfig =>
  ({ dropEntry, secureTcp, amemthresh, dropPacket, amDroprate: DEFAULT_AM_DROPRATE });

describe('modes follow the table fill as the kernel\'s follow free memory (update_defense_level)', () => {
  it.each([
    // mode, on while there is room, reads after, on when short of room, reads after
    [0, false, 0, false, 0],
    [1, false, 1, true, 2],
    [2, false, 1, true, 2],
    [3, true, 3, true, 3],
  ])('drop_entry = secure_tcp = %i: on with room %s (reads %i), short of room %s (reads %i)', (mode, onRoom, readsRoom, onShort, readsShort) => {
    const rig = assemble('dr', 100, cfg(mode, mode, 25));
    for (let i = 0; i < 75; i++) send(rig, seg(1, 1000 + i, FLAGS.S)); // 25 free: not short (< 25 is)
    nextSecond(rig);
    send(rig, seg(2, 1, FLAGS.A)); // any frame runs the second's defense step
    expect(rig.pipeline.defense.status()).toMatchObject({ drop_entry: readsRoom, secure_tcp: readsRoom, dropping: onRoom, secure: onRoom });
    send(rig, seg(1, 2000, FLAGS.S)); // 24 free
    nextSecond(rig);
    send(rig, seg(2, 1, FLAGS.A));
    expect(rig.pipeline.defense.status()).toMatchObject({ drop_entry: readsShort, secure_tcp: readsShort, dropping: onShort, secure: onShort });
  });

  it('automatic modes turn off again (and read 1) once the entries age out', () => {
    const rig = assemble('dr', 100, cfg(1, 1, 25));
    for (let i = 0; i < 90; i++) send(rig, seg(1, 1000 + i, FLAGS.S));
    nextSecond(rig);
    send(rig, seg(2, 1, FLAGS.A));
    expect(rig.pipeline.defense.status()).toMatchObject({ drop_entry: 2, secure_tcp: 2 });
    nextSecond(rig, 120);
    send(rig, seg(2, 1, FLAGS.A));
    expect(rig.conns.count).toBe(0);
    expect(rig.pipeline.defense.status()).toMatchObject({ drop_entry: 1, secure_tcp: 1, dropping: false, secure: false });
  });
});

describe('secure_tcp', () => {
  const expiresIn = (rig: Rig, c: number): number => rig.conns.expiresOf(c) - rig.clock.now;

  it.each([
    [0, 'SYN_RECV', 60],
    [3, 'SYNACK', 10],
  ])('secure_tcp %i: a DR SYN leaves a half-open entry in %s for %i s', (secure, state, seconds) => {
    const rig = assemble('dr', 64, cfg(0, secure, 16));
    send(rig, seg(1, 1000, FLAGS.S));
    const c = connOf(rig, 1, 1000);
    expect([STATE_NAMES[rig.conns.stateOf(c)], expiresIn(rig, c)]).toEqual([state, seconds]);
    nextSecond(rig, seconds - 1);
    expect(rig.conns.count).toBe(1);
    nextSecond(rig, 1);
    expect(rig.conns.count).toBe(0);
  });

  it('while secure, ESTABLISHED lasts 8 minutes (or less if configured lower), a DR client\'s ACK establishes', () => {
    const rig = assemble('dr', 64, cfg(0, 3, 16));
    send(rig, seg(1, 1000, FLAGS.S));
    send(rig, seg(1, 1000, FLAGS.A));
    const c = connOf(rig, 1, 1000);
    expect([rig.conns.stateOf(c), expiresIn(rig, c)]).toEqual([S_ESTABLISHED, 480]);
  });

  it('NAT: the client\'s ACK alone establishes nothing while secure; the RS\'s SYN+ACK and ACK do (tcp_states_dos)', () => {
    for (const [secure, want] of [[0, ['SYN_RECV', 'ESTABLISHED']], [3, ['SYN_RECV', 'SYN_RECV', 'SYNACK', 'SYNACK', 'ESTABLISHED']]] as const) {
      const rig = assemble('nat', 64, cfg(0, secure, 16));
      const states: string[] = [];
      const at = (): void => { states.push(STATE_NAMES[rig.conns.stateOf(connOf(rig, 1, 1000))]); };
      send(rig, seg(1, 1000, FLAGS.S));
      // The RS the SYN went to answers from RIP:8080.
      const rip = ipv4ToString(ipDst(rig.io.sentIp[rig.io.sentIp.length - 1].packet, 0) >>> 0);
      const rs = (flags: number, cport: number): Buffer => FrameBuilder.tcp().from(rip, 8080).to('10.3.0.1', cport).tcpFlags(flags).build();
      at();
      if (secure) {
        send(rig, seg(1, 1000, FLAGS.A)); // a spoofed handshake: no answer from the RS
        at();
        send(rig, rs(FLAGS.SA, 1000));
        at();
        send(rig, seg(1, 1000, FLAGS.A));
        at();
        send(rig, rs(FLAGS.A, 1000));
        at();
      } else {
        send(rig, seg(1, 1000, FLAGS.A));
        at();
      }
      expect(states).toEqual(want);
    }
  });

  it('the secure table is the kernel\'s tcp_states_dos where it differs from the normal one', () => {
    expect([
      nextTcpState(S_SYN_RECV, DIR_INPUT, TCP_ACK, true), nextTcpState(S_SYN_RECV, DIR_INPUT, TCP_ACK, false),
      nextTcpState(S_SYN_RECV, DIR_OUTPUT, TCP_SYN | TCP_ACK, true), nextTcpState(0, DIR_INPUT_ONLY, TCP_SYN, true),
      nextTcpState(S_SYNACK, DIR_INPUT_ONLY, TCP_ACK, true),
    ].map((s) => STATE_NAMES[s])).toEqual(['SYN_RECV', 'ESTABLISHED', 'SYNACK', 'SYNACK', 'ESTABLISHED']);
  });
});

describe('a SYN flood against a small table (defaults: drop_entry and secure_tcp automatic)', () => {
  it('established connections go on, the table never overflows, and a new client still gets in', () => {
    const CAP = 1024;
    // drop_entry and secure_tcp alone (drop_packet would shed the new client too, as the kernel's does).
    const rig = assemble('dr', CAP, cfg(1, 1, 256, 0));
    // 40 clients with established connections (SYN, ACK, a request).
    for (let n = 1; n <= 40; n++) for (const f of [FLAGS.S, FLAGS.A, FLAGS.PA]) expect(send(rig, seg(n, 5000, f, f === FLAGS.PA ? 'GET /' : ''))).toBe('forwarded');
    let flood = 0;
    const floodFor = (count: number): void => {
      for (let i = 0; i < count; i++, flood++) expect(send(rig, seg(1000 + (flood >> 14), 1024 + (flood & 0x3fff), FLAGS.S))).toBe('forwarded');
    };
    for (let s = 0; s < 5; s++) {
      floodFor(5000);
      nextSecond(rig);
      // Every established client is still served, with its connection where it was.
      for (let n = 1; n <= 40; n++) expect(send(rig, seg(n, 5000, FLAGS.PA, 'more'))).toBe('forwarded');
      // A new client mid-flood: its SYN gets in, more flood (a tenth of the table turns over), then its ACK finds
      // the connection: the entries dropped to make room are the oldest, not the newest.
      expect(send(rig, seg(500 + s, 6000, FLAGS.S))).toBe('forwarded');
      floodFor(100);
      expect(send(rig, seg(500 + s, 6000, FLAGS.A))).toBe('forwarded');
      expect(rig.conns.stateOf(connOf(rig, 500 + s, 6000))).toBe(S_ESTABLISHED);
      expect(rig.conns.count).toBe(CAP);
    }
    expect(rig.pipeline.verdicts[V_DROP_TABLE_FULL]).toBe(0);
    expect(rig.pipeline.defense.evicted).toBeGreaterThan(25_000 - CAP);
    expect(rig.pipeline.verdicts[VERDICT_NAMES.indexOf('no-conn')]).toBe(0);
    expect(rig.pipeline.defense.status()).toMatchObject({ dropping: true, secure: true });
    expect(settle(rig)).toBeNull();
  });

  it('a table full of established connections refuses new SYNs (conn-table-full) and keeps serving the established', () => {
    const CAP = 64;
    const rig = assemble('dr', CAP, cfg(1, 1, 16, 0));
    for (let n = 1; n <= CAP; n++) for (const f of [FLAGS.S, FLAGS.A]) send(rig, seg(n, 5000, f));
    for (let i = 0; i < 1000; i++) expect(send(rig, seg(999, 1024 + i, FLAGS.S))).toBe('conn-table-full');
    for (let n = 1; n <= CAP; n++) expect(send(rig, seg(n, 5000, FLAGS.PA, 'x'))).toBe('forwarded');
    expect(rig.pipeline.verdicts[V_DROP_TABLE_FULL]).toBe(1000);
    expect(rig.pipeline.defense.evicted).toBe(0);
  });
});

describe('drop_entry\'s once-a-second scan (ip_vs_random_dropentry)', () => {
  it('drops half-open entries, and idle established/UDP ones with few packets; keeps busy ones', () => {
    const rig = assemble('dr', 1024, cfg(3, 0, 0));
    for (let i = 0; i < 100; i++) send(rig, seg(1, 1000 + i, FLAGS.S)); // half-open
    for (let i = 0; i < 20; i++) for (const f of [FLAGS.S, FLAGS.A]) send(rig, seg(2, 1000 + i, f)); // 2 packets, then idle
    for (let i = 0; i < 20; i++) for (let k = 0; k < 20; k++) send(rig, seg(3, 1000 + i, k === 0 ? FLAGS.S : FLAGS.A)); // busy
    for (let i = 0; i < 10; i++) send(rig, FrameBuilder.udp().from('10.3.0.4', 1000 + i).to(VIP, 80).build()); // 1 packet
    const live = (n: number): number => Array.from({ length: 100 }, (_, i) => connOf(rig, n, 1000 + i)).filter((c) => c >= 0).length;
    const udpLive = (): number => Array.from({ length: 10 }, (_, i) =>
      rig.conns.lookup(IPPROTO_UDP, parseIpv4('10.3.0.4') | 0, 1000 + i, parseIpv4(VIP) | 0, 80)).filter((e) => e >= 0).length;
    expect([live(1), live(2), live(3), udpLive()]).toEqual([100, 20, 20, 10]);
    // 32 scans cover the table once: every half-open entry is gone well before its 60 s; the rest were not idle.
    for (let s = 0; s < 32; s++) {
      nextSecond(rig);
      send(rig, seg(9, 9, FLAGS.A));
    }
    expect([live(1), live(2), live(3), udpLive()]).toEqual([0, 20, 20, 10]);
    // Idle for over a minute now, as the busy ones are too: the scans drop those that carried 1 packet every time,
    // 2 packets every second time, and spare those with more than 8.
    for (let s = 0; s < 64; s++) {
      nextSecond(rig);
      send(rig, seg(9, 9, FLAGS.A));
    }
    expect([live(2) <= 10, live(3), udpLive()]).toEqual([true, 20, 0]);
    expect(rig.pipeline.defense.scanned).toBeGreaterThanOrEqual(100 + 10 + 10);
    expect(settle(rig)).toBeNull();
  });
});

describe('config: defense', () => {
  const base = 'interface: eth0\nconn_max: 4096\n';

  it('defaults to automatic modes with amemthresh a quarter of the table (at most 1024, the kernel\'s)', () => {
    expect(parseConfig(base).defense).toEqual({ dropEntry: 1, secureTcp: 1, amemthresh: 1024, dropPacket: 0, amDroprate: 10 });
    expect(parseConfig('interface: eth0\nconn_max: 1000\n').defense).toEqual({ dropEntry: 1, secureTcp: 1, amemthresh: 250, dropPacket: 0, amDroprate: 10 });
    expect(parseConfig(`${base}defense: { drop_entry: 3, secure_tcp: 0, amemthresh: 100 }\n`).defense)
      .toEqual({ dropEntry: 3, secureTcp: 0, amemthresh: 100, dropPacket: 0, amDroprate: 10 });
  });

  it.each([
    ['defense: { drop_entry: 4 }', 'defense.drop_entry', '4'],
    ['defense: { secure_tcp: -1 }', 'defense.secure_tcp', '-1'],
    ['defense: { secure_tcp: "on" }', 'defense.secure_tcp', '"on"'],
    ['defense: { amemthresh: 5000 }', 'defense.amemthresh', '5000'],
    ['defense: { drop_packet: 7 }', 'defense.drop_packet', '7'],
    ['defense: { am_droprate: 0 }', 'defense.am_droprate', '0'],
    ['defense: { drop_rate: 1 }', 'defense.drop_rate', 'unknown field'],
    ['defense: 3', 'defense', 'must be a mapping'],
  ])('refuses %s, naming the field and value', (line, field, value) => {
    let err: unknown;
    try {
      parseConfig(`${base}${line}\n`, 'lvsd.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as Error).message).toContain(value);
    expect((err as Error).message).toMatch(/^lvsd\.yaml:3: /);
  });
});

describe('drop_packet (ip_vs_todrop): new connections shed before they cost a forward', () => {
  it('sheds none while free slots are plenty, one in amemthresh/(amemthresh - free) once short, all at a full table', () => {
    const rig = assemble('dr', 100, cfg(0, 0, 40, 1));
    // 50 connections: 50 free, not short. The rate is taken once a second, as the kernel's defense_work does.
    for (let n = 0; n < 50; n++) expect(send(rig, seg(n, 1000, FLAGS.S))).toBe('forwarded');
    nextSecond(rig);
    expect(send(rig, seg(50, 1000, FLAGS.S))).toBe('forwarded');
    expect(rig.pipeline.defense.dropRate).toBe(0);
    // Fill to 80 of 100: 20 free < 40, so drop_rate = 40 / (40 - 20) = 2: every second new connection is shed.
    for (let n = 51; n < 80; n++) send(rig, seg(n, 1000, FLAGS.S));
    nextSecond(rig);
    const verdicts = Array.from({ length: 10 }, (_v, k) => send(rig, seg(200 + k, 1000, FLAGS.S)));
    expect(rig.pipeline.defense.status().drop_packet).toBe(2);
    expect(verdicts.filter((v) => v === 'defense-drop')).toHaveLength(5);
    expect(verdicts.filter((v) => v === 'forwarded')).toHaveLength(5);
    // An established connection is never shed: drop_packet acts on new connections only.
    expect(send(rig, seg(1, 1000, FLAGS.A))).toBe('forwarded');
    // Fill the table: at the next second every new connection is shed, and the counter says how many.
    for (let n = 300; rig.conns.count < 100; n++) send(rig, seg(n, 1000, FLAGS.S));
    nextSecond(rig);
    const before = rig.pipeline.defense.shed;
    for (let k = 0; k < 20; k++) expect(send(rig, seg(500 + k, 1000, FLAGS.S))).toBe('defense-drop');
    expect(rig.pipeline.defense.shed - before).toBe(20);
    expect(rig.pipeline.verdicts[V_DROP_TABLE_FULL]).toBe(0);
  });

  it('at a full table an automatic drop_packet sheds at once, not a second later, and evicts nothing', () => {
    const rig = assemble('dr', 64, cfg(1, 1, 16, 1));
    for (let n = 0; n < 64; n++) for (const f of [FLAGS.S, FLAGS.A]) send(rig, seg(n, 5000, f));
    expect(rig.pipeline.defense.dropRate).toBe(0); // no tick has seen the table short yet
    for (let k = 0; k < 100; k++) expect(send(rig, seg(900, 1024 + k, FLAGS.S))).toBe('defense-drop');
    expect(rig.pipeline.defense.dropRate).toBe(1);
    expect(rig.pipeline.defense.shed).toBe(100);
    expect(rig.pipeline.defense.evicted).toBe(0);
    for (let n = 0; n < 64; n++) expect(send(rig, seg(n, 5000, FLAGS.PA, 'x'))).toBe('forwarded');
  });

  it('mode 0 never sheds; mode 3 sheds one in am_droprate whatever the fill', () => {
    const off = assemble('dr', 10, cfg(0, 0, 5, 0));
    for (let n = 0; n < 10; n++) send(off, seg(n, 1000, FLAGS.S));
    nextSecond(off);
    expect(send(off, seg(99, 1000, FLAGS.S))).toBe('conn-table-full');
    const always = assemble('dr', 1000, cfg(0, 0, 5, 3));
    nextSecond(always);
    const v = Array.from({ length: 30 }, (_x, k) => send(always, seg(k, 2000, FLAGS.S)));
    expect(v.filter((x) => x === 'defense-drop')).toHaveLength(3);
  });
});
