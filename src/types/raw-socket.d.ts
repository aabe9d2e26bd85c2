// The slice of raw-socket (no published types) that userlvs uses.
declare module 'raw-socket' {
  interface SocketOptions {
    protocol?: number;
    addressFamily?: number;
    bufferSize?: number;
  }
  interface Socket {
    close(): Socket;
    on(event: 'error', fn: (err: Error) => void): Socket;
    on(event: 'message', fn: (buf: Buffer, source: string) => void): Socket;
  }
  export function createSocket(options: SocketOptions): Socket;
}
