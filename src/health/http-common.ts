// HTTP_GET and SSL_GET share everything but the transport (keepalived check_http.c serves both): each url is
// fetched in turn with GET, its status must fall in one of its status_code ranges (200-299 by default), and
// when a digest is given the MD5 of the body (what keepalived's genhash prints) must match. All urls must pass.
// The request carries keepalived's User-Agent and Host header: the virtualhost when set, else "ip:port".
// One deadline, connect_timeout, covers the whole check; at most MAX_BODY bytes of each body are read.
import { createHash, type Hash } from 'node:crypto';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { errorReason, runAttempt, type Finish } from './attempt';
import type { CheckerSpec, CheckResult, CheckTarget } from './types';

/** Bytes of a body read (and hashed) at most; the rest is not waited for. */
export const MAX_BODY = 1 << 20;

/** keepalived's default status_code: any 2xx. */
export const DEFAULT_STATUS: readonly [number, number][] = [[200, 299]];

export type Url = NonNullable<CheckerSpec['urls']>[number];

type Request = (opts: RequestOptions, cb: (res: IncomingMessage) => void) => ClientRequest;

export function statusOk(code: number, ranges: readonly [number, number][] = DEFAULT_STATUS): boolean {
  return ranges.some(([lo, hi]) => code >= lo && code <= hi);
}

/** keepalived's Host header: the virtualhost as given, else the address with its port (IPv6 in brackets). */
export function hostHeader(host: string, port: number, virtualhost?: string): string {
  if (virtualhost) return virtualhost;
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Check every url of `spec` with `request` (http.request or https.request, options already bound). */
export function httpCheck(request: Request, extra: RequestOptions, t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
  const host = spec.connectIp ?? t.ip;
  const port = spec.connectPort ?? t.port;
  const urls = spec.urls ?? [];
  // keepalived: a checker without urls enables the server without checking.
  if (urls.length === 0) return Promise.resolve({ ok: true, reason: 'no url to check' });
  const headers = { Host: hostHeader(host, port, spec.virtualhost), 'User-Agent': 'KeepAliveClient' };

  return runAttempt(signal, spec.connectTimeout, (finish) => {
    let req: ClientRequest | undefined;
    let i = 0;
    let last = '';
    const next = (): void => {
      if (i === urls.length) return finish({ ok: true, reason: last });
      const url = urls[i++];
      req?.destroy();
      req = request({ ...extra, host, port, path: url.path, method: 'GET', agent: false, headers }, (res) => {
        readResponse(res, url, finish, (reason) => {
          last = reason;
          next();
        });
      });
      req.on('error', (e) => finish({ ok: false, reason: errorReason(e) }));
      req.end();
    };
    next();
    return () => {
      if (!req) return;
      req.on('error', () => undefined); // errors after the outcome (the destroy itself) are not news
      req.destroy();
    };
  });
}

function readResponse(res: IncomingMessage, url: Url, fail: Finish, pass: (reason: string) => void): void {
  const code = res.statusCode ?? 0;
  let done = false; // this url's outcome is known: later errors and closes (our own destroy) are not news
  res.on('error', (e) => {
    if (!done) fail({ ok: false, reason: `${errorReason(e)} for ${url.path}` });
  });
  res.once('close', () => {
    if (!done) fail({ ok: false, reason: `connection closed before the end of ${url.path}` });
  });
  const settle = (r: CheckResult | string): void => {
    if (done) return;
    done = true;
    res.removeAllListeners('data');
    res.resume();
    if (typeof r === 'string') pass(r);
    else fail(r);
  };
  if (!statusOk(code, url.statusCodes)) return settle({ ok: false, reason: `status ${code} for ${url.path}` });
  let hash: Hash | undefined;
  try {
    hash = url.digest ? createHash('md5') : undefined;
  } catch (e) {
    return settle({ ok: false, reason: `md5: ${errorReason(e)}` });
  }
  let n = 0;
  const end = (): void => {
    if (done) return;
    if (hash && hash.digest('hex') !== url.digest!.toLowerCase()) return settle({ ok: false, reason: `digest mismatch for ${url.path}` });
    settle(`status ${code} for ${url.path}`);
  };
  res.on('data', (chunk: Buffer) => {
    if (done) return;
    const take = Math.min(chunk.length, MAX_BODY - n);
    hash?.update(take === chunk.length ? chunk : chunk.subarray(0, take));
    n += take;
    if (n >= MAX_BODY) end();
  });
  res.once('end', end);
}
