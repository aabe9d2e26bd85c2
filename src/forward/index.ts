// The forwarding-method registry, by config/ipvsadm name.
import { dr } from './dr';
import type { Forwarder } from './forwarder';
import { fullnat } from './fullnat';
import { nat } from './nat';
import { tun } from './tun';

export const FORWARDERS: readonly Forwarder[] = [dr, tun, nat, fullnat];

export function forwarderId(name: string): number {
  return FORWARDERS.findIndex((f) => f.name === name);
}

export const forwarderNames = (): string[] => FORWARDERS.map((f) => f.name);
