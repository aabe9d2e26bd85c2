// `io:` in lvsd.yaml: libpcap by default (the path that always works), `ring` for the packet_ring addon, and
// anything else refused with the field, the choices and the value named.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/control/config';

const BASE = 'interface: eth0\n';

describe('io', () => {
  it('is pcap unless the file says ring', () => {
    expect(parseConfig(BASE).io).toBe('pcap');
    expect(parseConfig(`${BASE}io: pcap\n`).io).toBe('pcap');
    expect(parseConfig(`${BASE}io: ring\n`).io).toBe('ring');
  });

  it.each(['mmap', 'RING', '1', 'true', '[ring]'])('refuses io: %s, naming the field, the choices and the value', (v) => {
    expect(() => parseConfig(`${BASE}io: ${v}\n`, 'lvsd.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(`${BASE}io: ${v}\n`, 'lvsd.yaml')).toThrow(/lvsd\.yaml:2: io: must be one of pcap, ring, got/);
  });
});
