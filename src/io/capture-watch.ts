// What a capture must do after each one-second look at its interface and counters: nothing, close (the link
// went down), open again (it came back), or reopen (the device was re-created, its MTU changed, or the capture
// stalled). Kept apart from libpcap so every transition is testable with plain numbers.
//
// Why more than the link state: when the interface goes down the packet socket reports ENETDOWN through POLLERR,
// and libuv stops polling a handle on POLLERR for good. The kernel re-arms the socket when the link comes back
// and fills the ring again, but nobody reads it. A down/up between two looks leaves two traces only: the one
// wakeup that POLLERR causes finds no frame (under load none of tens of thousands of wakeups does), and frames
// then wait in the ring unread.
import { snaplenFor, type LinkState } from './link-state';

export const W_NONE = 0;
/** Close the capture: the link is down or gone. */
export const W_CLOSE = 1;
/** Open the capture: it was closed and the link is up again. */
export const W_OPEN = 2;
/** Close and open again now. */
export const W_REOPEN = 3;

/**
 * Frames libpcap may take from the ring without a trace: after setting a filter it runs the next frame through
 * its userland copy of the filter, which rejects it if the filter uses `inbound` (lvsd's does not; see
 * io/capture-filter.ts). Allowing for it costs a stall with a single frame waiting going unseen until a second.
 */
const UNSEEN = 1;

/** Counters of the open capture, from just after it was opened (what the socket caught before its filter is out). */
export interface CaptureCounts {
  /** Frames the kernel accepted through the filter, into the ring or dropped for want of room (ps_recv). */
  received: number;
  /** Of those, dropped because the ring was full (ps_drop). */
  dropped: number;
  /** Frames taken out of the ring: delivered, plus truncated ones counted and dropped. */
  taken: number;
  /** Wakeups that found no frame, after the first frame (POLLERR: the poll is gone). */
  emptyWakeups: number;
}

export class CaptureWatch {
  open = false;
  /** Why the last W_CLOSE or W_REOPEN was decided, for the log. */
  reason = '';
  /** When the capture was lost (ms), for the recovery log. */
  lostAt = 0;
  private ifindex = 0;
  private snaplen = 0;
  private lastAt = 0;
  private lastTaken = 0;
  private lastPending = 0;
  private lastEmpty = 0;

  constructor(private readonly periodMs = 1000) {}

  /** The capture was opened on this link state. */
  opened(link: LinkState, now: number): void {
    this.open = true;
    this.ifindex = link.ifindex;
    this.snaplen = snaplenFor(link.mtu);
    this.lastAt = now;
    this.lastTaken = 0;
    this.lastPending = 0;
    this.lastEmpty = 0;
  }

  /** The capture was closed (by a W_CLOSE, or an error seen elsewhere). */
  closed(now: number, reason: string): void {
    if (this.open) this.lostAt = now;
    this.open = false;
    this.reason = reason;
  }

  /** One look: the link now and, when open, the capture's counters. Returns a W_ action. */
  check(link: LinkState, counts: CaptureCounts | null, now: number): number {
    const onTime = now - this.lastAt <= 2 * this.periodMs;
    this.lastAt = now;
    if (!this.open) return link.up ? W_OPEN : W_NONE;
    if (!link.up) {
      this.reason = link.ifindex === 0 ? 'interface gone' : 'interface down';
      return W_CLOSE;
    }
    if (link.ifindex !== this.ifindex) {
      this.reason = `interface re-created (ifindex ${this.ifindex} -> ${link.ifindex})`;
      return W_REOPEN;
    }
    if (snaplenFor(link.mtu) !== this.snaplen) {
      this.reason = `MTU changed to ${link.mtu}`;
      return W_REOPEN;
    }
    if (counts === null) return W_NONE;
    if (counts.emptyWakeups > this.lastEmpty) {
      this.lastEmpty = counts.emptyWakeups;
      this.reason = 'the capture socket woke with no frame (an error: a link flap?)';
      return W_REOPEN;
    }
    // Frames waiting in the ring at the last look, and none taken since: nobody is reading it. A live poll
    // empties the ring within milliseconds; a late look (the event loop was blocked) proves nothing.
    const pending = counts.received - counts.dropped - counts.taken - UNSEEN;
    const stalled = onTime && this.lastPending > 0 && pending > 0 && counts.taken === this.lastTaken;
    this.lastPending = pending;
    this.lastTaken = counts.taken;
    if (stalled) {
      this.reason = `capture stalled (${pending} frames waiting in the ring, none read for a second)`;
      return W_REOPEN;
    }
    return W_NONE;
  }
}
