// Link state read from a sysfs tree: a fixture tree, and this machine's own loopback.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LINK_GONE, readLinkState } from '../../../src/io/link-state';

const root = mkdtempSync(join(tmpdir(), 'link-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dev(name: string, files: Record<string, string>): void {
  mkdirSync(join(root, name));
  for (const [f, v] of Object.entries(files)) writeFileSync(join(root, name, f), v);
}

dev('up0', { ifindex: '12\n', flags: '0x1003\n', mtu: '1500\n' });
dev('down0', { ifindex: '13\n', flags: '0x1002\n', mtu: '9000\n' });
dev('broken0', { ifindex: 'x\n', flags: '0x1003\n', mtu: '1500\n' });
dev('half0', { ifindex: '14\n' });

describe('readLinkState', () => {
  it.each([
    ['up0', { ifindex: 12, up: true, mtu: 1500 }],
    ['down0', { ifindex: 13, up: false, mtu: 9000 }],
    ['missing0', LINK_GONE],
    ['broken0', LINK_GONE],
    ['half0', LINK_GONE],
  ])('%s', (name, want) => {
    expect(readLinkState(name, root)).toEqual(want);
  });

  it('this machine: lo is up, with its real ifindex and MTU', () => {
    const lo = readLinkState('lo');
    expect(lo.up).toBe(true);
    expect(lo.ifindex).toBeGreaterThan(0);
    expect(lo.mtu).toBeGreaterThan(1000);
  });
});
