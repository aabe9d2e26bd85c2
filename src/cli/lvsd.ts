// lvsd: the director daemon. Refuses clearly when it cannot work (not root, no interface, bad config,
// libpcap refuses), and removes its fence and socket on SIGTERM/SIGINT.
import { ConfigError, loadConfigFile } from '../control/config';
import { socketPath } from '../control/protocol';
import { Daemon } from '../daemon';
import { InterfaceError } from '../io/interface-info';
import { CaptureOpenError, PcapIo } from '../io/pcap-io';
import { RawIpSender } from '../io/raw-ip';
import { createLogger } from '../log';

const USAGE = `Usage: lvsd --config FILE [--socket PATH] [--check]
  --config FILE   YAML or JSON config (interface, services, real servers)
  --socket PATH   control socket (default /run/lvsd.sock, or $LVSD_SOCKET)
  --check         validate the config and exit
`;

function parse(argv: string[]): { config?: string; socket?: string; check: boolean; help: boolean } {
  const o: { config?: string; socket?: string; check: boolean; help: boolean } = { check: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config' || a === '-c') o.config = argv[++i];
    else if (a === '--socket') o.socket = argv[++i];
    else if (a === '--check') o.check = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`lvsd: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts.help || !opts.config) {
    process.stderr.write(USAGE);
    return opts.help ? 0 : 2;
  }
  let config;
  try {
    config = loadConfigFile(opts.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`lvsd: config error: ${err.message}\n`);
    return 2;
  }
  if (opts.check) {
    process.stdout.write(`${opts.config}: OK (${config.services.length} services)\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('lvsd: must run as root (it captures with libpcap, injects frames and edits nftables)\n');
    return 1;
  }
  let daemon: Daemon;
  try {
    daemon = new Daemon(config, { socket: socketPath(opts.socket), log, makeIo: (iface, filter) => new PcapIo(iface, filter, (msg) => log.warn({ component: 'pcap' }, msg)),
      makeIp: () => new RawIpSender(),
    });
    await daemon.start();
  } catch (err) {
    if (err instanceof InterfaceError || err instanceof CaptureOpenError) {
      process.stderr.write(`lvsd: ${err.message}\n`);
      log.error({ err: err.message }, 'cannot start');
      return 1;
    }
    process.stderr.write(`lvsd: ${(err as Error).message}\n`);
    log.error({ err }, 'cannot start');
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
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`lvsd: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
