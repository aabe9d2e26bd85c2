// DR end to end in the netns lab: real nginx real servers, real curl, lvsd on libpcap with its nftables fence.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive, countBy, curlLoop, inNs, labDown, labStatus, labUnavailable, labUp, lvsadm, namespacesWith, SCAPY_PYTHON, socketOf, uniquePrefix,
} from './lab';

const skip = labUnavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);

describe.skipIf(skip !== null)(title('DR lab, rr over 2 RS'), () => {
  const prefix = uniquePrefix('tr');
  const socket = socketOf(prefix);
  beforeAll(() => labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr']));
  afterAll(() => labDown(prefix));

  it('status --json describes the lab', () => {
    const s = labStatus(prefix);
    expect(s).toMatchObject({ mode: 'dr', vip: '10.0.0.100', up: true, socket });
    expect(s.rs).toEqual([{ name: 'rs1', ip: '10.0.0.11' }, { name: 'rs2', ip: '10.0.0.12' }].map((r) => expect.objectContaining(r)));
    expect(typeof s.pid).toBe('number');
    expect(s.namespaces).toEqual(expect.arrayContaining([`${prefix}client`, `${prefix}director`, `${prefix}rs1`, `${prefix}rs2`]));
  });

  it('lvsadm -L -n lists the service with two Route real servers', () => {
    const r = lvsadm(['-L', '-n'], socket);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^IP Virtual Server version 1\.2\.1 \(size=\d+\)$/);
    expect(lines.slice(1, 5)).toEqual([
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.100:80 rr',
      expect.stringMatching(/^ {2}-> 10\.0\.0\.11:80 {17}Route {3}1 {6}0 {10}0 {9}$/),
    ]);
  });

  it('100 curl requests to the VIP all succeed, split 50/50 by rr', () => {
    const answers = curlLoop(prefix, 100);
    expect(answers).toHaveLength(100);
    expect(countBy(answers)).toEqual({ rs1: 50, rs2: 50 });
  });

  it('the requests went through lvsd: its table holds the 100 connections, closed (inactive)', () => {
    const r = lvsadm(['-L', '-n'], socket);
    // The TCP service's rows: they follow its "TCP  10.0.0.100:80" line.
    const lines = r.out.split('\n');
    const at = lines.indexOf('TCP  10.0.0.100:80 rr');
    const counts = lines.slice(at + 1, at + 3).map((l) => l.trim().split(/\s+/).slice(4, 6).map(Number));
    expect(counts).toEqual([[0, 50], [0, 50]]);
  });

  it('a stray ACK to the VIP is dropped by the director and counted, never forwarded', async () => {
    const { request } = await import('../../src/control/client');
    const before = (await request(socket, 'status')) as { verdicts: Record<string, number> };
    // A bare ACK with no connection behind it: scapy from the client (lab subnet only).
    inNs(`${prefix}client`, `${SCAPY_PYTHON} -c "from scapy.all import *; sendp(Ether(dst=getmacbyip('10.0.0.100'))/IP(src='10.0.0.2',dst='10.0.0.100')/TCP(sport=55555,dport=80,flags='A'), iface='eth0', verbose=0)"`);
    let after = before;
    for (let i = 0; i < 20 && after.verdicts['no-conn'] === before.verdicts['no-conn']; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = (await request(socket, 'status')) as { verdicts: Record<string, number> };
    }
    expect(after.verdicts['no-conn']).toBe(before.verdicts['no-conn'] + 1);
    expect(after.verdicts.forwarded).toBe(before.verdicts.forwarded);
  });

  it('the fence is in the director namespace while lvsd runs, and SIGTERM removes it and the socket', () => {
    const dir = `${prefix}director`;
    expect(inNs(dir, 'nft list tables')).toContain('table netdev userlvs');
    const pid = labStatus(prefix).pid as number;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    expect(alive(pid)).toBe(false);
    expect(inNs(dir, 'nft list tables')).not.toContain('userlvs');
    expect(existsSync(socket)).toBe(false);
  });
});

describe.skipIf(skip !== null)(title('DR lab, wrr 3:1'), () => {
  const prefix = uniquePrefix('tw');
  beforeAll(() => labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'wrr', '--weights', '3,1']));
  afterAll(() => labDown(prefix));

  it('100 requests split 75/25', () => {
    expect(countBy(curlLoop(prefix, 100))).toEqual({ rs1: 75, rs2: 25 });
  });
});

describe.skipIf(skip !== null)(title('lab down'), () => {
  it('leaves no namespace of the lab and no lvsd process', () => {
    const prefix = uniquePrefix('td');
    try {
      labUp(prefix, ['--rs', '1']);
      const pid = labStatus(prefix).pid as number;
      expect(namespacesWith(prefix).length).toBeGreaterThan(0);
      labDown(prefix);
      expect(namespacesWith(prefix)).toEqual([]);
      expect(alive(pid)).toBe(false);
      expect(existsSync(socketOf(prefix))).toBe(false);
    } finally {
      labDown(prefix);
    }
  });
});
