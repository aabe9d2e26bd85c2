// RFC 1071 checksums against scapy's values, and RFC 1624 incremental updates against a full recompute.
// A plain reference implementation lives here too, so "full recompute" is not only src checking itself.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csumReplace16, csumReplace32, finish, fold, icmpChecksumValid, ipv4HeaderChecksum, ipv4HeaderValid, l4ChecksumAcceptable,
  l4ChecksumPartial, l4ChecksumValid, pseudoSum, setIpv4HeaderChecksum, setL4Checksum, sum16, updateChecksum16,
  updateChecksum32,
} from '../../../src/packet/checksum';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipChecksum, ipDst, ipSrc, readU16, setIpDst, setIpId, setIpSrc, setIpTtl,
  writeU16,
} from '../../../src/packet/ipv4';
import { setTcpDport, setTcpSport, TCP_CSUM_OFF, tcpChecksum } from '../../../src/packet/tcp';
import { setUdpDport, setUdpSport, UDP_CSUM_OFF, udpChecksum } from '../../../src/packet/udp';
import { FIXTURES, type FrameFixture } from '../../helpers/frame-fixtures';
import { FrameBuilder } from '../../helpers/frame-builder';


const SEED = 0x1624;
const num = (fx: FrameFixture, k: string): number => fx.expect[k] as number;

// ---- reference: RFC 1071 the slow, obvious way (end-around carry at every step) ------------------------------------

function refSum(bytes: ArrayLike<number>, start: number, end: number, acc = 0): number {
  let s = acc;
  for (let i = start; i < end; i += 2) {
    s += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return s;
}
const refComplement = (s: number): number => ~s & 0xffff;

/** Raw RFC 1071 checksum of an IPv4 header with the checksum field counted as zero. */
function refIpCsum(b: Uint8Array, ip: number): number {
  const hl = (b[ip] & 0x0f) * 4;
  const h = Array.from(b.subarray(ip, ip + hl));
  h[10] = 0;
  h[11] = 0;
  return refComplement(refSum(h, 0, hl));
}

/** Raw RFC 1071 checksum of a TCP/UDP segment (no UDP zero substitution), checksum field counted as zero. */
function refL4Csum(b: Uint8Array, ip: number, proto: number): number {
  const hl = (b[ip] & 0x0f) * 4;
  const tot = (b[ip + 2] << 8) | b[ip + 3];
  const l4Len = tot - hl;
  const seg = Array.from(b.subarray(ip + hl, ip + tot));
  const co = proto === IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
  seg[co] = 0;
  seg[co + 1] = 0;
  const pseudo = [...b.subarray(ip + 12, ip + 20), 0, proto, l4Len >>> 8, l4Len & 0xff];
  return refComplement(refSum(seg, 0, seg.length, refSum(pseudo, 0, pseudo.length)));
}

// ---- fixtures ------------------------------------------------------------------------------------------------------

const withIpHeader = FIXTURES.filter((fx) => fx.expect.ipCsum !== undefined);
const withL4Csum = FIXTURES.filter((fx) => fx.expect.l4Csum !== undefined);
const withIcmp = FIXTURES.filter((fx) => fx.expect.icmpCsumValid !== undefined);

describe('IPv4 header checksum on scapy frames', () => {
  it('has fixtures with options (IHL 6, 7, 15), VLAN tags and fragments', () => {
    expect(new Set(withIpHeader.map((fx) => num(fx, 'ipHdrLen')))).toEqual(new Set([20, 24, 28, 60]));
    expect(withIpHeader.length).toBeGreaterThanOrEqual(25);
  });

  it.each(withIpHeader.map((fx) => [fx.name, fx] as const))('%s verifies and recomputes to scapy\'s value', (_n, fx) => {
    const b = Buffer.from(fx.hex, 'hex');
    const ip = num(fx, 'l3Off');
    expect(ipv4HeaderValid(b, ip)).toBe(true);
    expect(ipv4HeaderChecksum(b, ip)).toBe(num(fx, 'ipCsum'));
    expect(refIpCsum(b, ip)).toBe(num(fx, 'ipCsum'));
    const c = Buffer.from(b);
    writeU16(c, ip + 10, 0xbeef);
    expect(ipv4HeaderValid(c, ip)).toBe(false);
    setIpv4HeaderChecksum(c, ip);
    expect(c.equals(b)).toBe(true);
    // A changed TTL breaks it; the recompute mends it.
    setIpTtl(c, ip, 1);
    expect(ipv4HeaderValid(c, ip)).toBe(false);
    setIpv4HeaderChecksum(c, ip);
    expect(ipv4HeaderValid(c, ip)).toBe(true);
    expect(ipChecksum(c, ip)).toBe(refIpCsum(c, ip));
  });
});

describe('TCP/UDP checksum on scapy frames', () => {
  it('has TCP and UDP fixtures, one UDP without a checksum, padded ones and captured ones', () => {
    const protos = new Set(withL4Csum.map((fx) => num(fx, 'proto')));
    expect(protos).toEqual(new Set([IPPROTO_TCP, IPPROTO_UDP]));
    expect(withL4Csum.some((fx) => num(fx, 'l4Csum') === 0)).toBe(true);
    expect(withL4Csum.some((fx) => fx.name.includes('padded'))).toBe(true);
  });

  it.each(withL4Csum.map((fx) => [fx.name, fx] as const))('%s', (_n, fx) => {
    const b = Buffer.from(fx.hex, 'hex');
    const ip = num(fx, 'l3Off');
    const l4 = num(fx, 'l4Off');
    const proto = num(fx, 'proto');
    const stored = proto === IPPROTO_TCP ? tcpChecksum(b, l4) : udpChecksum(b, l4);
    expect(stored).toBe(num(fx, 'l4Csum'));
    expect(l4ChecksumValid(b, ip, l4, proto)).toBe(true);
    const c = Buffer.from(b);
    setL4Checksum(c, ip, l4, proto);
    const computed = readU16(c, l4 + (proto === IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF));
    expect(computed).toBe(num(fx, 'l4CsumComputed'));
    expect(l4ChecksumValid(c, ip, l4, proto)).toBe(true);
    // Only the checksum field may have changed (and only when the frame came without one).
    if (stored !== 0) expect(c.equals(b)).toBe(true);
    // One changed bit in the last L4 byte is caught, unless the UDP checksum is off (0 = not computed).
    const last = ip + num(fx, 'ipTotalLen') - 1;
    c[last] ^= 0x01;
    expect(l4ChecksumValid(c, ip, l4, proto)).toBe(false);
    const d = Buffer.from(b);
    d[last] ^= 0x01;
    expect(l4ChecksumValid(d, ip, l4, proto)).toBe(stored === 0);
  });

  it.each(withIcmp.map((fx) => [fx.name, fx] as const))('ICMP %s: sum16 over the message agrees with scapy', (_n, fx) => {
    const b = Buffer.from(fx.hex, 'hex');
    expect(num(fx, 'proto')).toBe(IPPROTO_ICMP);
    expect(fold(sum16(b, num(fx, 'l4Off'), num(fx, 'l4Len'), 0)) === 0xffff).toBe(fx.expect.icmpCsumValid);
  });
});

describe('sum16 / fold / finish / pseudoSum', () => {
  it('sum16 pads an odd length with a zero byte and never reads past it', () => {
    const b = Uint8Array.from([0x12, 0x34, 0x56, 0xff]);
    expect(sum16(b, 0, 3, 0)).toBe(0x1234 + 0x5600);
    expect(sum16(b, 1, 2, 7)).toBe(7 + 0x3456);
    expect(sum16(b, 0, 0, 5)).toBe(5);
  });

  it('fold adds carries back until 16 bits remain, finish complements', () => {
    expect(fold(0)).toBe(0);
    expect(fold(0xffff)).toBe(0xffff);
    expect(fold(0x10000)).toBe(1);
    expect(fold(0x1fffe)).toBe(0xffff);
    expect(fold(0xffffffff)).toBe(0xffff);
    expect(fold(2 ** 40)).toBe(fold(fold(2 ** 40)));
    expect(finish(0xffff)).toBe(0);
    expect(finish(0)).toBe(0xffff);
  });

  it('is RFC 1071 for random byte strings of any length (checked against the slow reference)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), fc.nat(0xffff), (data, init) => {
        expect(finish(sum16(data, 0, data.length, init))).toBe(refComplement(refSum(data, 0, data.length, init)));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('pseudoSum covers both addresses word by word, protocol and length', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffff), (src, dst, len) => {
        const p = [src >>> 24, (src >>> 16) & 0xff, (src >>> 8) & 0xff, src & 0xff,
          dst >>> 24, (dst >>> 16) & 0xff, (dst >>> 8) & 0xff, dst & 0xff, 0, IPPROTO_UDP, len >>> 8, len & 0xff];
        expect(fold(pseudoSum(src, dst, IPPROTO_UDP, len))).toBe(fold(refSum(p, 0, p.length)));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('RFC 1624 incremental update', () => {
  // RFC 1624 section 4: the example where eqn. 2 (HC - ~m - m') gives 0xFFFF but the right answer is 0x0000.
  // The sum of the other header words is 0xCD7A; m = 0x5555 becomes m' = 0x3285.
  it('gives the RFC\'s own worked example (HC 0xDD2F, m 0x5555 -> 0x3285 = 0x0000), both ways', () => {
    expect(finish(0xcd7a + 0x5555)).toBe(0xdd2f);
    expect(finish(0xcd7a + 0x3285)).toBe(0x0000);
    expect(csumReplace16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
    expect(csumReplace16(0x0000, 0x3285, 0x5555)).toBe(0xdd2f);
    // 0xffff and 0x0000 are the same number in one's complement: swapping one for the other in the data leaves
    // the sum alone, so a checksum stays put (UDP's 0xffff, RFC 768's form of a computed 0, included).
    expect(csumReplace16(0xffff, 0xffff, 0x0000)).toBe(0xffff);
    expect(csumReplace16(0x1234, 0x0000, 0xffff)).toBe(0x1234);
    expect(csumReplace16(0x1234, 0xffff, 0x0000)).toBe(0x1234);
    expect(csumReplace32(0x1234, 0xffffffff, 0)).toBe(0x1234);
  });

  it('a no-op change leaves a checksum alone, including 0x0000', () => {
    fc.assert(
      fc.property(fc.nat(0xfffe), fc.nat(0xffff), fc.nat(0xffffffff), (hc, w, v) => {
        expect(csumReplace16(hc, w, w)).toBe(hc);
        expect(csumReplace32(hc, v, v)).toBe(hc);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('csumReplace32 is two csumReplace16 calls, one per half', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (hc, o, n) => {
        expect(csumReplace32(hc, o, n)).toBe(csumReplace16(csumReplace16(hc, o >>> 16, n >>> 16), o & 0xffff, n & 0xffff));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  // Random packets and random NAT-style rewrites (addresses and ports), the new checksums patched incrementally
  // through updateChecksum32/16 exactly as a forwarder would, then compared with a full recompute.
  const u16 = fc.oneof(fc.constantFrom(0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff), fc.nat(0xffff));
  const u32 = fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0xffff0000, 0x0000ffff, 0x80000000, 0x0a000064), fc.nat(0xffffffff));
  const packetArb = fc.record({
    proto: fc.constantFrom(IPPROTO_TCP, IPPROTO_UDP),
    at: fc.nat(9), // where the IP header sits in the buffer
    ipOpts: fc.nat(10), // 32-bit words of IP options
    id: u16,
    src: u32,
    dst: u32,
    sport: u16,
    dport: u16,
    payload: fc.uint8Array({ maxLength: 97 }), // odd lengths too
  });
  const rewriteArb = fc.record({ src: u32, dst: u32, sport: u16, dport: u16 });
  type Packet = { b: Uint8Array; ip: number; l4: number; proto: number; csumOff: number };

  function build(p: { proto: number; at: number; ipOpts: number; id: number; src: number; dst: number; sport: number; dport: number; payload: Uint8Array }): Packet {
    const hl = 20 + p.ipOpts * 4;
    const l4h = p.proto === IPPROTO_TCP ? 20 : 8;
    const tot = hl + l4h + p.payload.length;
    const b = new Uint8Array(p.at + tot + 5).fill(0xa5);
    const ip = p.at;
    const l4 = ip + hl;
    b.fill(0, ip, ip + tot);
    b[ip] = 0x40 | (hl >>> 2);
    writeU16(b, ip + 2, tot);
    setIpId(b, ip, p.id);
    b[ip + 8] = 64;
    b[ip + 9] = p.proto;
    for (let i = 20; i < hl; i++) b[ip + i] = (i * 37) & 0xff;
    setIpSrc(b, ip, p.src);
    setIpDst(b, ip, p.dst);
    writeU16(b, l4, p.sport);
    writeU16(b, l4 + 2, p.dport);
    if (p.proto === IPPROTO_TCP) b[l4 + 12] = 0x50;
    else writeU16(b, l4 + 4, l4h + p.payload.length);
    b.set(p.payload, l4 + l4h);
    const csumOff = l4 + (p.proto === IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
    writeU16(b, ip + 10, refIpCsum(b, ip));
    writeU16(b, csumOff, refL4Csum(b, ip, p.proto));
    return { b, ip, l4, proto: p.proto, csumOff };
  }

  function rewrite(k: Packet, r: { src: number; dst: number; sport: number; dport: number }): void {
    const { b, ip, l4, csumOff } = k;
    const oSrc = ipSrc(b, ip);
    const oDst = ipDst(b, ip);
    const oSport = readU16(b, l4);
    const oDport = readU16(b, l4 + 2);
    updateChecksum32(b, ip + 10, oSrc, r.src);
    updateChecksum32(b, ip + 10, oDst, r.dst);
    updateChecksum32(b, csumOff, oSrc, r.src); // the pseudo-header
    updateChecksum32(b, csumOff, oDst, r.dst);
    updateChecksum16(b, csumOff, oSport, r.sport);
    updateChecksum16(b, csumOff, oDport, r.dport);
    setIpSrc(b, ip, r.src);
    setIpDst(b, ip, r.dst);
    if (k.proto === IPPROTO_TCP) {
      setTcpSport(b, l4, r.sport);
      setTcpDport(b, l4, r.dport);
    } else {
      setUdpSport(b, l4, r.sport);
      setUdpDport(b, l4, r.dport);
    }
  }

  /** Incremental == full recompute: exact RFC 1071 values, and the src full recompute agrees (UDP: RFC 768's 0 -> 0xffff). */
  function expectMatchesFull(k: Packet): void {
    const { b, ip, l4, proto, csumOff } = k;
    const incIp = readU16(b, ip + 10);
    const incL4 = readU16(b, csumOff);
    expect(incIp).toBe(refIpCsum(b, ip));
    expect(incL4).toBe(refL4Csum(b, ip, proto));
    const full = Uint8Array.from(b);
    setIpv4HeaderChecksum(full, ip);
    setL4Checksum(full, ip, l4, proto);
    expect(readU16(full, ip + 10)).toBe(incIp);
    expect(readU16(full, csumOff)).toBe(proto === IPPROTO_UDP && incL4 === 0 ? 0xffff : incL4);
    expect(ipv4HeaderValid(b, ip)).toBe(true);
    expect(l4ChecksumValid(b, ip, l4, proto)).toBe(true);
  }

  it('src\'s full recompute equals the reference on random packets at random offsets', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        const k = build(p);
        const c = Uint8Array.from(k.b);
        setIpv4HeaderChecksum(c, k.ip);
        setL4Checksum(c, k.ip, k.l4, k.proto);
        expect(readU16(c, k.ip + 10)).toBe(readU16(k.b, k.ip + 10));
        const ref = readU16(k.b, k.csumOff);
        expect(readU16(c, k.csumOff)).toBe(k.proto === IPPROTO_UDP && ref === 0 ? 0xffff : ref);
        // Nothing outside the packet was touched.
        expect(c[k.ip - 1] ?? 0xa5).toBe(0xa5);
        expect(Array.from(c.subarray(c.length - 5))).toEqual([0xa5, 0xa5, 0xa5, 0xa5, 0xa5]);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('address and port rewrites patched incrementally equal a full recompute (2000 random packets)', () => {
    fc.assert(
      fc.property(packetArb, rewriteArb, (p, r) => {
        const k = build(p);
        rewrite(k, r);
        expectMatchesFull(k);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('chains of rewrites stay exact (10 hops, as a connection moves through NAT and back)', () => {
    fc.assert(
      fc.property(packetArb, fc.array(rewriteArb, { minLength: 1, maxLength: 10 }), (p, rs) => {
        const k = build(p);
        for (const r of rs) rewrite(k, r);
        expectMatchesFull(k);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  // The 0x0000 / 0xffff corner RFC 1624 is about: steer the new value so the true checksum is exactly 0x0000,
  // update into it, and out of it again.
  it('rewrites into and out of a checksum of 0x0000 (TCP and the IP header), and out of UDP\'s 0xffff', () => {
    fc.assert(
      fc.property(packetArb, rewriteArb, (p, r) => {
        const k = build(p);
        // With dport = 0 the L4 checksum is C0; a dport of C0 (0xffff for C0 = 0) then makes the true sum 0xffff.
        const probe = build({ ...p, dport: 0 });
        const c0 = readU16(probe.b, probe.csumOff);
        const zeroPort = c0 === 0 ? 0xffff : c0;
        const into = { ...r, src: p.src, dst: p.dst, sport: p.sport, dport: zeroPort };
        rewrite(k, into);
        expectMatchesFull(k);
        expect(readU16(k.b, k.csumOff)).toBe(0);
        if (k.proto === IPPROTO_UDP) {
          // RFC 768 sends a computed 0 as 0xffff: an update must start from that form as well.
          writeU16(k.b, k.csumOff, 0xffff);
          expect(l4ChecksumValid(k.b, k.ip, k.l4, k.proto)).toBe(true);
        }
        rewrite(k, r);
        expectMatchesFull(k);

        // The IP header: choose the id that makes its checksum 0x0000, then patch the id in and out.
        const h = build(p);
        setIpId(h.b, h.ip, 0);
        writeU16(h.b, h.ip + 10, refIpCsum(h.b, h.ip));
        const ipZeroId = readU16(h.b, h.ip + 10) || 0xffff;
        updateChecksum16(h.b, h.ip + 10, 0, ipZeroId);
        setIpId(h.b, h.ip, ipZeroId);
        expect(readU16(h.b, h.ip + 10)).toBe(0);
        expect(refIpCsum(h.b, h.ip)).toBe(0);
        expect(ipv4HeaderChecksum(h.b, h.ip)).toBe(0);
        expect(ipv4HeaderValid(h.b, h.ip)).toBe(true);
        updateChecksum16(h.b, h.ip + 10, ipZeroId, p.id);
        setIpId(h.b, h.ip, p.id);
        expect(readU16(h.b, h.ip + 10)).toBe(refIpCsum(h.b, h.ip));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('checksums at a non-zero buffer offset', () => {
  const AT = 7;
  it.each(withL4Csum.map((fx) => [fx.name, fx] as const))('%s copied to offset 7', (_n, fx) => {
    const frame = Buffer.from(fx.hex, 'hex');
    const b = Buffer.alloc(AT + frame.length + 11, 0x5a);
    frame.copy(b, AT);
    const ip = AT + num(fx, 'l3Off');
    const l4 = AT + num(fx, 'l4Off');
    const proto = num(fx, 'proto');
    const csumOff = l4 + (proto === IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
    expect(ipv4HeaderValid(b, ip)).toBe(true);
    expect(ipv4HeaderChecksum(b, ip)).toBe(num(fx, 'ipCsum'));
    expect(l4ChecksumValid(b, ip, l4, proto)).toBe(true);
    setL4Checksum(b, ip, l4, proto);
    expect(readU16(b, csumOff)).toBe(num(fx, 'l4CsumComputed'));
    // Rewrite the destination to an RS address and the port to 8080 in place, patched incrementally.
    const rip = 0x0a00000b;
    updateChecksum32(b, ip + 10, ipDst(b, ip), rip);
    updateChecksum32(b, csumOff, ipDst(b, ip), rip);
    updateChecksum16(b, csumOff, readU16(b, l4 + 2), 8080);
    setIpDst(b, ip, rip);
    writeU16(b, l4 + 2, 8080);
    expect(ipv4HeaderValid(b, ip)).toBe(true);
    expect(l4ChecksumValid(b, ip, l4, proto)).toBe(true);
    expect(readU16(b, ip + 10)).toBe(refIpCsum(b, ip));
    expect(readU16(b, csumOff)).toBe(refL4Csum(b, ip, proto));
    // The bytes around the frame are untouched.
    expect(Array.from(b.subarray(0, AT))).toEqual(new Array(AT).fill(0x5a));
    expect(Array.from(b.subarray(AT + frame.length))).toEqual(new Array(11).fill(0x5a));
  });
});

describe('arrival checks before a rewrite', () => {
  const seg = (proto: 'tcp' | 'udp'): Buffer => (proto === 'tcp' ? FrameBuilder.tcp() : FrameBuilder.udp()).data('payload!').build().subarray(14);

  it.each(['tcp', 'udp'] as const)('%s: a right checksum is acceptable, a wrong one not, the offload signature is', (p) => {
    const proto = p === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
    const ip = seg(p);
    const co = 20 + (p === 'tcp' ? 16 : 6);
    expect([l4ChecksumAcceptable(ip, 0, 20, proto), l4ChecksumPartial(ip, 0, 20, proto)]).toEqual([true, false]);
    const wrong = Buffer.from(ip);
    wrong[wrong.length - 1] ^= 0x10;
    expect(l4ChecksumAcceptable(wrong, 0, 20, proto)).toBe(false);
    // What a veth peer with TX offload hands over: the folded pseudo-header sum only.
    const partial = Buffer.from(wrong);
    partial.writeUInt16BE(fold(pseudoSum(partial.readInt32BE(12), partial.readInt32BE(16), proto, partial.length - 20)), co);
    expect([l4ChecksumPartial(partial, 0, 20, proto), l4ChecksumAcceptable(partial, 0, 20, proto)]).toEqual([true, true]);
  });

  it('ICMP: the checksum covers the message alone', () => {
    const m = Buffer.from('0303000000000000450000', 'hex');
    m.writeUInt16BE(finish(sum16(m, 0, m.length, 0)), 2);
    expect(icmpChecksumValid(m, 0, m.length)).toBe(true);
    m[9] ^= 1;
    expect(icmpChecksumValid(m, 0, m.length)).toBe(false);
  });
});
