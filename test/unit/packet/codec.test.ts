// Header readers and writers: round trips at offsets 0 and beyond, bytes around a field left alone, scapy's bytes
// for the one frame we build whole (the ARP request), and the text forms in format.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARP_LEN, ARP_REPLY, ARP_REQUEST, arpHlen, arpHtype, arpOp, arpPlen, arpPtype, arpShaOff, arpSpa, arpThaOff, arpTpa,
  isEtherIpv4Arp, writeArpRequest,
} from '../../../src/packet/arp';
import {
  copyMac, ETH_ALEN, ETH_HLEN, ethDstOff, ethSrcOff, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ,
  ETHERTYPE_VLAN, ethType, isBroadcastMac, isVlanType, macEquals, setEthType, vlanId, writeEthHeader,
} from '../../../src/packet/ethernet';
import { endpoint, ipv4ToString, macToString, parseIpv4, parseMac } from '../../../src/packet/format';
import {
  ICMP_DEST_UNREACH, ICMP_ECHO, ICMP_ECHO_REPLY, ICMP_HLEN, ICMP_TIME_EXCEEDED, icmpChecksum, icmpCode, icmpInnerOff,
  icmpNextHopMtu, icmpType, isIcmpError, setIcmpChecksum, setIcmpCode, setIcmpNextHopMtu, setIcmpType,
} from '../../../src/packet/icmp';
import {
  IP_DF, IP_MF, ipChecksum, ipDst, ipFragWord, ipHeaderLen, ipId, ipIsFragment, ipIsLaterFragment, ipProto, ipSrc,
  ipTos, ipTotalLen, ipTtl, ipVersion, readI32, readU16, readU32, setIpChecksum, setIpDst, setIpFragWord, setIpId, setIpProto,
  setIpSrc, setIpTotalLen, setIpTtl, writeU16, writeU32,
} from '../../../src/packet/ipv4';
import {
  setTcpChecksum, setTcpDport, setTcpSport, tcpAck, tcpChecksum, tcpDport, tcpFlags, tcpHeaderLen, tcpSeq, tcpSport,
  tcpWindow,
} from '../../../src/packet/tcp';
import {
  setUdpChecksum, setUdpDport, setUdpLength, setUdpSport, udpChecksum, udpDport, udpLength, udpSport,
} from '../../../src/packet/udp';
import { FIXTURES, type FrameFixture } from '../../helpers/frame-fixtures';

const fixture = (name: string): FrameFixture => {
  const fx = FIXTURES.find((x) => x.name === name);
  if (!fx) throw new Error(`no fixture ${name}`);
  return fx;
};

const SEED = 0xc0dec;
const OFFSETS = [0, 1, 7, 33];
const SENTINEL = 0xa5;

/** A buffer of sentinels with room for `len` bytes at `off`, plus a guard band on each side. */
const arena = (off: number, len: number): Uint8Array => new Uint8Array(off + len + 8).fill(SENTINEL);

/** Every byte outside [from, to) still holds the sentinel. */
function untouchedOutside(b: Uint8Array, from: number, to: number): boolean {
  for (let i = 0; i < b.length; i++) if ((i < from || i >= to) && b[i] !== SENTINEL) return false;
  return true;
}

// A writer, the reader that must give its value back, the field's place and width, and edge values.
interface Field {
  name: string;
  at: number; // byte offset of the field within its header
  width: number; // bytes
  set: (b: Uint8Array, off: number, v: number) => void;
  get: (b: Uint8Array, off: number) => number;
  values: number[];
  /** The form the reader hands back; addresses on the wire path are int32 (src/packet/ipv4.ts). */
  form?: (v: number) => number;
}
const int32 = (v: number): number => v | 0;

const U16 = [0, 1, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const U32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x0a000064, 0xc0a80001];
const U8 = [0, 1, 0x7f, 0x80, 0xff];

const FIELDS: Field[] = [
  { name: 'U16 (writeU16/readU16)', at: 0, width: 2, set: writeU16, get: readU16, values: U16 },
  { name: 'U32 (writeU32/readU32)', at: 0, width: 4, set: writeU32, get: readU32, values: U32 },
  { name: 'ip total length', at: 2, width: 2, set: setIpTotalLen, get: ipTotalLen, values: U16 },
  { name: 'ip id', at: 4, width: 2, set: setIpId, get: ipId, values: U16 },
  { name: 'ip frag word', at: 6, width: 2, set: setIpFragWord, get: ipFragWord, values: [0, IP_DF, IP_MF, IP_MF | 0x1fff, 0xffff] },
  { name: 'ip ttl', at: 8, width: 1, set: setIpTtl, get: ipTtl, values: U8 },
  { name: 'ip proto', at: 9, width: 1, set: setIpProto, get: ipProto, values: U8 },
  { name: 'ip checksum', at: 10, width: 2, set: setIpChecksum, get: ipChecksum, values: U16 },
  { name: 'ip src', at: 12, width: 4, set: setIpSrc, get: ipSrc, values: U32, form: int32 },
  { name: 'ip dst', at: 16, width: 4, set: setIpDst, get: ipDst, values: U32, form: int32 },
  { name: 'I32 (writeU32/readI32)', at: 0, width: 4, set: writeU32, get: readI32, values: U32, form: int32 },
  { name: 'tcp sport', at: 0, width: 2, set: setTcpSport, get: tcpSport, values: U16 },
  { name: 'tcp dport', at: 2, width: 2, set: setTcpDport, get: tcpDport, values: U16 },
  { name: 'tcp checksum', at: 16, width: 2, set: setTcpChecksum, get: tcpChecksum, values: U16 },
  { name: 'udp sport', at: 0, width: 2, set: setUdpSport, get: udpSport, values: U16 },
  { name: 'udp dport', at: 2, width: 2, set: setUdpDport, get: udpDport, values: U16 },
  { name: 'udp length', at: 4, width: 2, set: setUdpLength, get: udpLength, values: U16 },
  { name: 'udp checksum', at: 6, width: 2, set: setUdpChecksum, get: udpChecksum, values: U16 },
  { name: 'icmp type', at: 0, width: 1, set: setIcmpType, get: icmpType, values: U8 },
  { name: 'icmp code', at: 1, width: 1, set: setIcmpCode, get: icmpCode, values: U8 },
  { name: 'icmp checksum', at: 2, width: 2, set: setIcmpChecksum, get: icmpChecksum, values: U16 },
  { name: 'icmp next-hop mtu', at: 6, width: 2, set: setIcmpNextHopMtu, get: icmpNextHopMtu, values: [0, 68, 576, 1500, 9000, 0xffff] },
  { name: 'ethertype', at: 12, width: 2, set: setEthType, get: ethType, values: [ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_VLAN, ETHERTYPE_QINQ, 0, 0xffff] },
];

describe('field writers and readers round trip', () => {
  const cases = FIELDS.flatMap((fd) => OFFSETS.map((off) => [fd.name, off, fd] as const));
  it.each(cases)('%s at header offset %i', (_n, off, fd) => {
    for (const v of fd.values) {
      const b = arena(off, 64);
      fd.set(b, off, v);
      expect(fd.get(b, off)).toBe(fd.form ? fd.form(v) : v);
      // Writers take either form of a 32-bit value.
      if (fd.form) {
        const c = arena(off, 64);
        fd.set(c, off, fd.form(v));
        expect(Array.from(c)).toEqual(Array.from(b));
      }
      // Big-endian on the wire, and nothing outside the field written.
      expect(b[off + fd.at]).toBe(fd.width === 1 ? v : v >>> ((fd.width - 1) * 8) & 0xff);
      expect(untouchedOutside(b, off + fd.at, off + fd.at + fd.width)).toBe(true);
    }
  });

  it.each(FIELDS.map((fd) => [fd.name, fd] as const))('%s: random values at random offsets', (_n, fd) => {
    const max = 2 ** (8 * fd.width) - 1;
    fc.assert(
      fc.property(fc.nat(40), fc.nat(max), (off, v) => {
        const b = arena(off, 64);
        fd.set(b, off, v);
        expect(fd.get(b, off)).toBe(fd.form ? fd.form(v) : v);
        expect(untouchedOutside(b, off + fd.at, off + fd.at + fd.width)).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('readU32 is unsigned even with the top bit set, readI32 its int32 form; writeU16 keeps the low 16 bits', () => {
    const b = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
    expect(readU32(b, 0)).toBe(0xffffffff);
    expect(readI32(b, 0)).toBe(-1);
    expect(readI32(b, 0) >>> 0).toBe(readU32(b, 0));
    writeU16(b, 0, 0x12345);
    expect(readU16(b, 0)).toBe(0x2345);
  });
});

describe('readers on scapy frames, at offset 0 and copied to offset 7', () => {
  const tcpFx = FIXTURES.filter((fx) => fx.expect.tcpSeq !== undefined);
  const udpFx = FIXTURES.filter((fx) => fx.expect.udpLength !== undefined);
  const ipFx = FIXTURES.filter((fx) => fx.expect.ipId !== undefined);
  const shift = (fx: FrameFixture, at: number): Buffer => {
    const frame = Buffer.from(fx.hex, 'hex');
    const b = Buffer.alloc(at + frame.length, SENTINEL);
    frame.copy(b, at);
    return b;
  };

  it.each(ipFx.flatMap((fx) => [0, 7].map((at) => [fx.name, at, fx] as const)))('IPv4 header of %s at +%i', (_n, at, fx) => {
    const b = shift(fx, at);
    const ip = at + (fx.expect.l3Off as number);
    expect({
      version: ipVersion(b, ip), hl: ipHeaderLen(b, ip), tos: ipTos(b, ip), tot: ipTotalLen(b, ip), id: ipId(b, ip),
      ttl: ipTtl(b, ip), proto: ipProto(b, ip), csum: ipChecksum(b, ip), src: ipv4ToString(ipSrc(b, ip)),
      dst: ipv4ToString(ipDst(b, ip)), df: (ipFragWord(b, ip) & IP_DF) !== 0, mf: (ipFragWord(b, ip) & IP_MF) !== 0,
      later: ipIsLaterFragment(ipFragWord(b, ip)), fragment: ipIsFragment(ipFragWord(b, ip)),
    }).toEqual({
      version: 4, hl: fx.expect.ipHdrLen, tos: fx.expect.ipTos, tot: fx.expect.ipTotalLen, id: fx.expect.ipId,
      ttl: fx.expect.ipTtl, proto: fx.expect.proto, csum: fx.expect.ipCsum, src: fx.expect.saddr, dst: fx.expect.daddr,
      df: fx.expect.df, mf: fx.expect.mf, later: (fx.expect.fragOffset as number) > 0,
      fragment: fx.expect.mf === true || (fx.expect.fragOffset as number) > 0,
    });
  });

  it.each(tcpFx.flatMap((fx) => [0, 7].map((at) => [fx.name, at, fx] as const)))('TCP header of %s at +%i', (_n, at, fx) => {
    const b = shift(fx, at);
    const l4 = at + (fx.expect.l4Off as number);
    expect({
      sport: tcpSport(b, l4), dport: tcpDport(b, l4), seq: tcpSeq(b, l4), ack: tcpAck(b, l4), hl: tcpHeaderLen(b, l4),
      flags: tcpFlags(b, l4), win: tcpWindow(b, l4),
    }).toEqual({
      sport: fx.expect.sport, dport: fx.expect.dport, seq: fx.expect.tcpSeq, ack: fx.expect.tcpAck, hl: fx.expect.tcpHdrLen,
      flags: fx.expect.tcpFlags, win: fx.expect.tcpWindow,
    });
  });

  it.each(udpFx.flatMap((fx) => [0, 7].map((at) => [fx.name, at, fx] as const)))('UDP header of %s at +%i', (_n, at, fx) => {
    const b = shift(fx, at);
    const l4 = at + (fx.expect.l4Off as number);
    expect({ sport: udpSport(b, l4), dport: udpDport(b, l4), len: udpLength(b, l4) })
      .toEqual({ sport: fx.expect.sport, dport: fx.expect.dport, len: fx.expect.udpLength });
  });

  it('ICMP: echo and port-unreachable, the embedded header at +8', () => {
    const echo = fixture('icmp-echo');
    const b = shift(echo, 7);
    const l4 = 7 + (echo.expect.l4Off as number);
    expect([icmpType(b, l4), icmpCode(b, l4)]).toEqual([ICMP_ECHO, 0]);
    expect(isIcmpError(icmpType(b, l4))).toBe(false);
    const un = fixture('icmp-port-unreachable');
    const u = shift(un, 7);
    const ul4 = 7 + (un.expect.l4Off as number);
    expect([icmpType(u, ul4), icmpCode(u, ul4)]).toEqual([ICMP_DEST_UNREACH, 3]);
    expect(isIcmpError(icmpType(u, ul4))).toBe(true);
    const inner = icmpInnerOff(ul4);
    expect(inner).toBe(ul4 + ICMP_HLEN);
    // The embedded datagram is the VIP's UDP reply to the client.
    expect([ipVersion(u, inner), ipProto(u, inner), ipv4ToString(ipSrc(u, inner)), ipv4ToString(ipDst(u, inner))])
      .toEqual([4, 17, '10.0.0.100', '10.0.0.2']);
    expect([udpSport(u, inner + 20), udpDport(u, inner + 20)]).toEqual([80, 53000]);
  });

  it('isIcmpError: unreachable, source quench, time exceeded, parameter problem; not echo', () => {
    expect([0, 3, 4, 5, 8, 11, 12, 13].map(isIcmpError)).toEqual([false, true, true, false, false, true, true, false]);
    expect([ICMP_ECHO_REPLY, ICMP_TIME_EXCEEDED]).toEqual([0, 11]);
  });
});

describe('ethernet', () => {
  const dst = Uint8Array.from([0x02, 0, 0, 0, 0, 0x0b]);
  const src = Uint8Array.from([0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x02, 0, 0, 0, 0, 0x0a]); // the MAC at offset 6

  it.each(OFFSETS)('writeEthHeader at %i writes 14 bytes and nothing else', (off) => {
    const b = arena(off, ETH_HLEN);
    expect(writeEthHeader(b, off, dst, 0, src, 6, ETHERTYPE_IPV4)).toBe(ETH_HLEN);
    expect(macToString(b, ethDstOff(off))).toBe('02:00:00:00:00:0b');
    expect(macToString(b, ethSrcOff(off))).toBe('02:00:00:00:00:0a');
    expect(ethType(b, off)).toBe(ETHERTYPE_IPV4);
    expect(untouchedOutside(b, off, off + ETH_HLEN)).toBe(true);
    expect(macEquals(b, ethDstOff(off), dst, 0)).toBe(true);
    expect(macEquals(b, ethSrcOff(off), dst, 0)).toBe(false);
  });

  it('copyMac copies exactly six bytes between offsets; macEquals sees a difference in the last one', () => {
    const b = arena(3, 6);
    copyMac(b, 3, src, 6);
    expect(untouchedOutside(b, 3, 9)).toBe(true);
    expect(macEquals(b, 3, src, 6)).toBe(true);
    b[8] ^= 1;
    expect(macEquals(b, 3, src, 6)).toBe(false);
  });

  it('isBroadcastMac only for ff:ff:ff:ff:ff:ff', () => {
    const b = new Uint8Array(8).fill(0xff);
    expect(isBroadcastMac(b, 1)).toBe(true);
    for (let i = 1; i < 7; i++) {
      const c = Uint8Array.from(b);
      c[i] = 0xfe;
      expect(isBroadcastMac(c, 1)).toBe(false);
    }
  });

  it('vlan ids drop the PCP/DEI bits; both tag types count as VLAN', () => {
    const vlan = Buffer.from(fixture('vlan-tcp-syn').hex, 'hex'); // PCP 5, id 42
    expect(vlan[14] >>> 5).toBe(5);
    expect(vlanId(vlan, 14)).toBe(42);
    const qinq = Buffer.from(fixture('qinq-tcp-syn').hex, 'hex');
    expect([ethType(qinq, 0), vlanId(qinq, 14), vlanId(qinq, 18)]).toEqual([ETHERTYPE_QINQ, 100, 200]);
    expect(vlanId(Uint8Array.from([0xff, 0xff]), 0)).toBe(0xfff);
    expect([ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_IPV4, ETHERTYPE_IPV6].map(isVlanType)).toEqual([true, true, false, false]);
  });
});

describe('arp', () => {
  const macBuf = new Uint8Array(16);
  parseMac('02:00:00:00:00:0a', macBuf, 5);

  it.each(OFFSETS)('writeArpRequest at %i is scapy\'s who-has frame byte for byte', (off) => {
    const want = Buffer.from(fixture('arp-request-director').hex, 'hex');
    const b = arena(off, want.length);
    const n = writeArpRequest(b, off, macBuf, 5, parseIpv4('10.0.0.10'), parseIpv4('10.0.0.12'));
    expect(n).toBe(ETH_HLEN + ARP_LEN);
    expect(n).toBe(want.length);
    expect(Buffer.from(b.subarray(off, off + n)).toString('hex')).toBe(want.toString('hex'));
    expect(untouchedOutside(b, off, off + n)).toBe(true);
  });

  it('writeArpRequest overwrites a dirty buffer completely (the daemon reuses one)', () => {
    const want = Buffer.from(fixture('arp-request-director').hex, 'hex');
    const b = new Uint8Array(64).fill(0x77);
    writeArpRequest(b, 0, macBuf, 5, parseIpv4('10.0.0.10'), parseIpv4('10.0.0.12'));
    expect(Buffer.from(b.subarray(0, 42)).equals(want)).toBe(true);
  });

  it.each(FIXTURES.filter((fx) => fx.expect.arp !== undefined).map((fx) => [fx.name, fx] as const))(
    'readers on %s', (_n, fx) => {
      const b = Buffer.from(fx.hex, 'hex');
      const a = fx.expect.l3Off as number;
      expect(isEtherIpv4Arp(b, a)).toBe(true);
      expect([arpHtype(b, a), arpPtype(b, a), arpHlen(b, a), arpPlen(b, a)]).toEqual([1, ETHERTYPE_IPV4, 6, 4]);
      expect({
        op: arpOp(b, a), sha: macToString(b, arpShaOff(a)), spa: ipv4ToString(arpSpa(b, a)),
        tha: macToString(b, arpThaOff(a)), tpa: ipv4ToString(arpTpa(b, a)),
      }).toEqual(fx.expect.arp);
      expect([ARP_REQUEST, ARP_REPLY]).toContain(arpOp(b, a));
    },
  );

  it.each([
    ['htype', 0, 6], ['ptype', 2, 0x86], ['hlen', 4, 8], ['plen', 5, 16],
  ] as const)('isEtherIpv4Arp refuses a different %s', (_n, at, v) => {
    const b = Buffer.from(fixture('arp-request').hex, 'hex');
    b[14 + at] = v;
    expect(isEtherIpv4Arp(b, 14)).toBe(false);
  });
});

describe('format', () => {
  it.each([
    ['0.0.0.0', 0], ['255.255.255.255', 0xffffffff], ['10.0.0.100', 0x0a000064], ['192.168.1.1', 0xc0a80101],
    ['1.2.3.4', 0x01020304], ['128.0.0.1', 0x80000001],
  ] as const)('%s <-> %i', (s, n) => {
    expect(parseIpv4(s)).toBe(n);
    expect(ipv4ToString(n)).toBe(s);
  });

  it('ipv4ToString and parseIpv4 are inverse over all of uint32', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), (a) => {
        const s = ipv4ToString(a);
        expect(s).toMatch(/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/);
        expect(parseIpv4(s)).toBe(a);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it.each([
    '', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.256', '1.2.3.1000', '1.2.3.-1', '-1.2.3.4', 'a.b.c.d', '1..2.3',
    '1.2.3.', '.1.2.3', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '1.2.3.4/24', '0x1.2.3.4', '1.2.3.4:80', '10.0.0.1e0',
    '١.٢.٣.٤', '1,2,3,4', '::1', 'localhost', '010.0.0.1', '1.02.3.4', '00.0.0.0',
  ])('parseIpv4 rejects %j', (s) => {
    expect(parseIpv4(s)).toBe(-1);
  });

  it('endpoint formats addr:port', () => {
    expect(endpoint(0x0a000064, 80)).toBe('10.0.0.100:80');
  });

  it('ipv4ToString takes the wire path\'s int32 form as well', () => {
    expect(ipv4ToString(-1)).toBe('255.255.255.255');
    expect(ipv4ToString(0x80000001 | 0)).toBe('128.0.0.1');
    expect(ipv4ToString(0xc0a80101 | 0)).toBe(ipv4ToString(0xc0a80101));
  });

  it('macToString and parseMac are inverse, at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.nat(9), fc.nat(9), (mac, inOff, outOff) => {
        const src = new Uint8Array(inOff + 6);
        src.set(mac, inOff);
        const s = macToString(src, inOff);
        expect(s).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        const out = arena(outOff, ETH_ALEN);
        expect(parseMac(s, out, outOff)).toBe(true);
        expect(Array.from(out.subarray(outOff, outOff + 6))).toEqual(Array.from(mac));
        expect(untouchedOutside(out, outOff, outOff + 6)).toBe(true);
        expect(parseMac(s.toUpperCase(), out, outOff)).toBe(true);
        expect(macToString(out, outOff)).toBe(s);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it.each([
    '', '02:00:00:00:00', '02:00:00:00:00:0a:0b', '02-00-00-00-00-0a', '0200.0000.000a', '2:0:0:0:0:a', '02:00:00:00:00:0g',
    '020000:00:00:0a', '02:00:00:00:00:0a:', ':02:00:00:00:00:0a', '02::00:00:00:00:0a', '02:00:00:00:00:0A0',
  ])('parseMac rejects %j and writes nothing', (s) => {
    const out = arena(2, ETH_ALEN);
    expect(parseMac(s, out, 2)).toBe(false);
    expect(untouchedOutside(out, 0, 0)).toBe(true);
  });
});
