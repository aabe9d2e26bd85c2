import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  KeepalivedError, parseKeepalived, parseKeepalivedText, type KeepalivedConfig, type KeepalivedService,
} from '../../../src/control/keepalived';
import type { CheckerSpec } from '../../../src/health/types';
import { parseIpv4 } from '../../../src/packet/format';
import { SCHED_FLAG_2 } from '../../../src/sched/scheduler';

const FIX = join(__dirname, '../../fixtures/keepalived');
const ip = parseIpv4;

function parse(text: string): KeepalivedConfig {
  return parseKeepalivedText(text, 'keepalived.conf', () => []);
}

function errorOf(text: string): KeepalivedError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof KeepalivedError) return err;
    throw err;
  }
  throw new Error('accepted');
}

/** The only service of a one-service text. */
function only(text: string): KeepalivedService {
  const c = parse(text);
  expect(c.services).toHaveLength(1);
  return c.services[0];
}

/**
 * A service with one real server and one checker; `vs`, `rs` and `chk` land on lines 3, 5 and 7:
 *   1 virtual_server 10.0.0.100 80 {   2 protocol TCP   3 <vs>   4 real_server 10.0.0.11 80 {   5 <rs>
 *   6 <kind> {   7 <chk>   8 }   9 }   10 }
 */
function conf(p: { vs?: string; rs?: string; chk?: string; kind?: string }): string {
  return [
    'virtual_server 10.0.0.100 80 {', '  protocol TCP', `  ${p.vs ?? ''}`, '  real_server 10.0.0.11 80 {', `    ${p.rs ?? ''}`,
    `    ${p.kind ?? 'TCP_CHECK'} {`, `      ${p.chk ?? ''}`, '    }', '  }', '}', '',
  ].join('\n');
}

/** An HTTP_GET whose url body is on line 8 and whose own directive is on line 10. */
function httpConf(p: { url?: string; chk?: string; kind?: string }): string {
  return [
    'virtual_server 10.0.0.100 80 {', '  protocol TCP', '  lb_kind DR', '  real_server 10.0.0.11 80 {', '    weight 1',
    `    ${p.kind ?? 'HTTP_GET'} {`, '      url {', `        ${p.url ?? 'path /'}`, '      }', `      ${p.chk ?? ''}`, '    }', '  }', '  lb_algo rr', '}', '',
  ].join('\n');
}

const tcp = (t: Partial<CheckerSpec> = {}): CheckerSpec => ({ kind: 'TCP_CHECK', connectTimeout: 5, retry: 1, delayBeforeRetry: 1, delayLoop: 60, ...t });

describe('keepalived.conf', () => {
  it("reads keepalived's own keepalived.conf.sample: NAT, persistence 50, HTTP_GET with a digest, a sorry server", () => {
    const c = parseKeepalived(join(FIX, 'keepalived.conf.sample'));
    const file = join(FIX, 'keepalived.conf.sample');
    expect(c.services).toEqual([{
      proto: 6, vip: ip('10.10.10.2'), port: 1358, scheduler: 'rr', localAddresses: [], fwmark: 0, match: null,
      persistent: 50, netmask: 0xffffffff, schedFlags: 0, mhTableSize: 4093,
      health: { delayLoop: 6, connectTimeout: 5, retry: null, delayBeforeRetry: null },
      sorryServer: { ip: ip('192.168.200.200'), port: 1358, forward: 'nat', inhibitOnFailure: false },
      quorum: 1, hysteresis: 0, inhibitOnFailure: false, alpha: false, omega: false,
      source: { file, line: 26 },
      reals: [{
        ip: ip('192.168.200.2'), port: 1358, weight: 1, forward: 'nat', inhibitOnFailure: false, alpha: false,
        source: { file, line: 35 },
        checkers: [{
          kind: 'HTTP_GET', connectTimeout: 3, retry: 3, delayBeforeRetry: 3, delayLoop: 6,
          urls: [{ path: '/testurl3/test.jsp', digest: '640205b7b0fc66c1ea91c463fac6334d', statusCodes: [[200, 299]] }],
        }],
      }],
    }]);
    expect(c.notices).toEqual([
      { file, line: 3, name: 'global_defs', note: 'not used by lvsd apart from lvs_timeouts (mail, router_id and VRRP settings: run keepalived for them)' },
      { file, line: 13, name: 'vrrp_instance', note: 'not used by lvsd (VRRP: run keepalived for it)' },
    ]);
    expect(c.timeouts).toBeUndefined();
    expect(c.files).toEqual([file]);
  });

  it('reads a DR / wrr / persistence service with TCP_CHECK and HTTP_GET, and global_defs lvs_timeouts', () => {
    const file = join(FIX, 'dr-wrr.conf');
    const c = parseKeepalived(file);
    expect(c.timeouts).toEqual({ tcp: 7200, tcpfin: 120, udp: 300 });
    const [svc] = c.services;
    expect(svc).toMatchObject({
      proto: 6, vip: ip('192.168.1.11'), port: 80, scheduler: 'wrr', persistent: 9600, netmask: ip('255.255.255.0'),
      virtualhost: 'www.example.com', health: { delayLoop: 10, connectTimeout: 5, retry: null, delayBeforeRetry: null },
    });
    expect(svc.sorryServer).toBeUndefined();
    expect(svc.reals.map((r) => [r.ip, r.port, r.weight, r.forward, r.inhibitOnFailure])).toEqual([
      [ip('192.168.1.21'), 80, 3, 'dr', false],
      [ip('192.168.1.22'), 80, 1, 'dr', true],
    ]);
    expect(svc.reals[0].checkers).toEqual([tcp({ connectPort: 80, connectTimeout: 10, delayLoop: 10 })]);
    expect(svc.reals[1].checkers).toEqual([{
      kind: 'HTTP_GET', connectTimeout: 3, retry: 3, delayBeforeRetry: 3, delayLoop: 10, virtualhost: 'www.example.com',
      urls: [
        { path: '/health', statusCodes: [[200, 299], [301, 302]] },
        { path: '/index.html', digest: '9b3a0c85a887a256d6939da88aabd8cd', statusCodes: [[200, 299]] },
      ],
    }]);
    expect(c.notices.map((n) => [n.line, n.name])).toEqual([[4, 'global_defs'], [7, 'lvs_flush']]);
  });

  it('reads the netns lab fixture (lab-dr.conf)', () => {
    const c = parseKeepalived(join(FIX, 'lab-dr.conf'));
    expect(c.notices).toEqual([]);
    const [svc] = c.services;
    expect(svc).toMatchObject({ proto: 6, vip: ip('10.0.0.100'), port: 80, scheduler: 'wrr', persistent: 50 });
    expect(svc.reals.map((r) => ({ ip: r.ip, port: r.port, weight: r.weight, forward: r.forward, checkers: r.checkers }))).toEqual([
      {
        ip: ip('10.0.0.11'), port: 80, weight: 3, forward: 'dr',
        checkers: [{ kind: 'HTTP_GET', connectTimeout: 1, retry: 1, delayBeforeRetry: 1, delayLoop: 1, urls: [{ path: '/', statusCodes: [[200, 200]] }] }],
      },
      { ip: ip('10.0.0.12'), port: 80, weight: 1, forward: 'dr', checkers: [tcp({ connectTimeout: 1, delayLoop: 1 })] },
    ]);
  });

  it('follows includes: a relative glob, nested includes relative to each file, files read in glob order', () => {
    const main = join(FIX, 'include/main.conf');
    const c = parseKeepalived(main);
    expect(c.timeouts).toEqual({ udp: 60 });
    expect(c.files).toEqual([
      main, join(FIX, 'include/conf.d/10-web.conf'), join(FIX, 'include/reals/web-1.inc'), join(FIX, 'include/reals/web-2.inc'),
      join(FIX, 'include/conf.d/20-dns.conf'),
    ]);
    expect(c.services.map((s) => [s.vip, s.port, s.proto, s.scheduler, s.schedFlags])).toEqual([
      [ip('10.0.0.100'), 80, 6, 'rr', 0],
      [ip('10.0.0.53'), 53, 17, 'sh', SCHED_FLAG_2],
    ]);
    expect(c.services[0].reals.map((r) => [r.ip, r.weight, r.checkers.length, r.source.file])).toEqual([
      [ip('10.0.0.11'), 1, 1, join(FIX, 'include/reals/web-1.inc')],
      [ip('10.0.0.12'), 2, 0, join(FIX, 'include/reals/web-2.inc')],
    ]);
    expect(c.services[1].reals[0].checkers).toEqual([{
      kind: 'MISC_CHECK', connectTimeout: 5, retry: 0, delayBeforeRetry: 1, delayLoop: 60,
      miscPath: ['/usr/bin/dig', '+short', '@10.0.0.21', 'example.com'], miscTimeout: 2, miscDynamic: false,
    }]);
  });

  it('refuses an include cycle, naming the file and line that closes it', () => {
    let e: unknown;
    try {
      parseKeepalived(join(FIX, 'cycle/a.conf'));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(KeepalivedError);
    expect((e as KeepalivedError).message).toBe(
      `${join(FIX, 'cycle/b.conf')}:4: include cycle: ${join(FIX, 'cycle/a.conf')} -> ${join(FIX, 'cycle/b.conf')} -> ${join(FIX, 'cycle/a.conf')}`);
  });

  it('refuses a file that cannot be read', () => {
    expect(() => parseKeepalived(join(FIX, 'absent.conf'))).toThrow(/absent\.conf: ENOENT/);
  });

  // delay_loop, connect_timeout, retry, delay_before_retry: checker, else real_server, else virtual_server, else
  // the checker kind's default (retry 1, MISC 0; delay_before_retry HTTP/SSL 3, others 1).
  it.each([
    ['nothing set: keepalived defaults', {}, tcp()],
    ['delay_loop from the virtual_server', { vs: 'delay_loop 20 ' }, tcp({ delayLoop: 20 })],
    ['inherited from the virtual_server', { vs: 'connect_timeout 4' }, tcp({ connectTimeout: 4 })],
    ['the real_server overrides the virtual_server', { vs: 'retry 2', rs: 'retry 0' }, tcp({ retry: 0 })],
    ['the checker overrides both', { vs: 'delay_before_retry 5', rs: 'delay_before_retry 6', chk: 'delay_before_retry 7' }, tcp({ delayBeforeRetry: 7 })],
    ['fractional seconds', { rs: 'connect_timeout 2.5' }, tcp({ connectTimeout: 2.5 })],
    ['MISC_CHECK retries 0 by default', { kind: 'MISC_CHECK', chk: 'misc_path /bin/true' },
      { kind: 'MISC_CHECK', connectTimeout: 5, retry: 0, delayBeforeRetry: 1, delayLoop: 60, miscPath: ['/bin/true'], miscTimeout: 60, miscDynamic: false }],
    ['MISC_CHECK inherits a virtual_server retry', { vs: 'retry 4', kind: 'MISC_CHECK', chk: 'misc_path /bin/true' },
      { kind: 'MISC_CHECK', connectTimeout: 5, retry: 4, delayBeforeRetry: 1, delayLoop: 60, miscPath: ['/bin/true'], miscTimeout: 60, miscDynamic: false }],
  ])('checker timing: %s', (_n, p, want) => {
    const svc = only(conf(p));
    expect(svc.reals[0].checkers).toEqual([want]);
  });

  it('inherits into every checker of every real server, and HTTP_GET waits 3 s before a retry unless told', () => {
    const svc = only(`virtual_server 10.0.0.100 80 {
  protocol TCP
  real_server 10.0.0.11 80 {
    TCP_CHECK {
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
  real_server 10.0.0.12 80 {
    delay_loop 2
    SSL_GET {
      url {
        path /ok
      }
      connect_port 443
    }
  }
  delay_loop 9
  connect_timeout 4
  retry 2
}`);
    expect(svc.health).toEqual({ delayLoop: 9, connectTimeout: 4, retry: 2, delayBeforeRetry: null });
    expect(svc.reals[0].checkers.map((c) => [c.kind, c.delayLoop, c.connectTimeout, c.retry, c.delayBeforeRetry])).toEqual([
      ['TCP_CHECK', 9, 4, 2, 1], ['HTTP_GET', 9, 4, 2, 3],
    ]);
    expect(svc.reals[1].checkers).toEqual([{
      kind: 'SSL_GET', connectPort: 443, delayLoop: 2, connectTimeout: 4, retry: 2, delayBeforeRetry: 3, urls: [{ path: '/ok', statusCodes: [[200, 299]] }],
    }]);
  });

  it.each([
    ['a quoted command with arguments', 'misc_path "/usr/local/bin/script.sh arg1 arg2"', ['/usr/local/bin/script.sh', 'arg1', 'arg2']],
    ['a bare program', 'misc_path /bin/true', ['/bin/true']],
    ['single quotes inside keep spaces', `misc_path "/bin/check ' spaced arg ' plain"`, ['/bin/check', ' spaced arg ', 'plain']],
    ['double quotes inside single quotes', `misc_path "/bin/check '\\"q\\"' x"`, ['/bin/check', '"q"', 'x']],
    ['a single-quoted command', `misc_path '/bin/check -t 3'`, ['/bin/check', '-t', '3']],
    ['a comment after the command', 'misc_path "/bin/check #1" # a comment', ['/bin/check', '#1']],
  ])('misc_path: %s', (_n, line, argv) => {
    const svc = only(conf({ kind: 'MISC_CHECK', chk: line }));
    expect(svc.reals[0].checkers[0].miscPath).toEqual(argv);
  });

  it('reads notify_up/down and quorum_up/down as argument vectors, and misc_dynamic, misc_timeout', () => {
    const svc = only(conf({
      vs: 'quorum_up "/usr/local/sbin/quorum.sh up 10.0.0.100:80"',
      rs: 'notify_down "/usr/local/sbin/notify.sh DOWN \'web one\'"',
      kind: 'MISC_CHECK', chk: 'misc_dynamic',
    }).replace('      misc_dynamic', '      misc_dynamic\n      misc_path /bin/weigh\n      misc_timeout 0'));
    expect(svc.quorumUp).toEqual(['/usr/local/sbin/quorum.sh', 'up', '10.0.0.100:80']);
    expect(svc.quorumDown).toBeUndefined();
    expect(svc.reals[0].notifyDown).toEqual(['/usr/local/sbin/notify.sh', 'DOWN', 'web one']);
    expect(svc.reals[0].checkers[0]).toMatchObject({ miscPath: ['/bin/weigh'], miscDynamic: true, miscTimeout: 60 });
  });

  it('reads the virtual_server and real_server options: quorum, hysteresis, alpha, omega, inhibit, thresholds, weights, methods', () => {
    const svc = only(`virtual_server 10.0.1.1 80 {
  delay_loop 6
  lvs_sched wrr
  lvs_method NAT
  persistence_timeout
  protocol TCP
  alpha
  omega
  quorum 3
  hysteresis 1
  inhibit_on_failure
  weight 2
  sorry_server 10.0.9.9 8080
  sorry_server_inhibit
  sorry_server_lvs_method TUN type ipip
  real_server 10.0.0.1 8080 {
    TCP_CHECK {
      connect_port 80
      connect_ip 10.0.0.101
    }
  }
  real_server 10.0.0.2 {
    weight 1
    inhibit_on_failure off
    alpha no
    uthreshold 1000
    lthreshold 800
  }
  real_server 10.0.0.3 8080 {
    lvs_method DR
  }
}`);
    expect(svc).toMatchObject({
      scheduler: 'wrr', persistent: 360, quorum: 3, hysteresis: 1, alpha: true, omega: true, inhibitOnFailure: true,
      sorryServer: { ip: ip('10.0.9.9'), port: 80, forward: 'tun', inhibitOnFailure: true },
    });
    expect(svc.reals.map((r) => [r.port, r.weight, r.forward, r.inhibitOnFailure, r.alpha, r.uthreshold, r.lthreshold])).toEqual([
      [8080, 2, 'nat', true, true, undefined, undefined],
      [80, 1, 'nat', false, false, 1000, 800],
      [80, 2, 'dr', true, true, undefined, undefined],
    ]);
    expect(svc.reals[0].checkers[0]).toMatchObject({ connectPort: 80, connectIp: '10.0.0.101', delayLoop: 6 });
  });

  it.each([
    ['flag-1', 'rr', 0x08], ['sh-port', 'sh', 0x10], ['sh-fallback', 'sh', 0x08], ['mh-port', 'mh', 0x10], ['mh-fallback', 'mh', 0x08],
  ])('scheduler flag %s with %s', (flag, sched, bits) => {
    expect(only(conf({ vs: `lb_algo ${sched}\n  ${flag}` })).schedFlags).toBe(bits);
  });

  it('notes, never silently, what it reads but does not use, and the defaults keepalived would log', () => {
    const c = parse(`global_defs {
  router_id LVS_1
  lvs_sync_daemon eth0 VI_1
  lvs_flush_on_stop
}
vrrp_script chk_haproxy {
  script "/usr/bin/killall -0 haproxy"
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
static_ipaddress {
  192.168.1.1/24 dev eth0
}
virtual_server 10.0.0.100 80 {
  ha_suspend
  nat_mask 255.255.255.0
  real_server 10.0.0.11 8080 {
    smtp_alert
    lvs_method DR
    TCP_CHECK {
      warmup 5
    }
  }
  real_server 10.0.0.12 80 {
    weight 1
  }
}
virtual_server 10.0.0.101 80 {
  protocol TCP
}
`);
    expect(c.notices.map((n) => `${n.line} ${n.name}: ${n.note}`)).toEqual([
      '1 global_defs: not used by lvsd apart from lvs_timeouts (mail, router_id and VRRP settings: run keepalived for them)',
      '3 lvs_sync_daemon: not used by lvsd (connection sync is not set from keepalived.conf)',
      '4 lvs_flush_on_stop: lvsd removes its whole table (and its fence) when it stops',
      '6 vrrp_script: not used by lvsd (VRRP: run keepalived for it)',
      '9 vrrp_sync_group: not used by lvsd (VRRP: run keepalived for it)',
      '14 static_ipaddress: not used by lvsd (VRRP: run keepalived for it)',
      '18 ha_suspend: ignored: lvsd checks whether or not the VIP is local',
      '19 nat_mask: ignored: gone from keepalived 2 (it never changed forwarding)',
      '21 smtp_alert: ignored: lvsd sends no email',
      '24 warmup: ignored: lvsd starts the first check at once',
      '17 virtual_server: no protocol: UDP, as keepalived defaults it (write protocol TCP for TCP)',
      '17 virtual_server: no lvs_sched: wlc, as keepalived defaults it',
      '17 virtual_server: no lvs_method: NAT, as keepalived defaults it',
      "20 real_server: DR cannot map ports: real_server port 8080 reset to the virtual_server's 80, as keepalived resets it",
      '31 virtual_server: virtual_server 10.0.0.101 80 has no real servers: ignored, as keepalived ignores it',
    ]);
    expect(c.services).toHaveLength(1);
    expect(c.services[0]).toMatchObject({ proto: 17, scheduler: 'wlc' });
    expect(c.services[0].reals.map((r) => [r.port, r.forward])).toEqual([[80, 'dr'], [80, 'nat']]);
  });

  it('lowers a quorum above the total weight and a hysteresis not below the quorum, as keepalived does, and says so', () => {
    const c = parse(conf({ vs: 'lb_algo rr\n  lb_kind DR\n  quorum 5\n  hysteresis 4' }));
    expect(c.services[0]).toMatchObject({ quorum: 1, hysteresis: 0 });
    expect(c.notices.map((n) => n.note)).toEqual([
      "quorum 5 exceeds the real servers' total weight 1: quorum 1, as keepalived reduces it",
      'hysteresis 4 >= quorum 1: hysteresis 0, as keepalived reduces it',
    ]);
  });

  it('makes a port-0 service persistent, as keepalived does', () => {
    const c = parse('virtual_server 10.0.0.100 {\n  protocol TCP\n  lb_algo sh\n  lb_kind DR\n  real_server 10.0.0.11 {\n  }\n}\n');
    expect(c.services[0]).toMatchObject({ port: 0, persistent: 360 });
    expect(c.services[0].reals[0].port).toBe(0);
    expect(c.notices.map((n) => n.note)).toEqual(['no port: a port-0 service is persistent, so persistence_timeout 360, as keepalived sets it']);
  });

  it('takes status codes as single codes, lists and ranges, merged', () => {
    const svc = only(httpConf({ url: 'status_code 204 200-202 203 500-599\n        path /x' }));
    expect(svc.reals[0].checkers[0].urls).toEqual([{ path: '/x', statusCodes: [[200, 204], [500, 599]] }]);
  });

  it('gives HTTP_GET the virtualhost of the checker, else the real_server, else the virtual_server', () => {
    const text = (rs: string, chk: string) => `virtual_server 10.0.0.100 80 {
  protocol TCP
  virtualhost vs.example
  real_server 10.0.0.11 80 {
    ${rs}
    HTTP_GET {
      ${chk}
      url {
        path /
      }
    }
  }
}`;
    expect(only(text('', '')).reals[0].checkers[0].virtualhost).toBe('vs.example');
    expect(only(text('virtualhost rs.example', '')).reals[0].checkers[0].virtualhost).toBe('rs.example');
    expect(only(text('virtualhost rs.example', 'virtualhost chk.example')).reals[0].checkers[0].virtualhost).toBe('chk.example');
    expect(only(text('virtualhost rs.example', 'nb_get_retry 4')).reals[0].checkers[0].retry).toBe(4);
  });

  it.each([
    ['enable_sni sends sni_name', 'enable_sni\n      sni_name api.example', 'api.example', []],
    ['enable_sni without sni_name sends the virtualhost', 'enable_sni yes\n      virtualhost www.example', 'www.example', []],
    ['enable_sni off sends nothing', 'enable_sni off\n      sni_name api.example', undefined, ['sni_name without enable_sni: no SNI is sent, as keepalived sends none']],
    ['sni_name alone sends nothing, and says so', 'sni_name api.example\n      tls_compliant', undefined,
      ["ignored: lvsd's TLS client closes connections its own way", 'sni_name without enable_sni: no SNI is sent, as keepalived sends none']],
  ])('SSL_GET: %s', (_n, chk, sni, notes) => {
    const c = parse(httpConf({ kind: 'SSL_GET', chk }));
    expect(c.services[0].reals[0].checkers[0].sniName).toBe(sni);
    expect(c.notices.map((n) => n.note)).toEqual(notes);
  });

  // Every refusal names the file, the line and the directive.
  it.each<[string, string, number, string, string]>([
    ['an unknown virtual_server directive', conf({ vs: 'foo 1' }), 3, 'foo', "unsupported directive 'foo' in virtual_server"],
    ['an unknown real_server directive', conf({ rs: 'colour red' }), 5, 'colour', "unsupported directive 'colour' in real_server"],
    ['an unknown checker directive', conf({ chk: 'frobnicate' }), 7, 'frobnicate', "unsupported directive 'frobnicate' in TCP_CHECK"],
    ['ops', conf({ vs: 'ops' }), 3, 'ops', "unsupported directive 'ops' in virtual_server (one-packet scheduling is not supported by lvsd)"],
    ['persistence_engine', conf({ vs: 'persistence_engine sip' }), 3, 'persistence_engine', "unsupported directive 'persistence_engine' in virtual_server (persistence engines (sip) are not supported by lvsd)"],
    ['a GUE tunnel', conf({ vs: 'lb_kind TUN type gue port 6080' }), 3, 'lb_kind', 'lb_kind TUN type gue: lvsd tunnels with IPIP only (type ipip)'],
    ['a GRE tunnel', conf({ rs: 'lvs_method TUN type gre' }), 5, 'lvs_method', 'lvs_method TUN type gre: lvsd tunnels with IPIP only (type ipip)'],
    ['a tunnel checksum option', conf({ vs: 'lvs_method TUN type ipip nocsum' }), 3, 'lvs_method', "lvs_method TUN type ipip: 'nocsum' applies to gue and gre tunnels only"],
    ['an unknown method', conf({ vs: 'lb_kind dr' }), 3, 'lb_kind', "unknown lb_kind 'dr' (NAT, DR or TUN)"],
    ['a FullNAT method', conf({ vs: 'lvs_method FNAT' }), 3, 'lvs_method', 'lvs_method FNAT: keepalived has no FullNAT; declare a FullNAT service in lvsd.yaml (forward: fullnat, local_addresses)'],
    ['SCTP', conf({ vs: 'protocol SCTP' }), 3, 'protocol', 'protocol SCTP is not supported by lvsd (TCP and UDP are)'],
    ['an unknown scheduler', conf({ vs: 'lb_algo fancy' }), 3, 'lb_algo', "unknown scheduler 'fancy' (have: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos)"],
    ['IPv6', conf({ vs: 'ip_family inet6' }), 3, 'ip_family', 'ip_family inet6: IPv6 is not supported by lvsd'],
    ['sh-port without sh', conf({ vs: 'sh-port' }), 3, 'sh-port', 'sh-port needs lvs_sched sh (this virtual_server\'s is wlc)'],
    ['a bad persistence_granularity', conf({ vs: 'persistence_granularity 255.0.255.0' }), 3, 'persistence_granularity', 'persistence_granularity: 255.0.255.0 is not a contiguous netmask'],
    ['a quorum of 0', conf({ vs: 'quorum 0' }), 3, 'quorum', "'quorum': '0' is not a weight of at least 1 (1..4294967295)"],
    ['sorry_server_inhibit without sorry_server', conf({ vs: 'sorry_server_inhibit' }), 3, 'sorry_server_inhibit', 'sorry_server_inhibit without a sorry_server'],
    ['a weight with a semicolon', conf({ rs: 'weight 3;' }), 5, 'weight', "'weight': '3;' is not a weight (0..65535)"],
    ['two directives on one line', conf({ rs: 'weight 3 inhibit_on_failure' }), 5, 'weight', "'weight' takes <weight>, got '3 inhibit_on_failure' (keepalived reads one directive per line: 'inhibit_on_failure' cannot follow on the same line)"],
    ['a block on a leaf directive', conf({ rs: 'weight 3 { }' }), 5, 'weight', "'weight' takes no { } block"],
    ['a notify script with a user', conf({ rs: 'notify_up /bin/up.sh nobody' }), 5, 'notify_up',
      "notify_up: 'nobody' after the program is keepalived's user [group] to run it as, and lvsd runs programs as itself; to pass arguments, quote the whole command: notify_up \"/bin/up.sh nobody\""],
    ['another checker kind', conf({ rs: 'DNS_CHECK { }' }), 5, 'DNS_CHECK', "unsupported directive 'DNS_CHECK' in real_server (lvsd implements TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK)"],
    ['bindto', conf({ chk: 'bindto 10.0.0.1' }), 7, 'bindto', "unsupported directive 'bindto' in TCP_CHECK (lvsd connects from the address and port the route gives)"],
    ['a checker alpha', conf({ chk: 'alpha' }), 7, 'alpha', "unsupported directive 'alpha' in TCP_CHECK (set alpha on the real_server or the virtual_server)"],
    ['a bad connect_port', conf({ chk: 'connect_port 0' }), 7, 'connect_port', "'connect_port': '0' is not a port (1..65535)"],
    ['a zero delay_loop', conf({ chk: 'delay_loop 0' }), 7, 'delay_loop', "'delay_loop': '0' is not a time in seconds (above 0 up to 2678400)"],
    ['a MISC_CHECK user', conf({ kind: 'MISC_CHECK', chk: 'user nobody' }), 7, 'user', "unsupported directive 'user' in MISC_CHECK (lvsd runs check programs as itself)"],
    ['a MISC_CHECK without misc_path', conf({ kind: 'MISC_CHECK', chk: 'misc_dynamic' }), 6, 'MISC_CHECK', 'MISC_CHECK has no misc_path'],
    ['a MISC_CHECK connect_timeout', conf({ kind: 'MISC_CHECK', chk: 'connect_timeout 3' }), 7, 'connect_timeout', "unsupported directive 'connect_timeout' in MISC_CHECK (a MISC_CHECK program has misc_timeout)"],
    ['http_protocol', httpConf({ chk: 'http_protocol 1.1' }), 10, 'http_protocol', "unsupported directive 'http_protocol' in HTTP_GET (lvsd's HTTP_GET has no http_protocol)"],
    ['fast_recovery', httpConf({ kind: 'SSL_GET', chk: 'fast_recovery' }), 10, 'fast_recovery', "unsupported directive 'fast_recovery' in SSL_GET (lvsd's SSL_GET has no fast_recovery)"],
    ['enable_sni on HTTP_GET', httpConf({ chk: 'enable_sni' }), 10, 'enable_sni', "unsupported directive 'enable_sni' in HTTP_GET (enable_sni is for SSL_GET)"],
    ['a regex', httpConf({ url: 'regex "ok"' }), 8, 'regex', "unsupported directive 'regex' in url (lvsd checks status codes and digests, not regular expressions)"],
    ['a url virtualhost', httpConf({ url: 'virtualhost a.example' }), 8, 'virtualhost', "unsupported directive 'virtualhost' in url (set virtualhost on the checker, the real_server or the virtual_server)"],
    ['a url without a path', httpConf({ url: 'status_code 200' }), 7, 'url', 'url has no path'],
    ['a path with a status_code on its line', httpConf({ url: 'path / status_code 200' }), 8, 'path',
      "'path' takes <path>, got '/ status_code 200' (keepalived reads one directive per line: 'status_code' cannot follow on the same line)"],
    ['a status code out of range', httpConf({ url: 'path /\n        status_code 200 700' }), 9, 'status_code', "status_code '700' is not a code or range in 100-599"],
    ['a reversed status range', httpConf({ url: 'path /\n        status_code 299-200' }), 9, 'status_code', "status_code '299-200' is not a code or range in 100-599"],
    ['a bad digest', httpConf({ url: 'path /\n        digest 1234' }), 9, 'digest', "digest '1234' is not an MD5 sum (32 hex digits, as genhash prints)"],
    ['an HTTP_GET without url', conf({ kind: 'HTTP_GET' }), 6, 'HTTP_GET', 'HTTP_GET has no url { path ... } to check'],
    ['a duplicate real_server', conf({ rs: '}\n  real_server 10.0.0.11 80 {' }), 6, 'real_server', 'duplicate real_server 10.0.0.11 80: the same as keepalived.conf:4'],
    ['a fwmark virtual server', '\nvirtual_server fwmark 1 {\n}\n', 2, 'virtual_server',
      "virtual_server fwmark 1: lvsd needs the mark's match (keepalived leaves the marking to iptables); declare the service in lvsd.yaml with fwmark and match"],
    ['a virtual server group', 'virtual_server group web {\n}\n', 1, 'virtual_server',
      'virtual_server group web: virtual server groups are not supported by lvsd; write one virtual_server per address'],
    ['a virtual_server_group', 'virtual_server_group web {\n  10.0.0.1 80\n}\n', 1, 'virtual_server_group',
      'virtual_server_group web: virtual server groups are not supported by lvsd; write one virtual_server per address'],
    ['an SSL block', 'SSL {\n  ca /etc/ca.pem\n}\n', 1, 'SSL', 'SSL { } (a client certificate for SSL_GET) is not supported by lvsd; SSL_GET checks without one'],
    ['a misspelt top-level block', 'virtual_sever 10.0.0.1 80 {\n}\n', 1, 'virtual_sever', "unknown keyword 'virtual_sever' (not a keepalived top-level block)"],
    ['an IPv6 VIP', 'virtual_server 2001:db8::1 80 {\n}\n', 1, 'virtual_server', 'virtual_server 2001:db8::1: IPv6 is not supported by lvsd'],
    ['a bad VIP', 'virtual_server 10.0.0.300 80 {\n}\n', 1, 'virtual_server', "virtual_server: '10.0.0.300' is not an IPv4 address"],
    ['a real server 0.0.0.0', 'virtual_server 10.0.0.1 80 {\n  real_server 0.0.0.0 80 {\n  }\n}\n', 2, 'real_server',
      'real_server 0.0.0.0: not a unicast host address: this-network (0.0.0.0/8)'],
    ['a virtual_server without a block', 'virtual_server 10.0.0.1 80\n', 1, 'virtual_server', "'virtual_server' needs a { } block"],
    ['a duplicate virtual_server', `${conf({})}${conf({})}`, 11, 'virtual_server', 'duplicate virtual_server: same address, port and protocol as keepalived.conf:1'],
    ['a bad lvs_timeouts', 'global_defs {\n  lvs_timeouts tcp 900 fin 120\n}\n', 2, 'lvs_timeouts', "lvs_timeouts: unknown timeout 'fin' (tcp, tcpfin or udp)"],
    ['an odd lvs_timeouts', 'global_defs {\n  lvs_timeouts tcp\n}\n', 2, 'lvs_timeouts', 'lvs_timeouts takes [tcp <s>] [tcpfin <s>] [udp <s>], at least one'],
  ])('refuses %s', (_n, text, line, directive, problem) => {
    const e = errorOf(text);
    expect(e).toMatchObject({ file: 'keepalived.conf', line, directive, problem });
    expect(e.message).toBe(`keepalived.conf:${line}: ${problem}`);
  });
});
