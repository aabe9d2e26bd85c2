// Health checking, as keepalived's checkers: each kind is one file implementing Checker, run off the packet
// path (its own sockets and child processes, never blocking the pipeline), and a manager turns consecutive
// results into up/down verdicts and verdicts into table edits.

/** One keepalived checker block, with its defaults filled in (keepalived.conf(5)). */
export interface CheckerSpec {
  kind: 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET' | 'MISC_CHECK' | 'VIP_PATH';
  /** Where to connect: defaults to the real server's address and port. */
  connectIp?: string;
  connectPort?: number;
  /** Seconds. keepalived: connect_timeout 5. */
  connectTimeout: number;
  /** Attempts repeated after a failed one before the checker reports down, so down after retry+1 failures in a row
   *  (keepalived `retry`, default 1; MISC 0). Only while the checker is up: a down checker tries once per delayLoop. */
  retry: number;
  /** Seconds between the attempts of a retry run (HTTP/SSL 3 s, others 1 s). */
  delayBeforeRetry: number;
  /** Seconds between checks when healthy (keepalived `delay_loop`, default 60). */
  delayLoop: number;
  /** HTTP_GET / SSL_GET: each url must answer. */
  urls?: { path: string; statusCodes?: [number, number][]; digest?: string }[];
  /** Host header (keepalived `virtualhost`). */
  virtualhost?: string;
  /** SSL_GET: the SNI name to send (keepalived `enable_sni` / `sni_name`); none when unset. */
  sniName?: string;
  /** MISC_CHECK: the program and its arguments (an argument vector, never a shell string). */
  miscPath?: string[];
  /** Seconds; defaults to delayLoop. */
  miscTimeout?: number;
  /** MISC_CHECK misc_dynamic: exit 2..255 sets the weight to exit-2. */
  miscDynamic?: boolean;
}

/** What the checker is pointed at. */
export interface CheckTarget {
  /** The real server, as dotted quad and port. */
  ip: string;
  port: number;
  /** The service's VIP and port (VIP-path checks travel to them). */
  vip?: string;
  vport?: number;
  /** Forwarding method of the real server: 'dr' | 'tun' | 'nat' | 'fullnat'. */
  forward: string;
}

export interface CheckResult {
  ok: boolean;
  /** Why, for logs and lvsadm: "connect ECONNREFUSED", "status 503", "exit 1", "timeout after 3 s". */
  reason: string;
  /** MISC_CHECK misc_dynamic: the weight the program asked for. */
  weight?: number;
}

export interface Checker {
  readonly kind: CheckerSpec['kind'];
  /** One attempt; resolves (never rejects) within spec.connectTimeout (or miscTimeout) seconds. */
  check(target: CheckTarget, spec: CheckerSpec, signal: AbortSignal): Promise<CheckResult>;
}
