// status shows the L3 sender's failures (TUN, NAT and FullNAT emit through it): with the ring backend a batched
// send fails only at the flush, after its frame was counted forwarded, so this count is where an operator sees it.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/control/config';
import { Daemon } from '../../../src/daemon';
import type { IpSender } from '../../../src/io/ip-sender';
import { MemoryIo } from '../../../src/io/memory-io';
import { createLogger } from '../../../src/log';

const config = (): ReturnType<typeof parseConfig> => parseConfig('interface: lo\nfence: { enabled: false }\nmetrics: { enabled: false }\n');

describe('status ipSend', () => {
  it("reports the sender's failures and last reason", () => {
    const failing: IpSender = { sendIp: () => false, close: () => undefined, errors: 3, lastError: new Error('sendmmsg: Operation not permitted') };
    const d = new Daemon(config(), { socket: '', log: createLogger('silent'), makeIo: () => new MemoryIo(), makeIp: () => failing, fence: false });
    expect(d.status().ipSend).toEqual({ errors: 3, lastError: 'Error: sendmmsg: Operation not permitted' });
    d.stop();
  });

  it('is zero with no reason for a sender that counts nothing (memory I/O)', () => {
    const io = new MemoryIo();
    const d = new Daemon(config(), { socket: '', log: createLogger('silent'), makeIo: () => io, makeIp: () => io, fence: false });
    expect(d.status().ipSend).toEqual({ errors: 0, lastError: null });
    d.stop();
  });
});
