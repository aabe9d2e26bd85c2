import { describe, expect, it } from 'vitest';
import { LvsError } from '../../../src/control/errors';
import { parseIpvsadm } from '../../../src/control/ipvsadm-args';

const opts = (argv: string[]) => Object.fromEntries(parseIpvsadm(argv).opts);
const err = (argv: string[]): string => {
  try {
    parseIpvsadm(argv);
  } catch (e) {
    if (e instanceof LvsError) return e.message;
    throw e;
  }
  return 'accepted';
};

describe('ipvsadm command line', () => {
  it.each([
    [[], 'list', {}],
    [['-Ln'], 'list', { numeric: true }],
    [['-l', '--numeric', '--nosort'], 'list', { numeric: true, nosort: true }],
    [['-A', '-t', '10.0.0.1:80', '-s', 'wrr', '-p'], 'add-service', { 'tcp-service': '10.0.0.1:80', scheduler: 'wrr', persistent: true }],
    [['-A', '-t', '10.0.0.1:80', '-p', '120', '-M', '255.255.255.0'], 'add-service', { 'tcp-service': '10.0.0.1:80', persistent: '120', netmask: '255.255.255.0' }],
    [['--add-service', '--udp-service=10.0.0.1:53', '--scheduler=sh', '-b', 'sh-fallback,sh-port'], 'add-service', { 'udp-service': '10.0.0.1:53', scheduler: 'sh', 'sched-flags': 'sh-fallback,sh-port' }],
    [['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.11', '-m', '-w', '3'], 'add-server', { 'tcp-service': '10.0.0.1:80', 'real-server': '10.0.0.11', masquerading: true, weight: '3' }],
    [['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.11:8080', '-b'], 'add-server', { 'tcp-service': '10.0.0.1:80', 'real-server': '10.0.0.11:8080', fullnat: true }],
    [['-e', '-t', '10.0.0.1:80', '-r', '10.0.0.11', '-w', '0', '--drain', '30'], 'edit-server', { 'tcp-service': '10.0.0.1:80', 'real-server': '10.0.0.11', weight: '0', drain: '30' }],
    [['-d', '-t', '10.0.0.1:80', '-r', '10.0.0.11', '--graceful'], 'delete-server', { 'tcp-service': '10.0.0.1:80', 'real-server': '10.0.0.11', graceful: true }],
    [['-S', '-n'], 'save', { numeric: true }],
    [['-L', '--timeout'], 'list', { timeout: true }],
  ] as const)('%j', (argv, command, o) => {
    const p = parseIpvsadm([...argv]);
    expect(p.command).toBe(command);
    expect(opts([...argv])).toEqual(o);
  });

  it('--set takes exactly three values', () => {
    expect(parseIpvsadm(['--set', '900', '120', '300']).rest).toEqual(['900', '120', '300']);
    expect(err(['--set', '900', '120'])).toBe('--set option requires 3 timeout values');
  });

  it.each([
    [['-A', '-a'], 'multiple commands specified'],
    [['-A', '-t', '1.2.3.4:80', '-s', 'rr', '-s', 'wrr'], "multiple '-s' options specified"],
    [['-A', '-t', '1.2.3.4:80', '-x', '5'], "Illegal '-x' option with the '-A' command"],
    [['-D', '-t', '1.2.3.4:80', '-s', 'rr'], "Illegal '-s' option with the '-D' command"],
    [['-S', '--stats'], "Illegal '--stats' option with the '-S' command"],
    [['-L', '-c', '--timeout'], 'options conflicts in the list command'],
    [['-L', '--timeout', '--stats'], 'options conflicts in the list command'],
    [['-A', '--frobnicate'], "invalid option `--frobnicate'"],
    [['-A', '-t'], "option `-t' requires an argument"],
  ])('%j is refused: %s', (argv, msg) => {
    expect(err(argv)).toBe(msg);
  });
});
