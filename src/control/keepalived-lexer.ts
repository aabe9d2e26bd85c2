// keepalived.conf's lexical rules, as keepalived's own reader applies them (lib/parser.c): `!` and `#` start a
// comment anywhere outside double quotes (`\#`, `\!` escape them), every `{` and `}` outside double quotes is a
// line of its own (so `real_server 10.0.0.1 80 { weight 2 }` is four lines), words split at white space with a
// double-quoted string as one word, and `include <glob>` splices the files it matches in place, relative to the
// including file's directory. Lines become a tree of statements: a statement followed by `{` owns a block.
import { dirname, isAbsolute, join, normalize } from 'node:path';

/** A refused keepalived.conf: the file and line, the directive concerned, and what is wrong. */
export class KeepalivedError extends Error {
  constructor(readonly file: string, readonly line: number, readonly directive: string, readonly problem: string) {
    super(line > 0 ? `${file}:${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'KeepalivedError';
  }
}

/** Something read but not used by lvsd (a VRRP block, an ignored option), or a default keepalived would log. */
export interface KeepalivedNotice {
  file: string;
  line: number;
  name: string;
  note: string;
}

/** One file an include matched. */
export interface IncludeFile {
  name: string;
  text: string;
}

/**
 * Expands an include's glob (already joined to the including file's directory) to the regular files it
 * matches, in glob(3)'s order; none is an empty list.
 */
export type IncludeReader = (pattern: string) => IncludeFile[];

/** One statement: its words (the first is the keyword), where it is, and its `{ }` block if it has one. */
export interface KaStatement {
  file: string;
  line: number;
  name: string;
  args: string[];
  /** The line's text after comments are removed (script directives re-split it with quotes and escapes). */
  raw: string;
  block?: KaStatement[];
}

interface KaLine {
  file: string;
  line: number;
  raw: string;
  words: string[];
}

/** include nesting deeper than this is refused (a cycle through symlinks would otherwise never end). */
export const MAX_INCLUDE_DEPTH = 32;

const INCLUDE_WORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const GLOB_CHARS = /[*?[{]/;

/** Reads `text` (and what it includes) into statements. */
export function lexKeepalived(text: string, name: string, readInclude: IncludeReader, notices: KeepalivedNotice[]): {
  statements: KaStatement[];
  files: string[];
} {
  const lines: KaLine[] = [];
  const files: string[] = [];
  readLines(text, name, readInclude, [normalize(name)], lines, files, notices);
  return { statements: buildTree(lines), files };
}

function readLines(text: string, file: string, readInclude: IncludeReader, stack: string[], out: KaLine[], files: string[],
  notices: KeepalivedNotice[]): void {
  files.push(file);
  const physical = text.split('\n');
  for (let i = 0; i < physical.length; i++) {
    const line = i + 1;
    const stripped = decomment(physical[i].replace(/\r+$/, ''), file, line);
    if (stripped === '') continue;
    refuseAdvanced(stripped, file, line);
    for (const piece of splitBraces(stripped)) {
      const words = splitWords(piece, file, line);
      if (words.length === 0) continue;
      if (INCLUDE_WORDS.has(words[0])) {
        if (words.length !== 2) {
          throw new KeepalivedError(file, line, words[0], `${words[0]} takes one file name or glob, got ${words.length - 1} words`);
        }
        include(words[1], words[0], file, line, readInclude, stack, out, files, notices);
        continue;
      }
      out.push({ file, line, raw: piece, words });
    }
  }
}

function include(pattern: string, keyword: string, file: string, line: number, readInclude: IncludeReader, stack: string[],
  out: KaLine[], files: string[], notices: KeepalivedNotice[]): void {
  const joined = isAbsolute(pattern) ? pattern : join(dirname(file), pattern);
  const matched = readInclude(joined);
  if (matched.length === 0) {
    if (!GLOB_CHARS.test(pattern)) throw new KeepalivedError(file, line, keyword, `${keyword} ${pattern}: no such file (${joined})`);
    notices.push({ file, line, name: keyword, note: `'${pattern}' matched no files` });
    return;
  }
  for (const f of matched) {
    const key = normalize(f.name);
    if (stack.includes(key)) {
      throw new KeepalivedError(file, line, keyword, `include cycle: ${[...stack, key].join(' -> ')}`);
    }
    if (stack.length >= MAX_INCLUDE_DEPTH) {
      throw new KeepalivedError(file, line, keyword, `includes nested deeper than ${MAX_INCLUDE_DEPTH} files`);
    }
    readLines(f.text, f.name, readInclude, [...stack, key], out, files, notices);
  }
}

/**
 * keepalived's decomment(): leading/trailing blanks off, a comment from the first `!` or `#` outside double
 * quotes, `\#` and `\!` outside quotes unescaped.
 */
export function decomment(s: string, file = '', line = 0): string {
  let out = '';
  let quote = false;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      quote = !quote;
    } else if (c === '\\' && i + 1 < s.length) {
      if (!quote && (s[i + 1] === '#' || s[i + 1] === '!')) {
        out += s[i + 1];
        i++;
        continue;
      }
      out += c + s[i + 1];
      i++;
      continue;
    } else if (!quote && (c === '!' || c === '#')) {
      break;
    }
    out += c;
  }
  if (quote) throw new KeepalivedError(file, line, '"', `unterminated quote in '${s.trim()}'`);
  return out.trim();
}

/** `{` and `}` outside double quotes become pieces of their own, as keepalived's read_line() splits them. */
export function splitBraces(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  for (const c of s) {
    if (c === '"') quote = !quote;
    if (!quote && (c === '{' || c === '}')) {
      if (cur.trim() !== '') out.push(cur.trim());
      out.push(c);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** Words as keepalived's alloc_strvec() makes them: white space separates, "a double-quoted string" is one word. */
export function splitWords(s: string, file = '', line = 0): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw new KeepalivedError(file, line, '"', `unmatched quote in '${s}'`);
      out.push(s.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < s.length && !/\s/.test(s[i]) && s[i] !== '"') i++;
      out.push(s.slice(start, i));
    }
  }
  return out;
}

/**
 * Words as keepalived splits script strings (alloc_strvec_quoted_escaped): white space separates, `"` and `'`
 * quote (the quotes go, the white space inside stays, quoted parts join their neighbours), and backslash escapes
 * as the shell's $'...' (\n \t \xHH \NNN \cC ..., any other \C is C). A string instead of words says why it is malformed.
 */
export function splitQuotedEscaped(s: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        i++;
        if (i >= s.length) return `a '\\' ends '${s}' with nothing to escape`;
        const [ch, used] = escape(s, i);
        word += ch;
        i += used - 1;
        continue;
      }
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        continue;
      }
      if (/\s/.test(c)) break;
      word += c;
    }
    if (quote) return `missing terminating ${quote} in '${s}'`;
    out.push(word);
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** The character an escape at s[i] (just after the backslash) stands for, and how many characters it used. */
function escape(s: string, i: number): [string, number] {
  const c = s[i];
  let m: RegExpExecArray | null;
  if (c === 'x' && (m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1)))) return [String.fromCharCode(parseInt(m[0], 16)), 1 + m[0].length];
  if (c === 'c' && i + 1 < s.length) return [String.fromCharCode(s.charCodeAt(i + 1) & 0x1f), 2];
  if ((m = /^[0-7]{1,3}/.exec(s.slice(i)))) return [String.fromCharCode(parseInt(m[0], 8) & 0xff), m[0].length];
  return [SIMPLE_ESCAPES[c] ?? c, 1];
}

/** keepalived's preprocessor (@config-id lines, $PARAM definitions, ~SEQ/~LST loops) is not lvsd's: say so. */
function refuseAdvanced(s: string, file: string, line: number): void {
  if (s.startsWith('@')) {
    throw new KeepalivedError(file, line, '@', 'conditional configuration (@config-id lines) is not supported by lvsd; write the lines for this director only');
  }
  if (/^\$[A-Za-z_][A-Za-z0-9_]*\s*=/.test(s)) {
    throw new KeepalivedError(file, line, '$', 'parameter definitions ($NAME=...) are not supported by lvsd; write the values in place');
  }
  if (/^~(SEQ|LST)/.test(s)) {
    throw new KeepalivedError(file, line, s.slice(0, 4), 'sequence and list blocks (~SEQ, ~LST) are not supported by lvsd; write the lines out');
  }
}

/** Lines to statements: a `{` line opens a block owned by the statement just before it, `}` closes it. */
function buildTree(lines: KaLine[]): KaStatement[] {
  const root: KaStatement[] = [];
  const stack: { list: KaStatement[]; opener: KaStatement | null }[] = [{ list: root, opener: null }];
  let prev: KaStatement | null = null; // the statement on the line before, if the line before was one
  for (const l of lines) {
    const top = stack[stack.length - 1];
    if (l.words.length === 1 && l.words[0] === '{') {
      if (!prev || prev.block) throw new KeepalivedError(l.file, l.line, '{', "unexpected '{' (a block must follow its keyword, e.g. real_server 10.0.0.1 80 {)");
      prev.block = [];
      stack.push({ list: prev.block, opener: prev });
      prev = null;
      continue;
    }
    if (l.words.length === 1 && l.words[0] === '}') {
      if (stack.length === 1) throw new KeepalivedError(l.file, l.line, '}', "extra '}' (no block is open)");
      stack.pop();
      prev = null;
      continue;
    }
    const st: KaStatement = { file: l.file, line: l.line, name: l.words[0], args: l.words.slice(1), raw: l.raw };
    top.list.push(st);
    prev = st;
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1].opener!;
    throw new KeepalivedError(open.file, open.line, open.name, `'${open.name}' block is never closed (missing '}')`);
  }
  return root;
}
