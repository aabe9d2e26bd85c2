// Flow steering across capture workers: the BPF that each worker's capture runs (compiled and evaluated by real
// libpcap, through tcpdump on a pcap file) must give every frame to exactly one worker, the one shardOf() names,
// and both directions of a NAT or FullNAT flow to the same worker. A worker missing a reply drops it; two workers
// taking one request schedule it twice: either is a lost connection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnTable } from '../../../src/conn/table';
import { forwarderId } from '../../../src/forward';
import { captureFilter } from '../../../src/io/capture-filter';
import { clientSteer } from '../../../src/io/matches';
import { CLIENT_DST, CLIENT_SRC, shardOf, steerBpf, type Steer } from '../../../src/io/steer';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/format';
import { ServiceTable } from '../../../src/service/table';
import { PROTO_TCP } from '../../../src/service/types';
import { FrameBuilder } from '../../helpers/frame-builder';

const dir = mkdtempSync(join(tmpdir(), 'steer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A classic pcap file (Ethernet link type) holding the frames. */
function pcapFile(frames: Buffer[]): string {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs = frames.map((f) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return Buffer.concat([h, f]);
  });
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.pcap`);
  writeFileSync(path, Buffer.concat([head, ...recs]));
  return path;
}

/** The frames that libpcap's compiled filter accepts, by IP id - 1 (every frame here has id = its index + 1). */
function accepted(file: string, filter: string): number[] {
  const out = execFileSync('tcpdump', ['-n', '-v', '-r', file, filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return [...out.matchAll(/\bid (\d+),/g)].map((m) => Number(m[1]) - 1);
}

/** Deterministic pseudo-random numbers, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 8; // an LCG's low bits cycle quickly: parity would be no test of an even split

  };
}

interface Probe {
  frame: Buffer;
  client: number;
  cport: number;
  fragment: boolean;
}

function probes(n: number, seed: number, dir: 'src' | 'dst'): Probe[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_v, i) => {
    const client = (0x0a000000 | (r() & 0xffffff)) >>> 0; // 10.0.0.0/8: lab-style addresses
    const cport = 1024 + (r() % 60000);
    const fragment = i % 5 === 0;
    const b = (i % 2 === 0 ? FrameBuilder.tcp() : FrameBuilder.udp()).id(i + 1);
    if (dir === 'src') b.from(ipv4ToString(client), cport).to('10.0.0.100', 80);
    else b.from('10.0.1.11', 80).to(ipv4ToString(client), cport);
    // A first fragment (MF) carries ports; a later one (offset) does not, and the filter must not read them.
    if (fragment) b.frag(i % 10 === 0 ? 0x2000 : 0x0010);
    return { frame: b.build(), client, cport, fragment };
  });
}

describe('steerBpf and shardOf agree, for every worker count', () => {
  const cases: [string, Steer, 'src' | 'dst'][] = [
    ['requests, by client address and port', CLIENT_SRC, 'src'],
    ['NAT replies, by the client as destination', CLIENT_DST, 'dst'],
    ['a persistent service, by the client /24 only', { by: 'src', mask: 0xffffff00, ports: false }, 'src'],
  ];
  for (const [name, steer, side] of cases) {
    it(name, () => {
      const ps = probes(300, name.length, side);
      const file = pcapFile(ps.map((p) => p.frame));
      for (const count of [2, 3, 4]) {
        const owner = new Map<number, number>();
        for (let index = 0; index < count; index++) {
          for (const k of accepted(file, steerBpf(steer, { index, count }))) {
            expect(owner.has(k), `frame ${k} taken by workers ${owner.get(k)} and ${index}`).toBe(false);
            owner.set(k, index);
          }
        }
        ps.forEach((p, k) => expect(owner.get(k), `frame ${k} of ${count} workers`).toBe(shardOf(p.client, p.cport, steer, count, p.fragment)));
      }
    });
  }

  it('spreads one client\'s connections over the workers (one client is how the benchmarks load it)', () => {
    const hits = [0, 0];
    // Linux gives connect() even ports: the split must not rest on the port's lowest bit.
    for (let port = 30000; port < 30400; port += 2) hits[shardOf(parseIpv4('10.0.0.2'), port, CLIENT_SRC, 2)]++;
    expect(Math.min(...hits)).toBeGreaterThan(80);
  });

  it('one worker captures everything, without a steering term', () => {
    expect(steerBpf(CLIENT_SRC, { index: 0, count: 1 })).toBe('');
    expect(shardOf(parseIpv4('10.9.9.9'), 4242, CLIENT_SRC, 1)).toBe(0);
  });
});

describe('captureFilter with workers: both directions of a flow meet in one worker', () => {
  const services = new ServiceTable(8, 16);
  const nat = services.addService({ proto: PROTO_TCP, vip: parseIpv4('10.0.0.100'), port: 80, scheduler: 'rr' });
  services.addDest(nat, { addr: parseIpv4('10.0.1.11'), port: 8080, weight: 1, forward: 'nat', fwdId: forwarderId('nat') });
  const fnat = services.addService({ proto: PROTO_TCP, vip: parseIpv4('10.0.0.100'), port: 443, scheduler: 'rr', laddrs: [parseIpv4('10.0.0.200')] });
  services.addDest(fnat, { addr: parseIpv4('10.0.2.11'), port: 443, weight: 1, forward: 'fullnat', fwdId: forwarderId('fullnat') });
  const mac = '02:00:00:00:00:0a';
  const r = rng(7);

  it('NAT: the request and its reply', () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 100; i++) {
      const c = `10.0.9.${2 + (r() % 200)}`;
      const p = 1024 + (r() % 60000);
      frames.push(
        FrameBuilder.tcp().id(frames.length + 1).from(c, p).to('10.0.0.100', 80).build(),
        FrameBuilder.tcp().id(frames.length + 2).from('10.0.1.11', 8080).to(c, p).build(),
      );
    }
    const file = pcapFile(frames);
    const count = 2;
    const owner = new Map<number, number>();
    for (let index = 0; index < count; index++) {
      for (const k of accepted(file, captureFilter(services.list(), mac, [], { index, count }))) {
        expect(owner.has(k)).toBe(false);
        owner.set(k, index);
      }
    }
    for (let i = 0; i < frames.length; i += 2) {
      expect(owner.get(i), `request ${i / 2}`).toBeDefined();
      expect(owner.get(i + 1), `reply ${i / 2}`).toBe(owner.get(i));
    }
    expect(new Set(owner.values()).size).toBe(2);
  });

  it('FullNAT: a worker allocates local ports whose replies its own filter takes', async () => {
    const { fullnat } = await import('../../../src/forward/fullnat');
    const count = 3;
    for (let index = 0; index < count; index++) {
      services.lportShard = { index, count };
      const conns = new ConnTable(64, { onExpire: () => 0 });
      const ctx = { conns, services } as unknown as Parameters<typeof fullnat.bind>[0];
      const frames: Buffer[] = [];
      for (let i = 0; i < 20; i++) {
        const e = conns.insert(6, parseIpv4('10.0.0.2') | 0, 40000 + i, parseIpv4('10.0.0.100') | 0, 443, 1, 60);
        const c = e >>> 1;
        conns.setSvc(c, fnat.id);
        expect(fullnat.bind(ctx, c, fnat, fnat.dests[0])).toBe(0);
        const lport = conns.tDport(c * 2 + 1);
        expect(lport % count).toBe(index);
        frames.push(FrameBuilder.tcp().id(i + 1).from('10.0.2.11', 443).to('10.0.0.200', lport).build());
      }
      const file = pcapFile(frames);
      const mine = accepted(file, captureFilter(services.list(), mac, [], { index, count }));
      expect(mine).toEqual(frames.map((_f, k) => k));
      for (let other = 0; other < count; other++) {
        if (other !== index) expect(accepted(file, captureFilter(services.list(), mac, [], { index: other, count }))).toEqual([]);
      }
    }
    services.lportShard = { index: 0, count: 1 };
  });

  it('a persistent service steers by the client\'s masked address, so its template and connections meet', () => {
    const s = { persistTimeout: 300, netmask: parseIpv4('255.255.255.0') };
    const st = clientSteer(s, 'src');
    const shards = new Set(Array.from({ length: 50 }, (_v, i) => shardOf(parseIpv4(`10.0.7.${i + 1}`), 1024 + i * 7, st, 4)));
    expect(shards.size).toBe(1);
  });
});
