// bin/lvsd asks glibc for transparent huge pages (the connection table's arrays at a million connections miss the
// TLB less), and leaves a GLIBC_TUNABLES the operator set alone. A stub `node` first on PATH shows what it gets.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const LVSD = resolve(__dirname, '../../../bin/lvsd');
const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
writeFileSync(join(dir, 'node'), '#!/bin/sh\nprintf "%s|%s\\n" "$GLIBC_TUNABLES" "$*"\n');
chmodSync(join(dir, 'node'), 0o755);

function launch(env: Record<string, string>): string {
  const r = spawnSync(LVSD, ['--version'], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, ...env } });
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

describe('bin/lvsd', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the daemon with glibc asked for huge pages', () => {
    expect(launch({})).toMatch(/^glibc\.malloc\.hugetlb=1\|\/\S*dist\/cli\/lvsd\.js --version$/);
  });

  it("keeps the operator's own GLIBC_TUNABLES", () => {
    expect(launch({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toMatch(/^glibc\.malloc\.arena_max=2\|/);
  });
});
