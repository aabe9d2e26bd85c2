import { describe, expect, it } from 'vitest';
import { expandBraces, globToRegExp } from '../../../src/control/keepalived-include';
import {
  decomment, KeepalivedError, lexKeepalived, splitBraces, splitQuotedEscaped, splitWords, type IncludeFile, type KaStatement, type KeepalivedNotice,
} from '../../../src/control/keepalived-lexer';

/** An in-memory include reader: exact names, and `*` within the last path component. */
function memReader(files: Record<string, string>) {
  return (pattern: string): IncludeFile[] => {
    const re = new RegExp(`^${pattern.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return Object.keys(files).filter((n) => re.test(n)).sort().map((name) => ({ name, text: files[name] }));
  };
}

function shape(sts: KaStatement[]): unknown[] {
  return sts.map((s) => (s.block ? [s.name, ...s.args, shape(s.block)] : [s.name, ...s.args]));
}

function lexError(text: string, files: Record<string, string> = {}): KeepalivedError {
  try {
    lexKeepalived(text, 'keepalived.conf', memReader(files), []);
  } catch (err) {
    if (err instanceof KeepalivedError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('keepalived lexer', () => {
  it.each([
    ['a ! comment', 'weight 1 ! the weight', 'weight 1'],
    ['a # comment', '  delay_loop 6   # seconds', 'delay_loop 6'],
    ['a whole-line comment', '! Configuration File for keepalived', ''],
    ['# inside double quotes', 'misc_path "/bin/check #1"', 'misc_path "/bin/check #1"'],
    ['an escaped \\#', 'path /a\\#b', 'path /a#b'],
    ['an escaped \\!', 'path /x\\!', 'path /x!'],
  ])('decomment: %s', (_n, line, want) => {
    expect(decomment(line)).toBe(want);
  });

  it('refuses an unterminated quote with its line', () => {
    expect(lexError('virtual_server 10.0.0.1 80 {\n  virtualhost "www\n}\n').message).toBe(`keepalived.conf:2: unterminated quote in 'virtualhost "www'`);
  });

  it.each([
    ['braces split from their keyword', 'real_server 10.0.0.1 80 { weight 2 }', ['real_server 10.0.0.1 80', '{', 'weight 2', '}']],
    ['braces glued to words', 'url{path /}', ['url', '{', 'path /', '}']],
    ['braces inside double quotes stay', 'misc_path "/bin/x {a}"', ['misc_path "/bin/x {a}"']],
  ])('splitBraces: %s', (_n, line, want) => {
    expect(splitBraces(line)).toEqual(want);
  });

  it.each([
    ['plain words', 'lb_kind  DR', ['lb_kind', 'DR']],
    ['a double-quoted word', 'virtualhost "a b"', ['virtualhost', 'a b']],
    ['a quote ends an unquoted word', 'abc"d e"', ['abc', 'd e']],
  ])('splitWords: %s', (_n, line, want) => {
    expect(splitWords(line)).toEqual(want);
  });

  it.each([
    ['unquoted spaces separate', '/bin/check a b', ['/bin/check', 'a', 'b']],
    ['single quotes keep spaces', "/bin/check ' spaced arg ' plain", ['/bin/check', ' spaced arg ', 'plain']],
    ['double quotes keep spaces', '/bin/check "x y"', ['/bin/check', 'x y']],
    ['quoted parts join their neighbours', `abcd" efg h jkl "mnop`, ['abcd efg h jkl mnop']],
    ['three strings', `abcd "efg h jkl" mnop`, ['abcd', 'efg h jkl', 'mnop']],
    ['escapes', '/bin/echo a\\tb \\x41 \\101 \\"q\\" \\\\', ['/bin/echo', 'a\tb', 'A', 'A', '"q"', '\\']],
    ['a double quote inside single quotes', `/bin/x '"q"'`, ['/bin/x', '"q"']],
  ])('splitQuotedEscaped: %s', (_n, s, want) => {
    expect(splitQuotedEscaped(s)).toEqual(want);
  });

  it.each([
    ['a missing closing quote', "/bin/x 'a b", "missing terminating ' in '/bin/x 'a b'"],
    ['a trailing backslash', '/bin/x \\', "a '\\' ends '/bin/x \\' with nothing to escape"],
  ])('splitQuotedEscaped refuses %s', (_n, s, why) => {
    expect(splitQuotedEscaped(s)).toBe(why);
  });

  it('builds blocks from braces on their own lines, on the keyword line, or all on one line', () => {
    const text = [
      'virtual_server 10.0.0.1 80',
      '{',
      '  real_server 10.0.0.2 80 { weight 2',
      '    TCP_CHECK { connect_timeout 3 } }',
      '}',
    ].join('\n');
    const { statements } = lexKeepalived(text, 'k.conf', memReader({}), []);
    expect(shape(statements)).toEqual([
      ['virtual_server', '10.0.0.1', '80', [['real_server', '10.0.0.2', '80', [['weight', '2'], ['TCP_CHECK', [['connect_timeout', '3']]]]]]],
    ]);
    expect(statements[0].block![0].block![1].line).toBe(4);
  });

  it.each([
    ['an extra }', 'virtual_server 10.0.0.1 80 {\n}\n}\n', 3, '}', "keepalived.conf:3: extra '}' (no block is open)"],
    ['a missing }', 'global_defs {\n}\nvirtual_server 10.0.0.1 80 {\n  protocol TCP\n', 3, 'virtual_server', "keepalived.conf:3: 'virtual_server' block is never closed (missing '}')"],
    ['a { after a }', 'a {\n}\n{\n}\n', 3, '{', "keepalived.conf:3: unexpected '{' (a block must follow its keyword, e.g. real_server 10.0.0.1 80 {)"],
    ['@config-id lines', 'global_defs {\n@main router_id x\n}\n', 2, '@', 'keepalived.conf:2: conditional configuration (@config-id lines) is not supported by lvsd; write the lines for this director only'],
    ['$PARAM definitions', '$VIP=10.0.0.1\n', 1, '$', 'keepalived.conf:1: parameter definitions ($NAME=...) are not supported by lvsd; write the values in place'],
    ['~SEQ blocks', '~SEQ(N, 1, 3) virtual_server 10.0.0.$N 80 {\n', 1, '~SEQ', 'keepalived.conf:1: sequence and list blocks (~SEQ, ~LST) are not supported by lvsd; write the lines out'],
    ['an include with two files', 'include a.conf b.conf\n', 1, 'include', 'keepalived.conf:1: include takes one file name or glob, got 2 words'],
    ['an include of a missing file', '\ninclude nothere.conf\n', 2, 'include', 'keepalived.conf:2: include nothere.conf: no such file (nothere.conf)'],
  ])('refuses %s, naming file, line and directive', (_n, text, line, directive, message) => {
    const e = lexError(text);
    expect(e).toMatchObject({ file: 'keepalived.conf', line, directive });
    expect(e.message).toBe(message);
  });

  it('splices includes in place, relative to the including file, nested, and notes a glob that matches nothing', () => {
    const files = {
      '/etc/keepalived/conf.d/a.conf': 'real_server 10.0.0.2 80 {\ninclude ../checks/tcp.inc\n}',
      '/etc/keepalived/conf.d/b.conf': 'real_server 10.0.0.3 80 {\n}',
      '/etc/keepalived/checks/tcp.inc': 'TCP_CHECK {\n  connect_timeout 2\n}',
    };
    const notices: KeepalivedNotice[] = [];
    const { statements, files: read } = lexKeepalived(
      'virtual_server 10.0.0.1 80 {\n  include conf.d/*.conf\n  include none/*.conf\n}', '/etc/keepalived/keepalived.conf', memReader(files), notices);
    expect(shape(statements)).toEqual([['virtual_server', '10.0.0.1', '80', [
      ['real_server', '10.0.0.2', '80', [['TCP_CHECK', [['connect_timeout', '2']]]]],
      ['real_server', '10.0.0.3', '80', []],
    ]]]);
    const tcp = statements[0].block![0].block![0];
    expect([tcp.file, tcp.line, tcp.block![0].line]).toEqual(['/etc/keepalived/checks/tcp.inc', 1, 2]);
    expect(read).toEqual(['/etc/keepalived/keepalived.conf', '/etc/keepalived/conf.d/a.conf', '/etc/keepalived/checks/tcp.inc', '/etc/keepalived/conf.d/b.conf']);
    expect(notices).toEqual([{ file: '/etc/keepalived/keepalived.conf', line: 3, name: 'include', note: "'none/*.conf' matched no files" }]);
  });

  it('refuses an include cycle, naming the chain', () => {
    const e = lexError('include a.conf\n', { 'a.conf': 'include b.conf', 'b.conf': '\ninclude a.conf' });
    expect(e).toMatchObject({ file: 'b.conf', line: 2, directive: 'include' });
    expect(e.message).toBe('b.conf:2: include cycle: keepalived.conf -> a.conf -> b.conf -> a.conf');
  });

  it.each([
    ['a{b,c}d', ['abd', 'acd']],
    ['{foo/{,cat,dog},bar}', ['foo/', 'foo/cat', 'foo/dog', 'bar']],
    ['no{brace', ['no{brace']],
    ['one{alt}', ['one{alt}']],
  ])('expandBraces %s', (p, want) => {
    expect(expandBraces(p)).toEqual(want);
  });

  it.each([
    ['*.conf', 'a.conf', true],
    ['*.conf', '.hidden.conf', false],
    ['.*.conf', '.hidden.conf', true],
    ['web-?.inc', 'web-1.inc', true],
    ['web-[12].inc', 'web-3.inc', false],
    ['web-[!12].inc', 'web-3.inc', true],
    ['a.conf', 'abconf', false],
  ])('globToRegExp %s ~ %s = %s', (p, name, want) => {
    expect(globToRegExp(p).test(name)).toBe(want);
  });
});
