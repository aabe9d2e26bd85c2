// Packet fixtures through the whole pipeline on memory I/O: frame in, frame out (or none), verdict.
import { describe, expect, it } from 'vitest';
import { S_CLOSE, S_FIN_WAIT } from '../../../src/conn/tcp-state';
import { defaultTimeouts } from '../../../src/conn/timeouts';
import {
  V_DROP_MALFORMED, V_DROP_NEIGH, V_DROP_NO_CONN, V_DROP_NO_DEST, V_DROP_TABLE_FULL, V_FORWARDED, V_NOT_OURS, V_VLAN, VERDICT_NAMES,
} from '../../../src/verdict';
import { assemble, DIRECTOR_MAC, rsMac } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

const syn = (sport: number) => FrameBuilder.tcp().from('10.0.0.2', sport).to('10.0.0.100', 80).tcpFlags(FLAGS.S);

/** What DR must emit: the same bytes with dst MAC = RS and src MAC = the director. */
function drExpected(frame: Buffer, rsIndex: number): Buffer {
  const out = Buffer.from(frame);
  Buffer.from(rsMac(rsIndex).split(':').map((h) => parseInt(h, 16))).copy(out, 0);
  Buffer.from(DIRECTOR_MAC.split(':').map((h) => parseInt(h, 16))).copy(out, 6);
  return out;
}

describe('DR pipeline fixtures', () => {
  it.each([
    ['SYN to the VIP is forwarded to rs1 with only the MACs changed', [syn(40000)], V_FORWARDED, 0],
    ['the next connection goes to rs2 (rr)', [syn(40000), syn(40001)], V_FORWARDED, 1],
    ['a segment of a tracked flow follows its connection', [syn(40000), syn(40001), syn(40000).tcpFlags(FLAGS.A).data('GET / HTTP/1.1\r\n\r\n')], V_FORWARDED, 0],
  ])('%s', (_n, frames, verdict, rsIndex) => {
    const a = assemble();
    const built = frames.map((f) => f.build());
    built.forEach((f) => a.io.receive(f));
    const last = built[built.length - 1];
    expect(VERDICT_NAMES[a.pipeline.process(Buffer.from(last), last.length)]).toBe(VERDICT_NAMES[verdict]);
    expect(a.io.sent[a.io.sent.length - 1]).toEqual(drExpected(last, rsIndex));
  });

  it.each([
    ['a stray ACK (no connection, not a SYN) is dropped as IPVS drops it', syn(40000).tcpFlags(FLAGS.A), V_DROP_NO_CONN],
    ['SYN+RST does not start a connection', syn(40000).tcpFlags(FLAGS.S | FLAGS.R), V_DROP_NO_CONN],
    ['another port of the VIP is not ours', syn(40000).to('10.0.0.100', 443), V_NOT_OURS],
    ['UDP to a TCP-only VIP:port is not ours', FrameBuilder.udp().from('10.0.0.2', 5000).to('10.0.0.100', 80), V_NOT_OURS],
    ['another address is not ours', syn(40000).to('10.0.0.101', 80), V_NOT_OURS],
    ['an 802.1Q-tagged SYN is another L2 network\'s: the kernel\'s, counted as vlan', syn(40000).vlan(7), V_VLAN],
  ])('%s', (_n, frame, verdict) => {
    const a = assemble();
    const f = frame.build();
    expect(VERDICT_NAMES[a.pipeline.process(f, f.length)]).toBe(VERDICT_NAMES[verdict]);
    expect(a.io.sent).toHaveLength(0);
    expect(a.conns.count).toBe(0);
  });

  it('drops and counts a malformed frame (IHL 4) without emitting', () => {
    const a = assemble();
    const f = syn(40000).build();
    f[14] = 0x44;
    a.io.receive(f);
    expect(a.pipeline.verdicts[V_DROP_MALFORMED]).toBe(1);
    expect(a.pipeline.parseErrors.reduce((x, y) => x + y, 0)).toBe(1);
    expect(a.io.sent).toHaveLength(0);
  });

  it('drops while the RS MAC is unresolved, then forwards once ARP taught it', () => {
    const a = assemble({ resolve: false, weights: [1] });
    const f = syn(40000).build();
    expect(a.pipeline.process(Buffer.from(f), f.length)).toBe(V_DROP_NEIGH);
    // An ARP reply from rs1 as captured: the neighbour table learns the sender pair.
    const arp = Buffer.from('02000000000a02000000000b08060001080006040002' + '02000000000b0a00000b' + '02000000000a0a00000a', 'hex');
    a.io.receive(arp);
    expect(a.pipeline.process(Buffer.from(f), f.length)).toBe(V_FORWARDED);
    expect(a.io.sent[0]).toEqual(drExpected(f, 0));
  });

  it('splits wrr 3:1 as 75/25 over 100 connections', () => {
    const a = assemble({ scheduler: 'wrr', weights: [3, 1] });
    for (let i = 0; i < 100; i++) a.io.receive(syn(41000 + i).build());
    const toRs1 = a.io.sent.filter((f) => f[5] === 0x0b).length;
    expect([toRs1, a.io.sent.length - toRs1]).toEqual([75, 25]);
  });

  it('refuses new connections at the table limit and counts them', () => {
    const a = assemble({ connMax: 3 });
    for (let i = 0; i < 5; i++) a.io.receive(syn(42000 + i).build());
    expect(a.conns.count).toBe(3);
    expect(a.pipeline.verdicts[V_DROP_TABLE_FULL]).toBe(2);
  });

  it('counts no-dest when every RS has weight 0', () => {
    const a = assemble({ weights: [0, 0] });
    a.io.receive(syn(40000).build());
    expect(a.pipeline.verdicts[V_DROP_NO_DEST]).toBe(1);
  });
});

describe('connection accounting (IPVS active/inactive)', () => {
  it('SYN_RECV counts inactive, ESTABLISHED active, FIN_WAIT inactive again; expiry settles to zero', () => {
    const a = assemble({ weights: [1] });
    const rs = a.rs[0];
    const seg = (flags: number) => syn(40000).tcpFlags(flags).build();
    a.io.receive(seg(FLAGS.S));
    expect([rs.activeConns, rs.inactConns]).toEqual([0, 1]);
    a.io.receive(seg(FLAGS.A));
    expect([rs.activeConns, rs.inactConns]).toEqual([1, 0]);
    a.io.receive(seg(FLAGS.FA));
    expect([rs.activeConns, rs.inactConns]).toEqual([0, 1]);
    const c = a.conns.lookup(6, a.pipeline.flow.saddr, 40000, a.pipeline.flow.daddr, 80) >>> 1;
    expect(a.conns.stateOf(c)).toBe(S_FIN_WAIT);
    // FIN_WAIT lasts 120 s: still there at +119, gone at +120.
    const t = defaultTimeouts()[S_FIN_WAIT];
    a.conns.advance(a.clock.now + t - 1);
    expect(a.conns.count).toBe(1);
    a.conns.advance(a.clock.now + t);
    expect(a.conns.count).toBe(0);
    expect([rs.activeConns, rs.inactConns]).toEqual([0, 0]);
  });

  it('a RST closes an established connection into CLOSE (10 s)', () => {
    const a = assemble({ weights: [1] });
    a.io.receive(syn(40000).build());
    a.io.receive(syn(40000).tcpFlags(FLAGS.A).build());
    a.io.receive(syn(40000).tcpFlags(FLAGS.R).build());
    const c = a.conns.lookup(6, a.pipeline.flow.saddr, 40000, a.pipeline.flow.daddr, 80) >>> 1;
    expect(a.conns.stateOf(c)).toBe(S_CLOSE);
    a.conns.advance(a.clock.now + 10);
    expect(a.conns.count).toBe(0);
  });
});
