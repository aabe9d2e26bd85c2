// The emit batch scope: queued emits are flushed once, when the outermost batch ends, by every registered socket
// in registration order; a flusher that throws is counted and does not stop the others.
import { afterEach, describe, expect, it } from 'vitest';
import { txBatching, txBegin, txEnd, txRegister, txStats, txUnregister, type TxFlusher } from '../../../src/io/tx-batch';

const log: string[] = [];
const registered: TxFlusher[] = [];

function flusher(name: string, fn: () => void = () => undefined): TxFlusher {
  const f = {
    flush: () => {
      log.push(name);
      fn();
    },
  };
  txRegister(f);
  registered.push(f);
  return f;
}

afterEach(() => {
  while (txBatching()) txEnd();
  for (const f of registered.splice(0)) txUnregister(f);
  log.length = 0;
});

describe('tx batch scope', () => {
  it('is off outside a batch and on inside one', () => {
    expect(txBatching()).toBe(false);
    txBegin();
    expect(txBatching()).toBe(true);
    txEnd();
    expect(txBatching()).toBe(false);
  });

  it('nested batches flush once, when the outermost ends', () => {
    flusher('a');
    txBegin();
    txBegin();
    txEnd();
    expect(log).toEqual([]);
    expect(txBatching()).toBe(true);
    txEnd();
    expect(log).toEqual(['a']);
    expect(txBatching()).toBe(false);
  });

  it('flushes in registration order; registering twice counts once; an unregistered flusher is not called', () => {
    const a = flusher('a');
    flusher('b');
    const c = flusher('c');
    txRegister(a);
    txUnregister(c);
    txBegin();
    txEnd();
    expect(log).toEqual(['a', 'b']);
  });

  it('a throwing flusher is counted and the others still flush', () => {
    const before = txStats.flushErrors;
    const boom = new Error('boom');
    flusher('a');
    flusher('b', () => {
      throw boom;
    });
    flusher('c');
    txBegin();
    txEnd();
    expect(log).toEqual(['a', 'b', 'c']);
    expect(txStats.flushErrors).toBe(before + 1);
    expect(txStats.lastFlushError).toBe(boom);
    // The scope is closed and works again.
    expect(txBatching()).toBe(false);
    txBegin();
    txEnd();
    expect(log).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('a flusher may unregister itself (a socket closed while flushing) without another being skipped', () => {
    const a: TxFlusher = { flush: () => (log.push('a'), txUnregister(a)) };
    txRegister(a);
    registered.push(a);
    flusher('b');
    txBegin();
    txEnd();
    txBegin();
    txEnd();
    expect(log).toEqual(['a', 'b', 'b']);
  });

  it('an unbalanced end is ignored: nothing flushes, the next batch works', () => {
    flusher('a');
    txEnd();
    expect(log).toEqual([]);
    expect(txBatching()).toBe(false);
    txBegin();
    expect(txBatching()).toBe(true);
    txEnd();
    expect(log).toEqual(['a']);
  });

  it('emits made while flushing (after the scope closed) are not batched', () => {
    let seen: boolean | null = null;
    flusher('a', () => {
      seen = txBatching();
    });
    txBegin();
    txEnd();
    expect(seen).toBe(false);
  });
});
