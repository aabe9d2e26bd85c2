// parseFrame against frames built (and dissected) by scapy: test/fixtures/frames/frames.json, made by
// scripts/fixtures/make-frames.py. Every field the fixture states is checked; the rest of the record is free.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arpOp, arpShaOff, arpSpa, arpThaOff, arpTpa, isEtherIpv4Arp } from '../../../src/packet/arp';
import { setIpv4HeaderChecksum } from '../../../src/packet/checksum';
import {
  ERR_BAD_FRAGMENT, ERR_BAD_IHL, ERR_BAD_IP_CSUM, ERR_BAD_IP_OPTIONS, ERR_BAD_L4_CSUM, ERR_BAD_TCP_DOFF, ERR_BAD_TOTLEN,
  ERR_BAD_UDP_LEN, ERR_BAD_VERSION, ERR_SOURCE_ROUTE, ERR_TRUNC_ARP, ERR_TRUNC_ETH, ERR_TRUNC_IP, ERR_TRUNC_L4, Flow,
  PARSE_ARP, PARSE_ERROR_NAMES, PARSE_IPV4, PARSE_IPV4_LATER_FRAGMENT, PARSE_NOT_IPV4, parseFrame, parseIpv4,
} from '../../../src/packet/flow';
import { FrameBuilder } from '../../helpers/frame-builder';
import { ipv4ToString, macToString } from '../../../src/packet/format';
import { icmpCode } from '../../../src/packet/icmp';
import { IP_DF, IP_MF, IP_OFFMASK, ipChecksum, ipId, ipTos, ipTtl } from '../../../src/packet/ipv4';
import { tcpAck, tcpHeaderLen, tcpSeq, tcpWindow } from '../../../src/packet/tcp';
import { udpLength } from '../../../src/packet/udp';

interface FrameFixture {
  name: string;
  source: string;
  note: string;
  hex: string;
  expect: Record<string, unknown> & { code: string; frameLen: number };
}

const FIXTURES: FrameFixture[] = JSON.parse(
  readFileSync(resolve(__dirname, '../../fixtures/frames/frames.json'), 'utf8'),
) as FrameFixture[];

/** The results frames.json covers (scapy-made and captured frames). */
const FIXTURE_CODES: Readonly<Record<string, number>> = {
  PARSE_IPV4, PARSE_IPV4_LATER_FRAGMENT, PARSE_ARP, PARSE_NOT_IPV4, ERR_TRUNC_ETH, ERR_TRUNC_IP, ERR_BAD_VERSION,
  ERR_BAD_IHL, ERR_BAD_TOTLEN, ERR_TRUNC_L4, ERR_BAD_TCP_DOFF, ERR_TRUNC_ARP,
};
/** The results built below with FrameBuilder; ERR_BAD_L4_CSUM is the pipeline's, not the parser's. */
const BUILT_CODES: Readonly<Record<string, number>> = {
  ERR_BAD_IP_CSUM, ERR_BAD_IP_OPTIONS, ERR_SOURCE_ROUTE, ERR_BAD_FRAGMENT, ERR_BAD_UDP_LEN,
};
const CODES: Readonly<Record<string, number>> = { ...FIXTURE_CODES, ...BUILT_CODES, ERR_BAD_L4_CSUM };
const codeName = (c: number): string => Object.keys(CODES).find((k) => CODES[k] === c) ?? `unknown(${c})`;

/** Checksum fields are checked in checksum.test.ts. */
const CHECKSUM_KEYS = new Set(['l4Csum', 'l4CsumComputed', 'icmpCsumValid']);

/** What the parser (plus the header readers it leaves offsets for) says, for the keys the fixture lists. */
function observed(b: Buffer, f: Flow, code: number, keys: string[]): Record<string, unknown> {
  const all: Record<string, () => unknown> = {
    code: () => codeName(code),
    frameLen: () => f.frameLen,
    vlan: () => f.vlan,
    l3Off: () => f.l3Off,
    proto: () => f.proto,
    saddr: () => ipv4ToString(f.saddr),
    daddr: () => ipv4ToString(f.daddr),
    ipHdrLen: () => f.ipHdrLen,
    ipTotalLen: () => f.ipTotalLen,
    l4Off: () => f.l4Off,
    l4Len: () => f.l4Len,
    df: () => (f.fragWord & IP_DF) !== 0,
    mf: () => (f.fragWord & IP_MF) !== 0,
    fragOffset: () => f.fragWord & IP_OFFMASK,
    sport: () => f.sport,
    dport: () => f.dport,
    tcpFlags: () => f.tcpFlags,
    icmpType: () => f.icmpType,
    // Header readers, at the offsets the parse found.
    ipCsum: () => ipChecksum(b, f.l3Off),
    ipId: () => ipId(b, f.l3Off),
    ipTtl: () => ipTtl(b, f.l3Off),
    ipTos: () => ipTos(b, f.l3Off),
    tcpHdrLen: () => tcpHeaderLen(b, f.l4Off),
    tcpSeq: () => tcpSeq(b, f.l4Off),
    tcpAck: () => tcpAck(b, f.l4Off),
    tcpWindow: () => tcpWindow(b, f.l4Off),
    udpLength: () => udpLength(b, f.l4Off),
    icmpCode: () => icmpCode(b, f.l4Off),
    arp: () => ({
      op: arpOp(b, f.l3Off),
      sha: macToString(b, arpShaOff(f.l3Off)),
      spa: ipv4ToString(arpSpa(b, f.l3Off)),
      tha: macToString(b, arpThaOff(f.l3Off)),
      tpa: ipv4ToString(arpTpa(b, f.l3Off)),
    }),
  };
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (!(k in all)) throw new Error(`fixture field ${k} has no observer`);
    out[k] = all[k]();
  }
  return out;
}

const fieldsOf = (fx: FrameFixture): string[] => Object.keys(fx.expect).filter((k) => !CHECKSUM_KEYS.has(k));
const pickExpected = (fx: FrameFixture): Record<string, unknown> =>
  Object.fromEntries(fieldsOf(fx).map((k) => [k, fx.expect[k]]));

/** Every Flow field, to compare two parses. */
const snapshot = (f: Flow): number[] => [
  f.frameLen, f.vlan, f.l3Off, f.ipHdrLen, f.ipTotalLen, f.proto, f.saddr, f.daddr, f.fragWord, f.l4Off, f.l4Len,
  f.sport, f.dport, f.tcpFlags, f.icmpType,
];

const byName = (name: string): FrameFixture => {
  const fx = FIXTURES.find((x) => x.name === name);
  if (!fx) throw new Error(`no fixture ${name}`);
  return fx;
};

describe('frames.json', () => {
  it('covers every parse result, from scapy and from a tcpdump capture', () => {
    const codes = new Set(FIXTURES.map((fx) => fx.expect.code));
    expect([...codes].sort()).toEqual(Object.keys(FIXTURE_CODES).sort());
    expect(FIXTURES.length).toBeGreaterThanOrEqual(60);
    expect(FIXTURES.some((fx) => fx.source === 'tcpdump')).toBe(true);
    // The parser's own names for its errors line up with the constants.
    expect(Object.keys(PARSE_ERROR_NAMES)).toHaveLength(Object.keys(CODES).filter((k) => k.startsWith('ERR_')).length);
  });
});

describe('parseFrame', () => {
  // One Flow reused across frames, as the pipeline does, and dirtied by a full TCP parse before each case:
  // any field a parse forgets to reset shows up as a stale value.
  const flow = new Flow();
  const dirty = Buffer.from(byName('tcp-syn-options').hex, 'hex');

  it.each(FIXTURES.map((fx) => [fx.name, fx] as const))('%s', (_name, fx) => {
    const b = Buffer.from(fx.hex, 'hex');
    expect(b.length).toBe(fx.expect.frameLen);
    parseFrame(dirty, dirty.length, flow);
    const code = parseFrame(b, b.length, flow);
    expect(observed(b, flow, code, fieldsOf(fx))).toEqual(pickExpected(fx));
    if (code === PARSE_ARP) expect(isEtherIpv4Arp(b, flow.l3Off)).toBe(true);
  });

  // Every prefix of every frame: no throw, no look past `len`, and the verdict a truncation deserves.
  it.each(FIXTURES.map((fx) => [fx.name, fx] as const))('every prefix of %s', (_name, fx) => {
    const full = Buffer.from(fx.hex, 'hex');
    const fullCode = CODES[fx.expect.code];
    const f = new Flow();
    const g = new Flow();
    const exact = (n: number): Buffer => Buffer.from(full.subarray(0, n));
    // Bytes past `len` hold the rest of the real frame, or 0xff, or zeros: none of it may change the answer.
    const poisonFf = Buffer.alloc(full.length + 64, 0xff);
    const poison00 = Buffer.alloc(full.length + 64, 0x00);
    // How much of the frame a successful parse needs (the L3 packet as its header sizes it; ARP's 28 bytes).
    const need = fullCode === PARSE_IPV4 || fullCode === PARSE_IPV4_LATER_FRAGMENT
      ? (fx.expect.l3Off as number) + (fx.expect.ipTotalLen as number)
      : fullCode === PARSE_ARP ? (fx.expect.l3Off as number) + 28
        : fullCode === PARSE_NOT_IPV4 ? (fx.expect.l3Off as number) : Infinity;
    for (let n = 0; n <= full.length; n++) {
      const exactCode = parseFrame(exact(n), n, f);
      const exactSnap = snapshot(f);
      full.copy(poisonFf, 0, 0, n);
      full.copy(poison00, 0, 0, n);
      for (const [buf, label] of [[full, 'frame'], [poisonFf, '0xff'], [poison00, '0x00']] as const) {
        const c = parseFrame(buf, n, g);
        expect({ n, label, code: codeName(c), flow: snapshot(g) }).toEqual({ n, label, code: codeName(exactCode), flow: exactSnap });
      }
      if (n < need) expect({ n, negative: exactCode < 0 }).toEqual({ n, negative: true });
      else expect({ n, code: codeName(exactCode) }).toEqual({ n, code: fx.expect.code });
    }
  });
});

describe('parseIpv4 at a non-zero offset', () => {
  const ipv4 = FIXTURES.filter((fx) => fx.expect.code === 'PARSE_IPV4' || fx.expect.code === 'PARSE_IPV4_LATER_FRAGMENT');

  it.each(ipv4.map((fx) => [fx.name, fx] as const))('%s, IP packet copied to offset 7 of a larger buffer', (_name, fx) => {
    const frame = Buffer.from(fx.hex, 'hex');
    const l3 = fx.expect.l3Off as number;
    const tot = fx.expect.ipTotalLen as number;
    const at = 7;
    const b = Buffer.alloc(at + tot + 9, 0xee);
    frame.copy(b, at, l3, l3 + tot);
    const f = new Flow();
    const code = parseIpv4(b, at, at + tot, f);
    expect(codeName(code)).toBe(fx.expect.code);
    expect({ l3Off: f.l3Off, l4Off: f.l4Off, sport: f.sport, dport: f.dport, saddr: ipv4ToString(f.saddr) })
      .toEqual({ l3Off: at, l4Off: at + (fx.expect.ipHdrLen as number), sport: fx.expect.sport, dport: fx.expect.dport, saddr: fx.expect.saddr });
    // One byte short of the packet is a bad total length, wherever the packet sits.
    expect(parseIpv4(b, at, at + tot - 1, f)).toBe(ERR_BAD_TOTLEN);
  });
});

describe('parseIpv4: checksum, options, fragments, UDP length (frames built here)', () => {
  const parse = (b: Buffer): string => codeName(parseFrame(b, b.length, new Flow()));
  /** A frame with one IP header word changed and its checksum made right again. */
  const patched = (b: Buffer, at: number, v: number): Buffer => {
    b.writeUInt16BE(v, 14 + at);
    setIpv4HeaderChecksum(b, 14);
    return b;
  };
  const NOP = 1;
  const LSRR = [0x83, 7, 4, 10, 0, 0, 1];
  const SSRR = [0x89, 7, 4, 10, 0, 0, 1];
  const b = FrameBuilder;

  it.each([
    ['valid SYN', b.tcp().build(), 'PARSE_IPV4'],
    ['IP checksum off by one', (() => { const f = b.tcp().build(); f[24] ^= 1; return f; })(), 'ERR_BAD_IP_CSUM'],
    ['IP checksum zeroed', (() => { const f = b.udp().build(); f.writeUInt16BE(0, 24); return f; })(), 'ERR_BAD_IP_CSUM'],
    ['a TTL changed without the checksum', (() => { const f = b.tcp().build(); f[22]--; return f; })(), 'ERR_BAD_IP_CSUM'],
    ['NOP options, L4 found after them', b.tcp().options([NOP, NOP, NOP, NOP]).build(), 'PARSE_IPV4'],
    ['EOL then junk (ignored after EOL)', b.tcp().options([0, 0xff, 0xff, 0xff]).build(), 'PARSE_IPV4'],
    ['router alert', b.tcp().options([0x94, 4, 0, 0]).build(), 'PARSE_IPV4'],
    ['option length 1', b.tcp().options([0x07, 1, 0, 0]).build(), 'ERR_BAD_IP_OPTIONS'],
    ['option length 0', b.tcp().options([0x44, 0, 0, 0]).build(), 'ERR_BAD_IP_OPTIONS'],
    ['option running past the header', b.tcp().options([NOP, 0x07, 8, 4]).build(), 'ERR_BAD_IP_OPTIONS'],
    ['option type in the last byte, no length', b.tcp().options([NOP, NOP, NOP, 0x07]).build(), 'ERR_BAD_IP_OPTIONS'],
    ['loose source route', b.tcp().options([...LSRR, 0]).build(), 'ERR_SOURCE_ROUTE'],
    ['strict source route behind a NOP', b.udp().options([NOP, ...SSRR]).build(), 'ERR_SOURCE_ROUTE'],
    // 8183 * 8 = 65464; 8 bytes of (would-be) UDP header + 63 = 71 bytes end exactly at 65535.
    ['later fragment ending at 65535', b.udp().frag(8183).data(Buffer.alloc(63)).build(), 'PARSE_IPV4_LATER_FRAGMENT'],
    ['later fragment ending past 65535', b.udp().frag(8183).data(Buffer.alloc(64)).build(), 'ERR_BAD_FRAGMENT'],
    ['TCP fragment at offset 8 (overlaps the flags, RFC 1858)', b.tcp().frag(1).build(), 'ERR_BAD_FRAGMENT'],
    ['UDP fragment at offset 8', b.udp().frag(1).build(), 'PARSE_IPV4_LATER_FRAGMENT'],
    ['UDP length 7', (() => { const f = b.udp().data('abc').build(); f.writeUInt16BE(7, 38); return f; })(), 'ERR_BAD_UDP_LEN'],
    ['UDP length past the IP payload', (() => { const f = b.udp().data('abc').build(); f.writeUInt16BE(12, 38); return f; })(), 'ERR_BAD_UDP_LEN'],
    ['UDP length short of the IP payload (the kernel trims)', (() => { const f = b.udp().data('abc').build(); f.writeUInt16BE(9, 38); return f; })(), 'PARSE_IPV4'],
    ['UDP first fragment: its length covers the datagram', b.udp().frag(0x2000).data(Buffer.alloc(16)).build().fill(0xff, 38, 40), 'PARSE_IPV4'],
  ] as const)('%s -> %s', (_n, frame, want) => {
    expect(parse(frame)).toBe(want);
  });

  it('structural errors come before the checksum (a bad IHL is bad-ihl even with a wrong checksum)', () => {
    const f = b.tcp().build();
    f[14] = 0x44;
    expect(parse(f)).toBe('ERR_BAD_IHL');
    expect(parse(patched(b.tcp().build(), 2, 19))).toBe('ERR_BAD_TOTLEN');
    const t = patched(b.tcp().build(), 2, 19);
    t[24] ^= 0xff;
    expect(parse(t)).toBe('ERR_BAD_TOTLEN');
  });

  it('IP options shift L4: ports are read behind them, and a tagged frame shifts everything by 4', () => {
    const f = new Flow();
    const opt = b.tcp().options([0x94, 4, 0, 0, NOP, NOP, NOP, 0]).from('10.0.0.2', 4321).vlan(7).build();
    expect(parseFrame(opt, opt.length, f)).toBe(PARSE_IPV4);
    expect([f.vlan, f.l3Off, f.ipHdrLen, f.l4Off, f.sport, f.dport]).toEqual([7, 18, 28, 46, 4321, 80]);
  });

  it('every new code has its name', () => {
    for (const c of [...Object.values(BUILT_CODES), ERR_BAD_L4_CSUM]) expect(PARSE_ERROR_NAMES[c]).toMatch(/^[a-z0-9-]+$/);
    expect(Object.keys(PARSE_ERROR_NAMES)).toHaveLength(Object.keys(CODES).filter((k) => k.startsWith('ERR_')).length);
  });
});
