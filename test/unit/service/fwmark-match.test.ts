import { describe, expect, it } from 'vitest';
import { LvsError } from '../../../src/control/errors';
import { ServiceControl } from '../../../src/control/service-control';
import { parseIpv4 } from '../../../src/packet/format';
import { FwmarkMatch } from '../../../src/service/fwmark-match';
import { V_FORWARDED } from '../../../src/verdict';
import { assemble } from '../../helpers/assembly';
import { FLAGS, FrameBuilder } from '../../helpers/frame-builder';

const ip = (s: string) => parseIpv4(s) | 0;

describe('fwmark match (nftables subset)', () => {
  it.each([
    ['ip daddr 10.0.0.100 tcp dport 80', 'ip daddr 10.0.0.100 meta l4proto tcp th dport 80'],
    ['ip daddr { 10.0.0.100, 10.0.1.0/24 } tcp dport { 80, 443, 8000-8080 }', 'ip daddr { 10.0.0.100, 10.0.1.0/24 } meta l4proto tcp th dport { 80, 443, 8000-8080 }'],
    ['ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 5353 }', 'ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 5353 }'],
    ['ip daddr 192.168.0.0/16', 'ip daddr 192.168.0.0/16 meta l4proto { tcp, udp }'],
    ['ip saddr 10.9.0.0/16 ip daddr 10.0.0.100', 'ip daddr 10.0.0.100 ip saddr 10.9.0.0/16 meta l4proto { tcp, udp }'],
  ])('%s renders as %s', (text, nft) => {
    expect(FwmarkMatch.parse(text).toNft()).toBe(nft);
  });

  it('matches exactly what it says, addresses above 2^31 included', () => {
    const m = FwmarkMatch.parse('ip daddr { 10.0.0.100, 192.168.0.0/16 } tcp dport { 80, 8000-8080 }');
    expect(m.matches(6, ip('1.2.3.4'), ip('10.0.0.100'), 80)).toBe(true);
    expect(m.matches(6, ip('1.2.3.4'), ip('192.168.200.1'), 8080)).toBe(true);
    expect(m.matches(6, ip('1.2.3.4'), ip('192.169.0.1'), 80)).toBe(false);
    expect(m.matches(6, ip('1.2.3.4'), ip('10.0.0.100'), 443)).toBe(false);
    expect(m.matches(17, ip('1.2.3.4'), ip('10.0.0.100'), 80)).toBe(false);
    expect(m.matches(6, ip('1.2.3.4'), ip('10.0.0.101'), 80)).toBe(false);
  });

  it.each([
    ['tcp dport 80', 'needs an ip daddr clause'],
    ['ip daddr 10.0.0.300', 'expected an IPv4 address or prefix'],
    ['ip daddr 10.0.0.1/24', 'has host bits set'],
    ['ip daddr 10.0.0.1 tcp dport 0', 'expected a port 1..65535'],
    ['ip daddr 10.0.0.1 iifname eth0', 'expected ip daddr|saddr'],
    ['ip daddr { 10.0.0.1 10.0.0.2 }', 'expected , or }'],
  ])('refuses %j, naming the problem', (text, why) => {
    expect(() => FwmarkMatch.parse(text)).toThrow(LvsError);
    expect(() => FwmarkMatch.parse(text)).toThrow(why);
  });
});

describe('a persistent fwmark service on the pipeline', () => {
  it('groups ports and protocols: one client lands on one RS across all of them', () => {
    const a = assemble({ weights: [1, 1] });
    const ctl = new ServiceControl({
      services: a.services, conns: a.conns, release: (c) => a.pipeline.release(c), timeouts: a.pipeline.timeouts,
      now: () => a.clock.now, prepareDest: (rs) => { rs.neighSlot = a.neigh.slotFor(rs.addr); }, changed: () => undefined,
    });
    ctl.deleteService({ svc: { proto: 'tcp', addr: '10.0.0.100', port: 80 } });
    ctl.addService({ svc: { fwmark: 1 }, scheduler: 'rr', persistent: 60, match: 'ip daddr 10.0.0.100 meta l4proto { tcp, udp } th dport { 80, 443, 5353 }' });
    a.neigh.learn(parseIpv4('10.0.0.11'), Uint8Array.of(2, 0, 0, 0, 0, 0x0b), 0, 1);
    a.neigh.learn(parseIpv4('10.0.0.12'), Uint8Array.of(2, 0, 0, 0, 0, 0x0c), 0, 1);
    ctl.addDest({ svc: { fwmark: 1 }, dest: { addr: '10.0.0.11', port: 0 } });
    ctl.addDest({ svc: { fwmark: 1 }, dest: { addr: '10.0.0.12', port: 0 } });
    const to = (f: Buffer): number => {
      expect(a.pipeline.process(f, f.length)).toBe(V_FORWARDED);
      return a.io.sent[a.io.sent.length - 1][5];
    };
    const c1 = [80, 443].map((port, i) => to(FrameBuilder.tcp().from('10.1.1.5', 1000 + i).to('10.0.0.100', port).tcpFlags(FLAGS.S).build()));
    c1.push(to(FrameBuilder.udp().from('10.1.1.5', 2000).to('10.0.0.100', 5353).build()));
    expect(new Set(c1).size).toBe(1);
    const c2 = to(FrameBuilder.tcp().from('10.1.1.6', 1000).to('10.0.0.100', 443).tcpFlags(FLAGS.S).build());
    expect(c2).not.toBe(c1[0]);
    // Outside the match: not ours.
    const other = FrameBuilder.tcp().from('10.1.1.5', 1003).to('10.0.0.100', 22).tcpFlags(FLAGS.S).build();
    expect(a.pipeline.process(other, other.length)).not.toBe(V_FORWARDED);
  });
});
