// Awkward but legal traffic, and traffic that is not legal, through the whole pipeline on memory I/O: fragments
// following their connection in every forwarding method, checksums checked before a NAT rewrite (and not for DR, as
// IPVS), VLAN tags, IP options, source routes, IPv6, and an ARP storm.
import { describe, expect, it } from 'vitest';
import { FRAG_FOLLOW_S } from '../../../src/conn/frag-follow';
import { S_ESTABLISHED } from '../../../src/conn/tcp-state';
import { finish, ipv4HeaderValid, l4ChecksumValid, setIpv4HeaderChecksum, sum16 } from '../../../src/packet/checksum';
import { PARSE_ERROR_NAMES } from '../../../src/packet/flow';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/format';
import { IPPROTO_TCP, ipDst, ipSrc, readU16 } from '../../../src/packet/ipv4';
import { PROTO_UDP } from '../../../src/service/types';
import { V_DROP_FRAGMENT, V_DROP_MALFORMED, V_FORWARDED, V_ICMP_FORWARDED, V_VLAN, VERDICT_NAMES } from '../../../src/verdict';
import { assemble, type Assembly, rsMac } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';
import { fragment } from '../fuzz/fuzz-frames';

const verdict = (a: Assembly, f: Buffer): string => VERDICT_NAMES[a.pipeline.process(Buffer.from(f), f.length)];
const parseErrors = (a: Assembly): Record<string, number> =>
  Object.fromEntries(Object.entries(PARSE_ERROR_NAMES).map(([k, n]) => [n, a.pipeline.parseErrors[-Number(k)]]).filter(([, v]) => v !== 0));

/** A datagram's frames: the whole IP packet cut into `size`-byte fragments, each behind the original's Ethernet header. */
function fragmented(b: FrameBuilder, size: number): Buffer[] {
  const whole = b.frag(0).build();
  return fragment(whole.subarray(14), size).map((p) => Buffer.concat([whole.subarray(0, 14), p]));
}

/** Put fragments (IP packets) back together as the receiver would, and say whether the L4 checksum verifies. */
function reassembledOk(frags: Buffer[]): boolean {
  const hl = (frags[0][0] & 15) * 4;
  const parts = frags.map((p) => ({ at: (readU16(p, 6) & 0x1fff) * 8, data: p.subarray((p[0] & 15) * 4) })).sort((x, y) => x.at - y.at);
  const data = Buffer.concat(parts.map((x) => x.data));
  const ip = Buffer.concat([frags[0].subarray(0, hl), data]);
  ip.writeUInt16BE(ip.length, 2);
  ip.writeUInt16BE(0, 6);
  setIpv4HeaderChecksum(ip, 0);
  return l4ChecksumValid(ip, 0, hl, ip[9]);
}

const lastIp = (a: Assembly, n: number) => a.io.sentIp.slice(-n).map((x) => x.packet);
const udpBig = (sport: number) => FrameBuilder.udp().from('10.0.0.2', sport).to('10.0.0.100', 80).id(0x4242).data(Buffer.alloc(1200, 0x61));

describe('fragments follow their connection', () => {
  it('DR: the first fragment is scheduled, the later ones go to the same RS MAC with only the MACs changed', () => {
    const a = assemble({ forward: 'dr', proto: PROTO_UDP, weights: [1, 1] });
    a.io.receive(FrameBuilder.udp().from('10.0.0.9', 1).to('10.0.0.100', 80).build()); // rr moves on: rs1 taken
    const frags = fragmented(udpBig(5000), 400);
    expect(frags).toHaveLength(4);
    expect(frags.map((f) => verdict(a, f))).toEqual(['forwarded', 'forwarded', 'forwarded', 'forwarded']);
    const out = a.io.sent.slice(-4);
    expect(out.map((o) => o.subarray(0, 6).toString('hex'))).toEqual(Array(4).fill(rsMac(1).replace(/:/g, '')));
    out.forEach((o, i) => expect(o.subarray(12)).toEqual(frags[i].subarray(12)));
  });

  it('TUN: every fragment is wrapped whole for the first fragment\'s RS', () => {
    const a = assemble({ forward: 'tun', proto: PROTO_UDP, rsBase: '10.0.2.11' });
    const frags = fragmented(udpBig(5000), 400);
    expect(frags.map((f) => verdict(a, f))).toEqual(Array(4).fill('forwarded'));
    const out = lastIp(a, 4);
    expect(new Set(out.map((p) => ipv4ToString(ipDst(p, 0) >>> 0)))).toEqual(new Set(['10.0.2.11']));
    out.forEach((p, i) => {
      expect([p[9], ipv4HeaderValid(p, 0)]).toEqual([4, true]);
      expect(p.subarray(20)).toEqual(frags[i].subarray(14));
    });
  });

  it.each([
    ['nat' as const, { rsBase: '10.0.1.11', rport: 8053 }, '10.0.0.2', '10.0.1.11'],
    ['fullnat' as const, { rsBase: '10.0.2.11', laddrs: ['10.0.0.200'] }, '10.0.0.200', '10.0.2.11'],
  ])('%s: later fragments get the addresses the first got, payload untouched; the RS reassembles a valid datagram', (forward, o, src, dst) => {
    const a = assemble({ forward, proto: PROTO_UDP, ...o });
    const frags = fragmented(udpBig(5000), 400);
    expect(frags.map((f) => verdict(a, f))).toEqual(Array(4).fill('forwarded'));
    const out = lastIp(a, 4);
    for (const [i, p] of out.entries()) {
      expect([ipv4ToString(ipSrc(p, 0) >>> 0), ipv4ToString(ipDst(p, 0) >>> 0), ipv4HeaderValid(p, 0)]).toEqual([src, dst, true]);
      if (i > 0) expect(p.subarray(20)).toEqual(frags[i].subarray(34));
    }
    expect(reassembledOk(out)).toBe(true);
    // ... and the RS's fragmented answer comes back to the client from the VIP, reassembling valid there too.
    const q = out[0];
    const reply = FrameBuilder.udp().from(dst, readU16(q, 22)).to(src, readU16(q, 20)).id(0x777).data(Buffer.alloc(900, 0x62));
    const rfrags = fragmented(reply, 304);
    expect(rfrags.map((f) => verdict(a, f))).toEqual(Array(rfrags.length).fill('forwarded'));
    const back = lastIp(a, rfrags.length);
    for (const p of back) expect([ipv4ToString(ipSrc(p, 0) >>> 0), ipv4ToString(ipDst(p, 0) >>> 0)]).toEqual(['10.0.0.100', '10.0.0.2']);
    expect(reassembledOk(back)).toBe(true);
    expect(readU16(back[0], 20)).toBe(80);
  });

  it('a TCP segment cut in fragments follows its connection too', () => {
    const a = assemble({ forward: 'nat', rsBase: '10.0.1.11' });
    const syn = FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.S).build();
    expect(verdict(a, syn)).toBe('forwarded');
    const seg = FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.PA).id(9).data(Buffer.alloc(600, 1));
    const frags = fragmented(seg, 200);
    expect(frags.map((f) => verdict(a, f))).toEqual(Array(frags.length).fill('forwarded'));
    expect(reassembledOk(lastIp(a, frags.length))).toBe(true);
  });

  it.each([
    ['a later fragment with no first fragment seen', (f: Buffer[]) => [f[1]], ['fragment']],
    ['later fragments before their first, then after it', (f: Buffer[]) => [f[2], f[0], f[1], f[3]], ['fragment', 'forwarded', 'forwarded', 'forwarded']],
    ['a later fragment of another datagram (other IP id)', (f: Buffer[]) => {
      const other = Buffer.from(f[1]);
      other.writeUInt16BE(0x4243, 18);
      setIpv4HeaderChecksum(other, 14);
      return [f[0], other];
    }, ['forwarded', 'fragment']],
  ])('%s is dropped and counted', (_n, pick, want) => {
    const a = assemble({ forward: 'dr', proto: PROTO_UDP });
    const frames = pick(fragmented(udpBig(5000), 400));
    expect(frames.map((f) => verdict(a, f))).toEqual(want);
    expect(a.io.sent).toHaveLength(want.filter((v) => v === 'forwarded').length);
  });

  it(`forgets a datagram after ${FRAG_FOLLOW_S} s`, () => {
    const a = assemble({ forward: 'dr', proto: PROTO_UDP });
    const f = fragmented(udpBig(5000), 400);
    expect(verdict(a, f[0])).toBe('forwarded');
    a.clock.now += FRAG_FOLLOW_S - 1;
    expect(verdict(a, f[1])).toBe('forwarded');
    a.clock.now += 1;
    a.io.receive(f[2]); // counted, as capture delivers it
    expect(a.pipeline.verdicts[V_DROP_FRAGMENT]).toBe(1);
    expect(a.io.sent).toHaveLength(2);
  });

  it('a later fragment to no VIP and of no tracked flow is not ours', () => {
    const a = assemble({ forward: 'dr', proto: PROTO_UDP });
    const f = fragmented(FrameBuilder.udp().from('10.0.0.2', 5000).to('10.9.9.9', 80).data(Buffer.alloc(900)), 400);
    expect(verdict(a, f[1])).toBe('not-ours');
  });
});

describe('checksums on arrival', () => {
  const syn = (): FrameBuilder => FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.S).data('hello');
  const spoilL4 = (f: Buffer): Buffer => {
    f[f.length - 1] ^= 0x20; // a payload byte: the TCP checksum no longer matches
    return f;
  };

  it.each(['dr', 'tun', 'nat', 'fullnat'] as const)('%s drops a wrong IP header checksum (as ip_rcv) and counts it', (forward) => {
    const a = assemble({ forward, rsBase: forward === 'dr' ? '10.0.0.11' : '10.0.2.11', laddrs: ['10.0.0.200'] });
    const f = syn().build();
    f[22] ^= 1; // TTL, checksum not updated
    expect(verdict(a, f)).toBe('malformed');
    expect(parseErrors(a)).toEqual({ 'bad-ip-checksum': 1 });
    expect([a.io.sent.length, a.io.sentIp.length, a.conns.count]).toEqual([0, 0, 0]);
  });

  it.each(['nat', 'fullnat'] as const)('%s drops a segment whose TCP checksum is wrong before rewriting it, and forwards the right one', (forward) => {
    const a = assemble({ forward, rsBase: '10.0.2.11', laddrs: ['10.0.0.200'] });
    expect(verdict(a, spoilL4(syn().build()))).toBe('malformed');
    expect(parseErrors(a)).toEqual({ 'bad-l4-checksum': 1 });
    expect(a.io.sentIp).toHaveLength(0);
    expect(verdict(a, syn().build())).toBe('forwarded');
    const p = a.io.sentIp[0].packet;
    expect(l4ChecksumValid(p, 0, 20, IPPROTO_TCP)).toBe(true);
  });

  it.each(['dr', 'tun'] as const)('%s passes a wrong L4 checksum on untouched, as IPVS does (the RS judges it)', (forward) => {
    const a = assemble({ forward, rsBase: forward === 'dr' ? '10.0.0.11' : '10.0.2.11' });
    expect(verdict(a, spoilL4(syn().build()))).toBe('forwarded');
  });

  it('NAT: a forged RST with a wrong checksum does not close an established connection; a right one does', () => {
    const a = assemble({ forward: 'nat', rsBase: '10.0.1.11' });
    const seg = (flags: number) => FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(flags).build();
    const fromRs = (flags: number) => FrameBuilder.tcp().from('10.0.1.11', 80).to('10.0.0.2', 40000).tcpFlags(flags).build();
    for (const f of [seg(FLAGS.S), fromRs(FLAGS.SA), seg(FLAGS.A)]) expect(verdict(a, f)).toBe('forwarded');
    const c = a.conns.lookup(IPPROTO_TCP, parseIpv4('10.0.0.2') | 0, 40000, parseIpv4('10.0.0.100') | 0, 80) >>> 1;
    expect(a.conns.stateOf(c)).toBe(S_ESTABLISHED);
    const rst = seg(FLAGS.R);
    rst[rst.length - 3] ^= 1; // TCP window byte: checksum now wrong
    expect(verdict(a, rst)).toBe('malformed');
    expect(a.conns.stateOf(c)).toBe(S_ESTABLISHED);
    expect(verdict(a, seg(FLAGS.R))).toBe('forwarded');
    expect(a.conns.stateOf(c)).not.toBe(S_ESTABLISHED);
  });

  it('NAT: a UDP checksum of 0 (none) is accepted', () => {
    const a = assemble({ forward: 'nat', proto: PROTO_UDP, rsBase: '10.0.1.11' });
    const f = FrameBuilder.udp().from('10.0.0.2', 5000).to('10.0.0.100', 80).data('x').build();
    f.writeUInt16BE(0, 40);
    expect(verdict(a, f)).toBe('forwarded');
  });

  it('an ICMP error about a tracked connection is passed on only when its own checksum is right (ip_vs_in_icmp)', () => {
    const a = assemble({ forward: 'nat', proto: PROTO_UDP, rsBase: '10.0.1.11', port: 5353 });
    expect(verdict(a, FrameBuilder.udp().from('10.0.0.2', 40000).to('10.0.0.100', 5353).data('q').build())).toBe('forwarded');
    const toRs = a.io.sentIp[0].packet;
    const icmp = Buffer.alloc(14 + 20 + 8 + toRs.length);
    Buffer.from('02000000000a0200000000020800', 'hex').copy(icmp, 0);
    icmp[14] = 0x45;
    icmp.writeUInt16BE(icmp.length - 14, 16);
    icmp[22] = 64;
    icmp[23] = 1;
    icmp.writeUInt32BE(parseIpv4('10.0.1.11'), 26);
    icmp.writeUInt32BE(parseIpv4('10.0.0.2'), 30);
    setIpv4HeaderChecksum(icmp, 14);
    icmp[34] = 3;
    icmp[35] = 3;
    toRs.copy(icmp, 42);
    icmp.writeUInt16BE(finish(sum16(icmp, 34, icmp.length - 34, 0)) ^ 0x0100, 36);
    expect(verdict(a, icmp)).toBe('malformed');
    expect(parseErrors(a)).toEqual({ 'bad-l4-checksum': 1 });
    icmp.writeUInt16BE(0, 36);
    icmp.writeUInt16BE(finish(sum16(icmp, 34, icmp.length - 34, 0)), 36);
    expect(a.pipeline.process(icmp, icmp.length)).toBe(V_ICMP_FORWARDED);
  });
});

describe('VLAN tags, IP options, IPv6', () => {
  it.each(['dr', 'nat'] as const)('%s: tagged frames (802.1Q, QinQ; SYN or ARP) are left to the kernel and counted as vlan', (forward) => {
    const a = assemble({ forward, rsBase: forward === 'dr' ? '10.0.0.11' : '10.0.1.11' });
    const tagged = FrameBuilder.tcp().vlan(42).build();
    const qinq = Buffer.concat([tagged.subarray(0, 12), Buffer.from('88a80007', 'hex'), tagged.subarray(12)]);
    // A tagged ARP reply claiming rs1's address (10.0.0.11 or 10.0.1.11) for another MAC: not learned.
    const rs1 = forward === 'dr' ? '0a00000b' : '0a00010b';
    const arp = Buffer.from(['ffffffffffff', '020000000099', '81000005', '0806', '000108000604', '0002', '020000000099', rs1,
      '000000000000', '0a000064'].join(''), 'hex');
    const macs = Buffer.from(a.neigh.macs.subarray(0, 12));
    for (const f of [tagged, qinq, arp]) a.io.receive(f);
    expect(a.pipeline.verdicts[V_VLAN]).toBe(3);
    expect([a.io.sent.length, a.io.sentIp.length, a.conns.count]).toEqual([0, 0, 0]);
    expect(Buffer.from(a.neigh.macs.subarray(0, 12))).toEqual(macs);
    // A malformed tagged frame is still a malformed one.
    const cut = tagged.subarray(0, 18 + 12);
    a.io.receive(cut);
    expect(parseErrors(a)).toEqual({ 'truncated-ip': 1 });
  });

  it('NAT rewrites behind IP options: the ports after the options change, the options stay, checksums right', () => {
    const a = assemble({ forward: 'nat', rsBase: '10.0.1.11', rport: 8080 });
    const opts = [0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01];
    const f = FrameBuilder.tcp().options(opts).from('10.0.0.2', 40000).tcpFlags(FLAGS.S).data('x').build();
    expect(verdict(a, f)).toBe('forwarded');
    const p = a.io.sentIp[0].packet;
    expect([p[0] & 15, [...p.subarray(20, 28)], readU16(p, 28), readU16(p, 30)]).toEqual([7, opts, 40000, 8080]);
    expect([ipv4HeaderValid(p, 0), l4ChecksumValid(p, 0, 28, IPPROTO_TCP)]).toEqual([true, true]);
  });

  it.each([
    ['loose source route', [0x83, 7, 4, 10, 0, 0, 1, 0], 'source-route'],
    ['an option longer than the header', [0x07, 12, 4, 0, 0, 0, 0, 0], 'bad-ip-options'],
  ])('a SYN with a %s is dropped, counted, and starts nothing', (_n, opts, kind) => {
    const a = assemble();
    expect(verdict(a, FrameBuilder.tcp().options(opts).build())).toBe('malformed');
    expect(parseErrors(a)).toEqual({ [kind]: 1 });
    expect([a.io.sent.length, a.conns.count]).toEqual([0, 0]);
  });

  it('IPv6 is the kernel\'s: not ours (tagged: vlan), not an error, nothing sent', () => {
    const a = assemble();
    const v6 = Buffer.concat([Buffer.from('02000000000a02000000000286dd', 'hex'), Buffer.from('6000000000140640', 'hex'), Buffer.alloc(52)]);
    const tagged = Buffer.concat([v6.subarray(0, 12), Buffer.from('8100000786dd', 'hex'), v6.subarray(14)]);
    expect([verdict(a, v6), verdict(a, tagged)]).toEqual(['not-ours', 'vlan']);
    expect([parseErrors(a), a.io.sent.length, a.conns.count]).toEqual([{}, 0, 0]);
  });
});

describe('ARP storm', () => {
  it('100k ARP frames from random senders: the neighbour table stays as it was, RS MACs untouched, nothing sent', () => {
    const a = assemble({ weights: [1, 1] });
    const before = Buffer.from(a.neigh.macs.subarray(0, 12));
    const arp = Buffer.from('ffffffffffff' + '020000000099' + '0806' + '000108000604' + '0001' + '020000000099' + '0a000063' + '000000000000' + '0a000064', 'hex');
    let s = 12345;
    for (let i = 0; i < 100_000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      arp.writeUInt32BE(s, 28); // sender IP
      arp.writeUInt32BE(Math.imul(s, 31) >>> 0, 24); // sender MAC (low 4 bytes)
      a.io.receive(arp);
    }
    expect(a.pipeline.verdicts[VERDICT_NAMES.indexOf('arp')]).toBe(100_000);
    expect(a.neigh.size).toBe(2);
    expect(Buffer.from(a.neigh.macs.subarray(0, 12))).toEqual(before);
    expect(a.io.sent).toHaveLength(0);
    // The RS's own ARP still teaches its (new) MAC, as the kernel's neighbour table would learn it.
    arp.writeUInt32BE(parseIpv4('10.0.0.11'), 28);
    a.io.receive(arp);
    expect(Buffer.from(a.neigh.macs.subarray(0, 6))).not.toEqual(before.subarray(0, 6));
  });
});

describe('counters', () => {
  it('every malformed drop is one parse error of one kind', () => {
    const a = assemble({ forward: 'nat', rsBase: '10.0.1.11' });
    const frames = [FrameBuilder.tcp().options([0x83, 3, 4, 0]).build(), FrameBuilder.tcp().data('abc').build()];
    frames[1][frames[1].length - 1] ^= 1;
    for (const f of frames) a.io.receive(f);
    expect(a.pipeline.verdicts[V_DROP_MALFORMED]).toBe(2);
    expect(a.pipeline.parseErrors.reduce((x, y) => x + y, 0)).toBe(2);
    expect(a.pipeline.verdicts[V_FORWARDED]).toBe(0);
    expect(parseErrors(a)).toEqual({ 'source-route': 1, 'bad-l4-checksum': 1 });
  });
});
