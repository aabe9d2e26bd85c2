// ipvsadm -L --timeout and -L --daemon (list_timeout, list_daemon).

export interface Timeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** "Timeout (tcp tcpfin udp): %d %d %d". */
export const formatTimeout = (t: Timeouts): string => `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;

export interface SyncDaemonView {
  state: string;
  mcastInterface: string;
  syncid: number;
  maxlen: number;
  group: string;
  port: number;
  ttl: number;
}

/** list_daemon: one line per running sync daemon (master first), nothing when none runs. */
export const formatDaemon = (daemons: readonly SyncDaemonView[] = []): string => daemons
  .map((d) => `${d.state} sync daemon (mcast=${d.mcastInterface}, syncid=${d.syncid}, maxlen=${d.maxlen}, group=${d.group}, port=${d.port}, ttl=${d.ttl})\n`)
  .join('');
