// What the daemon needs to know of its capture interface: that it exists, its MAC and its IPv4 addresses.
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { IPv4 } from 'ip-num';
import { parseMac } from '../packet/format';

export interface InterfaceInfo {
  name: string;
  /** 6 bytes at offset 0. */
  mac: Uint8Array;
  /** IPv4 addresses with their prefix masks (uint32). */
  addrs: { addr: number; mask: number }[];
}

export class InterfaceError extends Error {}

export function readInterface(name: string): InterfaceInfo {
  if (!existsSync(`/sys/class/net/${name}`)) throw new InterfaceError(`interface ${name} does not exist`);
  const mac = new Uint8Array(6);
  const text = readFileSync(`/sys/class/net/${name}/address`, 'utf8');
  if (!parseMac(text, mac, 0)) throw new InterfaceError(`interface ${name} has no Ethernet address (${text.trim()})`);
  const addrs = (networkInterfaces()[name] ?? [])
    .filter((a) => a.family === 'IPv4')
    .map((a) => ({ addr: Number(new IPv4(a.address).getValue()), mask: Number(new IPv4(a.netmask).getValue()) }));
  return { name, mac, addrs };
}

/** The interface address to speak from towards `peer`: one on the same subnet, else the first. */
export function sourceFor(info: InterfaceInfo, peer: number): number {
  const onLink = info.addrs.find((a) => a.mask !== 0xffffffff && ((a.addr ^ peer) & a.mask) >>> 0 === 0);
  return (onLink ?? info.addrs[0])?.addr ?? 0;
}
