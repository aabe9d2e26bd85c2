// Bad control input against a live director in the lab: every malformed lvsadm command (parse errors lvsadm
// catches, table errors lvsd catches, -R batches with one bad line in the middle, a user without access) is
// refused with a non-zero exit and a message naming the problem, and `lvsadm -S -n` is byte-identical before
// and after all of them; traffic still flows. lvsd's config errors are refused at start (exit 2, file:line and
// field, nothing created) and on SIGHUP (logged, the table unchanged), and a good reload still works afterwards.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admOn, countBy, curlLoop, labDown, labStatus, labUnavailable, labUp, ROOT, socketOf, uniquePrefix } from './lab';

const skip = labUnavailable();
const title = (t: string): string => (skip ? `${t} (skipped: ${skip})` : t);
const LVSADM = join(ROOT, 'bin', 'lvsadm');
const LVSD = join(ROOT, 'dist', 'cli', 'lvsd.js');

const S80 = ['-t', '10.0.0.100:80'];
const NEW = ['-t', '10.0.0.100:81'];
const RS = ['-a', ...S80, '-r', '10.0.0.13'];

/** argv, and what stderr must say. Each is refused; none may change the table. */
const COMMANDS: [string[], string][] = [
  // addresses and ports
  [['-A', '-t', '10.0.0.256:81', '-s', 'rr'], 'illegal virtual server address[:port] specified'],
  [['-A', '-t', '10.0.0.100:65536'], 'illegal virtual server address[:port] specified'],
  [['-A', '-t', '10.0.0.100:no-such-port'], 'illegal virtual server address[:port] specified'],
  [['-A', '-t', '10.0.0.100:0', '-s', 'rr'], 'Zero port specified for non-persistent service'],
  [['-a', ...S80, '-r', '10.0.0.300'], 'illegal real server address[:port] specified'],
  [['-a', ...S80, '-r', '10.0.0.13:99999'], 'illegal real server address[:port] specified'],
  // not unicast: the kernel's EINVAL (ip_vs_new_dest), in ipvsadm's words
  [['-a', ...S80, '-r', '0.0.0.0'], 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
  [['-a', ...S80, '-r', '224.0.0.1'], 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
  [['-a', ...S80, '-r', '255.255.255.255'], 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
  // schedulers and their flags
  [['-A', ...NEW, '-s', 'nosuch'], 'Scheduler or persistence engine not found'],
  [['-E', ...S80, '-s', 'fancy'], 'Scheduler or persistence engine not found'],
  [['-A', ...NEW, '-s', 'rr', '-s', 'wrr'], "multiple 'scheduler' options specified"],
  [['-A', ...NEW, '-s', 'mh', '-b', 'sh-port'], "incompatible scheduler flag `sh-port'"],
  [['-A', ...NEW, '-s', 'sh', '-b', 'sh-port,bogus'], "invalid scheduler flag `bogus'"],
  [['-A', '-t', '10.0.0.100:81', '-o'], 'One-Packet Scheduling is only for UDP virtual services'],
  // conflicting, missing and unknown options
  [['-A', ...NEW, '-u', '10.0.0.100:53'], "multiple 'service-address' options specified"],
  [['-A', '-D', ...NEW], 'multiple commands specified'],
  [['-A', '-s', 'rr'], "You need to supply the 'service-address' option for the 'add-service' command"],
  [['-a', ...S80], "You need to supply the 'real-server' option for the 'add-server' command"],
  [['-D', ...S80, '-s', 'rr'], "Illegal 'scheduler' option with the 'delete-service' command"],
  [['-A', ...NEW, '--frobnicate'], '--frobnicate: unknown option'],
  [['-A', ...NEW, 'extra'], 'unexpected argument extra'],
  [[...RS, '-g', '-m'], "multiple 'forwarding-method' options specified"],
  [[...RS, '-m', '--tun-type', 'ipip'], 'Tunnel options conflict with forward method'],
  // the table: duplicates and things that are not there
  [['-A', ...S80, '-s', 'rr'], 'Service already exists'],
  [['-a', ...S80, '-r', '10.0.0.11:80'], 'Destination already exists'],
  [['-E', '-t', '10.0.0.100:99', '-s', 'rr'], 'No such service'],
  [['-D', '-t', '10.0.0.100:99'], 'No such service'],
  [['-Z', '-t', '10.0.0.100:99'], 'No such service'],
  [['-a', '-t', '10.0.0.100:99', '-r', '10.0.0.11'], 'Service not defined'],
  [['-d', ...S80, '-r', '10.0.0.99'], 'No such destination'],
  [['-e', ...S80, '-r', '10.0.0.99', '-w', '2'], 'No such destination'],
  // weights and thresholds
  [[...RS, '-w', '65536'], 'illegal weight specified'],
  [[...RS, '-w', '-1'], 'illegal weight specified'],
  [['-e', ...S80, '-r', '10.0.0.11', '-w', 'heavy'], 'illegal weight specified'],
  [[...RS, '-x', 'many'], 'illegal u_threshold specified'],
  [[...RS, '-y', '-5'], 'illegal l_threshold specified'],
  // persistence: timeouts and netmasks
  [['-A', ...NEW, '-p', '0'], "invalid timeout value `0' specified"],
  [['-A', ...NEW, '-p', '2678401'], "invalid timeout value `2678401' specified"],
  [['-A', ...NEW, '-p', '-M', '255.255.255.256'], 'illegal virtual server persistent mask specified'],
  // firewall marks
  [['-A', '-f', '0'], "invalid fwmark value `0' specified"],
  [['-A', '-f', '99999999999'], "invalid fwmark value `99999999999' specified"],
  [['-A', '-f', 'x1'], "invalid fwmark value `x1' specified"],
  [['-A', '-f', '7', '-s', 'rr'], 'a firewall-mark service needs its nftables match'],
  // global timeouts
  [['--set', '900', '120'], '--set option requires 3 timeout values'],
  [['--set', '900', '120', 'soon'], "invalid timeout value `soon' specified"],
  [['--set', '2678401', '120', '300'], "invalid timeout value `2678401' specified"],
  [['--set', '99999999999', '120', '300'], "invalid timeout value `99999999999' specified"],
  // FullNAT local addresses
  [['-P', ...S80, '-z', '10.0.0.300'], 'illegal local address specified'],
  [['-P', '-t', '10.0.0.100:99', '-z', '10.0.0.200'], 'No such service'],
];

/**
 * -R input with one bad line in the middle, what stderr says, and the exit status: 2 when lvsadm refuses a line
 * before sending anything, 255 when lvsd refuses the batch (as ipvsadm exits on a kernel error). Either way the
 * lines before the bad one must not stay applied.
 */
const BATCHES: [string, string, number][] = [
  ['-A -t 10.0.0.100:90 -s rr\n-a -t 10.0.0.100:90 -r 10.0.0.11:90 -g -w 1\n-a -t 10.0.0.100:90 -r 10.0.0.300:90 -g\n-a -t 10.0.0.100:90 -r 10.0.0.12:90 -g\n',
    'line 3: illegal real server address[:port] specified', 2],
  ['-A -t 10.0.0.100:90 -s rr\n-a -t 10.0.0.100:90 -r 10.0.0.11:90 -g -w 1\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g\n-a -t 10.0.0.100:90 -r 10.0.0.12:90 -g\n',
    'line 3: Destination already exists', 255],
  ['-e -t 10.0.0.100:80 -r 10.0.0.11:80 -w 5\n-D -t 10.0.0.100:99\n-A -t 10.0.0.100:91 -s rr\n', 'line 2: No such service', 255],
  ['-A -t 10.0.0.100:90 -s rr\n-C\n-a -t 10.0.0.100:90 -r 10.0.0.12:90 -y x\n', 'line 3: illegal l_threshold specified', 2],
  ['--set 10 10 10\n-R\n', 'line 2: -R inside -R is not allowed', 2],
  ['-A -t 10.0.0.100:90 -s rr\n-L -n\n', 'line 2: list does not change the table', 2],
];

const run = (argv: string[], sock: string, input?: string, asUser?: number) => {
  const cmd = asUser === undefined ? [LVSADM, '--socket', sock, ...argv]
    : ['setpriv', '--reuid', String(asUser), '--regid', String(asUser), '--clear-groups', LVSADM, '--socket', sock, ...argv];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', input: input ?? '', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe.skipIf(skip !== null)(title('malformed lvsadm commands against a live lvsd'), () => {
  const prefix = uniquePrefix('tc');
  const sock = socketOf(prefix);
  let before = '';
  beforeAll(() => {
    labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr', '--no-udp']);
    // More state for -S to show: a persistent UDP service with a weighted RS, and a second TCP service.
    admOn(sock, '-A', '-u', '10.0.0.100:5353', '-s', 'wrr', '-p', '60', '-M', '255.255.255.0');
    admOn(sock, '-a', '-u', '10.0.0.100:5353', '-r', '10.0.0.11:5353', '-g', '-w', '3');
    admOn(sock, '-A', '-t', '10.0.0.100:443', '-s', 'wlc');
    admOn(sock, '-a', '-t', '10.0.0.100:443', '-r', '10.0.0.12:443', '-g', '-w', '2', '-x', '100', '-y', '10');
    admOn(sock, '--set', '800', '100', '200');
    before = admOn(sock, '-S', '-n');
  }, 120_000);
  afterAll(() => labDown(prefix));

  it(`has at least 30 commands (${COMMANDS.length}) and batches (${BATCHES.length})`, () => {
    expect(COMMANDS.length).toBeGreaterThanOrEqual(30);
    expect(before.split('\n').filter(Boolean)).toHaveLength(7);
  });

  it.each(COMMANDS)('lvsadm %j is refused', (argv, message) => {
    const r = run(argv, sock);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it.each(BATCHES)('lvsadm -R of %j is refused whole', (input, message, code) => {
    const r = run(['-R'], sock, input);
    expect([r.code, r.err.trim()]).toEqual([code, message]);
  });

  it.skipIf(process.getuid?.() !== 0)('a user who is not root (and not in a socket group) cannot connect', () => {
    const r = run(['-A', ...NEW, '-s', 'rr'], sock, undefined, 65534);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('permission denied');
  });

  it('left the table byte-identical (-S -n), the timeouts too, and traffic flows', () => {
    expect(admOn(sock, '-S', '-n')).toBe(before);
    expect(admOn(sock, '-L', '--timeout')).toBe('Timeout (tcp tcpfin udp): 800 100 200\n');
    expect(countBy(curlLoop(prefix, 4))).toEqual({ rs1: 2, rs2: 2 });
  });
});

describe.skipIf(skip !== null)(title("lvsd's config errors, at start and on SIGHUP"), () => {
  const dir = mkdtempSync(join(tmpdir(), 'control-refusals-'));
  chmodSync(dir, 0o755);
  const GOOD = `interface: d0
services:
  - proto: tcp
    vip: 10.0.0.100
    port: 80
    scheduler: rr
    reals:
      - { ip: 10.0.0.11, port: 80, weight: 1, forward: dr }
`;
  /** A bad file: [what, text, file line, field, problem]. */
  const BAD: [string, string, number, string, string][] = [
    ['a weight out of range', GOOD.replace('weight: 1', 'weight: 70000'), 8, 'services[0].reals[0].weight', 'must be an integer 0..65535, got 70000'],
    ['an unknown scheduler', GOOD.replace('rr', 'fastest'), 6, 'services[0].scheduler', 'unknown scheduler "fastest"'],
    ['a bad VIP', GOOD.replace('10.0.0.100', '10.0.0.256'), 4, 'services[0].vip', '"10.0.0.256" is not an IPv4 address'],
    ['an unknown field', `${GOOD}colour: red\n`, 9, 'colour', 'unknown field'],
    ['a timeout out of range', `${GOOD}timeouts: { tcp: 0 }\n`, 9, 'timeouts.tcp', 'must be an integer 1..2678400, got 0'],
    ['a bad fence table name', `${GOOD}fence: { table: "x; flush ruleset" }\n`, 9, 'fence.table', 'must be an nftables table name'],
    ['metrics beyond loopback without a token', `${GOOD}metrics: { listen: 0.0.0.0:9100 }\n`, 9, 'metrics.token', 'listening on 0.0.0.0:9100 (not loopback) needs a token'],
    ['an unknown control socket group', `${GOOD}control: { socket_group: no-such-lvs-group }\n`, 9, 'control.socket_group', 'unknown group "no-such-lvs-group"'],
    ['a bad rules line', `${GOOD}rules: |\n  -A -t 10.0.0.100:81 -s rr\n  -a -t 10.0.0.100:81 -r 10.0.0.11 -w 70000\n`, 9, 'rules',
      'line 2 of the rules: illegal weight specified'],
    ['a duplicate service', GOOD.replace('services:\n', 'services:\n  - { vip: 10.0.0.100, port: 80 }\n'), 4, 'services[1]', 'duplicate service'],
  ];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('at start', () => {
    // In a scratch namespace: were a bad file ever accepted, lvsd would meet only a down veth there.
    const ns = `${uniquePrefix('tc')}cfg`;
    beforeAll(() => {
      spawnSync('ip', ['netns', 'add', ns]);
      spawnSync('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    });
    afterAll(() => {
      spawnSync('ip', ['netns', 'del', ns]);
    });

    it.each(BAD)('refuses %s: exit 2, file:line and field, no socket, no fence', (_what, text, line, field, problem) => {
      const file = join(dir, `start-${field.replace(/\W/g, '_')}.yaml`);
      writeFileSync(file, text, { mode: 0o644 });
      const sock = join(dir, 'start.sock');
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, LVSD, '--config', file, '--socket', sock], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`lvsd: config error: ${file}:${line}: ${field}: ${problem}`);
      expect(existsSync(sock)).toBe(false);
      expect(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout).toBe('');
    });
  });

  describe('on SIGHUP, in the lab', () => {
    const prefix = uniquePrefix('tc');
    const sock = socketOf(prefix);
    let st: { pid: number; config: string; log: string };
    let original = '';
    beforeAll(() => {
      labUp(prefix, ['--mode', 'dr', '--rs', '2', '--sched', 'rr', '--no-udp']);
      st = labStatus(prefix) as unknown as typeof st;
      original = readFileSync(st.config, 'utf8');
    }, 120_000);
    afterAll(() => labDown(prefix));

    /** Send SIGHUP and wait for lvsd's answer in its log: the first reload line after `from`. */
    async function hup(): Promise<Record<string, unknown>> {
      const from = statSync(st.log).size;
      process.kill(st.pid, 'SIGHUP');
      for (let i = 0; i < 100; i++) {
        const line = readFileSync(st.log).subarray(from).toString().split('\n')
          .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => typeof l.msg === 'string' && /^(reload refused|config reloaded)/.test(l.msg));
        if (line) return line;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('lvsd logged no answer to SIGHUP');
    }

    // The lab's file has the interface eth0 and two real servers; the same mistakes, placed in it.
    const labBad = (): [string, string, string][] => [
      ['a weight out of range', original.replace('weight: 1,', 'weight: 70000,'), 'services[0].reals[0].weight: must be an integer 0..65535, got 70000'],
      ['an unknown scheduler', original.replace('scheduler: rr', 'scheduler: fastest'), 'services[0].scheduler: unknown scheduler "fastest"'],
      ['an unknown field', `${original}colour: red\n`, 'colour: unknown field'],
      ['a YAML syntax error', `${original}services: [\n`, 'syntax'],
      ['an unknown control socket group', `${original}control: { socket_group: no-such-lvs-group }\n`, 'control.socket_group: unknown group "no-such-lvs-group"'],
    ];

    it('refuses each bad file, logging file:line, field and value; the table stays as it was', async () => {
      const table = admOn(sock, '-S', '-n');
      for (const [what, text, problem] of labBad()) {
        writeFileSync(st.config, text);
        const answer = await hup();
        expect([what, answer.level, answer.msg]).toEqual([what, 50, 'reload refused: the config does not read; the table is unchanged']);
        expect(answer.err).toContain(st.config);
        expect(answer.err).toContain(problem);
        expect(admOn(sock, '-S', '-n')).toBe(table);
      }
      expect(countBy(curlLoop(prefix, 4))).toEqual({ rs1: 2, rs2: 2 });
    }, 60_000);

    it('a good file after them is applied: SIGHUP handling survived the refusals', async () => {
      writeFileSync(st.config, original.replace(/(ip: 10\.0\.0\.12, port: 80, weight: )1/, '$14'));
      const answer = await hup();
      expect(answer.msg).toBe('config reloaded: 1 change(s)');
      expect(admOn(sock, '-S', '-n')).toContain('-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 4');
      writeFileSync(st.config, original);
      expect((await hup()).msg).toBe('config reloaded: 1 change(s)');
    }, 30_000);
  });
});
