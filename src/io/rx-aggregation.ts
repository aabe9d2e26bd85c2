// Receive aggregation (GRO, LRO, hardware GRO) off on a capture interface while we capture on it, and back on
// at close. With it on, the kernel hands the packet socket merged "super-frames" of up to 64 KiB: a capture
// length sized to the MTU cuts them (counted and dropped), a 64 KiB one leaves libpcap's ring only 512 slots,
// and neither way could such a frame be re-emitted (a packet socket refuses frames over the MTU). Off, every
// frame the interface receives is at most MTU-sized. Segmentation offloads (TSO/GSO) only shape what this
// host sends, which the capture never reads (its filter is `inbound`), so they stay as they are.
import { execFileSync } from 'node:child_process';

/** `ethtool -k` names of the aggregation features, and the `ethtool -K` name that switches each. */
const FEATURES: Readonly<Record<string, string>> = {
  'generic-receive-offload': 'gro',
  'large-receive-offload': 'lro',
  'rx-gro-hw': 'rx-gro-hw',
};

/** The `ethtool -K` names of the aggregation features that `ethtool -k` output shows on and changeable. */
export function aggregationOn(ethtoolK: string): string[] {
  const on: string[] = [];
  for (const line of ethtoolK.split('\n')) {
    const m = /^([a-z0-9-]+):\s+(on|off)(.*)$/.exec(line.trim());
    if (m === null || m[2] !== 'on' || m[3].includes('[fixed]')) continue;
    const k = FEATURES[m[1]];
    if (k !== undefined) on.push(k);
  }
  return on;
}

type Run = (args: string[]) => string;
const ethtool: Run = (args) => execFileSync('ethtool', args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });

export class RxAggregation {
  /** What this instance switched off, to switch on again at restore. */
  switched: string[] = [];
  private failed = '';

  constructor(
    readonly iface: string,
    private readonly warn: (msg: string) => void,
    private readonly info: (msg: string) => void,
    private readonly run: Run = ethtool,
  ) {}

  /** Switch off whatever aggregation is on (idempotent; once a second at most, on a reopen). */
  off(): void {
    let on: string[];
    try {
      on = aggregationOn(this.run(['-k', this.iface]));
      if (on.length === 0) return;
      this.run(['-K', this.iface, ...on.flatMap((f) => [f, 'off'])]);
    } catch (err) {
      const msg = errorText(err);
      if (msg !== this.failed) {
        this.warn(`capture on ${this.iface}: cannot switch receive aggregation (GRO/LRO) off: ${msg}; ` +
          'frames the kernel merges past the MTU will be counted as truncated and dropped');
      }
      this.failed = msg;
      return;
    }
    this.failed = '';
    for (const f of on) if (!this.switched.includes(f)) this.switched.push(f);
    this.info(`capture on ${this.iface}: receive aggregation off while capturing (${on.join(', ')}; restored at stop): ` +
      'merged frames past the MTU could be neither captured whole nor re-emitted');
  }

  /** Switch back on what off() switched off. */
  restore(): void {
    if (this.switched.length === 0) return;
    const back = this.switched;
    this.switched = [];
    try {
      this.run(['-K', this.iface, ...back.flatMap((f) => [f, 'on'])]);
      this.info(`capture on ${this.iface}: receive aggregation restored (${back.join(', ')} on)`);
    } catch (err) {
      this.warn(`capture on ${this.iface}: could not restore receive aggregation (${back.join(', ')}): ${errorText(err)}`);
    }
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: string; stderr?: string; message?: string };
  if (e.code === 'ENOENT') return 'ethtool is not installed';
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0];
}
