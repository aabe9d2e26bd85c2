// The control plane's side of the capture workers: worker 0 is the main process itself (it also runs the control
// socket, health checks, metrics and the fence); workers 1..N-1 are child processes, each a whole data path of
// its own (capture, tables, rewrite, emit) on its share of the flows. Edits reach them as the same named commands
// the main process applied, in order, so their service tables stay identical; views are asked for and added up.
// Processes, not worker_threads: node-pcap's and raw-socket's addons are not context-aware and refuse to load in a
// second thread ("Module did not self-register"). A worker exits when its parent's channel closes, so a killed
// lvsd leaves no workers behind.
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log';
import type { Shard } from '../io/steer';
import type { WireConfig } from './wire-config';

/** What a worker is started with. */
export interface WorkerBoot {
  config: WireConfig;
  shard: Shard;
}

/** Messages main -> worker. */
export type ToWorker =
  | { kind: 'edit'; cmd: string; args: Record<string, unknown> }
  | { kind: 'ask'; id: number; op: string; args: Record<string, unknown> }
  | { kind: 'boot'; boot: WorkerBoot }
  | { kind: 'stop' };

/** Messages worker -> main. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'failed'; error: string }
  | { kind: 'answer'; id: number; result?: unknown; error?: string }
  | { kind: 'report'; open: [number, number][] };

const START_TIMEOUT_MS = 20_000;
const ASK_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 2_000;

interface Member {
  worker: ChildProcess;
  /** Open connections per draining RS id, from the worker's last tick report. */
  open: Map<number, number>;
}

export class WorkerPool {
  private readonly members: Member[] = [];
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private stopping = false;

  constructor(private readonly script: string, private readonly log: Logger) {}

  get size(): number {
    return this.members.length;
  }

  /** Start workers 1..count-1 and wait until each has its capture open (or refuse, naming the worker). */
  async start(config: WireConfig, count: number): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let index = 1; index < count; index++) {
      const boot: WorkerBoot = { config, shard: { index, count } };
      // Advanced serialization: structured clone over the IPC channel, as between threads.
      const worker = fork(this.script, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      worker.send({ kind: 'boot', boot } satisfies ToWorker);
      const m: Member = { worker, open: new Map() };
      this.members.push(m);
      ready.push(new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${index} did not start in ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
        worker.on('message', (msg: FromWorker) => {
          if (msg.kind === 'ready') {
            clearTimeout(timer);
            resolve();
          } else if (msg.kind === 'failed') {
            clearTimeout(timer);
            reject(new Error(`worker ${index}: ${msg.error}`));
          } else this.onMessage(m, msg);
        });
        worker.on('error', (err) => {
          clearTimeout(timer);
          this.log.error({ worker: index, err }, 'capture worker failed');
          reject(err);
        });
        worker.on('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`worker ${index} exited (${signal ?? code}) before it was ready`));
          if (!this.stopping) this.log.error({ worker: index, code, signal }, 'capture worker exited');
        });
      }));
    }
    await Promise.all(ready);
  }

  /** An edit the control plane has applied (and so validated): every worker applies it next, in order. */
  broadcast(cmd: string, args: Record<string, unknown>): void {
    for (const m of this.members) m.worker.send({ kind: 'edit', cmd, args } satisfies ToWorker);
  }

  /** Ask every worker; answers come in worker order. */
  askAll<T>(op: string, args: Record<string, unknown> = {}): Promise<T[]> {
    return Promise.all(this.members.map((_m, i) => this.ask<T>(i + 1, op, args)));
  }

  /** Ask worker `index` (1..size). */
  ask<T>(index: number, op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${index} did not answer ${op}`));
      }, ASK_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.members[index - 1].worker.send({ kind: 'ask', id, op, args } satisfies ToWorker);
    });
  }

  /** Open connections of a RS in the other workers (a draining RS waits for all of them). */
  openConns(destId: number): number {
    return this.members.reduce((n, m) => n + (m.open.get(destId) ?? 0), 0);
  }

  /** Each worker closes its captures and exits; one that does not within a moment is killed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.members.map(async (m) => {
      if (m.worker.exitCode !== null || m.worker.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => m.worker.once('exit', () => resolve()));
      try {
        m.worker.send({ kind: 'stop' } satisfies ToWorker);
      } catch {
        /* its channel is already closed */
      }
      const timer = setTimeout(() => m.worker.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }));
    this.members.length = 0;
  }

  private onMessage(m: Member, msg: FromWorker): void {
    if (msg.kind === 'report') {
      m.open = new Map(msg.open);
    } else if (msg.kind === 'answer') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    }
  }
}
