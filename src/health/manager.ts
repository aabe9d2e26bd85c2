// The health manager: keepalived's checker loop (check_api.c, ipwrapper.c), off the packet path. Each
// (real server, checker) pair runs its own loop of timers and async attempts, so a check that hangs delays only
// itself. A failed attempt of an up checker is retried `retry` times, `delayBeforeRetry` apart; a run that fails
// them all is a failed run, a successful attempt is a successful run. `fall` failed runs in a row take the
// checker down and `rise` successful ones bring it up (both 1 by default: keepalived's behaviour). The real
// server is up only while none of its checkers is down (keepalived's num_failed_checkers == 0), and starts up,
// or down with `alpha`. Verdicts go out through onChange; the manager never edits the service tables itself.
import type { Logger } from '../log';
import { findChecker } from './index';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

export { quorumState } from './quorum';

/** What a real server's health is, as the daemon and lvsadm see it. */
export interface HealthState {
  up: boolean;
  /** "HTTP_GET: status 503 for /health", "TCP_CHECK: connected", "not checked yet". */
  reason: string;
  /** When `up` last changed (or the server was added), in the manager's clock (ms). */
  since: number;
  /** MISC_CHECK misc_dynamic: the weight the program last asked for. */
  weight?: number;
}

/** One checker of a real server, for listings. */
export interface CheckerState {
  kind: CheckerSpec['kind'];
  up: boolean;
  /** The last attempt's reason. */
  reason: string;
  /** Retries used in the current run (0 when not retrying). */
  retrying: number;
  /** When the last attempt ended (manager clock, ms); 0 before the first. */
  lastCheck: number;
}

export interface HealthManagerOptions {
  /** A real server went up or down, or (while up) its misc_dynamic weight changed. Called synchronously; may throw (logged). */
  onChange(key: string, up: boolean, reason: string, weight?: number): void;
  log?: Logger;
  /** The clock for `since` and `lastCheck` (ms); Date.now by default. Loop delays always use real timers. */
  now?: () => number;
  /** Checkers beside (or instead of) the registry's, by kind: the daemon's VIP_PATH checker. */
  checkers?: readonly Checker[];
  /** Unref the loop timers (default true) so they never keep the process alive on their own. */
  unrefTimers?: boolean;
}

export interface HealthOptions {
  /** keepalived alpha: start down, until the checks pass. */
  alpha?: boolean;
  /** Successful runs in a row before a down checker is up (default 1). */
  rise?: number;
  /** Failed runs in a row before an up checker is down (default 1). */
  fall?: number;
}

/** The shortest pause between two attempts of one loop, whatever the delays say. */
const MIN_GAP_MS = 10;

interface Loop {
  readonly spec: CheckerSpec;
  readonly checker: Checker;
  up: boolean;
  okRuns: number;
  failRuns: number;
  retryIt: number;
  reason: string;
  lastCheck: number;
  timer?: NodeJS.Timeout;
  inflight?: Promise<void>;
  readonly ac: AbortController;
  stopped: boolean;
}

interface Entry {
  readonly key: string;
  readonly target: CheckTarget;
  readonly rise: number;
  readonly fall: number;
  readonly loops: Loop[];
  up: boolean;
  reason: string;
  since: number;
  weight?: number;
}

export class HealthManager {
  private readonly entries = new Map<string, Entry>();
  private readonly extra = new Map<string, Checker>();
  private readonly now: () => number;
  private readonly unref: boolean;

  constructor(private readonly opts: HealthManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.unref = opts.unrefTimers ?? true;
    for (const c of opts.checkers ?? []) this.extra.set(c.kind, c);
  }

  /**
   * Start checking a real server (replacing any under the same key) and return its starting state; onChange
   * reports only later changes. No specs: always up. Throws if a spec's kind has no checker.
   */
  add(key: string, target: CheckTarget, specs: readonly CheckerSpec[], opts: HealthOptions = {}): HealthState {
    const checkers = specs.map((s) => {
      const c = this.extra.get(s.kind) ?? findChecker(s.kind);
      if (!c) throw new Error(`no health checker for ${s.kind}`);
      return c;
    });
    if (this.entries.has(key)) void this.remove(key);
    const alpha = opts.alpha ?? false;
    const e: Entry = {
      key,
      target,
      rise: Math.max(1, opts.rise ?? 1),
      fall: Math.max(1, opts.fall ?? 1),
      loops: specs.map((spec, i) => ({
        spec,
        checker: checkers[i],
        up: !alpha,
        okRuns: 0,
        failRuns: 0,
        retryIt: 0,
        reason: 'not checked yet',
        lastCheck: 0,
        ac: new AbortController(),
        stopped: false,
      })),
      up: !alpha || specs.length === 0,
      reason: specs.length === 0 ? 'no checker' : alpha ? 'alpha: down until checked' : 'not checked yet',
      since: this.now(),
    };
    this.entries.set(key, e);
    for (const l of e.loops) this.schedule(e, l, 0);
    return this.snapshot(e);
  }

  /** Stop checking a real server: its timers are cleared and its checks aborted; resolves once they have settled. */
  remove(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return Promise.resolve();
    this.entries.delete(key);
    return this.halt(e);
  }

  state(key: string): HealthState | undefined {
    const e = this.entries.get(key);
    return e && this.snapshot(e);
  }

  states(): Map<string, HealthState> {
    const out = new Map<string, HealthState>();
    for (const [k, e] of this.entries) out.set(k, this.snapshot(e));
    return out;
  }

  /** Each checker of a real server, in the order given to add(). */
  checkers(key: string): CheckerState[] | undefined {
    return this.entries.get(key)?.loops.map((l) => ({
      kind: l.spec.kind,
      up: l.up,
      reason: l.reason,
      retrying: l.retryIt,
      lastCheck: l.lastCheck,
    }));
  }

  /** Stop everything: every timer cleared, every pending check aborted; resolves when no socket or process is left. */
  async stop(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => this.halt(e)));
  }

  private halt(e: Entry): Promise<void> {
    for (const l of e.loops) {
      l.stopped = true;
      clearTimeout(l.timer);
      l.timer = undefined;
      l.ac.abort();
    }
    return Promise.all(e.loops.map((l) => l.inflight)).then(() => undefined);
  }

  private snapshot(e: Entry): HealthState {
    const s: HealthState = { up: e.up, reason: e.reason, since: e.since };
    if (e.weight !== undefined) s.weight = e.weight;
    return s;
  }

  private schedule(e: Entry, l: Loop, delayS: number): void {
    if (l.stopped) return;
    l.timer = setTimeout(() => {
      l.timer = undefined;
      l.inflight = this.attempt(e, l);
    }, Math.max(MIN_GAP_MS, delayS * 1000));
    if (this.unref) l.timer.unref();
  }

  private async attempt(e: Entry, l: Loop): Promise<void> {
    let r: CheckResult;
    try {
      r = await l.checker.check(e.target, l.spec, l.ac.signal);
    } catch (err) {
      // The Checker contract says never; a broken one is a failed check, not a dead loop.
      r = { ok: false, reason: `checker threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    l.inflight = undefined;
    if (l.stopped) return;
    l.lastCheck = this.now();
    l.reason = r.reason;
    let next: number;
    if (r.ok) {
      l.retryIt = 0;
      this.run(e, l, r);
      next = l.spec.delayLoop;
    } else if (l.up && l.retryIt < l.spec.retry) {
      l.retryIt++;
      this.opts.log?.debug({ rs: e.key, checker: l.spec.kind, reason: r.reason, retry: l.retryIt }, 'health check failed, retrying');
      next = l.spec.delayBeforeRetry;
    } else {
      l.retryIt = 0;
      this.run(e, l, r);
      next = l.spec.delayLoop;
    }
    this.schedule(e, l, next);
  }

  /** A run's outcome: count it towards rise/fall, then settle the real server's verdict. */
  private run(e: Entry, l: Loop, r: CheckResult): void {
    const prevWeight = e.weight;
    if (r.ok) {
      l.failRuns = 0;
      l.okRuns++;
      if (r.weight !== undefined) e.weight = r.weight;
      if (!l.up && l.okRuns >= e.rise) l.up = true;
    } else {
      l.okRuns = 0;
      l.failRuns++;
      if (l.up && l.failRuns >= e.fall) l.up = false;
      if (l.up) this.opts.log?.debug({ rs: e.key, checker: l.spec.kind, reason: r.reason }, 'health check failed');
    }
    const down = e.loops.find((x) => !x.up);
    const up = down === undefined;
    if (up !== e.up) {
      e.up = up;
      e.since = this.now();
      e.reason = `${(down ?? l).spec.kind}: ${(down ?? l).reason}`;
      this.opts.log?.info({ rs: e.key, reason: e.reason, weight: e.weight }, up ? 'real server up' : 'real server down');
      this.notify(e);
    } else if (!up) {
      e.reason = `${down.spec.kind}: ${down.reason}`;
    } else if (e.weight !== prevWeight) {
      e.reason = `${l.spec.kind}: ${r.reason}`;
      this.opts.log?.info({ rs: e.key, weight: e.weight }, 'real server weight set by its checker');
      this.notify(e);
    }
  }

  private notify(e: Entry): void {
    try {
      this.opts.onChange(e.key, e.up, e.reason, e.weight);
    } catch (err) {
      this.opts.log?.error({ rs: e.key, err }, 'health onChange failed');
    }
  }
}
