// The kernel fence. libpcap is a tap: the director's own kernel still sees every frame and would answer a
// local VIP:port with RST. One nftables table, owned by the daemon, drops exactly what the daemon handles.
// AF_PACKET taps run before netdev ingress, so capture still sees what the fence drops.
import { execFileSync } from 'node:child_process';
import { ipv4ToString } from '../packet/format';
import { PROTO_UDP, type VirtualService } from '../service/types';

export type FenceService = Pick<VirtualService, 'proto' | 'vip' | 'port'>;

/** The whole table as one nft script: flushed and rebuilt in a single atomic transaction. */
export function renderFence(table: string, iface: string, services: readonly FenceService[]): string {
  const rules = services.map(
    (s) => `    ip daddr ${ipv4ToString(s.vip)} ${s.proto === PROTO_UDP ? 'udp' : 'tcp'} dport ${s.port} counter drop`,
  );
  return [
    // Declaring then deleting makes the delete safe when the table does not exist yet.
    `table netdev ${table} {}`,
    `delete table netdev ${table}`,
    `table netdev ${table} {`,
    `  chain ingress {`,
    `    type filter hook ingress device "${iface}" priority -500; policy accept;`,
    ...rules,
    `  }`,
    `}`,
    '',
  ].join('\n');
}

export function removeFenceScript(table: string): string {
  return `table netdev ${table} {}\ndelete table netdev ${table}\n`;
}

export class Fence {
  constructor(private readonly table: string, private readonly iface: string, private readonly run = runNft) {}

  apply(services: readonly FenceService[]): void {
    this.run(renderFence(this.table, this.iface, services));
  }

  remove(): void {
    this.run(removeFenceScript(this.table));
  }

  /** The live table as nft lists it, or null when absent. */
  list(): string | null {
    try {
      return execFileSync('nft', ['list', 'table', 'netdev', this.table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      return null;
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
