// What the pipeline did with a frame: numeric, counted per reason, named only when shown.
import { PARSE_ERROR_NAMES } from './packet/flow';

export const V_FORWARDED = 0;
export const V_NOT_OURS = 1; // no service, not a tracked flow: the kernel's business
export const V_ARP = 2;
export const V_DROP_MALFORMED = 3; // see the parse-error counters for which shape
export const V_DROP_NO_CONN = 4; // not a connection start and no entry (stray ACK): IPVS drops it
export const V_DROP_NO_DEST = 5; // no real server available
export const V_DROP_TABLE_FULL = 6;
export const V_DROP_NEIGH = 7; // RS MAC not resolved yet
export const V_DROP_FRAGMENT = 8; // a later fragment of an untracked flow
export const V_DROP_SEND = 9; // the emit failed
export const V_DROP_DEST_GONE = 10; // the connection's real server was removed
export const V_DROP_TOO_BIG = 11; // would exceed the path MTU once wrapped (TUN); DF packets got ICMP frag-needed
export const V_DROP_LADDR = 12; // FullNAT: no free local address:port for the real server
export const V_ICMP_FORWARDED = 13; // an ICMP error about a tracked connection, passed on rewritten
/**
 * An 802.1Q/802.1ad-tagged frame: another L2 network, left to the kernel (which hands it to a VLAN device, if one
 * exists, or drops it) as IPVS never sees it on the untagged interface. To serve a VLAN, capture on its device.
 */
export const V_VLAN = 14;
/** A new connection shed by the drop_packet defense (conn/defense.ts) before it was scheduled or forwarded. */
export const V_DROP_DEFENSE = 15;
export const VERDICT_COUNT = 16;

export const VERDICT_NAMES: readonly string[] = [
  'forwarded', 'not-ours', 'arp', 'malformed', 'no-conn', 'no-dest', 'conn-table-full', 'neigh-unresolved',
  'fragment', 'send-failed', 'dest-gone', 'too-big', 'laddr-exhausted', 'icmp-forwarded', 'vlan',
  'defense-drop',
];

/** Parse errors are negative codes; their counters sit at index -code. */
export const PARSE_ERROR_SLOTS = 1 + Object.keys(PARSE_ERROR_NAMES).length;
