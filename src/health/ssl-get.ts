// SSL_GET (keepalived check_ssl.c): HTTP_GET over TLS. Like keepalived without a CA configured, the
// certificate is not verified: the check proves the service answers, not who it is. SNI is sent only when
// asked for (keepalived enable_sni / sni_name), as spec.sniName.
import { request } from 'node:https';
import { httpCheck } from './http-common';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

export const sslGet: Checker = {
  kind: 'SSL_GET',
  check(t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
    // servername '' keeps node from deriving SNI from the host (it would for a name, never for an address).
    return httpCheck(request, { rejectUnauthorized: false, servername: spec.sniName ?? '' }, t, spec, signal);
  },
};
