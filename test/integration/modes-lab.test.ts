// Every forwarding method end to end in its own lab topology: real nginx and UDP name servers behind lvsd,
// real curl and UDP clients, and the RS's own access log as witness of the client address it saw. Each on both
// packet I/O backends: libpcap (lvsd's default) and the ring (`io: ring`, the packet_ring addon).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countBy, inNs, labDown, labStatus, labUnavailable, labUp, lvsadm, ROOT, SCAPY_PYTHON, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();

/**
 * n UDP requests to VIP:5353, each from its own source port (20001..): an ephemeral port the OS happened to reuse
 * would be the same connection, as in IPVS, and go to the same RS. One answer line (RS name or FAIL) per request.
 */
function udpLoop(prefix: string, n: number): string[] {
  return inNs(`${prefix}client`, `${SCAPY_PYTHON} ${ROOT}/scripts/lib/udp-ask.py 10.0.0.100 5353 --count ${n} --sport-base 20000 || true`)
    .trim().split('\n');
}

function curlLoop(prefix: string, n: number, port = 80): string[] {
  return inNs(`${prefix}client`, `for i in $(seq ${n}); do curl -s -m 3 http://10.0.0.100:${port}/ || echo FAIL; done`).trim().split('\n');
}

/** Client addresses in an RS's nginx access log (the first field of each line), from line `from` on. */
function loggedClients(prefix: string, rs: number, from = 0): string[] {
  const state = labStatus(prefix) as { rs: { accessLog: string }[] };
  return readFileSync(state.rs[rs].accessLog, 'utf8').split('\n').filter(Boolean).slice(from).map((l) => l.split(' ')[0]);
}

const MODES = [
  { mode: 'dr', label: 'Route', sees: ['10.0.0.2'], mapped: false },
  { mode: 'tun', label: 'Tunnel', sees: ['10.0.0.2'], mapped: false },
  { mode: 'nat', label: 'Masq', sees: ['10.0.0.2'], mapped: true },
  { mode: 'fullnat', label: 'FullNat', sees: ['10.0.0.200', '10.0.0.201'], mapped: true },
] as const;
const CASES = (['pcap', 'ring'] as const).flatMap((io) => MODES.map((m) => ({ ...m, io })));

describe.each(CASES)('$mode lab, io $io', ({ mode, label, sees, mapped, io }) => {
  const run = skip === null;
  const prefix = uniquePrefix(`t${mode[0]}${io[0]}`);
  // Log lines written while the lab checked itself (from inside the RS) come before ours.
  const logStart = [0, 0];
  beforeAll(() => {
    if (!run) return;
    labUp(prefix, ['--mode', mode, '--rs', '2', '--sched', 'rr', '--io', io]);
    logStart[0] = loggedClients(prefix, 0).length;
    logStart[1] = loggedClients(prefix, 1).length;
  }, 120_000);
  afterAll(() => {
    if (run) labDown(prefix);
  });

  it.skipIf(!run)(`lvsd runs on ${io}`, async () => {
    const { request } = await import('../../src/control/client');
    expect(((await request(socketOf(prefix), 'status')) as { io: string }).io).toBe(io);
  });

  it.skipIf(!run)(`lvsadm -L -n shows ${label} real servers`, () => {
    const r = lvsadm(['-L', '-n'], socketOf(prefix));
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => l.startsWith('  -> 10.'));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const row of rows) expect(row.slice(34, 41).trim()).toBe(label); // the 7-wide Forward column
  });

  it.skipIf(!run)('100 curl requests to 10.0.0.100:80 all succeed, split 50/50', () => {
    expect(countBy(curlLoop(prefix, 100))).toEqual({ rs1: 50, rs2: 50 });
  });

  it.skipIf(!run)('100 UDP requests to 10.0.0.100:5353 are all answered, split 50/50', () => {
    expect(countBy(udpLoop(prefix, 100))).toEqual({ rs1: 50, rs2: 50 });
  });

  it.skipIf(!run)(`the RS's access log shows ${sees.join(' or ')} as the client address`, () => {
    const clients = [...loggedClients(prefix, 0, logStart[0]), ...loggedClients(prefix, 1, logStart[1])];
    expect(clients.length).toBeGreaterThanOrEqual(100);
    expect([...new Set(clients)].sort()).toEqual([...sees].filter((a) => clients.includes(a)).sort());
    for (const c of clients) expect(sees as readonly string[]).toContain(c);
  });

  it.skipIf(!run || !mapped)('port mapping: VIP:8080 reaches the RSs on port 80', () => {
    expect(countBy(curlLoop(prefix, 10, 8080))).toEqual({ rs1: 5, rs2: 5 });
  });

  // Last: it stops rs1's UDP server. Its kernel then answers port-unreachable, which only reaches the
  // client through the director (NAT, FullNAT), rewritten to quote the client's own packet to the VIP.
  it.skipIf(!run || !mapped)('an ICMP port-unreachable from the RS reaches the client as a refusal', async () => {
    const state = labStatus(prefix) as { rs: { udpPid: number }[] };
    process.kill(state.rs[0].udpPid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const { request } = await import('../../src/control/client');
    const icmpForwarded = async (): Promise<number> =>
      ((await request(socketOf(prefix), 'status')) as { verdicts: Record<string, number> }).verdicts['icmp-forwarded'];
    const before = await icmpForwarded();
    const ask = `import socket
out = []
for i in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.connect(('10.0.0.100', 5353))
    s.send(b'who?')
    try: out.append(s.recv(100).decode().strip())
    except ConnectionRefusedError: out.append('REFUSED')
    except socket.timeout: out.append('TIMEOUT')
print(' '.join(sorted(out)))`;
    const got = inNs(`${prefix}client`, `${SCAPY_PYTHON} -c "${ask.replace(/"/g, '\\"')}"`).trim();
    expect(got).toBe('REFUSED rs2');
    expect(await icmpForwarded()).toBe(before + 1);
  });
});

describe.skipIf(skip === null)(`modes lab (skipped: ${skip})`, () => {
  it('cannot run here', () => {
    expect(skip).not.toBeNull();
  });
});
