// A group name to its gid, as getgrnam(3) would: /etc/group first, then `getent group` for groups that live in
// NSS (LDAP, sssd). Node has no getgrnam; this runs once, when the config is read.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The gid of group `name` (or of a numeric gid given as text), or null when no such group exists. */
export function groupId(name: string, etcGroup = '/etc/group'): number | null {
  if (/^\d+$/.test(name)) return Number(name);
  const fromFile = (text: string): number | null => {
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0] === name && /^\d+$/.test(f[2])) return Number(f[2]);
    }
    return null;
  };
  try {
    const gid = fromFile(readFileSync(etcGroup, 'utf8'));
    if (gid !== null) return gid;
  } catch {
    /* no /etc/group: NSS may still know it */
  }
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? fromFile(r.stdout) : null;
}
