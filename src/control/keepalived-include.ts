// keepalived's include globs on the file system, as glob(3) with GLOB_BRACE expands them: `*`, `?`, `[...]`
// within one path component (a leading dot matched only by a leading dot), `{a,b}` alternatives expanded first
// (each alternative's matches sorted, in the order of the alternatives). Directories are skipped, and so are
// executable files, as keepalived skips them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { IncludeFile } from './keepalived-lexer';

/** The files an include pattern matches, read. */
export function fsIncludeReader(pattern: string): IncludeFile[] {
  const seen = new Set<string>();
  const out: IncludeFile[] = [];
  for (const alt of expandBraces(pattern)) {
    for (const name of globPaths(alt).sort()) {
      if (seen.has(name)) continue;
      seen.add(name);
      let st;
      try {
        st = statSync(name);
      } catch {
        continue;
      }
      if (!st.isFile() || (st.mode & 0o111) !== 0) continue;
      out.push({ name, text: readFileSync(name, 'utf8') });
    }
  }
  return out;
}

/** `a{b,c{d,e}}f` -> abf, acdf, acef (csh order). A brace without a comma stays as it is. */
export function expandBraces(p: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const parts = splitTop(p.slice(open + 1, i));
      if (parts.length < 2) continue;
      const head = p.slice(0, open);
      const tails = expandBraces(p.slice(i + 1));
      return parts.flatMap((part) => expandBraces(part).flatMap((mid) => tails.map((t) => head + mid + t)));
    }
  }
  return [p];
}

function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

const MAGIC = /[*?[]/;

/** Paths matching a brace-free pattern, component by component. */
function globPaths(pattern: string): string[] {
  const absolute = pattern.startsWith(sep);
  const parts = pattern.split(sep).filter((x) => x !== '');
  let bases = [absolute ? sep : ''];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!MAGIC.test(part)) {
        next.push(base === '' ? unescapeGlob(part) : join(base, unescapeGlob(part)));
        continue;
      }
      let entries: string[];
      try {
        entries = readdirSync(base === '' ? '.' : base);
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const e of entries) if (re.test(e)) next.push(base === '' ? e : join(base, e));
    }
    bases = next;
  }
  return bases.filter((b) => b !== '' && b !== sep);
}

function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** One path component's pattern as a RegExp (a leading `.` must be matched literally, as glob(3) does). */
export function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '\\' && i + 1 < part.length) {
      re += escapeRe(part[++i]);
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = part.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else {
      re += escapeRe(c);
    }
  }
  const dotSafe = part.startsWith('.') ? '' : '(?!\\.)';
  return new RegExp(`^${dotSafe}${re}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
