// A capture worker process: one whole data path (capture, tables, rewrite, emit) on its share of the flows,
// started from the control plane's config and kept in step by the edits it forwards (worker/pool.ts).
import { Daemon } from '../daemon';
import { ioMakers } from '../io/backend';
import { createLogger } from '../log';
import type { FromWorker, ToWorker, WorkerBoot } from './pool';
import { fromWire } from './wire-config';

const REPORT_MS = 1000;

/** The first message from the parent says which share of the flows this worker takes. */
const booted = new Promise<WorkerBoot>((resolve) => {
  process.once('message', (m: ToWorker) => {
    if (m.kind === 'boot') resolve(m.boot);
  });
});

// The parent's channel closing means lvsd is gone (even by SIGKILL): a worker never outlives it.
process.on('disconnect', () => process.exit(0));

async function main(): Promise<void> {
  const boot = await booted;
  const log = createLogger().child({ worker: boot.shard.index });
  const post = (m: FromWorker): void => {
    process.send?.(m);
  };
  let daemon: Daemon;
  try {
    daemon = new Daemon(fromWire(boot.config), {
      socket: '', log, fence: false, shard: boot.shard,
      ...ioMakers(boot.config.io, log),
    });
    await daemon.start();
  } catch (err) {
    process.send?.({ kind: 'failed', error: (err as Error).message } satisfies FromWorker, () => process.exit(1));
    return;
  }
  const report = setInterval(() => post({ kind: 'report', open: daemon.drainReport() }), REPORT_MS);
  process.on('message', (m: ToWorker) => {
    if (m.kind === 'edit') {
      try {
        daemon.applyEdit(m.cmd, m.args);
      } catch (err) {
        // The control plane applied this edit before sending it: a refusal here means the tables differ.
        log.error({ cmd: m.cmd, err: (err as Error).message }, 'worker could not apply an edit the control plane applied');
      }
    } else if (m.kind === 'ask') {
      try {
        post({ kind: 'answer', id: m.id, result: daemon.answer(m.op, m.args) });
      } catch (err) {
        post({ kind: 'answer', id: m.id, error: (err as Error).message });
      }
    } else if (m.kind === 'stop') {
      clearInterval(report);
      daemon.stop();
      process.exit(0);
    }
  });
  log.info({ shard: boot.shard }, 'capture worker started');
  post({ kind: 'ready' });
}

void main();
