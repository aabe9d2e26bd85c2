// The lvsadm end of the control socket.
import { createConnection } from 'node:net';
import { LvsError } from './errors';
import { PROTOCOL_VERSION, type Response } from './protocol';

export async function request(path: string, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 5000): Promise<unknown> {
  const res = await new Promise<Response>((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new LvsError('ETIMEDOUT', `lvsd did not answer on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify({ v: PROTOCOL_VERSION, cmd, args }) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as Response);
      } catch {
        reject(new LvsError('EPROTO', 'lvsd sent a malformed response'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'is lvsd running?'
        : err.code === 'EACCES' ? 'permission denied: run lvsadm as root, or as a member of the control socket\'s group (control.socket_group)'
          : err.message;
      reject(new LvsError('ECONNREFUSED', `Can't connect to lvsd on ${path} (${why})`));
    });
  });
  if (!res.ok) throw new LvsError(res.error.code, res.error.message);
  return res.result;
}
