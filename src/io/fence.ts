// The kernel fence. libpcap is a tap: the director's own kernel still sees every frame and would answer a
// local VIP:port (or a FullNAT LIP:lport) with RST, or route a NAT reply un-rewritten. One nftables table,
// owned by the daemon, drops exactly what the daemon handles, at ingress of each capture interface.
// AF_PACKET taps run before netdev ingress, so capture still sees what the fence drops.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { nftRule, ownedTraffic, type MatchService } from './matches';

/** The whole table as one nft script: flushed and rebuilt in a single atomic transaction. */
export function renderFence(
  table: string, ifaces: readonly string[], services: readonly MatchService[], local: readonly number[] = [],
): string {
  const rules = [
    // A class steered two ways between workers (io/steer.ts) is one rule for the kernel.
    ...new Set(ownedTraffic(services, local).map((m) => `    ${nftRule(m)}`)),
    // Firewall-mark services: the daemon owns the rule that marks their traffic, and takes that traffic.
    ...services.flatMap((s) => (s.match ? [`    ${s.match.toNft()} meta mark set ${s.fwmark} counter drop`] : [])),
  ];
  const chains = ifaces.flatMap((dev, i) => [
    `  chain ingress${i} {`,
    `    type filter hook ingress device "${dev}" priority -500; policy accept;`,
    ...rules,
    `  }`,
  ]);
  return [
    // Declaring then deleting makes the delete safe when the table does not exist yet.
    `table netdev ${table} {}`,
    `delete table netdev ${table}`,
    `table netdev ${table} {`,
    ...chains,
    `}`,
    '',
  ].join('\n');
}

export function removeFenceScript(table: string): string {
  return `table netdev ${table} {}\ndelete table netdev ${table}\n`;
}

/**
 * A table's shape as far as a listing and its script agree on it: chains and rules (every rule of ours drops).
 * A listing taken just after an apply can already hold a hand edit made in between; its shape tells.
 */
export function fenceShape(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  return `${lines.filter((l) => l.startsWith('chain ')).length}/${lines.filter((l) => / drop$/.test(l)).length}`;
}

/**
 * The daemon's table. Each apply keeps the script it ran and the table as nft then lists it (stateless: no
 * counter values), so a watcher can tell the table was changed from outside and put the same script back.
 */
export class Fence {
  private script = '';
  /** `nft -s list table` right after the last apply; undefined when that listing failed (then unknown). */
  private listed: string | undefined;
  /** Bumped by every apply and remove: a check that overlapped one compares against a stale listing. */
  generation = 0;

  constructor(
    readonly table: string, private readonly ifaces: readonly string[], private readonly local: readonly number[] = [],
    private readonly run = runNft, private readonly list: (table: string) => string | null = listTable,
  ) {}

  apply(services: readonly MatchService[]): void {
    this.runScript(renderFence(this.table, this.ifaces, services, this.local));
  }

  /** Run the last applied script again (the table was deleted or edited by hand). */
  restore(): void {
    if (this.script) this.runScript(this.script);
  }

  remove(): void {
    this.generation++;
    this.script = '';
    this.listed = undefined;
    this.run(removeFenceScript(this.table));
  }

  /** Whether the live table (null: absent) is the one the last apply left; true when nothing is applied. */
  matches(live: string | null): boolean {
    if (!this.script) return true;
    if (live === null) return false;
    if (this.listed === undefined) {
      // The listing after apply failed or was not of our table: adopt the first one seen that has its shape.
      if (fenceShape(live) !== fenceShape(this.script)) return false;
      this.listed = live;
    }
    return live === this.listed;
  }

  get active(): boolean {
    return this.script !== '';
  }

  private runScript(script: string): void {
    this.generation++;
    this.run(script);
    this.script = script;
    try {
      const listed = this.list(this.table) ?? undefined;
      // nft -f and this listing are two transactions: a hand edit in between must not become the reference.
      this.listed = listed !== undefined && fenceShape(listed) === fenceShape(script) ? listed : undefined;
    } catch {
      this.listed = undefined;
    }
  }
}

export function runNft(script: string): void {
  try {
    execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`nft failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

const LIST_ARGS = (table: string): string[] => ['-s', 'list', 'table', 'netdev', table];
const isMissing = (stderr: string): boolean => /No such file or directory/.test(stderr);

/** The table as `nft -s list table netdev T` prints it, or null when it does not exist. */
export function listTable(table: string): string | null {
  const r = spawnSync('nft', LIST_ARGS(table), { encoding: 'utf8' });
  if (r.status === 0) return r.stdout;
  if (isMissing(r.stderr ?? '')) return null;
  throw new Error(`nft list failed: ${(r.stderr ?? '').trim() || r.error?.message}`);
}

/** listTable without blocking the event loop (the watcher's periodic check). */
export function listTableAsync(table: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    execFile('nft', LIST_ARGS(table), { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) resolve(stdout);
      else if (isMissing(stderr)) resolve(null);
      else reject(new Error(`nft list failed: ${stderr.trim() || err.message}`));
    });
  });
}
