// Health checks in the DR lab, driven by keepalived.conf files as operators write them: a failing nginx leaves
// within keepalived's window and comes back; inhibit_on_failure holds it at weight 0; keepalived's documented
// DR/wrr/persistence config runs unchanged; the VIP-path check names a RS that lost its VIP.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countBy, curlLoop, inNs, labDown, labUnavailable, labUp, lvsadm, ROOT, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'health-lab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** keepalived.conf for the lab's two RSs; `rs1Extra` goes inside real_server 10.0.0.11. */
function conf(name: string, opts: { sched?: string; rs1Extra?: string; inhibit?: boolean; checks?: string } = {}): string {
  const check = opts.checks ?? `        HTTP_GET {
            url {
                path /
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }`;
  const text = `virtual_server 10.0.0.100 80 {
    delay_loop 1
    lb_algo ${opts.sched ?? 'rr'}
    lb_kind DR
    protocol TCP
${opts.inhibit ? '    inhibit_on_failure\n' : ''}
    real_server 10.0.0.11 80 {
        weight 1
${check}
${opts.rs1Extra ?? ''}
    }
    real_server 10.0.0.12 80 {
        weight 1
${check}
    }
}
`;
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const rows = (sock: string): string[] => lvsadm(['-L', '-n'], sock).out.split('\n').filter((l) => l.startsWith('  -> 10.'));
const waitFor = async (what: () => boolean, ms: number): Promise<number> => {
  const t0 = Date.now();
  while (!what() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 100));
  return what() ? Date.now() - t0 : -1;
};
const nginxPid = (prefix: string, rs: string): number => Number(spawnSync('cat', [`/run/userlvs-lab/${prefix}/${rs}/nginx.pid`], { encoding: 'utf8' }).stdout);
const startNginx = (prefix: string, rs: string): void => {
  inNs(`${prefix}${rs}`, `nginx -c /run/userlvs-lab/${prefix}/${rs}/nginx.conf`);
};

describe.skipIf(skip !== null)(skip ? `health checks (skipped: ${skip})` : 'health checks in the lab (keepalived.conf)', () => {
  it('HTTP_GET: a stopped nginx leaves within delay_loop + retry*(connect_timeout + delay_before_retry), no request is lost after that, and it comes back', async () => {
    const prefix = uniquePrefix('th');
    try {
      labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp', '--keepalived', conf('http.conf')]);
      const sock = socketOf(prefix);
      expect(rows(sock)).toHaveLength(2);
      // A curl loop across the failure: each line "<seconds since start> <answer>".
      const loop = spawn('ip', ['netns', 'exec', `${prefix}client`, 'bash', '-c',
        't0=$(date +%s%N); for i in $(seq 120); do echo "$(( ($(date +%s%N)-t0)/1000000 )) $(curl -s -m 1 http://10.0.0.100/ || echo FAIL)"; sleep 0.05; done']);
      let out = '';
      loop.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      await new Promise((r) => setTimeout(r, 1000));
      const killedAt = Date.now();
      process.kill(nginxPid(prefix, 'rs1'), 'SIGTERM');
      const window = (1 + 1 * (1 + 1)) * 1000; // delay_loop 1 + retry 1 * (connect_timeout 1 + delay_before_retry 1)
      const took = await waitFor(() => !rows(sock).some((r) => r.includes('10.0.0.11:80')), window + 3000);
      expect(took).toBeGreaterThanOrEqual(0);
      expect(took).toBeLessThanOrEqual(window + 1500);
      await new Promise((r) => loop.on('exit', r));
      const startedAt = killedAt - 1000;
      const lines = out.trim().split('\n').map((l) => l.split(' ')).map(([t, a]) => ({ t: startedAt + Number(t), a }));
      const after = lines.filter((l) => l.t > killedAt + window + 1500);
      expect(after.length).toBeGreaterThan(10);
      expect(after.filter((l) => l.a !== 'rs2')).toEqual([]);
      // nginx back: rs1 returns, traffic splits again.
      startNginx(prefix, 'rs1');
      expect(await waitFor(() => rows(sock).some((r) => r.includes('10.0.0.11:80')), 5000)).toBeGreaterThanOrEqual(0);
      expect(countBy(curlLoop(prefix, 10))).toEqual({ rs1: 5, rs2: 5 });
    } finally {
      labDown(prefix);
    }
  }, 60_000);

  it('inhibit_on_failure keeps a failed RS listed at weight 0, with the reason', async () => {
    const prefix = uniquePrefix('ti');
    try {
      labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp', '--keepalived', conf('inhibit.conf', { inhibit: true })]);
      const sock = socketOf(prefix);
      process.kill(nginxPid(prefix, 'rs1'), 'SIGTERM');
      expect(await waitFor(() => rows(sock).some((r) => /10\.0\.0\.11:80 +Route +0 /.test(r)), 6000)).toBeGreaterThanOrEqual(0);
      expect(rows(sock).find((r) => r.includes('10.0.0.11:80'))).toMatch(/down: HTTP_GET: connect ECONNREFUSED$/);
      expect(countBy(curlLoop(prefix, 6))).toEqual({ rs2: 6 });
    } finally {
      labDown(prefix);
    }
  }, 60_000);

  it("keepalived's documented DR/wrr/persistence config with TCP_CHECK and HTTP_GET runs unchanged", () => {
    const prefix = uniquePrefix('tk');
    try {
      labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp', '--keepalived', join(ROOT, 'test/fixtures/keepalived/lab-dr.conf')]);
      expect(lvsadm(['-L', '-n'], socketOf(prefix)).out).toContain('TCP  10.0.0.100:80 wrr persistent 50\n  -> 10.0.0.11:80                 Route   3');
      const got = countBy(curlLoop(prefix, 10));
      expect(Object.values(got)).toEqual([10]); // persistence: one client, one RS
    } finally {
      labDown(prefix);
    }
  }, 60_000);

  it('the VIP-path check names a RS that lost its VIP, while a plain TCP check still passes', async () => {
    const prefix = uniquePrefix('tv');
    const checks = `        TCP_CHECK {
            connect_timeout 1
        }
        VIP_PATH_CHECK {
            connect_timeout 1
        }`;
    try {
      labUp(prefix, ['--mode', 'dr', '--rs', '2', '--no-udp', '--keepalived', conf('vip.conf', { checks, inhibit: true })]);
      const sock = socketOf(prefix);
      expect(rows(sock).every((r) => !r.includes('down:'))).toBe(true);
      inNs(`${prefix}rs1`, 'ip addr del 10.0.0.100/32 dev lo');
      expect(await waitFor(() => rows(sock).some((r) => r.includes('down:')), 8000)).toBeGreaterThanOrEqual(0);
      const row = rows(sock).find((r) => r.includes('10.0.0.11:80'))!;
      expect(row).toMatch(/down: VIP_PATH: port 80 open, but not serving VIP 10\.0\.0\.100 \(VIP not configured on the RS\?\)$/);
      // The plain TCP check alone still passes: the port is open.
      expect(inNs(`${prefix}director`, 'timeout 2 bash -c "exec 3<>/dev/tcp/10.0.0.11/80" && echo open').trim()).toBe('open');
    } finally {
      labDown(prefix);
    }
  }, 60_000);
});
