// The checker registry: keepalived's checker keywords, one file each (check_tcp.c, check_http.c, check_ssl.c,
// check_misc.c). VIP_PATH is built by the daemon (it needs the data path) and handed to the HealthManager.
import { httpGet } from './http-get';
import { miscCheck } from './misc-check';
import { sslGet } from './ssl-get';
import { tcpCheck } from './tcp-check';
import type { Checker, CheckerSpec } from './types';

const CHECKERS: readonly Checker[] = [tcpCheck, httpGet, sslGet, miscCheck];

const byKind = new Map<string, Checker>(CHECKERS.map((c) => [c.kind, c]));

export function findChecker(kind: string): Checker | undefined {
  return byKind.get(kind);
}

export const checkerKinds = (): CheckerSpec['kind'][] => CHECKERS.map((c) => c.kind);

/** keepalived.conf(5) defaults for what a checker block leaves out. */
export function checkerDefaults(kind: CheckerSpec['kind']): Pick<CheckerSpec, 'connectTimeout' | 'retry' | 'delayBeforeRetry' | 'delayLoop'> {
  const web = kind === 'HTTP_GET' || kind === 'SSL_GET';
  return { connectTimeout: 5, retry: kind === 'MISC_CHECK' ? 0 : 1, delayBeforeRetry: web ? 3 : 1, delayLoop: 60 };
}
