// A first look at a frame for batch prefetching: the connection-table hash of its tuple, read straight from the
// bytes at fixed offsets (untagged IPv4, TCP or UDP), with no validation beyond bounds. The full parse
// (packet/flow.ts) still decides what the frame is; a frame this peek misreads only warms a cache line for nothing.
import { tupleHash } from '../conn/hash';
import { ETH_HLEN, ETHERTYPE_IPV4, ethType } from './ethernet';
import { ipDst, ipHeaderLen, ipProto, ipSrc, IPPROTO_TCP, IPPROTO_UDP } from './ipv4';

/** tupleHash() of the frame's (proto, src, sport, dst, dport), or 0 when it is not plain IPv4 TCP/UDP. */
export function peekTupleHash(b: Uint8Array, len: number): number {
  if (len < ETH_HLEN + 20 || ethType(b, 0) !== ETHERTYPE_IPV4) return 0;
  const proto = ipProto(b, ETH_HLEN);
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return 0;
  const l4 = ETH_HLEN + ipHeaderLen(b, ETH_HLEN);
  if (l4 + 4 > len) return 0;
  const sport = (b[l4] << 8) | b[l4 + 1];
  const dport = (b[l4 + 2] << 8) | b[l4 + 3];
  return tupleHash(proto, ipSrc(b, ETH_HLEN), sport, ipDst(b, ETH_HLEN), dport);
}
