// A virtual service's quorum (keepalived ipwrapper.c): the sum of the weights of its live real servers must
// reach `quorum`. With `hysteresis`, quorum is gained at quorum+hysteresis and lost below quorum-hysteresis, or
// when no live weight is left at all. When it is lost keepalived runs quorum_down and puts in the sorry server.

/**
 * The next quorum state. Start from false: keepalived holds quorum at start only when the live weight reaches
 * quorum+hysteresis. (A zero live weight loses quorum unless quorum+hysteresis <= 0, where it would be gained
 * straight back: such a quorum always holds.)
 */
export function quorumState(prev: boolean, liveWeight: number, quorum: number, hysteresis: number): boolean {
  const gain = quorum + hysteresis;
  if (!prev) return liveWeight >= gain;
  if (liveWeight === 0) return gain <= 0;
  return liveWeight >= quorum - hysteresis;
}
