// GET /metrics in Prometheus text format, from a private prom-client registry whose collect() callbacks read the
// daemon's snapshot when scraped. Bound to loopback by default; any other address needs a bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { LvsError } from '../control/errors';
import type { Logger } from '../log';
import { registerLvsMetrics, type MetricsSnapshot } from './lvs-metrics';

export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9100';

export interface MetricsOptions {
  /** host:port ([v6]:port for IPv6); default 127.0.0.1:9100. Port 0 picks a free one. */
  listen?: string;
  /** Required when `listen` is not a loopback address: requests then need "Authorization: Bearer <token>". */
  token?: string;
  /** lvsd's `list` and `status` answers, called once per scrape. */
  /** The daemon's view, taken once per scrape (it may ask the capture workers). */
  snapshot: () => MetricsSnapshot | Promise<MetricsSnapshot>;
  log: Logger;
}

export interface MetricsServer {
  /** http://host:port/metrics, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** "host:port" or "[v6]:port" split; an empty host (":9100") means every address. Throws LvsError EINVAL. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new LvsError('EINVAL', `metrics listen address "${listen}": expected host:port, e.g. ${DEFAULT_METRICS_LISTEN}`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]), port };
}

/** True unless `listen` binds loopback only (127.0.0.0/8, ::1, localhost): anything else must carry a token. */
export function needsToken(listen: string): boolean {
  const { host } = parseListen(listen);
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return false;
  return !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Constant-time comparison of the Authorization header with "Bearer <token>". */
function authorized(header: string | undefined, token: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return header !== undefined && timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}

/** Start the exporter; refuses (LvsError EACCES) a non-loopback listen address without a token. */
export async function startMetrics(opts: MetricsOptions): Promise<MetricsServer> {
  const listen = opts.listen ?? DEFAULT_METRICS_LISTEN;
  const { host, port } = parseListen(listen);
  const token = opts.token === '' ? undefined : opts.token;
  if (token === undefined && needsToken(listen)) {
    throw new LvsError('EACCES', `metrics on ${listen} would be reachable beyond this host: set a bearer token, or listen on 127.0.0.1`);
  }
  const log = opts.log.child({ component: 'metrics' });
  const registry = new Registry();
  // One snapshot per scrape, shared by every series' collect() (they all run while metrics() starts).
  let current: MetricsSnapshot | null = null;
  registerLvsMetrics(registry, () => {
    if (current === null) throw new Error('metrics collected outside a scrape');
    return current;
  });
  collectDefaultMetrics({ register: registry });

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const reply = (code: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(body);
    };
    if (token !== undefined && !authorized(req.headers.authorization, token)) {
      reply(401, 'Unauthorized\n', { 'WWW-Authenticate': 'Bearer realm="lvsd"' });
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/metrics') return reply(404, 'Not Found: the metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    let body: string;
    try {
      current = await opts.snapshot();
      body = await registry.metrics();
    } catch (err) {
      log.error({ err }, 'metrics scrape failed');
      return reply(500, 'metrics scrape failed\n');
    } finally {
      current = null;
    }
    res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      log.error({ err }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new LvsError(err.code ?? 'EIO', `metrics: cannot listen on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`;
  log.info({ url, auth: token !== undefined }, 'metrics exporter listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      registry.clear();
    }),
  };
}
