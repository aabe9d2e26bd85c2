// One check attempt's bookkeeping, shared by the checkers: it settles once, within a deadline, and the abort
// signal ends it early. The work returns its cleanup (destroy the socket, kill the process group), which runs
// exactly once whichever of result, deadline or abort comes first; the attempt resolves after it.
import type { CheckResult } from './types';

export type Finish = (r: CheckResult) => void;
type Cleanup = () => void | Promise<void>;

export const ABORTED: CheckResult = { ok: false, reason: 'aborted' };

/** Seconds as people write them: 3 -> "3", 0.25 -> "0.25". */
export const fmtSeconds = (s: number): string => String(Math.round(s * 1000) / 1000);

export const timeoutReason = (s: number): string => `timeout after ${fmtSeconds(s)} s`;

/** "connect ECONNREFUSED", "read ECONNRESET", "ERR_SSL_WRONG_VERSION_NUMBER", or the message. */
export function errorReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const { code, syscall } = e as NodeJS.ErrnoException;
  const what = code ?? e.message;
  return syscall ? `${syscall} ${what}` : what;
}

/**
 * Run `start` with a deadline of `timeoutS` seconds and the abort signal. `start` begins the work, calls
 * `finish` with the outcome (any number of times; the first wins) and returns its cleanup. Never rejects.
 */
export function runAttempt(signal: AbortSignal, timeoutS: number, start: (finish: Finish) => Cleanup): Promise<CheckResult> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve) => {
    let result: CheckResult | undefined;
    let cleanup: Cleanup | undefined;
    let started = false;
    const settle = (): void => {
      let p: void | Promise<void> = undefined;
      try {
        p = cleanup?.();
      } catch {
        // cleanup is best effort: the outcome is already known
      }
      const r = result!;
      if (p) p.then(() => resolve(r), () => resolve(r));
      else resolve(r);
    };
    const finish: Finish = (r) => {
      if (result) return;
      result = r;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (started) settle(); // else: start() is still running; settled when it returns its cleanup
    };
    const onAbort = (): void => finish(ABORTED);
    const timer = setTimeout(() => finish({ ok: false, reason: timeoutReason(timeoutS) }), Math.max(0, timeoutS * 1000));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(finish);
    } catch (e) {
      finish({ ok: false, reason: errorReason(e) });
    }
    started = true;
    if (result) settle();
  });
}
