// lvsadm top: the live table, redrawn every interval from lvsd's `list` and `status` (ipvsadm -L -n --rate with
// the connection counts, health and drains beside it, and the daemon's drops on top). renderTop() is pure; main()
// polls and draws, and with --once (or when stdout is not a terminal) prints plain frames for scripts and CI.
import { request } from '../control/client';
import { LvsError } from '../control/errors';
import { destLabel, forwardLabel, serviceLabel, sortedServices } from '../control/format-list';
import { largenum } from '../control/format-stats';
import { socketPath, type DestView, type ListResult, type ServiceView } from '../control/protocol';
import { FORWARDED_VERDICTS, isDrop } from '../metrics/verdicts';

export const TOP_USAGE = 'Usage: lvsadm top [--socket PATH] [--interval SECONDS] [--once]\n';

export interface TopOptions {
  socket?: string;
  /** Seconds between redraws (default 1). */
  interval: number;
  once: boolean;
}

export function parseTopArgs(argv: string[]): TopOptions {
  const o: TopOptions = { interval: 1, once: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=')
      ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new LvsError('EUSAGE', `lvsadm top: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--once': o.once = true; break;
      case '--socket': o.socket = value(); break;
      case '--interval': {
        const text = value();
        const s = Number(text);
        if (!/^\d+(\.\d+)?$/.test(text) || s < 0.1) throw new LvsError('EUSAGE', `lvsadm top: --interval must be a number of seconds >= 0.1, got "${text}"`);
        o.interval = s;
        break;
      }
      default: throw new LvsError('EUSAGE', `lvsadm top: unknown option "${argv[i]}"`);
    }
  }
  return o;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const record = (v: unknown): Record<string, unknown> =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** 3725 -> "1h02m05s", 59 -> "59s". */
export function uptime(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  const two = (x: number): string => String(x).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h${two(m)}m`;
  if (h > 0) return `${h}h${two(m)}m${two(s % 60)}s`;
  return m > 0 ? `${m}m${two(s % 60)}s` : `${s}s`;
}

/** The header: uptime, table fill, forwarded packets, drops by reason (malformed by kind), capture errors. */
function header(status: Record<string, unknown>): string[] {
  const verdicts = record(status.verdicts);
  const conns = num(status.conns);
  const max = num(status.connMax);
  const fill = max > 0 ? ` (${((100 * conns) / max).toFixed(1)}%)` : '';
  const ifaces = Array.isArray(status.interfaces) ? ` on ${status.interfaces.join(',')}` : '';
  const forwarded = FORWARDED_VERDICTS.reduce((n, k) => n + num(verdicts[k]), 0);
  const lines = [`lvsd${ifaces}, up ${uptime(num(status.uptime))}   conns ${conns}/${max}${fill}   forwarded ${forwarded}`];
  const malformed = Object.entries(record(status.parseErrors)).filter(([, v]) => num(v) > 0).map(([k, v]) => `${k} ${num(v)}`);
  const drops = Object.entries(verdicts).filter(([k, v]) => isDrop(k) && num(v) > 0)
    .map(([k, v]) => `${k} ${num(v)}${k === 'malformed' && malformed.length > 0 ? ` (${malformed.join(', ')})` : ''}`);
  lines.push(`drops: ${drops.length > 0 ? drops.join(', ') : 'none'}`);
  const capture = (Array.isArray(status.capture) ? status.capture : []).map(record).filter((c) => num(c.handlerErrors) > 0);
  if (capture.length > 0) lines.push(`capture handler errors: ${capture.map((c) => `${String(c.interface)} ${num(c.handlerErrors)}`).join(', ')}`);
  return lines;
}

/** A real server's state: its health verdict (or "-" when unchecked), then its drain when it drains. */
function destState(d: DestView): string {
  const health = d.health ? (d.health.up ? 'up' : `down: ${d.health.reason}`) : '';
  const drain = d.drain ? `draining: ${d.drain.open} open, ${d.drain.left}s left` : '';
  return [health, drain].filter((x) => x !== '').join(', ') || '-';
}

/** A service's state: how many of its checked real servers are up. */
function serviceState(s: ServiceView): string {
  const checked = s.dests.filter((d) => d.health);
  return checked.length > 0 ? `${checked.filter((d) => d.health!.up).length}/${checked.length} up` : '';
}

const RATE_COLS = ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'];

/** One frame of lvsadm top, plain text (no escapes), services and real servers in ipvsadm's order. */
export function renderTop(list: ListResult, status: Record<string, unknown>): string {
  const services = sortedServices(list);
  const label = (s: ServiceView): string => `${serviceLabel(s)} ${s.scheduler}`;
  const width = Math.max(28, ...services.flatMap((s) => [label(s).length, ...s.dests.map((d) => 5 + destLabel(s, d).length)]));
  const row = (name: string, how: string, weight: string, active: number, inact: number, rates: number[] | undefined, state: string): string =>
    `${name.padEnd(width)} ${how.padEnd(7)} ${weight.padStart(6)} ${String(active).padStart(10)} ${String(inact).padStart(10)}` +
    `${[0, 1, 2, 3, 4].map((k) => largenum(rates?.[k])).join('')}  ${state}`.trimEnd();
  const lines = [...header(status), ''];
  lines.push(`${'Prot LocalAddress:Port Sched'.padEnd(width)} ${'Forward'.padEnd(7)} ${'Weight'.padStart(6)} ` +
    `${'ActiveConn'.padStart(10)} ${'InActConn'.padStart(10)}${RATE_COLS.map((c) => c.padStart(9)).join('')}  Health`);
  if (services.length === 0) lines.push('(no virtual services)');
  for (const s of services) {
    const sum = (f: (d: DestView) => number): number => s.dests.reduce((n, d) => n + f(d), 0);
    lines.push(row(label(s), '', '', sum((d) => d.activeConns), sum((d) => d.inactConns), s.rates, serviceState(s)));
    for (const d of s.dests) {
      lines.push(row(`  -> ${destLabel(s, d)}`, forwardLabel(d.forward), String(d.weight), d.activeConns, d.inactConns, d.rates, destState(d)));
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface TopIo {
  out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number; rows?: number };
  err: { write(s: string): boolean };
  in: NodeJS.ReadStream | null;
}

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[?25l';
const ALT_SCREEN_OFF = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_EOL = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** One poll: the frame, or what went wrong (lvsd down, a refusal) in its place. */
async function frame(sock: string): Promise<string> {
  const [list, status] = await Promise.all([request(sock, 'list'), request(sock, 'status')]);
  return renderTop(list as ListResult, record(status));
}

/** Fit a frame to the terminal: lines cut at its width, the frame at its height, each line erased to its end. */
function fit(text: string, columns: number | undefined, rows: number | undefined): string {
  let lines = text.replace(/\n$/, '').split('\n');
  if (rows) lines = lines.slice(0, rows);
  return `${HOME}${lines.map((l) => (columns ? l.slice(0, columns) : l) + CLEAR_EOL).join('\n')}${CLEAR_BELOW}`;
}

export async function main(argv: string[], io: TopIo = { out: process.stdout, err: process.stderr, in: process.stdin }): Promise<number> {
  let o: TopOptions;
  try {
    o = parseTopArgs(argv);
  } catch (err) {
    io.err.write(`${(err as Error).message}\n${TOP_USAGE}`);
    return 2;
  }
  const sock = socketPath(o.socket);
  if (o.once) {
    try {
      io.out.write(await frame(sock));
      return 0;
    } catch (err) {
      io.err.write(`${(err as Error).message}\n`);
      return err instanceof LvsError && !['ECONNREFUSED', 'ETIMEDOUT', 'EPROTO'].includes(err.code) ? 1 : 2;
    }
  }
  return loop(o, sock, io);
}

/** Redraw until q, Ctrl-C or a signal; the terminal is put back as it was however the loop ends. */
async function loop(o: TopOptions, sock: string, io: TopIo): Promise<number> {
  const tty = io.out.isTTY === true;
  const keys = tty && io.in?.isTTY ? (io.in as NodeJS.ReadStream) : null;
  let stopped = false;
  let wake = (): void => {};
  const stop = (): void => {
    stopped = true;
    wake();
  };
  const onKey = (b: Buffer): void => {
    const k = b.toString('latin1');
    if (k === 'q' || k === 'Q' || k === '\x03' || k === '\x04') stop();
    else wake(); // any other key redraws now
  };
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (keys) {
      keys.off('data', onKey);
      keys.setRawMode(false);
      keys.pause();
    }
    if (tty) io.out.write(ALT_SCREEN_OFF);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('exit', restore);
  try {
    if (tty) io.out.write(ALT_SCREEN_ON);
    if (keys) {
      keys.setRawMode(true);
      keys.resume();
      keys.on('data', onKey);
    }
    while (!stopped) {
      const text = await frame(sock).catch((err: unknown) => `${(err as Error).message}\n(retrying every ${o.interval}s; q to quit)\n`);
      if (stopped) break;
      const stamp = `${new Date().toISOString().slice(11, 19)}  every ${o.interval}s${keys ? ', q quits' : ''}\n`;
      io.out.write(tty ? fit(stamp + text, io.out.columns, io.out.rows) : `${stamp}${text}\n`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.interval * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return 0;
  } finally {
    restore();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('exit', restore);
  }
}
