// A batch of frames (Pipeline.onFrames, as the ring capture hands them over) must do exactly what the same frames
// do one at a time: the warm pass before each group of frames only loads cache lines. Two identical assemblies, the
// same generated traffic (new connections, their packets, NAT replies, junk, a VLAN frame, a truncated frame), one
// fed frame by frame and one in batches of every size: the same verdicts and the same bytes on the wire.
import { describe, expect, it } from 'vitest';
import { ConnTable } from '../../../src/conn/table';
import { tupleHash } from '../../../src/conn/hash';
import { peekTupleHash } from '../../../src/packet/peek';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../src/packet/ipv4';
import { parseIpv4 } from '../../../src/packet/format';
import { assemble, type Assembly } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** Mixed traffic through a NAT service: each client's SYN, data, the RS's replies, and frames that are not ours. */
function traffic(count: number, seed: number): Buffer[] {
  const r = rng(seed);
  const out: Buffer[] = [];
  const clients: { ip: string; port: number }[] = [];
  while (out.length < count) {
    const k = r(10);
    if (k < 3 || clients.length === 0) {
      const c = { ip: `10.${1 + r(200)}.${r(256)}.${1 + r(254)}`, port: 1024 + r(60000) };
      clients.push(c);
      out.push(FrameBuilder.tcp().tcpFlags(FLAGS.S).from(c.ip, c.port).to('10.0.0.100', 80).build());
    } else if (k < 6) {
      const c = clients[r(clients.length)];
      out.push(FrameBuilder.tcp().tcpFlags(FLAGS.PA).from(c.ip, c.port).to('10.0.0.100', 80).data('GET / HTTP/1.1\r\n\r\n').build());
    } else if (k < 8) {
      // A reply from either RS to a client: only the one its connection went to is NAT's; the other is not ours.
      const c = clients[r(clients.length)];
      out.push(FrameBuilder.tcp().tcpFlags(FLAGS.A).from(`10.0.1.${11 + r(2)}`, 80).to(c.ip, c.port).data('HTTP/1.1 200 OK\r\n').build());
    } else if (k < 9) {
      out.push(FrameBuilder.udp().from('10.9.9.9', 53).to('10.0.0.100', 53).build());
    } else {
      const f = FrameBuilder.tcp().tcpFlags(FLAGS.A).from('10.1.2.3', 999).to('10.0.0.100', 80).vlan(7).build();
      out.push(r(2) === 0 ? f : f.subarray(0, 30));
    }
  }
  return out;
}

const wire = (a: Assembly): string[] => [
  ...a.io.sent.map((b) => b.toString('hex')),
  ...a.io.sentIp.map((p) => `${p.dst}:${p.packet.toString('hex')}`),
];

describe('Pipeline.onFrames (a capture ring batch)', () => {
  it.each([1, 2, 7, 32, 33, 100, 257])('batches of %i frames: the same verdicts and emits as one frame at a time', (size) => {
    const opts = { forward: 'nat' as const, weights: [1, 1], rsBase: '10.0.1.11', connMax: 4096 };
    const one = assemble(opts);
    const many = assemble(opts);
    const frames = traffic(1500, size);
    for (const f of frames) one.pipeline.sinks[0].onFrame(Buffer.from(f), f.length);
    // Frames of a batch sit in their own buffers, as ring slots do; each is rewritten in place.
    const lens = new Int32Array(size);
    for (let i = 0; i < frames.length; i += size) {
      const bufs = frames.slice(i, i + size).map((f) => Buffer.from(f));
      bufs.forEach((b, j) => { lens[j] = b.length; });
      many.pipeline.sinks[0].onFrames!(bufs, lens, bufs.length);
    }
    expect(Array.from(many.pipeline.verdicts)).toEqual(Array.from(one.pipeline.verdicts));
    expect(Array.from(many.pipeline.parseErrors)).toEqual(Array.from(one.pipeline.parseErrors));
    expect(many.conns.count).toBe(one.conns.count);
    expect(wire(many)).toEqual(wire(one));
    // The traffic really took every path: connections made, replies NATed back, junk and VLAN frames counted.
    expect(one.conns.count).toBeGreaterThan(300);
    expect(one.io.sentIp.length).toBeGreaterThan(800);
  });
});

describe('peekTupleHash (the warm pass reads the tuple straight from the frame)', () => {
  it('equals the connection table hash of the parsed tuple for TCP and UDP, with and without IP options', () => {
    const tcp = FrameBuilder.tcp().from('192.168.7.9', 40000).to('10.0.0.100', 443).build();
    const udp = FrameBuilder.udp().from('172.16.0.1', 5353).to('10.0.0.100', 53).options([1, 1, 1, 0]).build();
    const h = (s: string): number => parseIpv4(s) | 0;
    expect(peekTupleHash(tcp, tcp.length)).toBe(tupleHash(IPPROTO_TCP, h('192.168.7.9'), 40000, h('10.0.0.100'), 443));
    expect(peekTupleHash(udp, udp.length)).toBe(tupleHash(IPPROTO_UDP, h('172.16.0.1'), 5353, h('10.0.0.100'), 53));
  });

  it('is 0 for frames it cannot read: ARP, VLAN-tagged, ICMP, cut short', () => {
    const vlan = FrameBuilder.tcp().vlan(5).build();
    const icmp = FrameBuilder.tcp().build();
    icmp[23] = 1;
    const tcp = FrameBuilder.tcp().build();
    expect(peekTupleHash(vlan, vlan.length)).toBe(0);
    expect(peekTupleHash(icmp, icmp.length)).toBe(0);
    expect(peekTupleHash(tcp, 36)).toBe(0);
    expect(peekTupleHash(Buffer.alloc(60), 60)).toBe(0);
  });
});

describe('ConnTable.warm', () => {
  it('reads the slots the hashes lead to and changes nothing: lookups find the same entries after it', () => {
    const t = new ConnTable(1000, { onExpire: () => 0 });
    const hashes = new Int32Array(64);
    for (let i = 0; i < 64; i++) {
      t.insert(IPPROTO_TCP, 0x0a000001 + i, 1000 + i, 0x0a000064, 80, 1, 60);
      hashes[i] = tupleHash(IPPROTO_TCP, 0x0a000001 + i, 1000 + i, 0x0a000064, 80);
    }
    const before = Array.from({ length: 64 }, (_, i) => t.lookup(IPPROTO_TCP, 0x0a000001 + i, 1000 + i, 0x0a000064, 80));
    // The loads' value depends on what is there: an empty table's slots read differently from a full one's.
    const empty = new ConnTable(1000, { onExpire: () => 0 });
    expect(empty.warm(hashes, 64)).toBe(0);
    expect(t.warm(hashes, 64)).not.toBe(0);
    expect(Array.from({ length: 64 }, (_, i) => t.lookup(IPPROTO_TCP, 0x0a000001 + i, 1000 + i, 0x0a000064, 80))).toEqual(before);
    expect(t.count).toBe(64);
  });
});
