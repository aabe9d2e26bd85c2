// Flow steering across capture workers. Each worker opens its own capture with a BPF filter that keeps only its
// share of the flows, so the kernel does the split and no frame crosses processes. The share is a hash of the
// client's side of the flow, read from wherever the client sits in each direction: the source of a request, the
// destination of a NAT reply. FullNAT replies carry no client address (they come back to LIP:lport), so a worker
// allocates only local ports of its own residue and those replies are steered by lport alone.
// Persistent services steer by the client's masked address only: every connection of one client must meet the
// same worker, where its persistence template lives. Fragments are steered by address too (later fragments carry
// no ports), so every fragment of a datagram reaches one worker.
export type SteerBy = 'src' | 'dst' | 'lport';

export interface Steer {
  /** Where the client's address and port sit in the packet (or lport: FullNAT's reply tuple, by port only). */
  by: SteerBy;
  /** Client mask (persistence netmask); 0xffffffff otherwise. */
  mask: number;
  /** Whether the client's port joins the hash (not for persistent services). */
  ports: boolean;
}

export interface Shard {
  index: number;
  count: number;
}

export const CLIENT_SRC: Steer = { by: 'src', mask: 0xffffffff, ports: true };
export const CLIENT_DST: Steer = { by: 'dst', mask: 0xffffffff, ports: true };
export const LPORT: Steer = { by: 'lport', mask: 0xffffffff, ports: true };

/** The 16-bit fold of a masked address, as the BPF expression below computes it. */
const fold = (addr: number, mask: number): number => {
  const a = (addr & mask) >>> 0;
  return ((a >>> 16) ^ (a & 0xffff)) >>> 0;
};

/**
 * Fibonacci hashing of the 16-bit key: its product's high half depends on every key bit. The key's low bits alone
 * will not do: Linux gives connect() even ephemeral ports, so a port's parity splits nothing.
 */
const GOLDEN = 0x9e3779b1;
const mix = (key: number): number => Math.imul(key, GOLDEN) >>> 16;

/** The worker that owns a flow whose client is addr:port (in the same terms as the filter). */
export function shardOf(addr: number, port: number, s: Steer, count: number, fragment = false): number {
  if (count <= 1) return 0;
  if (s.by === 'lport') return port % count;
  const key = fragment || !s.ports ? fold(addr, s.mask) : fold(addr, s.mask) ^ port;
  return mix(key) % count;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** BPF arithmetic for the fold of the address at ip[off:4] under mask. */
const foldExpr = (off: number, mask: number): string =>
  mask >>> 0 === 0xffffffff ? `(ip[${off}:2] ^ ip[${off + 2}:2])` : `(((ip[${off}:4] & ${hex(mask)}) >> 16) ^ (ip[${off}:4] & ${hex(mask & 0xffff)}))`;

/** The transport port at the client's side, for either protocol (the L4 header follows IP's IHL). */
const portExpr = (by: SteerBy): string => `ip[((ip[0] & 0xf) << 2) + ${by === 'src' ? 0 : 2}:2]`;

const FRAGMENT = '(ip[6:2] & 0x3fff != 0)';

/** The BPF condition that keeps only this worker's share of a matched traffic class ('' when there is one worker). */
export function steerBpf(s: Steer, shard: Shard): string {
  if (shard.count <= 1) return '';
  const n = shard.count;
  if (s.by === 'lport') return `(${portExpr('dst')} % ${n} = ${shard.index})`;
  const addr = foldExpr(s.by === 'src' ? 12 : 16, s.mask);
  // BPF arithmetic is 32-bit unsigned, as Math.imul's result taken >>> 0.
  const mixed = (key: string): string => `(((${key} * ${hex(GOLDEN)}) >> 16) % ${n} = ${shard.index})`;
  if (!s.ports) return mixed(addr);
  return `((${FRAGMENT} and ${mixed(addr)}) or (not ${FRAGMENT} and ${mixed(`(${addr} ^ ${portExpr(s.by)})`)}))`;
}
