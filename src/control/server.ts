// The daemon end of the control socket, one JSON request per line. Whoever can connect can change the table,
// so the socket is root's and mode 0600; with a group configured it is root:group and 0660. It is created under a
// umask of 0177, so it is never open wider than that, not even between bind() and chmod().
import { chmodSync, chownSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log';
import { LvsError } from './errors';
import { PROTOCOL_VERSION, type Request, type Response } from './protocol';

export type Handler = (args: Record<string, unknown>) => unknown;

export interface ControlAccess {
  /** The group allowed to use the socket besides root (its gid); the mode is then 0660. */
  gid?: number;
}

const MAX_LINE = 1 << 20;

export class ControlServer {
  private server: Server | null = null;

  constructor(
    private readonly path: string, private readonly handlers: Record<string, Handler>, private readonly log: Logger,
    private readonly access: ControlAccess = {},
  ) {}

  async listen(): Promise<void> {
    await this.clearStale();
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // bind() happens inside listen(), synchronously: the umask covers exactly the socket's creation.
      const umask = setUmask(0o177);
      try {
        server.listen(this.path, () => resolve());
      } finally {
        if (umask !== null) setUmask(umask);
      }
    });
    try {
      if (this.access.gid !== undefined) {
        chownSync(this.path, process.getuid?.() ?? 0, this.access.gid);
        chmodSync(this.path, 0o660);
      } else {
        chmodSync(this.path, 0o600);
      }
    } catch (err) {
      server.close();
      throw new Error(`control socket ${this.path}: cannot set its owner and mode: ${(err as Error).message}`);
    }
    this.server = server;
  }

  close(): void {
    this.server?.close();
    this.server = null;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }

  /** A socket file left by a killed daemon is removed; one that still answers means another lvsd runs. */
  private async clearStale(): Promise<void> {
    if (!existsSync(this.path)) return;
    const alive = await new Promise<boolean>((resolve) => {
      const c = createConnection(this.path);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`another lvsd is already listening on ${this.path}`);
    unlinkSync(this.path);
    this.log.warn({ socket: this.path }, 'removed stale control socket');
  }

  private serve(sock: Socket): void {
    let buf = '';
    let queue: Promise<void> = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) {
        sock.end(JSON.stringify(fail('E2BIG', 'request too large')) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) {
          // Answers go back in request order even when a handler is asynchronous (a health probe).
          const answer = this.handle(line);
          queue = queue.then(async () => {
            if (!sock.destroyed) sock.write(JSON.stringify(await answer) + '\n');
          });
        }
      }
    });
    sock.on('error', () => sock.destroy());
  }

  private async handle(line: string): Promise<Response> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      return fail('EPROTO', 'request is not JSON');
    }
    if (req.v !== PROTOCOL_VERSION) return fail('EPROTO', `protocol version ${String(req.v)} not supported (lvsd speaks ${PROTOCOL_VERSION})`);
    const h = Object.hasOwn(this.handlers, req.cmd) ? this.handlers[req.cmd] : undefined;
    if (!h) return fail('ENOSYS', `unknown command ${JSON.stringify(req.cmd)}`);
    try {
      return { v: PROTOCOL_VERSION, ok: true, result: await h(req.args ?? {}) };
    } catch (err) {
      if (err instanceof LvsError) return fail(err.code, err.message);
      this.log.error({ err, cmd: req.cmd }, 'control command failed');
      return fail('EINTERNAL', (err as Error).message);
    }
  }
}

const fail = (code: string, message: string): Response => ({ v: PROTOCOL_VERSION, ok: false, error: { code, message } });

/** process.umask(mask), returning the old one; null where it cannot be set (a worker thread). */
function setUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}
