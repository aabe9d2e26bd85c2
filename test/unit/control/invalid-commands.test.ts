// Command lines ipvsadm refuses, refused by lvsadm in ipvsadm's words and with its exit status, before any
// connection to lvsd (the socket given does not exist: reaching it would print "Can't connect ..." instead).
// The words come from ipvsadm 1.31's ipvsadm.c (fail() calls in parse_options, process_options,
// generic_opt_check, tunnel_opt_check, parse_sched_flags; optnames[]/cmdnames[] for option and command names)
// and popt's poptStrerror(). Exit 2 is fail(); 255 is a popt error or the bare "Try ... -h" line.
// Two liberties, noted in ipvsadm-args.ts: the command may come anywhere, and a second command is "multiple
// commands specified" (set_command's words; popt-built ipvsadm 1.31 calls it an unknown option).
// Refusals that need the table (a service that exists, a real server that does not) are lvsd's, checked at
// the end against ServiceControl on a test assembly, with ipvs_strerror()'s words.
import { describe, expect, it } from 'vitest';
import { LvsError } from '../../../src/control/errors';
import { ServiceControl } from '../../../src/control/service-control';
import { assemble, type Assembly } from '../../helpers/assembly';
import { runMain } from './golden/harness';

const SOCK = '/nonexistent/lvsadm-test/lvsd.sock';
const TRY = "Try `lvsadm -h' or 'lvsadm --help' for more information.\n";
const SVC = ['-t', '10.0.0.1:80'];
const RS = ['-a', ...SVC, '-r', '10.0.0.11'];

const CASES: [string[], string, number][] = [
  // popt and the command word
  [['-n'], TRY, 255],
  [['--bogus', '-L'], TRY, 255],
  [['-A', '--frobnicate'], '--frobnicate: unknown option\n', 255],
  [['-Lk'], '-Lk: unknown option\n', 255],
  [['-A', '-t'], '-t: missing argument\n', 255],
  [['-L', '--numeric=yes'], '--numeric=yes: option does not take an argument\n', 255],
  [['-A', '-a'], 'multiple commands specified\n', 2],
  [['-A', ...SVC, 'extra'], 'unexpected argument extra\n', 2],
  // virtual service
  [['-A', '-t', '10.0.0.256:80'], 'illegal virtual server address[:port] specified\n', 2],
  [['-A', '-t', '80'], 'illegal virtual server address[:port] specified\n', 2],
  [['-A', '-t', '10.0.0.1:65536'], 'illegal virtual server address[:port] specified\n', 2],
  [['-A', '-u', '10.0.0.1:no-such-service-name'], 'illegal virtual server address[:port] specified\n', 2],
  [['-A', '-t', '10.0.0.1:'], 'illegal virtual server address[:port] specified\n', 2],
  [['-A', '-f', '0'], "invalid fwmark value `0' specified\n", 2],
  [['-A', '-f', 'x1'], "invalid fwmark value `x1' specified\n", 2],
  [['-A', '-6', '-f', '1'], '-6 used before -f\n\n', 2],
  [['-A', ...SVC, '-u', '10.0.0.1:53'], "multiple 'service-address' options specified\n", 2],
  [['-A', '-s', 'rr'], "You need to supply the 'service-address' option for the 'add-service' command\n", 2],
  // service options
  [['-A', ...SVC, '-p', '0'], "invalid timeout value `0' specified\n", 2],
  [['-A', ...SVC, '-p', '2678401'], "invalid timeout value `2678401' specified\n", 2],
  [['-A', ...SVC, '-p', 'abc'], "invalid timeout value `abc' specified\n", 2],
  [['-A', ...SVC, '-p', '-M', '255.255.255.256'], 'illegal virtual server persistent mask specified\n', 2],
  [['-A', ...SVC, '-s', 'rr', '-s', 'wrr'], "multiple 'scheduler' options specified\n", 2],
  [['-A', '-t', '10.0.0.1:0'], 'Zero port specified for non-persistent service\n', 2],
  [['-E', '-t', '10.0.0.1'], 'Zero port specified for non-persistent service\n', 2],
  [['-A', '-t', '10.0.0.1:53', '-o'], 'One-Packet Scheduling is only for UDP virtual services\n', 2],
  [['-A', ...SVC, '-s', 'rr', '-b', 'sh-port'], "incompatible scheduler flag `sh-port'\n", 2],
  [['-A', ...SVC, '-b', 'sh-fallback'], "incompatible scheduler flag `sh-fallback'\n", 2],
  [['-A', ...SVC, '-s', 'sh', '-b', 'sh-port,bogus'], "invalid scheduler flag `bogus'\n", 2],
  [['-A', ...SVC, '-x', '5'], "Illegal 'u-threshold' option with the 'add-service' command\n", 2],
  [['-D', ...SVC, '-s', 'rr'], "Illegal 'scheduler' option with the 'delete-service' command\n", 2],
  // real servers
  [['-a', ...SVC], "You need to supply the 'real-server' option for the 'add-server' command\n", 2],
  [['-d', ...SVC, '-r', '10.0.0.11', '-w', '1'], "Illegal 'weight' option with the 'delete-server' command\n", 2],
  [[...RS, '-w', '65536'], 'illegal weight specified\n', 2],
  [[...RS, '-w', '-1'], 'illegal weight specified\n', 2],
  [[...RS, '-x', 'many'], 'illegal u_threshold specified\n', 2],
  [[...RS, '-y', '2147483648'], 'illegal l_threshold specified\n', 2],
  [['-a', ...SVC, '-r', '10.0.0.300'], 'illegal real server address[:port] specified\n', 2],
  [[...RS, '-g', '-m'], "multiple 'forwarding-method' options specified\n", 2],
  [[...RS, '-m', '--tun-type', 'ipip'], 'Tunnel options conflict with forward method\n', 2],
  [[...RS, '-i', '--tun-type', 'vxlan'], 'illegal tunnel type specified\n', 2],
  [[...RS, '-i', '--tun-port', '0'], 'illegal tunnel port specified\n', 2],
  [[...RS, '-i', '--tun-type', 'gue'], "You need to supply the 'tun-port' option for the 'gue' tunnel type\n", 2],
  [[...RS, '-i', '--tun-port', '6080'], "Illegal 'tun-port' option with the 'ipip' tunnel type\n", 2],
  [[...RS, '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum', '--tun-nocsum'],
    "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n", 2],
  [[...RS, '-i', '--tun-type', 'gre', '--tun-remcsum'], "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n", 2],
  [['-e', ...SVC, '-r', '10.0.0.11', '-w', '1', '--sched-flags', 'flag-1'], "Illegal 'sched-flags' option with the 'edit-server' command\n", 2],
  // listing
  [['-L', '-c', '--timeout'], "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n", 2],
  [['-L', ...SVC, '-c'], "The option 'service-address' conflicts with the 'connection' option in the 'list' command\n", 2],
  [['-L', '--daemon', '--timeout'], "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n", 2],
  [['-L', '-c', '--stats'], 'options conflicts in the list command\n', 2],
  [['-L', '--timeout', '--persistent-conn'], 'options conflicts in the list command\n', 2],
  [['-L', '--daemon', '--rate'], 'options conflicts in the list command\n', 2],
  [['-L', '-s', 'rr'], "Illegal 'scheduler' option with the 'list' command\n", 2],
  [['-L', '--stats', '--stats'], "multiple 'stats' options specified\n", 2],
  [['-S', '--stats'], "Illegal 'stats' option with the 'save' command\n", 2],
  // the other commands
  [['-C', '-n'], "Illegal 'numeric' option with the 'flush' command\n", 2],
  [['-R', '-n'], "Illegal 'numeric' option with the 'restore' command\n", 2],
  [['-Z', ...SVC, '-r', '10.0.0.11'], "Illegal 'real-server' option with the 'zero' command\n", 2],
  [['--set', '900', '120'], '--set option requires 3 timeout values\n', 2],
  [['--set', '900', '120', 'x'], "invalid timeout value `x' specified\n", 2],
  [['--set', '900', '120', '300', '5'], 'unexpected argument 5\n', 2],
  [['--start-daemon', 'primary'], 'illegal start-daemon parameter specified\n', 2],
  [['--stop-daemon', 'primary'], 'illegal start_daemon specified\n', 2],
  [['--start-daemon', 'master', '--syncid', '256'], 'illegal syncid specified\n', 2],
  [['--start-daemon', 'master', '--mcast-group', '10.0.0.1'], "invalid IPv4 mcast-group `10.0.0.1'\n", 2],
  [['--stop-daemon', 'master', '--mcast-interface', 'eth0'], "Illegal 'mcast-interface' option with the 'stop-daemon' command\n", 2],
];

describe('invalid command lines: ipvsadm\'s message and exit status, before any connection', () => {
  it(`has at least 40 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('lvsadm %j', async (argv, err, code) => {
    expect(await runMain(['--socket', SOCK, ...argv])).toEqual({ code, out: '', err });
  });

  it('a valid command line does reach for the daemon (so the cases above were refused first)', async () => {
    const r = await runMain(['--socket', SOCK, '-A', ...SVC, '-s', 'rr']);
    expect([r.code, r.err]).toEqual([2, `Can't connect to lvsd on ${SOCK} (is lvsd running?)\n`]);
  });
});

/** ServiceControl on a test assembly (one service 10.0.0.100:80, real servers 10.0.0.11 and 10.0.0.12). */
function control(a: Assembly): ServiceControl {
  return new ServiceControl({
    services: a.services, conns: a.conns, release: (c) => a.pipeline.release(c), timeouts: a.pipeline.timeouts,
    now: () => a.clock.now, prepareDest: (rs) => { rs.neighSlot = a.neigh.slotFor(rs.addr); }, changed: () => undefined,
  });
}

const refusal = (fn: () => void): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LvsError) return e.message;
    throw e;
  }
  return 'accepted';
};

const HERE = { proto: 'tcp', addr: '10.0.0.100', port: 80 };
const GONE = { ...HERE, port: 81 };

describe("lvsd's refusals, in ipvs_strerror()'s words", () => {
  it.each([
    ['add an existing service', (c: ServiceControl) => c.addService({ svc: HERE }), 'Service already exists'],
    ['add a service with an unknown scheduler', (c: ServiceControl) => c.addService({ svc: GONE, scheduler: 'nope' }), 'Scheduler or persistence engine not found'],
    ['edit a missing service', (c: ServiceControl) => c.editService({ svc: GONE }), 'No such service'],
    ['edit to an unknown scheduler', (c: ServiceControl) => c.editService({ svc: HERE, scheduler: 'nope' }), 'Scheduler or persistence engine not found'],
    ['delete a missing service', (c: ServiceControl) => c.deleteService({ svc: GONE }), 'No such service'],
    ['zero a missing service', (c: ServiceControl) => c.zero({ svc: GONE }), 'No such service'],
    ['add a RS to a missing service', (c: ServiceControl) => c.addDest({ svc: GONE, dest: { addr: '10.0.0.9' } }), 'Service not defined'],
    ['add an existing RS', (c: ServiceControl) => c.addDest({ svc: HERE, dest: { addr: '10.0.0.11' } }), 'Destination already exists'],
    ['edit a RS of a missing service', (c: ServiceControl) => c.editDest({ svc: GONE, dest: { addr: '10.0.0.11' } }), 'Service not defined'],
    ['edit a missing RS', (c: ServiceControl) => c.editDest({ svc: HERE, dest: { addr: '10.0.0.99' } }), 'No such destination'],
    ['delete a RS of a missing service', (c: ServiceControl) => c.deleteDest({ svc: GONE, dest: { addr: '10.0.0.11' } }), 'Service not defined'],
    ['delete a missing RS', (c: ServiceControl) => c.deleteDest({ svc: HERE, dest: { addr: '10.0.0.99' } }), 'No such destination'],
    ['add a port-0 service without persistence', (c: ServiceControl) => c.addService({ svc: { ...HERE, port: 0 } }), 'Zero port specified for non-persistent service'],
  ])('%s', (_what, fn, msg) => {
    expect(refusal(() => fn(control(assemble({ weights: [1, 1] }))))).toBe(msg);
  });
});
