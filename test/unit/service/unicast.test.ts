// Which addresses may be real servers: unicast hosts only, as ip_vs_new_dest insists.
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../../src/packet/format';
import { notUnicast } from '../../../src/service/unicast';

describe('notUnicast', () => {
  it.each([
    ['0.0.0.0', 'this-network (0.0.0.0/8)'],
    ['0.1.2.3', 'this-network (0.0.0.0/8)'],
    ['255.255.255.255', 'the limited broadcast'],
    ['224.0.0.1', 'multicast (224.0.0.0/4)'],
    ['239.255.255.255', 'multicast (224.0.0.0/4)'],
  ])('refuses %s: %s', (a, why) => {
    expect(notUnicast(parseIpv4(a))).toBe(why);
  });

  it.each(['10.0.0.11', '1.0.0.0', '127.0.0.1', '192.168.1.255', '223.255.255.255', '240.0.0.1', '255.255.255.254'])('takes %s', (a) => {
    expect(notUnicast(parseIpv4(a))).toBeNull();
  });
});
