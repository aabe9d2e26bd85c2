// The I/O seam (glb-director's idea): the same pipeline runs on libpcap in production and on memory in tests.

export interface FrameSink {
  /** One captured frame in `buf[0..len)`. The buffer is reused for the next frame: rewrite in place or copy. */
  onFrame(buf: Buffer, len: number): void;
  /**
   * A batch of frames, each valid (and writable in place) until this returns: bufs[i][0..lens[i]) for i < n.
   * Captures that hold frames in a ring (io/ring-session.ts) call it once per wake-up instead of onFrame per frame.
   */
  onFrames?(bufs: readonly Buffer[], lens: Int32Array, n: number): void;
}

export interface PacketIo {
  /** Begin delivering captured frames. */
  start(sink: FrameSink): void;
  /** Emit `buf[0..len)` on the wire; false when the emit failed. */
  send(buf: Uint8Array, len: number): boolean;
  /** Replace the capture filter (BPF syntax). */
  setFilter(filter: string): void;
  close(): void;
  /** Counters for status: frames whose handler threw (never expected), and the last such error. */
  health?(): { handlerErrors: number; lastHandlerError: string | null };
}
