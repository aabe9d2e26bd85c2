// lvsadm's main() run in-process against a stand-in lvsd (a ControlServer on a unix socket answering from the
// golden table), with stdout and stderr captured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { vi } from 'vitest';
import { main } from '../../../../src/cli/lvsadm';
import { ControlServer, type Handler } from '../../../../src/control/server';
import { CONNS, TABLE, TIMEOUTS } from './table';

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** main(argv) with stdout/stderr captured; the socket is whatever argv names (or none). */
export async function runMain(argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** A stand-in lvsd serving the golden table; call start() before and stop() after. */
export function fakeDaemon(handlers: Record<string, Handler> = {}): { sock: string; start(): Promise<void>; stop(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lvsadm-test-'));
  const sock = join(dir, 'lvsd.sock');
  const server = new ControlServer(sock, {
    list: () => TABLE,
    conns: () => ({ conns: CONNS, truncated: false }),
    timeouts: () => TIMEOUTS,
    daemonStatus: () => [],
    ...handlers,
  }, pino({ level: 'silent' }));
  return {
    sock,
    start: () => server.listen(),
    stop: () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
