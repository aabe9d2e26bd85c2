// PcapIo.setFilter: a session that can swap its filter in place is asked to (the ring); one that cannot is replaced
// by a new capture (libpcap). A filter the capture refuses is not kept: the capture goes on with the old one, and
// the next open (a reopen after a link flap) uses the old one too. Sessions here are fakes behind the open seam;
// the interface does not exist, so nothing on the host is touched.
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureOpenError, SessionCounters, type CaptureOptions, type CaptureSession } from '../../../src/io/capture-session';
import { PcapIo } from '../../../src/io/pcap-io';

class FakeSession implements CaptureSession {
  readonly counters = new SessionCounters();
  closed = false;
  constructor(readonly filter: string, readonly swaps: string[] | null) {}
  send(): boolean {
    return true;
  }
  kernelStats(): void {}
  close(): void {
    this.closed = true;
  }
}

const refuses = (f: string): boolean => f.includes('bad');
let io: PcapIo | null = null;
afterEach(() => io?.close());

describe('PcapIo.setFilter', () => {
  it('in place when the session can: one session, the filter swapped', () => {
    const opened: FakeSession[] = [];
    const open = (o: CaptureOptions): CaptureSession => {
      const swaps: string[] = [];
      const s = Object.assign(new FakeSession(o.filter, swaps), {
        setFilter(f: string): void {
          if (refuses(f)) throw new CaptureOpenError(`nosuch0: filter: syntax error in ${f}`);
          swaps.push(f);
        },
      });
      opened.push(s);
      return s;
    };
    io = new PcapIo('nosuch0', 'f1', () => undefined, () => undefined, open);
    io.start({ onFrame: () => undefined });
    io.setFilter('f2');
    expect(opened).toHaveLength(1);
    expect(opened[0].swaps).toEqual(['f2']);
    expect(() => io!.setFilter('bad one')).toThrow(/syntax error in bad one/);
    // The refused filter was not kept: going back to f2 is no change, and f3 is swapped in as usual.
    io.setFilter('f2');
    io.setFilter('f3');
    expect(opened[0].swaps).toEqual(['f2', 'f3']);
    expect(opened).toHaveLength(1);
  });

  it('by a new capture when the session cannot; a refused filter keeps the old capture and the old filter', () => {
    const opened: FakeSession[] = [];
    const open = (o: CaptureOptions): CaptureSession => {
      if (refuses(o.filter)) throw new CaptureOpenError(`nosuch0: syntax error in ${o.filter}`);
      const s = new FakeSession(o.filter, null);
      opened.push(s);
      return s;
    };
    io = new PcapIo('nosuch0', 'f1', () => undefined, () => undefined, open);
    io.start({ onFrame: () => undefined });
    io.setFilter('f2');
    expect(opened.map((s) => [s.filter, s.closed])).toEqual([['f1', true], ['f2', false]]);
    expect(() => io!.setFilter('bad one')).toThrow(CaptureOpenError);
    expect(opened.map((s) => [s.filter, s.closed])).toEqual([['f1', true], ['f2', false]]);
    io.setFilter('f2'); // still the filter in force: nothing to do
    expect(opened).toHaveLength(2);
  });
});
