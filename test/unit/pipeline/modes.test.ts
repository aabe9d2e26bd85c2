// TUN, NAT and FullNAT through the whole pipeline on memory I/O: what each emits, with every IPv4/TCP/UDP/ICMP
// checksum checked against a full recomputation, over many generated packets.
import { describe, expect, it } from 'vitest';
import { ipv4HeaderValid, l4ChecksumValid, finish, sum16 } from '../../../src/packet/checksum';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/format';
import { IPPROTO_TCP, IPPROTO_UDP, ipDst, ipHeaderLen, ipProto, ipSrc, ipTotalLen, readU16 } from '../../../src/packet/ipv4';
import { PROTO_UDP } from '../../../src/service/types';
import { V_DROP_LADDR, V_DROP_TOO_BIG, V_FORWARDED, V_ICMP_FORWARDED, VERDICT_NAMES } from '../../../src/verdict';
import { assemble, type Assembly } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

interface Seen { src: string; sport: number; dst: string; dport: number; proto: number; ipOk: boolean; l4Ok: boolean }

/** Read an emitted IPv4 packet and verify its checksums from scratch. */
function seen(p: Buffer): Seen {
  const hl = ipHeaderLen(p, 0);
  const proto = ipProto(p, 0);
  return {
    src: ipv4ToString(ipSrc(p, 0) >>> 0), dst: ipv4ToString(ipDst(p, 0) >>> 0), proto,
    sport: readU16(p, hl), dport: readU16(p, hl + 2),
    ipOk: ipv4HeaderValid(p, 0) && ipTotalLen(p, 0) === p.length,
    l4Ok: proto === IPPROTO_TCP || proto === IPPROTO_UDP ? l4ChecksumValid(p, 0, hl, proto) : true,
  };
}

/** A deterministic generator (LCG), so a failure names a reproducible packet. */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const client = (r: (n: number) => number): string => `10.${1 + r(200)}.${r(256)}.${1 + r(254)}`;
const payload = (r: (n: number) => number): Buffer => Buffer.from(Array.from({ length: r(300) }, () => r(256)));

function request(a: Assembly, proto: number, cip: string, cport: number, flags: number, data: Buffer, port = 80): number {
  const b = (proto === PROTO_UDP ? FrameBuilder.udp() : FrameBuilder.tcp().tcpFlags(flags)).from(cip, cport).to('10.0.0.100', port).data(data);
  const f = b.build();
  return a.pipeline.process(f, f.length);
}

/** A reply frame as the RS (or the network, for FullNAT) delivers it to the director. */
function reply(a: Assembly, proto: number, src: string, sport: number, dst: string, dport: number, data: Buffer): number {
  const b = (proto === PROTO_UDP ? FrameBuilder.udp() : FrameBuilder.tcp().tcpFlags(FLAGS.A)).from(src, sport).to(dst, dport).data(data);
  const f = b.build();
  return a.pipeline.process(f, f.length);
}

const lastIp = (a: Assembly) => a.io.sentIp[a.io.sentIp.length - 1];

describe.each([['tcp', IPPROTO_TCP], ['udp', IPPROTO_UDP]] as const)('%s', (_name, proto) => {
  it('NAT: 5000 conversations, requests DNAT to RIP:rport, replies SNAT to VIP:vport, all checksums valid', () => {
    const a = assemble({ forward: 'nat', weights: [1, 1], rsBase: '10.0.1.11', port: 8080, rport: 80, proto, connMax: 20000 });
    const r = rng(proto);
    for (let i = 0; i < 5000; i++) {
      const cip = client(r);
      const cport = 1024 + r(60000);
      expect(VERDICT_NAMES[request(a, proto, cip, cport, FLAGS.S, payload(r), 8080)]).toBe('forwarded');
      const req = lastIp(a);
      const q = seen(req.packet);
      expect(q).toMatchObject({ src: cip, sport: cport, dport: 80, ipOk: true, l4Ok: true });
      expect(['10.0.1.11', '10.0.1.12']).toContain(q.dst);
      expect(ipv4ToString(req.dst)).toBe(q.dst);
      expect(reply(a, proto, q.dst, 80, cip, cport, payload(r))).toBe(V_FORWARDED);
      const rep = lastIp(a);
      expect(seen(rep.packet)).toMatchObject({ src: '10.0.0.100', sport: 8080, dst: cip, dport: cport, ipOk: true, l4Ok: true });
      expect(ipv4ToString(rep.dst)).toBe(cip);
    }
  });

  it('FullNAT: 5000 conversations, LIP:lport unique per RS, replies mapped back, all checksums valid', () => {
    const a = assemble({ forward: 'fullnat', weights: [1, 1], rsBase: '10.0.2.11', laddrs: ['10.0.0.200', '10.0.0.201'], proto, connMax: 20000 });
    const r = rng(proto + 100);
    const taken = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const cip = client(r);
      const cport = 1024 + r(60000);
      expect(request(a, proto, cip, cport, FLAGS.S, payload(r))).toBe(V_FORWARDED);
      const q = seen(lastIp(a).packet);
      expect(q).toMatchObject({ dport: 80, ipOk: true, l4Ok: true });
      expect(['10.0.0.200', '10.0.0.201']).toContain(q.src);
      const key = `${q.src}:${q.sport}>${q.dst}`;
      expect(taken.has(key)).toBe(false);
      taken.add(key);
      expect(reply(a, proto, q.dst, 80, q.src, q.sport, payload(r))).toBe(V_FORWARDED);
      const rep = lastIp(a);
      expect(seen(rep.packet)).toMatchObject({ src: '10.0.0.100', sport: 80, dst: cip, dport: cport, ipOk: true, l4Ok: true });
      expect(ipv4ToString(rep.dst)).toBe(cip);
    }
  });

  it('DR: 3000 frames leave with only their MACs changed and their checksums still valid', () => {
    const a = assemble({ forward: 'dr', weights: [1, 1], proto, connMax: 5000 });
    const r = rng(proto + 300);
    for (let i = 0; i < 3000; i++) {
      expect(request(a, proto, client(r), 1024 + i, FLAGS.S, payload(r))).toBe(V_FORWARDED);
      const out = a.io.sent[a.io.sent.length - 1].subarray(14);
      expect(seen(out)).toMatchObject({ dst: '10.0.0.100', ipOk: true, l4Ok: true });
    }
  });

  it('TUN: the inner packet arrives untouched inside a valid outer header (proto 4, DIP -> RIP)', () => {
    const a = assemble({ forward: 'tun', weights: [1, 1], rsBase: '10.0.2.11', proto, connMax: 5000 });
    const r = rng(proto + 200);
    for (let i = 0; i < 2000; i++) {
      const cip = client(r);
      const data = payload(r);
      const f = (proto === PROTO_UDP ? FrameBuilder.udp() : FrameBuilder.tcp().tcpFlags(FLAGS.S)).from(cip, 2000 + i).to('10.0.0.100', 80).data(data).build();
      expect(a.pipeline.process(Buffer.from(f), f.length)).toBe(V_FORWARDED);
      const out = lastIp(a).packet;
      expect(ipv4HeaderValid(out, 0)).toBe(true);
      expect([out[9], ipv4ToString(ipSrc(out, 0) >>> 0), out[8], readU16(out, 6) & 0x4000]).toEqual([4, '10.0.0.10', 64, 0x4000]);
      expect(['10.0.2.11', '10.0.2.12']).toContain(ipv4ToString(ipDst(out, 0) >>> 0));
      expect(out.subarray(20)).toEqual(f.subarray(14));
    }
  });
});

describe('checksum edge cases', () => {
  it('NAT completes a TCP checksum the sender left to offload (pseudo-header sum only)', () => {
    const a = assemble({ forward: 'nat', weights: [1], rsBase: '10.0.1.11' });
    const f = FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.S).data('x').build();
    // Replace the checksum with the partial-offload value: the folded pseudo-header sum.
    const l4Len = f.length - 34;
    const pseudo = 0x0a00 + 0x0002 + 0x0a00 + 0x0064 + 6 + l4Len;
    f.writeUInt16BE(pseudo, 50);
    expect(a.pipeline.process(f, f.length)).toBe(V_FORWARDED);
    expect(seen(lastIp(a).packet)).toMatchObject({ dst: '10.0.1.11', ipOk: true, l4Ok: true });
  });

  it('NAT leaves a UDP checksum of 0 (none) as none', () => {
    const a = assemble({ forward: 'nat', weights: [1], rsBase: '10.0.1.11', proto: PROTO_UDP });
    const f = FrameBuilder.udp().from('10.0.0.2', 5000).to('10.0.0.100', 80).data('hello').build();
    f.writeUInt16BE(0, 40);
    expect(a.pipeline.process(f, f.length)).toBe(V_FORWARDED);
    const p = lastIp(a).packet;
    expect([p.readUInt16BE(26), ipv4HeaderValid(p, 0)]).toEqual([0, true]);
  });
});

describe('TUN path MTU', () => {
  it('answers a DF packet that would not fit once wrapped with ICMP fragmentation-needed (MTU - 20)', () => {
    const a = assemble({ forward: 'tun', weights: [1], rsBase: '10.0.2.11' });
    const f = FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.S).data(Buffer.alloc(1470)).build();
    expect(a.pipeline.process(f, f.length)).toBe(V_DROP_TOO_BIG);
    const icmp = lastIp(a);
    const p = icmp.packet;
    expect(ipv4ToString(icmp.dst)).toBe('10.0.0.2');
    expect([ipv4ToString(ipSrc(p, 0) >>> 0), p[9], p[20], p[21], p.readUInt16BE(26), ipv4HeaderValid(p, 0)]).toEqual(['10.0.0.100', 1, 3, 4, 1480, true]);
    expect(finish(sum16(p, 20, p.length - 20, 0))).toBe(0);
    expect(p.subarray(28, 48)).toEqual(f.subarray(14, 34)); // quotes the offending header
  });

  it('a packet that fits is encapsulated (1480 bytes inner + 20 = 1500)', () => {
    const a = assemble({ forward: 'tun', weights: [1], rsBase: '10.0.2.11' });
    const f = FrameBuilder.tcp().from('10.0.0.2', 40000).to('10.0.0.100', 80).tcpFlags(FLAGS.S).data(Buffer.alloc(1440)).build();
    expect(a.pipeline.process(f, f.length)).toBe(V_FORWARDED);
    expect(lastIp(a).packet.length).toBe(1500);
  });
});

describe('FullNAT local ports', () => {
  it('refuses and counts when the pool is exhausted, and reuses a port once its connection expired', () => {
    const a = assemble({ forward: 'fullnat', weights: [1], rsBase: '10.0.2.11', laddrs: ['10.0.0.200'], proto: PROTO_UDP, connMax: 70000 });
    const span = 65535 - 1024 + 1;
    let v = 0;
    for (let i = 0; i < span; i++) {
      v = request(a, PROTO_UDP, `10.9.${i >> 8}.${i & 0xff}`, 5000, 0, Buffer.alloc(0));
      if (v !== V_FORWARDED) break;
    }
    expect(VERDICT_NAMES[v]).toBe('forwarded');
    expect(request(a, PROTO_UDP, '10.8.0.1', 5000, 0, Buffer.alloc(0))).toBe(V_DROP_LADDR);
    a.conns.advance(a.clock.now + 300);
    expect(a.conns.count).toBe(0);
    expect(request(a, PROTO_UDP, '10.8.0.1', 5000, 0, Buffer.alloc(0))).toBe(V_FORWARDED);
  });
});

describe('ICMP errors about tracked connections', () => {
  /** ICMP dest-unreachable (port) from `src` to `dst`, quoting the first `n` bytes of IP packet `quoted`. */
  function icmpFrame(src: string, dst: string, quoted: Buffer, n = 28): Buffer {
    const ip = Buffer.alloc(20 + 8 + n);
    ip[0] = 0x45;
    ip.writeUInt16BE(ip.length, 2);
    ip[8] = 64;
    ip[9] = 1;
    ip.writeUInt32BE(parseIpv4(src), 12);
    ip.writeUInt32BE(parseIpv4(dst), 16);
    ip.writeUInt16BE(finish(sum16(ip, 0, 20, 0)), 10);
    ip[20] = 3;
    ip[21] = 3;
    quoted.copy(ip, 28, 0, n);
    ip.writeUInt16BE(finish(sum16(ip, 20, 8 + n, 0)), 22);
    return Buffer.concat([Buffer.from('02000000000a020000000002', 'hex'), Buffer.from([8, 0]), ip]);
  }

  function checkIcmp(p: Buffer): { outer: Seen; inner: Seen } {
    expect(finish(sum16(p, 20, p.length - 20, 0))).toBe(0);
    expect(ipv4HeaderValid(p, 28)).toBe(true);
    const inner = p.subarray(28);
    return {
      outer: seen(p),
      inner: { ...seen(inner), ipOk: ipv4HeaderValid(inner, 0), l4Ok: true },
    };
  }

  it('NAT: port-unreachable from the RS reaches the client quoting VIP:vport, from the VIP', () => {
    const a = assemble({ forward: 'nat', weights: [1], rsBase: '10.0.1.11', proto: PROTO_UDP, port: 5353 });
    request(a, PROTO_UDP, '10.0.0.2', 40000, 0, Buffer.from('q'), 5353);
    const toRs = lastIp(a).packet;
    const f = icmpFrame('10.0.1.11', '10.0.0.2', toRs, toRs.length);
    expect(a.pipeline.process(f, f.length)).toBe(V_ICMP_FORWARDED);
    const out = lastIp(a);
    const { outer, inner } = checkIcmp(out.packet);
    expect([outer.src, outer.dst, ipv4ToString(out.dst)]).toEqual(['10.0.0.100', '10.0.0.2', '10.0.0.2']);
    expect(inner).toMatchObject({ src: '10.0.0.2', sport: 40000, dst: '10.0.0.100', dport: 5353 });
    // The quoted UDP checksum was updated incrementally: the whole datagram is quoted here, so it must verify.
    expect(l4ChecksumValid(out.packet.subarray(28), 0, 20, IPPROTO_UDP)).toBe(true);
  });

  it('FullNAT: port-unreachable from the RS to the LIP reaches the client quoting CIP:cport -> VIP:vport', () => {
    const a = assemble({ forward: 'fullnat', weights: [1], rsBase: '10.0.2.11', laddrs: ['10.0.0.200'], proto: PROTO_UDP, port: 5353 });
    request(a, PROTO_UDP, '10.0.0.2', 40000, 0, Buffer.from('q'), 5353);
    const toRs = lastIp(a).packet;
    const f = icmpFrame('10.0.2.11', '10.0.0.200', toRs);
    expect(a.pipeline.process(f, f.length)).toBe(V_ICMP_FORWARDED);
    const { outer, inner } = checkIcmp(lastIp(a).packet);
    expect([outer.src, outer.dst]).toEqual(['10.0.0.100', '10.0.0.2']);
    expect(inner).toMatchObject({ src: '10.0.0.2', sport: 40000, dst: '10.0.0.100', dport: 5353 });
  });

  it('an ICMP error quoting no tracked connection is not ours', () => {
    const a = assemble({ forward: 'nat', weights: [1], rsBase: '10.0.1.11', proto: PROTO_UDP, port: 5353 });
    const quoted = FrameBuilder.udp().from('10.0.0.2', 1).to('10.0.1.11', 5353).build().subarray(14);
    const f = icmpFrame('10.0.1.11', '10.0.0.2', quoted);
    expect(VERDICT_NAMES[a.pipeline.process(f, f.length)]).toBe('not-ours');
  });
});
