// TCP_CHECK against real sockets on loopback: a listener is up, a closed port is down at once, a connect the
// kernel never completes times out within connect_timeout, and an abort ends the attempt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChecker } from '../../../src/health/index';
import { tcpCheck } from '../../../src/health/tcp-check';
import { closedPort, LO, silentListener, spec, target, tcpServer } from './health-helpers';

describe('TCP_CHECK', () => {
  let srv: Awaited<ReturnType<typeof tcpServer>>;
  let silent: Awaited<ReturnType<typeof silentListener>>;
  beforeAll(async () => {
    srv = await tcpServer();
    silent = await silentListener();
  });
  afterAll(async () => {
    await srv.close();
    await silent.close();
  });

  it('is registered under keepalived\'s name', () => {
    expect(findChecker('TCP_CHECK')).toBe(tcpCheck);
  });

  it('is up when the connect completes', async () => {
    const r = await tcpCheck.check(target(srv.port), spec('TCP_CHECK'), new AbortController().signal);
    expect(r).toEqual({ ok: true, reason: 'connected' });
  });

  it('connects to connect_ip:connect_port rather than the real server when given', async () => {
    const dead = await closedPort();
    const r = await tcpCheck.check(target(dead), spec('TCP_CHECK', { connectIp: LO, connectPort: srv.port }), new AbortController().signal);
    expect(r.ok).toBe(true);
  });

  it('is down with the errno when the port is closed', async () => {
    const r = await tcpCheck.check(target(await closedPort()), spec('TCP_CHECK'), new AbortController().signal);
    expect(r).toEqual({ ok: false, reason: 'connect ECONNREFUSED' });
  });

  it('times out within connect_timeout when the handshake never completes', async () => {
    const t0 = Date.now();
    const r = await tcpCheck.check(target(silent.port), spec('TCP_CHECK', { connectTimeout: 0.3 }), new AbortController().signal);
    const took = Date.now() - t0;
    expect(r).toEqual({ ok: false, reason: 'timeout after 0.3 s' });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(800);
  });

  it('resolves "aborted" when its signal fires, and at once when it already has', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = tcpCheck.check(target(silent.port), spec('TCP_CHECK', { connectTimeout: 5 }), ac.signal);
    setTimeout(() => ac.abort(), 50);
    expect(await p).toEqual({ ok: false, reason: 'aborted' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await tcpCheck.check(target(srv.port), spec('TCP_CHECK'), ac.signal)).toEqual({ ok: false, reason: 'aborted' });
  });
});
