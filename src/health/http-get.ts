// HTTP_GET (keepalived check_http.c): GET each url over plain HTTP; see http-common.ts for what passes.
import { request } from 'node:http';
import { httpCheck } from './http-common';
import type { Checker, CheckerSpec, CheckResult, CheckTarget } from './types';

export const httpGet: Checker = {
  kind: 'HTTP_GET',
  check(t: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult> {
    return httpCheck(request, {}, t, spec, signal);
  },
};
