// Real local parts for the checker tests: servers on 127.0.0.1 only, a listener that never accepts, specs with
// short timers, and a way to tell that a process is gone.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer, type AddressInfo, connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { CheckerSpec, CheckTarget } from '../../../src/health/types';

export const LO = '127.0.0.1';

export function spec(kind: CheckerSpec['kind'], over: Partial<CheckerSpec> = {}): CheckerSpec {
  return { kind, connectTimeout: 1, retry: 0, delayBeforeRetry: 0.05, delayLoop: 0.1, ...over };
}

export const target = (port: number): CheckTarget => ({ ip: LO, port, forward: 'nat' });

export const portOf = (s: { address(): AddressInfo | string | null }): number => (s.address() as AddressInfo).port;

/** A port on loopback where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, LO, r));
  const port = portOf(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP server that accepts and answers nothing. */
export async function tcpServer(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<Socket>();
  const s = createServer((c) => {
    socks.add(c);
    c.on('close', () => socks.delete(c));
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(port, LO, r));
  return {
    port: portOf(s),
    close: () => new Promise<void>((r) => {
      for (const c of socks) c.destroy();
      s.close(() => r());
    }),
  };
}

/**
 * A listener whose accept queue is full and never drained, so a connect to it hangs (the kernel drops the SYN):
 * it listens with backlog 1 in a worker whose event loop then blocks, and two connects fill the queue.
 */
export async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    `const net = require('node:net'); const { parentPort, workerData } = require('node:worker_threads');
     const s = net.createServer();
     s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(s.address().port);
       Atomics.wait(workerData, 0, 0); // the loop stops here: nothing is ever accepted
       s.close();
     });`,
    { eval: true, workerData: flag },
  );
  const port = await new Promise<number>((r) => w.once('message', r));
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const c = connect(port, LO);
    c.on('error', () => undefined);
    fillers.push(c);
    await new Promise<void>((r) => c.once('connect', () => r()));
  }
  return {
    port,
    close: async () => {
      for (const c of fillers) c.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise<void>((r) => w.once('exit', () => r()));
    },
  };
}

export interface WebServer {
  port: number;
  /** Headers of the last request. */
  last?: IncomingHttpHeaders;
  /** Requests that got no answer (the /hang path). */
  hanging: number;
  close(): Promise<void>;
}

export const BODY = 'hello from the real server\n';
export const BIG = 2 << 20;

type Listen = (handler: Parameters<typeof createHttpServer>[1]) => Server;

/** An HTTP(S) server: /ok 200, /down 503, /teapot 418, /hang never answers, /big 2 MiB, /short lies about its length. */
export async function webServer(make: Listen = (h) => createHttpServer(h)): Promise<WebServer> {
  const ws: WebServer = { port: 0, hanging: 0, close: async () => undefined };
  const s = make((req, res) => {
    ws.last = req.headers;
    switch (req.url) {
      case '/ok': res.end(BODY); break;
      case '/down': res.writeHead(503).end('maintenance'); break;
      case '/teapot': res.writeHead(418).end(BODY); break;
      case '/hang': ws.hanging++; break;
      case '/big': res.end(Buffer.alloc(BIG, 'x')); break;
      case '/short': res.writeHead(200, { 'content-length': '100' }); res.write('only a part'); setTimeout(() => res.destroy(), 20); break;
      default: res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => s.listen(0, LO, r));
  ws.port = portOf(s);
  ws.close = () => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });
  return ws;
}

/** Gone: no such process, or a zombie waiting for a reaper that is not ours. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The active handles and requests node reports, counted by type. */
export function activeCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of process.getActiveResourcesInfo()) out[t] = (out[t] ?? 0) + 1;
  return out;
}
