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
    // ipvsadm names options and commands by optnames[] and cmdnames[] (set_option, generic_opt_check).
    [['-A', '-t', '1.2.3.4:80', '-s', 'rr', '-s', 'wrr'], "multiple 'scheduler' options specified"],
    [['-A', '-t', '1.2.3.4:80', '-x', '5'], "Illegal 'u-threshold' option with the 'add-service' command"],
    [['-D', '-t', '1.2.3.4:80', '-s', 'rr'], "Illegal 'scheduler' option with the 'delete-service' command"],
    [['-S', '--stats'], "Illegal 'stats' option with the 'save' command"],
    [['-L', '-c', '--timeout'], "The option 'timeout' conflicts with the 'connection' option in the 'list' command"],
    [['-L', '--timeout', '--stats'], 'options conflicts in the list command'],
    // popt's own errors: "<word>: <poptStrerror>".
    [['-A', '--frobnicate'], '--frobnicate: unknown option'],
    [['-A', '-t'], '-t: missing argument'],
  ])('%j is refused: %s', (argv, msg) => {
    expect(err(argv)).toBe(msg);
  });
});

describe('values as ipvsadm reads them', () => {
  it.each([
    // inet_aton forms and service names, written back as numbers
    [['-A', '-t', '10.1:80'], 'tcp-service', '10.0.0.1:80'],
    [['-A', '-t', '0x0a.0.0.1:+80', '-p'], 'tcp-service', '10.0.0.1:80'],
    [['-L', '-t', '10.0.0.1'], 'tcp-service', '10.0.0.1'],
    [['-A', '-t', 'www.example.com:80'], 'tcp-service', 'www.example.com:80'],
    [['-A', '-t', '10.0.0.1:80', '-p', '-M', '255.255.255'], 'netmask', '255.255.0.255'],
    [['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.11', '-w', ' +7'], 'weight', '7'],
    [['-A', '-f', '007'], 'fwmark-service', '7'],
  ])('%j: %s = %s', (argv, opt, value) => {
    expect(parseIpvsadm(argv).opts.get(opt)).toBe(value);
  });

  it("-p takes the next word unless it starts with '-' (popt's optional argument)", () => {
    expect(parseIpvsadm(['-A', '-t', '10.0.0.1:80', '-p', '-s', 'rr']).opts.get('persistent')).toBe(true);
    expect(parseIpvsadm(['-A', '-t', '10.0.0.1:80', '-p', '120']).opts.get('persistent')).toBe('120');
    expect(err(['-A', '-t', '10.0.0.1:80', '-p', 'soon'])).toBe("invalid timeout value `soon' specified");
  });

  it("lvsd's own limits: IPv6 and the extensions' values", () => {
    expect(err(['-A', '-t', '[2001:db8::1]:80'])).toBe('IPv6 addresses are not supported by lvsd: [2001:db8::1]:80');
    expect(err(['-A', '-f', '1', '-6'])).toBe('IPv6 firewall-mark services are not supported by lvsd');
    expect(err(['-e', '-t', '10.0.0.1:80', '-r', '10.0.0.11', '-w', '0', '--drain', 'later'])).toBe("invalid timeout value `later' specified");
  });

  it('the command may come after its options; --socket and --json alone list the table', () => {
    expect(parseIpvsadm(['-n', '-L']).command).toBe('list');
    expect(parseIpvsadm(['--socket', '/tmp/x', '--json']).command).toBe('list');
  });
});
