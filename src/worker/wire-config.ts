// A DaemonConfig crosses to a worker process by structured clone (advanced IPC serialization), which keeps data
// but not classes: a firewall-mark match travels as its nftables text and is parsed again on the other side.
import type { DaemonConfig, ServiceConfig } from '../control/config';
import { FwmarkMatch } from '../service/fwmark-match';

export type WireConfig = Omit<DaemonConfig, 'services'> & { services: (Omit<ServiceConfig, 'match'> & { match: string | null })[] };

export const toWire = (c: DaemonConfig): WireConfig => ({ ...c, services: c.services.map((s) => ({ ...s, match: s.match?.text ?? null })) });

export const fromWire = (c: WireConfig): DaemonConfig => ({
  ...c, services: c.services.map((s) => ({ ...s, match: s.match === null ? null : FwmarkMatch.parse(s.match) })),
});
