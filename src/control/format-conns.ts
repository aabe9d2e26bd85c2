// ipvsadm -L -c: the connection table as ipvsadm prints /proc/net/ip_vs_conn (list_conn / print_conn), in the
// daemon's order (ipvsadm does not sort it). Persistence templates are rows too: client port 0, state NONE,
// protocol IP for a firewall-mark template (whose "virtual address" is the mark).
import { PROTO_TCP, PROTO_UDP } from '../service/types';
import { NUMERIC, type Namer } from './names';
import type { ConnView } from './protocol';

const pad = (s: string, w: number): string => s.padEnd(w);
const two = (v: number): string => String(v).padStart(2, '0');

/** "%02d:%02d" of minutes and seconds; minutes keep growing past 99 (a 3-hour template is 180:00). */
export function expireText(seconds: number): string {
  const e = Math.max(0, Math.floor(seconds));
  return `${two(Math.floor(e / 60))}:${two(e % 60)}`;
}

const protoNumber = (p: string): number => (p === 'TCP' ? PROTO_TCP : p === 'UDP' ? PROTO_UDP : 0);

export interface ConnsOptions {
  names?: Namer;
  /** --persistent-conn: the title gains "pe name" and "pe_data" (rows carry them only with a persistence engine). */
  persistentConn?: boolean;
}

export function formatConns(conns: readonly ConnView[], opts: ConnsOptions = {}): string {
  const names = opts.names ?? NUMERIC;
  const out = ['IPVS connection entries'];
  out.push(opts.persistentConn
    ? `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} ${pad('destination', 18)} ${pad('pe name', 16)} pe_data`
    : `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} destination`);
  for (const c of conns) {
    const p = protoNumber(c.proto);
    const at = (a: number, port: number): string => `${names.addr(a)}:${names.port(port, p)}`;
    out.push(`${pad(c.proto, 3)} ${pad(expireText(c.expire), 6)} ${pad(c.state, 11)} ${pad(at(c.caddr, c.cport), 18)} ${pad(at(c.vaddr, c.vport), 18)} ${at(c.daddr, c.dport)}`);
  }
  return out.map((l) => `${l}\n`).join('');
}

/** Every address -c would name. */
export const connAddrs = (conns: readonly ConnView[]): number[] => conns.flatMap((c) => [c.caddr, c.vaddr, c.daddr]);
