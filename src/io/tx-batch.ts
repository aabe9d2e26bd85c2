// The emit batch scope: while a batch of received frames is handled, emits are queued per socket and sent at its
// end with one syscall each (sendmmsg), instead of one sendto per packet. The scope is module-wide because the
// receive side (ring-session.ts) opens it and the emit sides (ring-session.ts, ring-ip-sender.ts) are other
// objects the pipeline holds; nesting lets an outer caller widen it. Everything runs on one thread.

/** A socket with queued emits: sends them all when the outermost batch ends. */
export interface TxFlusher {
  flush(): void;
}

/** Flushes that threw (a flusher must not stop the others), and the last such error. */
export const txStats = { flushErrors: 0, lastFlushError: null as unknown };

// Copied on register/unregister (rare), never on flush: a flusher may unregister itself while flushing.
let flushers: readonly TxFlusher[] = [];
let depth = 0;

export function txRegister(f: TxFlusher): void {
  if (!flushers.includes(f)) flushers = [...flushers, f];
}

export function txUnregister(f: TxFlusher): void {
  if (flushers.includes(f)) flushers = flushers.filter((g) => g !== f);
}

/** Open a batch: emits from now on are queued. */
export function txBegin(): void {
  depth++;
}

/** Close a batch; closing the outermost one flushes every registered flusher, in registration order. */
export function txEnd(): void {
  if (depth === 0) return; // unbalanced: nothing is queued outside a batch
  if (--depth > 0) return;
  const all = flushers;
  for (let i = 0; i < all.length; i++) {
    try {
      all[i].flush();
    } catch (err) {
      txStats.flushErrors++;
      txStats.lastFlushError = err;
    }
  }
}

/** Whether a batch is open (emits should be queued). */
export function txBatching(): boolean {
  return depth > 0;
}
