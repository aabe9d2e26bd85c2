// A fluent builder of real Ethernet/IPv4/TCP|UDP frames with correct checksums (Katran's packet-fixture idea),
// so pipeline tests read as "this frame in, that frame out".
import { setIpv4HeaderChecksum, setL4Checksum } from '../../src/packet/checksum';
import { parseMac } from '../../src/packet/format';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/packet/ipv4';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/packet/tcp';

export const FLAGS = { S: TCP_SYN, A: TCP_ACK, F: TCP_FIN, R: TCP_RST, SA: TCP_SYN | TCP_ACK, FA: TCP_FIN | TCP_ACK, PA: 0x18 };

function ip(s: string): number[] {
  return s.split('.').map(Number);
}

export class FrameBuilder {
  private dstMac = '02:00:00:00:00:0a';
  private srcMac = '02:00:00:00:00:02';
  private vlanId: number | null = null;
  private src = '10.0.0.2';
  private dst = '10.0.0.100';
  private proto = IPPROTO_TCP;
  private sport = 40000;
  private dport = 80;
  private flags = TCP_SYN;
  private payload: Uint8Array = new Uint8Array(0);
  private ttl = 64;
  private ipId = 1;
  private fragWord = 0x4000;
  private ipOptions: number[] = [];

  static tcp(): FrameBuilder {
    return new FrameBuilder();
  }

  static udp(): FrameBuilder {
    const b = new FrameBuilder();
    b.proto = IPPROTO_UDP;
    return b;
  }

  macs(dst: string, src: string): this { this.dstMac = dst; this.srcMac = src; return this; }
  vlan(id: number): this { this.vlanId = id; return this; }
  from(addr: string, port: number): this { this.src = addr; this.sport = port; return this; }
  to(addr: string, port: number): this { this.dst = addr; this.dport = port; return this; }
  tcpFlags(f: number): this { this.flags = f; return this; }
  data(p: Uint8Array | string): this { this.payload = typeof p === 'string' ? Buffer.from(p) : p; return this; }
  frag(word: number): this { this.fragWord = word; return this; }
  options(bytes: number[]): this { this.ipOptions = bytes; return this; }
  id(v: number): this { this.ipId = v; return this; }

  build(): Buffer {
    const l4h = this.proto === IPPROTO_TCP ? 20 : 8;
    const ihl = 20 + this.ipOptions.length;
    const l2 = this.vlanId === null ? 14 : 18;
    const tot = ihl + l4h + this.payload.length;
    const b = Buffer.alloc(l2 + tot);
    parseMac(this.dstMac, b, 0);
    parseMac(this.srcMac, b, 6);
    let o = 12;
    if (this.vlanId !== null) {
      b.writeUInt16BE(0x8100, 12);
      b.writeUInt16BE(this.vlanId, 14);
      o = 16;
    }
    b.writeUInt16BE(0x0800, o);
    const i = l2;
    b[i] = 0x40 | (ihl >> 2);
    b.writeUInt16BE(tot, i + 2);
    b.writeUInt16BE(this.ipId, i + 4);
    b.writeUInt16BE(this.fragWord, i + 6);
    b[i + 8] = this.ttl;
    b[i + 9] = this.proto;
    b.set(ip(this.src), i + 12);
    b.set(ip(this.dst), i + 16);
    b.set(this.ipOptions, i + 20);
    setIpv4HeaderChecksum(b, i);
    const l4 = i + ihl;
    b.writeUInt16BE(this.sport, l4);
    b.writeUInt16BE(this.dport, l4 + 2);
    if (this.proto === IPPROTO_TCP) {
      b.writeUInt32BE(1000, l4 + 4);
      b[l4 + 12] = 5 << 4;
      b[l4 + 13] = this.flags;
      b.writeUInt16BE(65535, l4 + 14);
    } else {
      b.writeUInt16BE(8 + this.payload.length, l4 + 4);
    }
    b.set(this.payload, l4 + l4h);
    setL4Checksum(b, i, l4, this.proto);
    return b;
  }
}
