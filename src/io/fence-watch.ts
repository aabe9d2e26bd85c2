// Keeps the kernel fence in place: a table deleted or a chain flushed by hand (`nft delete table netdev userlvs`,
// `nft flush ruleset`) would let the director's kernel answer VIP:port with RST beside us. One long-lived
// `nft monitor` reports ruleset changes as they happen (no fork per check, no CPU while nothing changes); any line
// naming our table triggers a check that lists the table and compares it with what the last apply left, and a
// difference re-runs the last script, with a warning. A slow poll backs the monitor up (a missed event, a monitor
// that died). A killed daemon's monitor dies at the next ruleset change, when its write to the closed pipe fails.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log';
import { listTableAsync, type Fence } from './fence';

export interface FenceWatchOptions {
  /** The backstop check's period (ms). */
  pollMs?: number;
  /** Events come in bursts (a flush is one line per rule): one check this long after the first. */
  settleMs?: number;
  /** Run `nft monitor` (tests of the poll alone turn it off). */
  monitor?: boolean;
  /** How the live table is read; nft in production. */
  list?: (table: string) => Promise<string | null>;
  /** The monitor's argv (tests run it inside a scratch namespace). */
  monitorCommand?: readonly string[];
}

const DEFAULT_POLL_MS = 10_000;
const DEFAULT_SETTLE_MS = 100;
const RESTART_MIN_MS = 1000;
const LIST_RETRY_MS = 1000;
const RESTART_MAX_MS = 60_000;

export class FenceWatch {
  /** Times the table was found changed and put back. */
  restores = 0;
  /** Checks run (each one `nft list table`). */
  checks = 0;
  private monitor: ChildProcess | null = null;
  private poll: NodeJS.Timeout | null = null;
  private pending: NodeJS.Timeout | null = null;
  private restartIn = RESTART_MIN_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private running = false;
  private checking: Promise<void> | null = null;
  private again = false;
  private listFailing = false;
  private readonly mentions: RegExp;
  private readonly list: (table: string) => Promise<string | null>;

  constructor(private readonly fence: Fence, private readonly log: Logger, private readonly opts: FenceWatchOptions = {}) {
    this.mentions = new RegExp(`\\bnetdev ${fence.table}(\\s|$)`, 'm');
    this.list = opts.list ?? listTableAsync;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.monitor !== false) this.startMonitor();
    this.poll = setInterval(() => this.schedule(0), this.opts.pollMs ?? DEFAULT_POLL_MS);
    this.poll.unref();
  }

  stop(): void {
    this.running = false;
    for (const t of [this.poll, this.pending, this.restartTimer, this.retry]) if (t) clearTimeout(t);
    this.poll = this.pending = this.restartTimer = this.retry = null;
    const m = this.monitor;
    this.monitor = null;
    if (m && m.exitCode === null) m.kill('SIGTERM');
  }

  /** Compare the live table with the last apply now; put it back if it differs. Resolves when done. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true; // a change seen during a check gets a check of its own
      return this.checking;
    }
    this.checking = this.runCheck().finally(() => {
      this.checking = null;
      if (this.again && this.running) {
        this.again = false;
        this.schedule(0);
      }
    });
    return this.checking;
  }

  private schedule(delayMs: number): void {
    if (!this.running || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.check();
    }, delayMs);
  }

  private async runCheck(): Promise<void> {
    if (!this.fence.active) return;
    const gen = this.fence.generation;
    let live: string | null;
    this.checks++;
    try {
      live = await this.list(this.fence.table);
    } catch (err) {
      if (!this.listFailing) this.log.warn({ table: this.fence.table, err: (err as Error).message }, 'cannot list the nftables fence to check it');
      this.listFailing = true;
      if (!this.retry) this.retry = setTimeout(() => {
        this.retry = null;
        this.schedule(0);
      }, LIST_RETRY_MS); // nft can fail on a busy ruleset (an interrupted dump): look again soon, not at the poll
      this.retry?.unref();
      return;
    }
    this.listFailing = false;
    // lvsd applied the fence while nft was listing: that listing says nothing about the new table.
    if (gen !== this.fence.generation || !this.running) {
      this.again = this.running;
      return;
    }
    if (this.fence.matches(live)) return;
    const found = live === null ? 'table missing' : 'table changed';
    try {
      this.fence.restore();
      this.restores++;
      this.log.warn({ table: this.fence.table, found, restores: this.restores }, 'nftables fence was changed outside lvsd: restored');
    } catch (err) {
      this.log.error({ table: this.fence.table, found, err: (err as Error).message }, 'nftables fence was changed outside lvsd and cannot be restored');
    }
  }

  private startMonitor(): void {
    let child: ChildProcess;
    try {
      const [cmd, ...args] = this.opts.monitorCommand ?? ['nft', 'monitor'];
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.monitorGone(`cannot run nft monitor: ${(err as Error).message}`);
      return;
    }
    this.monitor = child;
    let carry = '';
    let errText = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const text = carry + chunk;
      const nl = text.lastIndexOf('\n');
      carry = nl < 0 ? text : text.slice(nl + 1);
      if (nl >= 0 && this.mentions.test(text.slice(0, nl))) this.schedule(this.opts.settleMs ?? DEFAULT_SETTLE_MS);
      if (carry.length > 4096) carry = carry.slice(-256);
      this.restartIn = RESTART_MIN_MS; // it works: a later death restarts it promptly
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (errText.length < 1000) errText += chunk;
    });
    child.once('error', (err) => this.monitorGone(`nft monitor: ${err.message}`, child));
    child.once('exit', (code, signal) => this.monitorGone(`nft monitor exited (${signal ?? `status ${code}`}) ${errText.trim()}`.trim(), child));
  }

  /** The monitor died: check now (events may be lost), and start it again, backing off while it keeps failing. */
  private monitorGone(why: string, child?: ChildProcess): void {
    if (child && child !== this.monitor) return; // a stopped one, or one already handled ('error' then 'exit')
    this.monitor = null;
    if (!this.running) return;
    this.log.warn({ table: this.fence.table, why, retryInMs: this.restartIn }, 'fence monitor stopped; checking by poll until it restarts');
    this.schedule(0);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.running) this.startMonitor();
    }, this.restartIn);
    this.restartTimer.unref();
    this.restartIn = Math.min(RESTART_MAX_MS, this.restartIn * 2);
  }
}
