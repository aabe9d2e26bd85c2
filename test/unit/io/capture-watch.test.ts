// The capture watch's decisions from plain observations: link state, the kernel's counters and frames taken.
import { describe, expect, it } from 'vitest';
import { CaptureWatch, W_CLOSE, W_NONE, W_OPEN, W_REOPEN, type CaptureCounts } from '../../../src/io/capture-watch';
import { LINK_GONE, snaplenFor, type LinkState } from '../../../src/io/link-state';

const UP: LinkState = { ifindex: 7, up: true, mtu: 1500 };
const DOWN: LinkState = { ifindex: 7, up: false, mtu: 1500 };
const c = (received: number, taken: number, dropped = 0, emptyWakeups = 0): CaptureCounts => ({ received, dropped, taken, emptyWakeups });

function opened(): CaptureWatch {
  const w = new CaptureWatch(1000);
  w.opened(UP, 0);
  return w;
}

describe('CaptureWatch', () => {
  it.each([
    ['the link stays up and frames flow', UP, c(10, 10), W_NONE, ''],
    ['the link went down', DOWN, c(10, 10), W_CLOSE, 'interface down'],
    ['the interface was removed', LINK_GONE, null, W_CLOSE, 'interface gone'],
    ['the device was re-created under the same name', { ...UP, ifindex: 9 }, c(0, 0), W_REOPEN, 'interface re-created (ifindex 7 -> 9)'],
    ['the MTU grew (the capture length must follow)', { ...UP, mtu: 9000 }, c(0, 0), W_REOPEN, 'MTU changed to 9000'],
  ])('open, %s', (_what, link, counts, action, reason) => {
    const w = opened();
    expect(w.check(link, counts, 1000)).toBe(action);
    expect(w.reason).toBe(reason);
  });

  it('closed: waits while the link is down, opens once it is up', () => {
    const w = opened();
    expect(w.check(DOWN, c(0, 0), 1000)).toBe(W_CLOSE);
    w.closed(1000, w.reason);
    expect(w.open).toBe(false);
    expect(w.lostAt).toBe(1000);
    expect(w.check(DOWN, null, 2000)).toBe(W_NONE);
    expect(w.check(LINK_GONE, null, 3000)).toBe(W_NONE);
    expect(w.check(UP, null, 4000)).toBe(W_OPEN);
    w.opened(UP, 4000);
    expect(w.check(UP, c(0, 0), 5000)).toBe(W_NONE);
  });

  it('a stall: frames waited in the ring at one look and none were taken by the next', () => {
    const w = opened();
    expect(w.check(UP, c(101, 100), 1000)).toBe(W_NONE);
    expect(w.check(UP, c(106, 100), 2000)).toBe(W_NONE); // 5 waiting: may be read a moment later
    expect(w.check(UP, c(109, 100), 3000)).toBe(W_REOPEN); // still waiting, nothing taken in a second
    expect(w.reason).toMatch(/^capture stalled \(8 frames waiting/);
  });

  it('one frame libpcap took unseen after its filter was set (its userland pass rejects `inbound`) is no stall', () => {
    const w = opened();
    expect(w.check(UP, c(1, 0), 1000)).toBe(W_NONE);
    expect(w.check(UP, c(1, 0), 2000)).toBe(W_NONE);
    expect(w.check(UP, c(1, 0), 3000)).toBe(W_NONE);
    expect(w.check(UP, c(3, 0), 4000)).toBe(W_NONE);
    expect(w.check(UP, c(3, 0), 5000)).toBe(W_REOPEN);
  });

  it.each([
    ['frames waiting at one look were taken by the next', [c(100, 95), c(120, 120)]],
    ['frames arrive and are taken between looks', [c(100, 99), c(200, 199), c(300, 299)]],
    ['the ring overflowed but the reader keeps taking', [c(1001, 400, 500), c(2001, 900, 1000)]],
    ['nothing arrives at all', [c(0, 0), c(0, 0), c(0, 0)]],
  ])('no stall when %s', (_what, seq) => {
    const w = opened();
    seq.forEach((counts, i) => expect(w.check(UP, counts, 1000 * (i + 1))).toBe(W_NONE));
  });

  it('a wakeup that found no frame (POLLERR from a link flap between looks): reopen, once', () => {
    const w = opened();
    expect(w.check(UP, c(10, 10), 1000)).toBe(W_NONE);
    expect(w.check(UP, c(10, 10, 0, 1), 2000)).toBe(W_REOPEN);
    expect(w.reason).toBe('the capture socket woke with no frame (an error: a link flap?)');
    expect(w.check(UP, c(10, 10, 0, 1), 3000)).toBe(W_NONE);
  });

  it('no stall from a late look (the event loop was blocked: the poll has not run yet)', () => {
    const w = opened();
    expect(w.check(UP, c(11, 0), 1000)).toBe(W_NONE);
    expect(w.check(UP, c(13, 0), 5000)).toBe(W_NONE);
    expect(w.check(UP, c(14, 0), 6000)).toBe(W_REOPEN);
  });

  it('a reopen starts the stall count afresh (the new session counts from zero)', () => {
    const w = opened();
    expect(w.check(UP, c(50, 40), 1000)).toBe(W_NONE);
    w.opened(UP, 1500);
    expect(w.check(UP, c(3, 0), 2500)).toBe(W_NONE);
  });
});

describe('snaplenFor', () => {
  it.each([
    [1500, 1522],
    [9000, 9022],
    [1280, 1302],
    [68, 598], // never below a minimal IPv4 datagram
  ])('MTU %i -> %i bytes (Ethernet header and two VLAN tags beyond the MTU)', (mtu, snaplen) => {
    expect(snaplenFor(mtu)).toBe(snaplen);
  });
});
