// misc_path from keepalived.conf to a running program, end to end: keepalived's quoting splits the command into an
// argument vector, and MISC_CHECK executes that vector with no shell, so ; | && > $() ` * $VAR reach the program
// as plain text and nothing they would do in a shell happens.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeepalivedText } from '../../../src/control/keepalived';
import { miscCheck } from '../../../src/health/misc-check';
import type { CheckerSpec } from '../../../src/health/types';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-misc-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = join(dir, 'argv');
const pwn = (n: number): string => join(dir, `pwned${n}`);
// The check program: writes each argument it got on its own line, exits 0.
const prog = join(dir, 'check.sh');
writeFileSync(prog, `#!/bin/sh\nprintf '%s\\n' "$@" > ${out}\n`);
chmodSync(prog, 0o755);

/** A keepalived.conf with one MISC_CHECK whose misc_path line is `line`. */
const conf = (line: string): string => `virtual_server 10.0.0.100 80 {
  protocol TCP
  real_server 10.0.0.11 80 {
    MISC_CHECK {
      ${line}
      misc_timeout 5
    }
  }
}
`;

describe('misc_path reaches the program as an argument vector, never through a shell', () => {
  it.each<[string, string, string[]]>([
    ['; and a second command', `misc_path "${prog} ok; touch ${pwn(1)}"`, ['ok;', 'touch', pwn(1)]],
    ['$() and backticks, quoted', `misc_path "${prog} '$(touch ${pwn(2)})' '\`touch ${pwn(3)}\`'"`, [`$(touch ${pwn(2)})`, `\`touch ${pwn(3)}\``]],
    ['a pipe, && and a redirection', `misc_path "${prog} | touch ${pwn(4)} && touch ${pwn(5)} > ${pwn(6)}"`,
      ['|', 'touch', pwn(4), '&&', 'touch', pwn(5), '>', pwn(6)]],
    ['a glob and a variable', `misc_path "${prog} * $HOME \${PATH}"`, ['*', '$HOME', '${PATH}']],
    ['spaces kept by single quotes', `misc_path "${prog} 'a b;c' d"`, ['a b;c', 'd']],
  ])('%s', async (_what, line, want) => {
    rmSync(out, { force: true });
    const svc = parseKeepalivedText(conf(line)).services[0];
    const spec = svc.reals[0].checkers[0] as CheckerSpec;
    expect(spec.miscPath).toEqual([prog, ...want]);
    const r = await miscCheck.check({ ip: '10.0.0.11', port: 80, forward: 'dr' }, spec, new AbortController().signal);
    expect(r).toEqual({ ok: true, reason: 'exit 0' });
    expect(readFileSync(out, 'utf8').split('\n').slice(0, -1)).toEqual(want);
    for (let n = 1; n <= 6; n++) expect(existsSync(pwn(n))).toBe(false);
  });
});
