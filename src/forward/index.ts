// The forwarding-method registry, by config/ipvsadm name.
import { dr } from './dr';
import type { Forwarder } from './forwarder';

export const FORWARDERS: readonly Forwarder[] = [dr];

export function forwarderId(name: string): number {
  return FORWARDERS.findIndex((f) => f.name === name);
}

export const forwarderNames = (): string[] => FORWARDERS.map((f) => f.name);
