import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/control/config';
import { parseIpv4 } from '../../../src/packet/format';

const GOOD = `interface: eth0
services:
  - proto: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: wrr
    reals:
      - { ip: 10.0.0.11, weight: 3, forward: dr }
      - ip: 10.0.0.12
`;

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'lvsd.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('config', () => {
  it('parses YAML with ipvsadm defaults (port from the service, weight 1, dr)', () => {
    const c = parseConfig(GOOD);
    expect(c.interfaces).toEqual(['eth0']);
    expect(c.connMax).toBe(262144);
    expect(c.fence).toEqual({ enabled: true, table: 'userlvs' });
    expect(c.services).toEqual([{
      proto: 6, vip: parseIpv4('10.0.0.100'), port: 80, scheduler: 'wrr', localAddresses: [],
      persistent: 0, netmask: 0xffffffff, schedFlags: 0, mhTableSize: 4093, fwmark: 0, match: null,
      reals: [
        { ip: parseIpv4('10.0.0.11'), port: 80, weight: 3, forward: 'dr' },
        { ip: parseIpv4('10.0.0.12'), port: 80, weight: 1, forward: 'dr' },
      ],
    }]);
  });

  it('accepts JSON and defaults the scheduler to wlc as ipvsadm does', () => {
    const c = parseConfig(JSON.stringify({ interface: 'eth1', services: [{ vip: '192.168.1.1', port: 53, proto: 'udp' }] }));
    expect(c.services[0]).toMatchObject({ proto: 17, scheduler: 'wlc', reals: [] });
  });

  it.each([
    ['a weight out of range', GOOD.replace('weight: 3', 'weight: 70000'), 'lvsd.yaml:8', 'services[0].reals[0].weight', 'must be an integer 0..65535, got 70000'],
    ['a bad VIP', GOOD.replace('10.0.0.100', '10.0.0.300'), 'lvsd.yaml:4', 'services[0].vip', '"10.0.0.300" is not an IPv4 address'],
    ['a multicast real server', GOOD.replace('10.0.0.12', '224.0.0.18'), 'lvsd.yaml:9', 'services[0].reals[1].ip',
      '"224.0.0.18" is not a unicast host address: multicast (224.0.0.0/4)'],
    ['an unknown scheduler', GOOD.replace('wrr', 'fancy'), 'lvsd.yaml:6', 'services[0].scheduler', 'unknown scheduler "fancy"'],
    ['an unknown field', GOOD.replace('    port: 80\n', '    port: 80\n    colour: red\n'), 'lvsd.yaml:6', 'services[0].colour', 'unknown field'],
    ['a missing port', GOOD.replace('    port: 80\n', ''), 'lvsd.yaml:3', 'services[0].port', 'got nothing'],
    ['a DR port mapping', GOOD.replace('- ip: 10.0.0.12', '- { ip: 10.0.0.12, port: 8080 }'), 'lvsd.yaml:9', 'services[0].reals[1].port', 'DR cannot map ports'],
    ['a duplicate real server', GOOD.replace('10.0.0.12', '10.0.0.11'), 'lvsd.yaml:9', 'services[0].reals[1]', 'duplicate real server'],
    ['an unknown forwarding method', GOOD.replace('forward: dr', 'forward: magic'), 'lvsd.yaml:8', 'services[0].reals[0].forward', 'unknown forwarding method "magic"'],
    ['a missing interface', GOOD.replace('interface: eth0\n', ''), 'lvsd.yaml:1', 'interface', 'must be an interface name, got nothing'],
    ['a YAML syntax error', 'interface: [eth0\n', 'lvsd.yaml:2:1', 'syntax', ''],
  ])('refuses %s, naming line and field', (_n, text, where, field, problem) => {
    const e = errorOf(text);
    expect(e.where).toBe(where);
    expect(e.field).toBe(field);
    expect(e.problem).toContain(problem);
    expect(e.message).toContain(`${where}: ${field}`);
  });

  it('metrics listen on loopback by default; any other address needs a token', () => {
    expect(parseConfig(GOOD).metrics).toEqual({ enabled: true, listen: '127.0.0.1:9100' });
    expect(errorOf(`${GOOD}metrics: { listen: 0.0.0.0:9100 }\n`).message).toContain('metrics.token: listening on 0.0.0.0:9100 (not loopback) needs a token');
    expect(parseConfig(`${GOOD}metrics: { listen: 10.0.0.10:9100, token: abcdefghijklmnop0123 }\n`).metrics)
      .toEqual({ enabled: true, listen: '10.0.0.10:9100', token: 'abcdefghijklmnop0123' });
    expect(errorOf(`${GOOD}metrics: { listen: 10.0.0.10:9100, token: short }\n`).problem).toContain('a token of at least 16 characters');
  });

  it('a refused metrics token is described, never shown', () => {
    for (const token of ['short-secret', 'a secret with spaces inside it']) {
      const e = errorOf(`${GOOD}metrics: { listen: 10.0.0.10:9100, token: "${token}" }\n`);
      expect(e.field).toBe('metrics.token');
      expect(e.problem).toContain(`got ${token.length} characters; not shown`);
      expect(e.message).not.toContain(token);
    }
  });

  it('control.socket_group: a known group is resolved to its gid; without it there is no group', () => {
    expect(parseConfig(GOOD).control).toBeUndefined();
    expect(parseConfig(`${GOOD}control: { socket_group: nogroup }\n`).control).toEqual({ socketGroup: 'nogroup', gid: 65534 });
    expect(parseConfig(`${GOOD}control: { socket_group: "0" }\n`).control).toEqual({ socketGroup: '0', gid: 0 });
  });

  it.each([
    ['an unknown group, named', 'control: { socket_group: no-such-group-lvs }', 'lvsd.yaml:10', 'control.socket_group', 'unknown group "no-such-group-lvs"'],
    ['a group name with a shell metacharacter', 'control: { socket_group: "lvs;id" }', 'lvsd.yaml:10', 'control.socket_group', 'must be a group name, got "lvs;id"'],
    ['an unknown key under control', 'control: { socket_mode: 0666 }', 'lvsd.yaml:10', 'control.socket_mode', 'unknown field (allowed here: socket_group)'],
    ['control not a mapping', 'control: lvs', 'lvsd.yaml:10', 'control', 'must be a mapping'],
  ])('refuses %s', (_n, line, where, field, problem) => {
    const e = errorOf(`${GOOD}${line}\n`);
    expect([e.where, e.field]).toEqual([where, field]);
    expect(e.problem).toContain(problem);
  });

  it('refuses a duplicate service', () => {
    const text = `interface: eth0\nservices:\n  - { vip: 10.0.0.1, port: 80 }\n  - { vip: 10.0.0.1, port: 80 }\n`;
    expect(errorOf(text).message).toBe('lvsd.yaml:4: services[1]: duplicate service (same proto, vip and port as an earlier one)');
  });
});
