// IPVS connection sync messages, version 1 (ip_vs_sync.c), IPv4 entries: what a kernel backup director reads
// too. Header {u8 0, u8 syncid, be16 size, u8 nr_conns, s8 version=1, u16 spare}; each entry {u8 type,
// u8 protocol, be16 ver_size, be32 flags, be16 state, be16 cport, vport, dport, be32 fwmark, be32 timeout,
// caddr, vaddr, daddr}, 36 bytes with no options.
export const SYNC_GROUP = '224.0.0.81';
export const SYNC_PORT = 8848;
export const SYNC_TTL = 1;
export const SYNC_MAXLEN = 1472;
const HEADER = 8;
const ENTRY = 36;
const VERSION = 1;

export interface SyncConn {
  protocol: number;
  /** IPVS conn flags: the forwarding method in the low 3 bits (MASQ 0, TUNNEL 2, DROUTE 3), INACTIVE 0x100. */
  flags: number;
  /** IPVS state number (TCP: NONE 0, ESTABLISHED 1, ...; UDP: 0). */
  state: number;
  cport: number;
  vport: number;
  dport: number;
  fwmark: number;
  /** Seconds left. */
  timeout: number;
  /** uint32 addresses. */
  caddr: number;
  vaddr: number;
  daddr: number;
}

/** Messages of at most `maxlen` bytes carrying `conns`. */
export function encodeSync(syncid: number, conns: readonly SyncConn[], maxlen = SYNC_MAXLEN): Buffer[] {
  const per = Math.max(1, Math.min(255, Math.floor((maxlen - HEADER) / ENTRY)));
  const out: Buffer[] = [];
  for (let i = 0; i < conns.length; i += per) {
    const part = conns.slice(i, i + per);
    const b = Buffer.alloc(HEADER + part.length * ENTRY);
    b[0] = 0; // v0 receivers see nr_conns 0 here and drop the message
    b[1] = syncid;
    b.writeUInt16BE(b.length, 2);
    b[4] = part.length;
    b[5] = VERSION;
    part.forEach((c, k) => {
      const o = HEADER + k * ENTRY;
      b[o] = 0; // IPv4
      b[o + 1] = c.protocol;
      b.writeUInt16BE(ENTRY & 0x0fff, o + 2); // version 0 in the top 4 bits
      b.writeUInt32BE(c.flags >>> 0, o + 4);
      b.writeUInt16BE(c.state, o + 8);
      b.writeUInt16BE(c.cport, o + 10);
      b.writeUInt16BE(c.vport, o + 12);
      b.writeUInt16BE(c.dport, o + 14);
      b.writeUInt32BE(c.fwmark >>> 0, o + 16);
      b.writeUInt32BE(c.timeout >>> 0, o + 20);
      b.writeUInt32BE(c.caddr >>> 0, o + 24);
      b.writeUInt32BE(c.vaddr >>> 0, o + 28);
      b.writeUInt32BE(c.daddr >>> 0, o + 32);
    });
    out.push(b);
  }
  return out;
}

/** A v1 message's entries (IPv4 ones; IPv6 and option bytes are skipped), or null when it is not one. */
export function decodeSync(b: Buffer): { syncid: number; conns: SyncConn[] } | null {
  if (b.length < HEADER || b[0] !== 0 || b[5] !== VERSION || b.readUInt16BE(2) !== b.length) return null;
  const n = b[4];
  const conns: SyncConn[] = [];
  let o = HEADER;
  for (let k = 0; k < n; k++) {
    if (o + 4 > b.length) return null;
    const size = b.readUInt16BE(o + 2) & 0x0fff;
    if (size < ENTRY || o + size > b.length) return null;
    if ((b[o] & 1) === 0) {
      conns.push({
        protocol: b[o + 1], flags: b.readUInt32BE(o + 4), state: b.readUInt16BE(o + 8), cport: b.readUInt16BE(o + 10),
        vport: b.readUInt16BE(o + 12), dport: b.readUInt16BE(o + 14), fwmark: b.readUInt32BE(o + 16),
        timeout: b.readUInt32BE(o + 20), caddr: b.readUInt32BE(o + 24), vaddr: b.readUInt32BE(o + 28), daddr: b.readUInt32BE(o + 32),
      });
    }
    o += (size + 3) & ~3; // entries are padded to 32 bits
  }
  return { syncid: b[1], conns };
}
