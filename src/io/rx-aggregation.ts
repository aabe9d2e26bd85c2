// Receive aggregation (GRO, LRO, hardware GRO) off on a capture interface while we capture on it, and back on
// at close. With it on, the kernel hands the packet socket merged "super-frames" of up to 64 KiB: a capture
// length sized to the MTU cuts them (counted and dropped), a 64 KiB one leaves libpcap's ring only 512 slots,
// and neither way could such a frame be re-emitted (a packet socket refuses frames over the MTU). Off, every
// frame the interface receives is at most MTU-sized. Segmentation offloads (TSO/GSO) only shape what this
// host sends, which the capture never reads (its filter is `inbound`), so they stay as they are.
// What was switched off is also written down (a ledger under /run, per network namespace and interface), so that
// after a SIGKILL, which restores nothing, the next lvsd knows the interface had them on and restores them at its
// own stop.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/** Where ledgers live: tmpfs, so a reboot (which resets the interfaces) forgets them too. */
export const RUN_DIR = process.env.USERLVS_RUN_DIR ?? '/run/userlvs';

/** The ledger file for an interface of this process's network namespace (interface names repeat across them). */
export function ledgerPath(iface: string, dir = RUN_DIR): string {
  let ns = 'net';
  try {
    ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))?.[1] ?? ns;
  } catch {
    // no /proc: one namespace as far as we can tell
  }
  return join(dir, `rx-aggregation.${ns}.${iface}.json`);
}

interface Ledger {
  /** The process that switched them off. */
  pid: number;
  features: string[];
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

type Run = (args: string[]) => string;
const ethtool: Run = (args) => execFileSync('ethtool', args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });

export class RxAggregation {
  /** What this instance switched off, to switch on again at restore. */
  switched: string[] = [];
  private failed = '';
  private adopted = false;

  constructor(
    readonly iface: string,
    private readonly warn: (msg: string) => void,
    private readonly info: (msg: string) => void,
    private readonly run: Run = ethtool,
    /** The ledger file, or null to keep none. */
    private readonly ledger: string | null = ledgerPath(iface),
  ) {}

  /** Switch off whatever aggregation is on (idempotent; once a second at most, on a reopen). */
  off(): void {
    if (!this.adopted) this.adoptLedger();
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
    this.writeLedger();
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
      this.dropLedger();
      this.info(`capture on ${this.iface}: receive aggregation restored (${back.join(', ')} on)`);
    } catch (err) {
      this.warn(`capture on ${this.iface}: could not restore receive aggregation (${back.join(', ')}): ${errorText(err)}`);
    }
  }

  /** A ledger left by a process that is gone (a SIGKILLed lvsd): what it switched off is ours to restore. */
  private adoptLedger(): void {
    this.adopted = true;
    if (this.ledger === null) return;
    let l: Ledger;
    try {
      l = JSON.parse(readFileSync(this.ledger, 'utf8')) as Ledger;
    } catch {
      return; // none (the usual case), or unreadable: nothing to adopt
    }
    if (l.pid === process.pid || !Array.isArray(l.features) || alive(l.pid)) return; // its owner still runs
    const known = l.features.filter((f) => Object.values(FEATURES).includes(f));
    for (const f of known) if (!this.switched.includes(f)) this.switched.push(f);
    this.writeLedger(); // ours now: our own workers, seeing a live owner, leave it alone
    if (known.length > 0) {
      this.info(`capture on ${this.iface}: receive aggregation (${known.join(', ')}) was switched off by process ${l.pid}, ` +
        'which is gone: restored at stop');
    }
  }

  private writeLedger(): void {
    if (this.ledger === null || this.switched.length === 0) return;
    try {
      mkdirSync(dirname(this.ledger), { recursive: true, mode: 0o755 });
      writeFileSync(`${this.ledger}.tmp`, JSON.stringify({ pid: process.pid, features: this.switched } satisfies Ledger));
      renameSync(`${this.ledger}.tmp`, this.ledger);
    } catch {
      // Best effort: without it only a SIGKILL's leftovers go unrestored.
    }
  }

  private dropLedger(): void {
    if (this.ledger === null) return;
    try {
      unlinkSync(this.ledger);
    } catch {
      // already gone
    }
  }
}

function errorText(err: unknown): string {
  const e = err as { code?: string; stderr?: string; message?: string };
  if (e.code === 'ENOENT') return 'ethtool is not installed';
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0];
}
