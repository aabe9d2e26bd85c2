// The kernel fence. libpcap is a tap: the director's own kernel still sees every frame and would answer a
// local VIP:port (or a FullNAT LIP:lport) with RST, or route a NAT reply un-rewritten. One nftables table,
// owned by the daemon, drops exactly what the daemon handles, at ingress of each capture interface.
// AF_PACKET taps run before netdev ingress, so capture still sees what the fence drops.
import { execFileSync } from 'node:child_process';
import { nftRule, ownedTraffic, type MatchService } from './matches';

/** The whole table as one nft script: flushed and rebuilt in a single atomic transaction. */
export function renderFence(
  table: string, ifaces: readonly string[], services: readonly MatchService[], local: readonly number[] = [],
): string {
  const rules = [
    ...ownedTraffic(services, local).map((m) => `    ${nftRule(m)}`),
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

export class Fence {
  constructor(
    private readonly table: string, private readonly ifaces: readonly string[], private readonly local: readonly number[] = [],
    private readonly run = runNft,
  ) {}

  apply(services: readonly MatchService[]): void {
    this.run(renderFence(this.table, this.ifaces, services, this.local));
  }

  remove(): void {
    this.run(removeFenceScript(this.table));
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
