// One coarse clock for the data path: whole seconds, advanced by a single timer, read as a plain field.
export class Clock {
  /** Seconds since the daemon started, from 1 (0 would collide with "never"). */
  now = 1;
}
