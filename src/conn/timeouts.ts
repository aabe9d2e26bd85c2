// Per-state timeouts in seconds (ip_vs_proto_tcp.c tcp_timeouts[], UDP 300 s). Mutable: `--set` edits three.
import {
  S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_LAST_ACK, S_LISTEN, S_NONE, S_SYN_RECV, S_SYN_SENT, S_SYNACK,
  S_TIME_WAIT, S_UDP, STATE_COUNT,
} from './tcp-state';

export function defaultTimeouts(): Uint32Array {
  const t = new Uint32Array(STATE_COUNT);
  t[S_NONE] = 2;
  t[S_ESTABLISHED] = 900;
  t[S_SYN_SENT] = 120;
  t[S_SYN_RECV] = 60;
  t[S_FIN_WAIT] = 120;
  t[S_TIME_WAIT] = 120;
  t[S_CLOSE] = 10;
  t[S_CLOSE_WAIT] = 60;
  t[S_LAST_ACK] = 30;
  t[S_LISTEN] = 120;
  t[S_SYNACK] = 120;
  t[S_UDP] = 300;
  return t;
}

/**
 * secure_tcp's timeouts: the 2.4 kernel's vs_timeout_table_dos (ESTABLISHED 8 min, SYN_RECV 10 s, UDP 3 min ...),
 * which today's kernel no longer has (it switches only the state table). One change: SYNACK is 10 s like
 * SYN_RECV, not 100 s, because the secure table puts a DR/TUN client's first SYN in SYNACK, and a half-open
 * entry must age fast. The table in use takes the lower of these and the configured ones (see Defense).
 */
export function dosTimeouts(): Uint32Array {
  const t = new Uint32Array(STATE_COUNT);
  t[S_NONE] = 2;
  t[S_ESTABLISHED] = 480;
  t[S_SYN_SENT] = 60;
  t[S_SYN_RECV] = 10;
  t[S_FIN_WAIT] = 60;
  t[S_TIME_WAIT] = 60;
  t[S_CLOSE] = 10;
  t[S_CLOSE_WAIT] = 60;
  t[S_LAST_ACK] = 30;
  t[S_LISTEN] = 120;
  t[S_SYNACK] = 10;
  t[S_UDP] = 180;
  return t;
}

/** ipvsadm --set semantics: 0 leaves a value unchanged. */
export function setTimeouts(t: Uint32Array, tcp: number, tcpfin: number, udp: number): void {
  if (tcp > 0) t[S_ESTABLISHED] = tcp;
  if (tcpfin > 0) t[S_FIN_WAIT] = tcpfin;
  if (udp > 0) t[S_UDP] = udp;
}
