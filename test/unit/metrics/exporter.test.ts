import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListResult } from '../../../src/control/protocol';
import { needsToken, parseListen, startMetrics, type MetricsServer } from '../../../src/metrics/exporter';
import { LVS_METRIC_NAMES, type MetricsSnapshot } from '../../../src/metrics/lvs-metrics';
import { LIST, STATUS } from './fixture';

const log = pino({ level: 'silent' });
let running: MetricsServer[] = [];

async function start(snapshot: () => MetricsSnapshot = () => ({ list: LIST, status: STATUS }), token?: string): Promise<MetricsServer> {
  const m = await startMetrics({ listen: '127.0.0.1:0', token, snapshot, log });
  running.push(m);
  return m;
}

async function scrape(m: MetricsServer): Promise<string[]> {
  const res = await fetch(m.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return (await res.text()).split('\n');
}

afterEach(async () => {
  await Promise.all(running.map((m) => m.close()));
  running = [];
});

const WEB = 'vip="10.0.0.100",port="80",proto="tcp"';

describe('GET /metrics', () => {
  it('binds loopback and names its URL', async () => {
    const m = await start();
    expect(m.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it.each([
    ['# TYPE lvs_service_connections_total counter'],
    [`lvs_service_connections_total{${WEB}} 300`],
    [`lvs_service_packets_total{${WEB},direction="in"} 3000`],
    [`lvs_service_packets_total{${WEB},direction="out"} 2500`],
    [`lvs_service_bytes_total{${WEB},direction="out"} 3000000`],
    ['# TYPE lvs_service_rate_cps gauge'],
    [`lvs_service_rate_cps{${WEB}} 12`],
    [`lvs_service_rate_pps{${WEB},direction="in"} 150`],
    [`lvs_service_rate_bps{${WEB},direction="out"} 2500000`],
    ['lvs_service_connections_total{vip="10.0.0.100",port="53",proto="udp"} 7'],
    ['lvs_service_connections_total{vip="fwmark:7",port="0",proto="any"} 5'],
    ['lvs_service_rate_cps{vip="fwmark:7",port="0",proto="any"} 0'],
    ['# TYPE lvs_real_server_connections_total counter'],
    [`lvs_real_server_connections_total{${WEB},real="10.0.0.11:80"} 120`],
    [`lvs_real_server_connections_total{${WEB},real="10.0.0.13:8080"} 80`],
    ['lvs_real_server_connections_total{vip="fwmark:7",port="0",proto="any",real="10.0.0.31:0"} 5'],
    [`lvs_real_server_packets_total{${WEB},real="10.0.0.12:80",direction="in"} 1000`],
    [`lvs_real_server_bytes_total{${WEB},real="10.0.0.12:80",direction="out"} 1000000`],
    [`lvs_real_server_rate_cps{${WEB},real="10.0.0.11:80"} 12`],
    [`lvs_real_server_rate_bps{${WEB},real="10.0.0.11:80",direction="out"} 2499800`],
    [`lvs_real_server_active_connections{${WEB},real="10.0.0.11:80"} 40`],
    [`lvs_real_server_inactive_connections{${WEB},real="10.0.0.11:80"} 5`],
    [`lvs_real_server_persistent_connections{${WEB},real="10.0.0.11:80"} 2`],
    [`lvs_real_server_weight{${WEB},real="10.0.0.11:80"} 3`],
    [`lvs_real_server_weight{${WEB},real="10.0.0.12:80"} 0`],
    [`lvs_real_server_up{${WEB},real="10.0.0.11:80"} 1`],
    [`lvs_real_server_up{${WEB},real="10.0.0.12:80"} 0`],
    ['lvs_connection_table_entries 49'],
    ['lvs_connection_table_limit 262144'],
    ['lvs_packets_forwarded_total 5004'],
    ['lvs_packets_dropped_total{reason="no-conn"} 9'],
    ['lvs_packets_dropped_total{reason="malformed"} 3'],
    ['lvs_packets_dropped_total{reason="send-failed"} 1'],
    ['lvs_packets_dropped_total{reason="conn-table-full"} 0'],
    ['lvs_packets_malformed_total{kind="truncated-ip"} 2'],
    ['lvs_packets_malformed_total{kind="bad-ihl"} 1'],
    ['lvs_defense_entries_dropped_total{how="evicted"} 17'],
    ['lvs_defense_entries_dropped_total{how="scanned"} 40'],
    ['lvs_defense_entries_dropped_total{how="shed"} 3'],
    ['lvs_defense_engaged{strategy="drop_entry"} 1'],
    ['lvs_defense_engaged{strategy="secure_tcp"} 0'],
    ['lvs_defense_engaged{strategy="drop_packet"} 1'],
    ['lvs_capture_handler_errors_total{interface="eth0"} 0'],
    ['lvs_capture_handler_errors_total{interface="eth1"} 2'],
  ])('%s', async (line) => {
    expect(await scrape(await start())).toContain(line);
  });

  it('leaves out what is not there: up for an unchecked RS, non-drop verdicts as drops', async () => {
    const text = (await scrape(await start())).join('\n');
    expect(text).not.toMatch(/lvs_real_server_up\{[^}]*real="10\.0\.0\.13:8080"/);
    expect(text).not.toMatch(/lvs_real_server_up\{[^}]*port="53"/);
    expect(text).not.toMatch(/lvs_packets_dropped_total\{reason="(forwarded|not-ours|arp|icmp-forwarded)"\}/);
  });

  it('emits every lvs_ series it declares, process metrics and the event loop load', async () => {
    const lines = await scrape(await start());
    for (const name of LVS_METRIC_NAMES) expect(lines.some((l) => l.startsWith(`# TYPE ${name} `))).toBe(true);
    expect(lines.filter((l) => l.startsWith('# TYPE lvs_')).length).toBe(LVS_METRIC_NAMES.length);
    expect(lines.some((l) => /^lvs_event_loop_utilization 0(\.\d+)?(e-\d+)?$|^lvs_event_loop_utilization 1$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('process_cpu_user_seconds_total '))).toBe(true);
    expect(lines.some((l) => l.startsWith('nodejs_eventloop_lag_seconds '))).toBe(true);
  });

  it('reads the snapshot once per scrape, and a removed service is gone from the next one', async () => {
    let calls = 0;
    let list: ListResult = LIST;
    const m = await start(() => {
      calls++;
      return { list, status: STATUS };
    });
    expect((await scrape(m)).some((l) => l.includes('proto="udp"'))).toBe(true);
    expect(calls).toBe(1);
    list = { ...LIST, services: LIST.services.filter((s) => s.proto !== 17) };
    expect((await scrape(m)).some((l) => l.includes('proto="udp"'))).toBe(false);
    expect(calls).toBe(2);
  });

  it('answers 500 (and stays up) when the snapshot throws', async () => {
    let fail = true;
    const m = await start(() => {
      if (fail) throw new Error('not ready');
      return { list: LIST, status: STATUS };
    });
    expect((await fetch(m.url)).status).toBe(500);
    fail = false;
    expect((await fetch(m.url)).status).toBe(200);
  });

  it.each([['/'], ['/metric'], ['/metrics/x'], ['/favicon.ico']])('404 for %s', async (path) => {
    const m = await start();
    const res = await fetch(new URL(path, m.url));
    expect(res.status).toBe(404);
  });

  it('405 for a POST to /metrics; a query string is ignored', async () => {
    const m = await start();
    expect((await fetch(m.url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${m.url}?name[]=x`)).status).toBe(200);
  });
});

describe('access', () => {
  it.each([
    ['127.0.0.1:9100', false], ['127.1.2.3:0', false], ['localhost:9100', false], ['[::1]:9100', false],
    ['0.0.0.0:9100', true], [':9100', true], ['10.0.0.10:9100', true], ['[::]:9100', true], ['director.example:9100', true],
  ])('needsToken(%s) = %s', (listen, want) => {
    expect(needsToken(listen)).toBe(want);
  });

  it.each([
    ['127.0.0.1:9100', { host: '127.0.0.1', port: 9100 }], ['[::1]:0', { host: '::1', port: 0 }], [':9100', { host: '0.0.0.0', port: 9100 }],
  ])('parseListen(%s)', (listen, want) => {
    expect(parseListen(listen)).toEqual(want);
  });

  it.each([['9100'], ['127.0.0.1'], ['127.0.0.1:99999'], ['::1:9100'], ['127.0.0.1:x']])('parseListen refuses %s', (listen) => {
    expect(() => parseListen(listen)).toThrow(/expected host:port/);
  });

  it('refuses a non-loopback address without a token, before binding anything', async () => {
    await expect(startMetrics({ listen: '0.0.0.0:0', snapshot: () => ({ list: LIST, status: STATUS }), log }))
      .rejects.toMatchObject({ code: 'EACCES', message: expect.stringMatching(/set a bearer token, or listen on 127\.0\.0\.1/) });
    await expect(startMetrics({ listen: '0.0.0.0:0', token: '', snapshot: () => ({ list: LIST, status: STATUS }), log }))
      .rejects.toMatchObject({ code: 'EACCES' });
  });

  it('with a token: 401 without it or with a wrong one (any path), 200 with it', async () => {
    const m = await start(undefined, 's3cret');
    const get = (auth?: string, url = m.url) => fetch(url, { headers: auth === undefined ? {} : { authorization: auth } });
    const denied = await get();
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="lvsd"');
    expect((await get('Bearer wrong')).status).toBe(401);
    expect((await get('s3cret')).status).toBe(401);
    expect((await get(undefined, new URL('/', m.url).href)).status).toBe(401);
    const ok = await get('Bearer s3cret');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('lvs_connection_table_limit 262144');
  });

  it('a port in use is refused with its reason', async () => {
    const m = await start();
    const port = new URL(m.url).port;
    await expect(startMetrics({ listen: `127.0.0.1:${port}`, snapshot: () => ({ list: LIST, status: STATUS }), log }))
      .rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringMatching(/cannot listen on 127\.0\.0\.1:\d+/) });
  });
});
