// lvsd: the director daemon. Refuses clearly when it cannot work (not root, no interface, bad config,
// libpcap refuses), and removes its fence and socket on SIGTERM/SIGINT.
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONN_MAX, DEFAULT_WORKERS, DEFAULT_METRICS_LISTEN, loadConfigFile, type DaemonConfig } from '../control/config';
import { KeepalivedError, parseKeepalived, type KeepalivedConfig } from '../control/keepalived';
import { socketPath } from '../control/protocol';
import { Daemon } from '../daemon';
import { InterfaceError } from '../io/interface-info';
import { CaptureOpenError } from '../io/pcap-io';
import { ioMakers } from '../io/backend';
import { createLogger } from '../log';

const USAGE = `Usage: lvsd --config FILE [--keepalived FILE] [--socket PATH] [--check]
       lvsd --keepalived FILE --interface IF[,IF] [--socket PATH] [--check]
  --config FILE       YAML or JSON config (interface, services, real servers, rules)
  --keepalived FILE   a keepalived.conf: its virtual_server blocks become services, its checkers run
  --interface IF      capture interface(s), comma-separated (with --keepalived and no --config)
  --socket PATH       control socket (default /run/lvsd.sock, or $LVSD_SOCKET)
  --check             validate the config (and keepalived.conf) and exit
`;

interface Opts {
  config?: string;
  keepalived?: string;
  interfaces?: string[];
  socket?: string;
  check: boolean;
  help: boolean;
}

function parse(argv: string[]): Opts {
  const o: Opts = { check: false, help: false };
  const value = (i: number, a: string): string => {
    if (i >= argv.length) throw new Error(`${a} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config' || a === '-c') o.config = value(++i, a);
    else if (a === '--keepalived') o.keepalived = value(++i, a);
    else if (a === '--interface' || a === '-i') o.interfaces = value(++i, a).split(',').filter(Boolean);
    else if (a === '--socket') o.socket = value(++i, a);
    else if (a === '--check') o.check = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** The daemon's config: the YAML file's, with keepalived's services (and lvs_timeouts) added. */
function buildConfig(o: Opts, ka: KeepalivedConfig | null): DaemonConfig {
  const base: DaemonConfig = o.config ? loadConfigFile(o.config) : {
    interfaces: o.interfaces ?? [], connMax: DEFAULT_CONN_MAX, workers: DEFAULT_WORKERS, io: 'pcap', fence: { enabled: true, table: 'userlvs' },
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 }, services: [], rules: [],
    metrics: { enabled: true, listen: DEFAULT_METRICS_LISTEN },
  };
  if (o.interfaces) base.interfaces = o.interfaces;
  if (base.interfaces.length === 0) throw new ConfigError('command line', 'interface', 'give --interface IF (or --config with interface:)');
  if (ka) {
    base.services = [...base.services, ...ka.services];
    base.timeouts = { ...base.timeouts, ...ka.timeouts };
  }
  return base;
}

async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  let opts: Opts;
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`lvsd: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts.help || (!opts.config && !opts.keepalived)) {
    process.stderr.write(USAGE);
    return opts.help ? 0 : 2;
  }
  let config: DaemonConfig;
  let ka: KeepalivedConfig | null = null;
  try {
    if (opts.keepalived) ka = parseKeepalived(opts.keepalived);
    config = buildConfig(opts, ka);
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof KeepalivedError)) throw err;
    process.stderr.write(`lvsd: config error: ${err.message}\n`);
    return 2;
  }
  if (opts.check) {
    const notices = (ka?.notices ?? []).map((n) => `  ${n.file}:${n.line}: ${n.name}: ${n.note}\n`).join('');
    process.stdout.write(`${opts.keepalived ?? opts.config}: OK (${config.services.length} services)\n${notices}`);
    return 0;
  }
  for (const n of ka?.notices ?? []) log.info({ file: n.file, line: n.line, directive: n.name }, n.note);
  if (process.getuid?.() !== 0) {
    process.stderr.write('lvsd: must run as root (it captures with libpcap, injects frames and edits nftables)\n');
    return 1;
  }
  let daemon: Daemon;
  try {
    daemon = new Daemon(config, {
      socket: socketPath(opts.socket), log, keepalived: ka?.services,
      ...ioMakers(config.io, log),
      workerScript: join(__dirname, '..', 'worker', 'shard-main.js'),
    });
    await daemon.start();
  } catch (err) {
    const known = err instanceof InterfaceError || err instanceof CaptureOpenError;
    process.stderr.write(`lvsd: ${(err as Error).message}\n`);
    log.error(known ? { err: (err as Error).message } : { err }, 'cannot start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'lvsd stopping');
      daemon.stop();
      resolve(0);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // SIGHUP: read the files again and apply the difference; a bad file leaves everything as it was.
    process.on('SIGHUP', () => {
      try {
        const kaNew = opts.keepalived ? parseKeepalived(opts.keepalived) : null;
        const next = buildConfig(opts, kaNew);
        // The socket's owner and mode are set when it is created.
        if (next.control?.gid !== daemon.config.control?.gid) {
          log.warn({ now: daemon.config.control?.socketGroup ?? null, config: next.control?.socketGroup ?? null }, 'control.socket_group changes only at restart');
        }
        void daemon.reload(next, kaNew?.services).catch((err: Error) => {
          log.error({ err: err.message }, 'reload refused; the table is unchanged');
        });
      } catch (err) {
        log.error({ err: (err as Error).message }, 'reload refused: the config does not read; the table is unchanged');
      }
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lvsd: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
