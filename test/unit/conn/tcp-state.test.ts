import { describe, expect, it } from 'vitest';
import {
  DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, nextTcpState, S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_NONE,
  S_SYN_RECV, S_TIME_WAIT, STATE_NAMES, tcpFlagRow,
} from '../../../src/conn/tcp-state';
import { defaultTimeouts, setTimeouts } from '../../../src/conn/timeouts';
import { S_UDP } from '../../../src/conn/tcp-state';
import { FLAGS } from '../../helpers/frame-builder';

describe('IPVS TCP state machine', () => {
  it.each([
    ['RST wins over SYN', FLAGS.R | FLAGS.S, 3],
    ['SYN over FIN', FLAGS.S | FLAGS.F, 0],
    ['FIN over ACK', FLAGS.FA, 1],
    ['ACK', FLAGS.A, 2],
    ['no flag', 0, -1],
  ])('tcp_state_idx: %s', (_n, flags, row) => {
    expect(tcpFlagRow(flags)).toBe(row);
  });

  // Sequences as a DR director sees them (INPUT_ONLY table) and as NAT sees both ways.
  it.each([
    ['DR: SYN, ACK -> ESTABLISHED', DIR_INPUT_ONLY, [FLAGS.S, FLAGS.A], [S_SYN_RECV, S_ESTABLISHED]],
    ['DR: ... FIN -> FIN_WAIT, then ACK stays', DIR_INPUT_ONLY, [FLAGS.S, FLAGS.A, FLAGS.FA, FLAGS.A], [S_SYN_RECV, S_ESTABLISHED, S_FIN_WAIT, S_FIN_WAIT]],
    ['DR: RST in ESTABLISHED -> CLOSE', DIR_INPUT_ONLY, [FLAGS.S, FLAGS.A, FLAGS.R], [S_SYN_RECV, S_ESTABLISHED, S_CLOSE]],
    ['NAT input: FIN in ESTABLISHED -> CLOSE_WAIT', DIR_INPUT, [FLAGS.S, FLAGS.A, FLAGS.FA], [S_SYN_RECV, S_ESTABLISHED, S_CLOSE_WAIT]],
    ['stray ACK in NONE -> CLOSE', DIR_INPUT, [FLAGS.A], [S_CLOSE]],
  ])('%s', (_n, dir, flags, states) => {
    let s = S_NONE;
    const seen = flags.map((f) => (s = nextTcpState(s, dir, f)));
    expect(seen.map((x) => STATE_NAMES[x])).toEqual(states.map((x) => STATE_NAMES[x]));
  });

  it('OUTPUT: SYN+ACK from the RS in SYN_RECV keeps SYN_RECV; FIN in ESTABLISHED -> FIN_WAIT', () => {
    expect(nextTcpState(S_SYN_RECV, DIR_OUTPUT, FLAGS.SA)).toBe(S_SYN_RECV);
    expect(nextTcpState(S_ESTABLISHED, DIR_OUTPUT, FLAGS.FA)).toBe(S_FIN_WAIT);
    expect(nextTcpState(S_FIN_WAIT, DIR_INPUT, FLAGS.FA)).toBe(S_TIME_WAIT);
  });
});

describe('timeouts', () => {
  it('has the IPVS defaults', () => {
    const t = defaultTimeouts();
    expect([t[S_ESTABLISHED], t[S_FIN_WAIT], t[S_CLOSE], t[S_SYN_RECV], t[S_UDP]]).toEqual([900, 120, 10, 60, 300]);
  });

  it('--set semantics: 0 keeps the value', () => {
    const t = defaultTimeouts();
    setTimeouts(t, 0, 30, 0);
    expect([t[S_ESTABLISHED], t[S_FIN_WAIT], t[S_UDP]]).toEqual([900, 30, 300]);
  });
});
