// Which of status().verdicts are drops, shared by the exporter and lvsadm top (no prom-client here).

/** Verdicts that are not drops: the packet went on, or was never ours (vlan: another L2 network's, the kernel's). */
const NOT_DROPS = new Set(['forwarded', 'icmp-forwarded', 'not-ours', 'arp', 'vlan']);

/** Is this status().verdicts name a drop? (malformed is; its kinds are status().parseErrors.) */
export const isDrop = (reason: string): boolean => !NOT_DROPS.has(reason);

/** Forwarded packets: a connection's packets and the ICMP errors about one, passed on rewritten. */
export const FORWARDED_VERDICTS: readonly string[] = ['forwarded', 'icmp-forwarded'];
