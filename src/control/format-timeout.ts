// ipvsadm -L --timeout and -L --daemon (list_timeout, list_daemon).

export interface Timeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** "Timeout (tcp tcpfin udp): %d %d %d". */
export const formatTimeout = (t: Timeouts): string => `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;

/** lvsd runs no connection sync daemon; ipvsadm prints nothing when none runs. */
export const formatDaemon = (): string => '';
