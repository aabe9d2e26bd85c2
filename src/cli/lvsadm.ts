// lvsadm: ipvsadm's command line against a running lvsd. This slice serves the list command (-L/-l, -n);
// the rest of ipvsadm's surface is refused by name until it is built.
import { request } from '../control/client';
import { LvsError } from '../control/errors';
import { formatList } from '../control/format-list';
import { socketPath, type ListResult } from '../control/protocol';

const VERSION = 'lvsadm v0.1.0 (userlvs; ipvsadm v1.31 compatible output)';
const TRY = "Try `lvsadm -h' or 'lvsadm --help' for more information.";

const USAGE = `${VERSION}
Usage:
  lvsadm -L|l [options]
  lvsadm -h
Options:
  --numeric      -n                   numeric output of addresses and ports
  --nosort                            disable sorting output of service/server entries
  --socket PATH                       lvsd control socket (default /run/lvsd.sock, or $LVSD_SOCKET)
`;

interface Parsed {
  command: 'list' | 'help' | 'version';
  numeric: boolean;
  sort: boolean;
  socket?: string;
}

export function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { command: 'list', numeric: false, sort: true };
  let command: Parsed['command'] | null = null;
  const setCommand = (c: Parsed['command']): void => {
    if (command !== null && command !== c) throw new LvsError('EUSAGE', 'multiple commands specified');
    command = c;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '-L': case '-l': case '--list': setCommand('list'); break;
      case '-h': case '--help': setCommand('help'); break;
      case '-v': case '--version': setCommand('version'); break;
      case '-n': case '--numeric': p.numeric = true; break;
      case '--nosort': p.sort = false; break;
      case '--sort': break; // accepted as a no-op, as ipvsadm does
      case '-Ln': case '-nL': case '-ln': case '-nl': setCommand('list'); p.numeric = true; break;
      case '--socket':
        if (i + 1 >= argv.length) throw new LvsError('EUSAGE', '--socket requires a path');
        p.socket = argv[++i];
        break;
      default:
        throw new LvsError('EUSAGE', `${a}: not supported by this lvsadm yet`);
    }
  }
  p.command = command ?? 'list';
  return p;
}

export async function main(argv: string[]): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${TRY}\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.command === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    const list = (await request(socketPath(args.socket), 'list')) as ListResult;
    process.stdout.write(formatList(list, { sort: args.sort }));
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
