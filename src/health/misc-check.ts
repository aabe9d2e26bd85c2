// MISC_CHECK (keepalived check_misc.c): run misc_path and judge by its exit status. The program and its
// arguments are an argument vector, executed directly: never through a shell. It runs in its own process group,
// and on misc_timeout (default: delay_loop) or abort the whole group is killed with SIGKILL, so helpers it
// started die with it; the attempt settles only once the program has exited.
// Exit status: 0 = up. Without misc_dynamic anything else is down. With misc_dynamic, 1 = down and 2..255 = up
// with weight status-2 (keepalived: "exit status of 255 would set weight to 253"). Death by a signal is down.
import { spawn } from 'node:child_process';
import { errorReason, runAttempt } from './attempt';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

/** How long a killed program may take to be reaped before the attempt settles anyway. */
const REAP_WAIT_MS = 1000;

/** keepalived's reading of an exit status (code) or death by a signal (code null). */
export function miscVerdict(code: number | null, signal: NodeJS.Signals | null, dynamic = false): CheckResult {
  if (code === null) return { ok: false, reason: `killed by ${signal ?? 'a signal'}` };
  if (code === 0) return { ok: true, reason: 'exit 0' };
  if (dynamic && code >= 2 && code <= 255) return { ok: true, reason: `exit ${code}, weight ${code - 2}`, weight: code - 2 };
  return { ok: false, reason: `exit ${code}` };
}

export const miscCheck: Checker = {
  kind: 'MISC_CHECK',
  check(_t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
    const argv = spec.miscPath ?? [];
    if (argv.length === 0 || !argv[0]) return Promise.resolve({ ok: false, reason: 'no misc_path' });
    const timeoutS = spec.miscTimeout ?? spec.delayLoop;
    return runAttempt(signal, timeoutS, (finish) => {
      let exited = false;
      let reaped: () => void = () => undefined;
      const gone = new Promise<void>((resolve) => (reaped = resolve));
      const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', shell: false });
      child.once('error', (e) => {
        exited = true;
        reaped();
        finish({ ok: false, reason: errorReason(e) });
      });
      child.once('exit', (code, sig) => {
        exited = true;
        reaped();
        finish(miscVerdict(code, sig, spec.miscDynamic));
      });
      return () => {
        if (exited || child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL'); // the group: the program and whatever it started
        } catch {
          child.kill('SIGKILL');
        }
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, REAP_WAIT_MS)));
        return Promise.race([gone, late]).finally(() => clearTimeout(timer));
      };
    });
  },
};
