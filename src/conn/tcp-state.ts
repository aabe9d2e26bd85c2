// IPVS TCP states and transitions (ip_vs_proto_tcp.c): constant tables indexed by state, not branches.
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../packet/tcp';

export const S_NONE = 0;
export const S_ESTABLISHED = 1;
export const S_SYN_SENT = 2;
export const S_SYN_RECV = 3;
export const S_FIN_WAIT = 4;
export const S_TIME_WAIT = 5;
export const S_CLOSE = 6;
export const S_CLOSE_WAIT = 7;
export const S_LAST_ACK = 8;
export const S_LISTEN = 9;
export const S_SYNACK = 10;
/** The single UDP state; kept in the same numbering space so one timeout table serves both. */
export const S_UDP = 11;
export const STATE_COUNT = 12;

export const STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK',
  'LISTEN', 'SYNACK', 'UDP',
];

/** Which way a segment travels, as IPVS indexes its tables. */
export const DIR_INPUT = 0; // client -> RS, reply path also seen (NAT)
export const DIR_OUTPUT = 1; // RS -> client
export const DIR_INPUT_ONLY = 2; // client -> RS when replies bypass the director (DR, TUN)

const [ES, SS, SR, FW, TW, CL, CW, LA, LI, SA] = [
  S_ESTABLISHED, S_SYN_SENT, S_SYN_RECV, S_FIN_WAIT, S_TIME_WAIT, S_CLOSE, S_CLOSE_WAIT, S_LAST_ACK, S_LISTEN, S_SYNACK,
];

// Rows: syn, fin, ack, rst; columns: current state NO ES SS SR FW TW CL CW LA LI SA.
const T = (rows: number[][]): Uint8Array => Uint8Array.from(rows.flat());
const TABLES: readonly Uint8Array[] = [
  T([
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
    [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
  ]),
  T([
    [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ]),
  T([
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ]),
];
/**
 * secure_tcp's table (tcp_states_dos): a connection that sees both directions becomes ESTABLISHED only once the RS
 * has answered (its SYN+ACK moves SYN_RECV to SYNACK, its next ACK to ESTABLISHED), so a client's bare ACKs cannot
 * make long-lived entries; without replies (DR, TUN) a SYN leaves the entry in SYNACK until the client's ACK.
 */
const TABLES_DOS: readonly Uint8Array[] = [
  T([
    [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
    [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
    [CL, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ]),
  T([
    [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
    [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
    [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
    [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
  ]),
  T([
    [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
    [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
    [CL, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
    [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
  ]),
];
const COLS = 11;

/** The kernel's tcp_state_idx: the first set flag in the order rst > syn > fin > ack, or -1. */
export function tcpFlagRow(flags: number): number {
  if (flags & TCP_RST) return 3;
  if (flags & TCP_SYN) return 0;
  if (flags & TCP_FIN) return 1;
  if (flags & TCP_ACK) return 2;
  return -1;
}

/** Next TCP state for a segment with `flags` travelling `dir` in state `state`; `secure` picks secure_tcp's table. */
export function nextTcpState(state: number, dir: number, flags: number, secure = false): number {
  const row = tcpFlagRow(flags);
  if (row < 0 || state >= COLS) return state;
  return (secure ? TABLES_DOS : TABLES)[dir][row * COLS + state];
}

/** Half-open: a SYN seen, the handshake not finished. What drop_entry removes first (ip_vs_random_dropentry). */
export const isHalfOpen = (state: number): boolean => state === S_SYN_RECV || state === S_SYNACK;
