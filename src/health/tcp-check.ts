// TCP_CHECK (keepalived check_tcp.c): the check is a TCP connect to connect_ip:connect_port (the real server's
// address and port by default) within connect_timeout; a completed handshake is up, and the socket is closed
// at once without sending anything.
import { connect } from 'node:net';
import { errorReason, runAttempt } from './attempt';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

/** A plain connect, resolved (never rejected) within timeoutS seconds: "connected", "connect ECONNREFUSED", "timeout after 3 s". */
export function tcpConnect(host: string, port: number, timeoutS: number, signal: AbortSignal): Promise<CheckResult> {
  return runAttempt(signal, timeoutS, (finish) => {
    const s = connect({ host, port });
    s.once('connect', () => finish({ ok: true, reason: 'connected' }));
    s.once('error', (e) => finish({ ok: false, reason: errorReason(e) }));
    return () => {
      s.removeAllListeners();
      s.on('error', () => undefined); // a late error on a destroyed socket must not become an uncaught one
      s.destroy();
    };
  });
}

export const tcpCheck: Checker = {
  kind: 'TCP_CHECK',
  check(t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
    return tcpConnect(spec.connectIp ?? t.ip, spec.connectPort ?? t.port, spec.connectTimeout, signal);
  },
};
