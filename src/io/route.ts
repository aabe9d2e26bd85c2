// What the kernel's routing says about reaching an address: our source address and the path MTU.
// Asked once per real server (control path), through iproute2.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { IPv4 } from 'ip-num';
import { ipv4ToString } from '../packet/format';

export interface RouteInfo {
  /** Preferred source address (uint32), 0 when the kernel gave none. */
  src: number;
  dev: string;
  mtu: number;
}

export function routeTo(addr: number): RouteInfo | null {
  try {
    const out = execFileSync('ip', ['-j', 'route', 'get', ipv4ToString(addr >>> 0)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const r = (JSON.parse(out) as { prefsrc?: string; dev: string; metrics?: { mtu?: number }[] }[])[0];
    let mtu = r.metrics?.find((m) => m.mtu)?.mtu ?? 0;
    if (!mtu) mtu = Number(readFileSync(`/sys/class/net/${r.dev}/mtu`, 'utf8').trim()) || 1500;
    return { src: r.prefsrc ? Number(new IPv4(r.prefsrc).getValue()) : 0, dev: r.dev, mtu };
  } catch {
    return null;
  }
}
