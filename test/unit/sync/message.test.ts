import { describe, expect, it } from 'vitest';
import { formatDaemon } from '../../../src/control/format-timeout';
import { parseIpv4 } from '../../../src/packet/format';
import { decodeSync, encodeSync, type SyncConn } from '../../../src/sync/message';

const conn = (i: number): SyncConn => ({
  protocol: 6, flags: 3, state: 1, cport: 40000 + i, vport: 80, dport: 80, fwmark: 0, timeout: 900,
  caddr: parseIpv4('10.1.2.3') + i, vaddr: parseIpv4('10.0.0.100'), daddr: parseIpv4('10.0.0.11'),
});

describe('IPVS sync v1 messages', () => {
  it('lays out header and entry as ip_vs_sync.c does', () => {
    const [m] = encodeSync(7, [conn(0)]);
    expect(m.length).toBe(8 + 36);
    // header: reserved 0, syncid, size, nr_conns, version 1, spare
    expect([...m.subarray(0, 8)]).toEqual([0, 7, 0, 44, 1, 1, 0, 0]);
    // entry: type 0 (IPv4), protocol 6, ver_size 36, flags 3 (DROUTE), state 1 (ESTABLISHED)
    expect(m.subarray(8, 18).toString('hex')).toBe('0006' + '0024' + '00000003' + '0001');
    expect(m.subarray(18, 24).toString('hex')).toBe('9c40' + '0050' + '0050'); // cport 40000, vport 80, dport 80
    expect(m.subarray(24, 32).toString('hex')).toBe('00000000' + '00000384'); // fwmark 0, timeout 900
    expect(m.subarray(32, 44).toString('hex')).toBe('0a010203' + '0a000064' + '0a00000b');
  });

  it('round-trips, split to fit maxlen', () => {
    const conns = Array.from({ length: 100 }, (_, i) => conn(i));
    const msgs = encodeSync(0, conns, 1472);
    expect(msgs.length).toBe(3); // 40 entries per 1472-byte message
    expect(msgs.every((m) => m.length <= 1472)).toBe(true);
    expect(msgs.flatMap((m) => decodeSync(m)!.conns)).toEqual(conns);
  });

  it('refuses what is not a v1 message', () => {
    const [m] = encodeSync(0, [conn(0)]);
    expect(decodeSync(m.subarray(0, 20))).toBeNull(); // size field disagrees
    const v0 = Buffer.from(m);
    v0[0] = 1; // a v0 header starts with nr_conns
    expect(decodeSync(v0)).toBeNull();
  });

  it('-L --daemon lists running sync daemons as ipvsadm does', () => {
    const d = { mcastInterface: 'eth0', syncid: 0, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 };
    expect(formatDaemon([{ state: 'master', ...d }, { state: 'backup', ...d }])).toBe(
      'master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n' +
      'backup sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    expect(formatDaemon([])).toBe('');
  });
});
