// Connection sync between two directors, as ipvsadm --start-daemon does it: a second director joins the DR lab's
// LAN, runs lvsd as backup, and learns the connections the master forwards, in IPVS's own multicast format.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, curlLoop, labDown, labUnavailable, labUp, lvsadm, ROOT, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const prefix = uniquePrefix('ts');
const d2 = `${prefix}d2`;
const sock2 = `/run/lvsd-${prefix.replace(/-$/, '')}-d2.sock`;
let backup: ChildProcess | null = null;

const sh = (cmd: string): void => {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
};

function adm(sock: string, ...args: string[]): string {
  const r = lvsadm(args, sock);
  if (r.code !== 0) throw new Error(`lvsadm ${args.join(' ')}: ${r.err}`);
  return r.out;
}

describe.skipIf(skip !== null)(skip ? `connection sync (skipped: ${skip})` : 'connection sync between two directors', () => {
  beforeAll(async () => {
    labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp']);
    // The second director: on the same bridge, 10.0.0.20, no VIP (the VIP would move to it by VRRP on failover).
    sh(`ip netns add ${d2} && ip -n ${prefix}sw link add d2 type veth peer name eth0 netns ${d2} &&
      ip -n ${prefix}sw link set d2 master br0 up && ip -n ${prefix}sw link set br0 type bridge mcast_snooping 0 &&
      ip -n ${d2} addr add 10.0.0.20/24 dev eth0 && ip -n ${d2} link set eth0 up && ip -n ${d2} link set lo up &&
      ip netns exec ${d2} ethtool -K eth0 tx off >/dev/null`);
    backup = spawn('ip', ['netns', 'exec', d2, join(ROOT, 'bin', 'lvsd'), '--config', `/run/userlvs-lab/${prefix}/lvsd.yaml`, '--socket', sock2], { stdio: 'ignore' });
    for (let i = 0; i < 50 && lvsadm(['-L', '-n'], sock2).code !== 0; i++) await new Promise((r) => setTimeout(r, 200));
  }, 120_000);
  afterAll(() => {
    if (backup?.pid && alive(backup.pid)) backup.kill('SIGTERM');
    spawnSync('ip', ['netns', 'del', d2]);
    labDown(prefix);
  });

  it('--start-daemon master / backup run, and -L --daemon lists them as ipvsadm does', () => {
    adm(socketOf(prefix), '--start-daemon', 'master', '--mcast-interface', 'eth0', '--syncid', '5');
    adm(sock2, '--start-daemon', 'backup', '--mcast-interface', 'eth0', '--syncid', '5');
    expect(adm(socketOf(prefix), '-L', '--daemon')).toBe('master sync daemon (mcast=eth0, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    expect(lvsadm(['--start-daemon', 'master'], socketOf(prefix)).err).toContain('Daemon has already run');
  });

  it("the backup learns the master's connections: same client ports, same real servers", async () => {
    expect(curlLoop(prefix, 10)).toHaveLength(10);
    const conns = (sock: string): string[] => adm(sock, '-L', '-n', '-c').split('\n').slice(2).filter(Boolean)
      .map((l) => l.split(/\s+/)).map((w) => `${w[0]} ${w[3]} ${w[4]} ${w[5]}`).sort();
    const master = conns(socketOf(prefix));
    expect(master).toHaveLength(10);
    let got: string[] = [];
    for (let i = 0; i < 25 && got.length < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      got = conns(sock2);
    }
    expect(got).toEqual(master);
  });

  it('persistence templates are synced too: the backup pins the client to the same RS', async () => {
    for (const sock of [socketOf(prefix), sock2]) adm(sock, '-E', '-t', '10.0.0.100:80', '-s', 'rr', '-p', '60');
    const answers = curlLoop(prefix, 3);
    expect(new Set(answers).size).toBe(1);
    const template = (sock: string): string | undefined => adm(sock, '-L', '-n', '-c').split('\n')
      .find((l) => / NONE +10\.0\.0\.2:0 /.test(l))?.split(/\s+/).slice(3).join(' ');
    const want = template(socketOf(prefix));
    expect(want).toMatch(/^10\.0\.0\.2:0 10\.0\.0\.100:80 10\.0\.0\.1[12]:80$/);
    let got: string | undefined;
    for (let i = 0; i < 25 && got === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      got = template(sock2);
    }
    expect(got).toBe(want);
  });

  it('--stop-daemon stops it; a second stop says no daemon runs', () => {
    adm(socketOf(prefix), '--stop-daemon', 'master');
    expect(adm(socketOf(prefix), '-L', '--daemon')).toBe('');
    expect(lvsadm(['--stop-daemon', 'master'], socketOf(prefix)).err).toContain('No daemon is running');
  });
});
