// HTTP_GET and SSL_GET against real local servers: status ranges, keepalived's genhash digest (MD5 of the body),
// the Host and User-Agent headers, timeouts on a server that never answers, and TLS with a throwaway
// self-signed certificate (made with openssl when it is installed).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostHeader, statusOk } from '../../../src/health/http-common';
import { httpGet } from '../../../src/health/http-get';
import { findChecker } from '../../../src/health/index';
import { sslGet } from '../../../src/health/ssl-get';
import type { CheckerSpec } from '../../../src/health/types';
import { BIG, BODY, closedPort, spec, target, webServer, type WebServer } from './health-helpers';

const md5 = (b: string | Buffer): string => createHash('md5').update(b).digest('hex');
const never = (): AbortSignal => new AbortController().signal;
type Urls = NonNullable<CheckerSpec['urls']>;

describe('HTTP_GET', () => {
  let web: WebServer;
  beforeAll(async () => {
    web = await webServer();
  });
  afterAll(() => web.close());

  const get = (urls: Urls, over: Partial<CheckerSpec> = {}) => httpGet.check(target(web.port), spec('HTTP_GET', { urls, ...over }), never());

  it('is registered under keepalived\'s name', () => {
    expect(findChecker('HTTP_GET')).toBe(httpGet);
    expect(findChecker('SSL_GET')).toBe(sslGet);
  });

  it.each<[string, Urls, boolean, string]>([
    ['200 is up by default', [{ path: '/ok' }], true, 'status 200 for /ok'],
    ['503 is down by default', [{ path: '/down' }], false, 'status 503 for /down'],
    ['404 is down by default', [{ path: '/missing' }], false, 'status 404 for /missing'],
    ['a status_code range admits 418', [{ path: '/teapot', statusCodes: [[200, 299], [418, 418]] }], true, 'status 418 for /teapot'],
    ['a status_code range can exclude 200', [{ path: '/ok', statusCodes: [[300, 399]] }], false, 'status 200 for /ok'],
    ['the digest of the body matches', [{ path: '/ok', digest: md5(BODY) }], true, 'status 200 for /ok'],
    ['a digest in capitals matches too', [{ path: '/ok', digest: md5(BODY).toUpperCase() }], true, 'status 200 for /ok'],
    ['a wrong digest is down', [{ path: '/ok', digest: md5('something else') }], false, 'digest mismatch for /ok'],
    ['every url must pass', [{ path: '/ok' }, { path: '/down' }], false, 'status 503 for /down'],
    ['all urls passing is up', [{ path: '/ok' }, { path: '/teapot', statusCodes: [[418, 418]] }], true, 'status 418 for /teapot'],
    ['no url at all is up (keepalived enables the server)', [], true, 'no url to check'],
  ])('%s', async (_name, urls, ok, reason) => {
    expect(await get(urls)).toEqual({ ok, reason });
  });

  it('hashes at most 1 MiB of a body', async () => {
    expect(await get([{ path: '/big', digest: md5(Buffer.alloc(1 << 20, 'x')) }])).toEqual({ ok: true, reason: 'status 200 for /big' });
    expect(await get([{ path: '/big', digest: md5(Buffer.alloc(BIG, 'x')) }])).toEqual({ ok: false, reason: 'digest mismatch for /big' });
    // the rest of a long body is dropped with its connection, which must not fail the next url
    expect(await get([{ path: '/big' }, { path: '/ok' }])).toEqual({ ok: true, reason: 'status 200 for /ok' });
  });

  it('is down when the body is cut short', async () => {
    const r = await get([{ path: '/short', digest: md5('x') }]);
    expect(r.ok).toBe(false);
  });

  it('sends keepalived\'s headers: Host ip:port, or the virtualhost', async () => {
    await get([{ path: '/ok' }]);
    expect(web.last?.host).toBe(`127.0.0.1:${web.port}`);
    expect(web.last?.['user-agent']).toBe('KeepAliveClient');
    await get([{ path: '/ok' }], { virtualhost: 'www.example.com' });
    expect(web.last?.host).toBe('www.example.com');
  });

  it('is down with the errno when nothing listens', async () => {
    expect(await httpGet.check(target(await closedPort()), spec('HTTP_GET', { urls: [{ path: '/' }] }), never()))
      .toEqual({ ok: false, reason: 'connect ECONNREFUSED' });
  });

  it('times out within connect_timeout when the server never answers', async () => {
    const t0 = Date.now();
    const r = await get([{ path: '/hang' }], { connectTimeout: 0.3 });
    const took = Date.now() - t0;
    expect(r).toEqual({ ok: false, reason: 'timeout after 0.3 s' });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(800);
  });

  it('stops a hanging request on abort', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = httpGet.check(target(web.port), spec('HTTP_GET', { urls: [{ path: '/hang' }], connectTimeout: 5 }), ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect(await p).toEqual({ ok: false, reason: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('helpers: status ranges and Host forms', () => {
    expect(statusOk(200)).toBe(true);
    expect(statusOk(299)).toBe(true);
    expect(statusOk(300)).toBe(false);
    expect(statusOk(199)).toBe(false);
    expect(hostHeader('10.0.0.1', 8080)).toBe('10.0.0.1:8080');
    expect(hostHeader('fd00::1', 80)).toBe('[fd00::1]:80');
    expect(hostHeader('10.0.0.1', 80, 'a.example')).toBe('a.example');
  });
});

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const OPENSSL = haveOpenssl();

describe.skipIf(!OPENSSL)('SSL_GET (self-signed certificate from openssl; skipped when openssl is not installed)', () => {
  let web: WebServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'userlvs-ssl-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=userlvs-test'], { stdio: 'ignore' });
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    web = await webServer((h) => createHttpsServer(tls, h));
  });
  afterAll(async () => {
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (urls: Urls, over: Partial<CheckerSpec> = {}) => sslGet.check(target(web.port), spec('SSL_GET', { urls, ...over }), never());

  it('accepts the unverified certificate, as keepalived does, and checks status and digest', async () => {
    expect(await get([{ path: '/ok', digest: md5(BODY) }])).toEqual({ ok: true, reason: 'status 200 for /ok' });
    expect(await get([{ path: '/down' }])).toEqual({ ok: false, reason: 'status 503 for /down' });
    expect(await get([{ path: '/ok', digest: md5('nope') }])).toEqual({ ok: false, reason: 'digest mismatch for /ok' });
  });

  it('times out on a server that never answers', async () => {
    expect(await get([{ path: '/hang' }], { connectTimeout: 0.3 })).toEqual({ ok: false, reason: 'timeout after 0.3 s' });
  });

  it('fails when the other end does not speak TLS', async () => {
    const plain = await webServer();
    try {
      const r = await sslGet.check(target(plain.port), spec('SSL_GET', { urls: [{ path: '/ok' }] }), never());
      expect(r.ok).toBe(false);
      expect(r.reason).not.toBe('');
    } finally {
      await plain.close();
    }
  });
});
