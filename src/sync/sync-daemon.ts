// The connection sync daemon (ipvsadm --start-daemon master|backup): a master multicasts its connections'
// creation and state changes in IPVS's v1 format; a backup creates them in its own table, so after a failover
// (the VIP moving by VRRP) established flows go on. Both can run at once, as in IPVS. Off the packet path: the
// pipeline only records connection indexes in a ring; a timer builds and sends the messages.
import { createSocket, type Socket } from 'node:dgram';
import type { ConnTable } from '../conn/table';
import { S_UDP } from '../conn/tcp-state';
import { LvsError } from '../control/errors';
import type { Logger } from '../log';
import { CF_INACTIVE, CF_TEMPLATE, forwarderOf, type Pipeline } from '../pipeline';
import type { ServiceTable } from '../service/table';
import { decodeSync, encodeSync, SYNC_GROUP, SYNC_MAXLEN, SYNC_PORT, SYNC_TTL, type SyncConn } from './message';

export interface SyncDaemonSpec {
  state: 'master' | 'backup';
  /** Interface name (ipvsadm's default eth0) and the address on it multicast goes out of / is joined on. */
  mcastInterface: string;
  ifaceAddr: string;
  syncid: number;
  group: string;
  port: number;
  ttl: number;
  maxlen: number;
}

/** IPVS forwarding bits of conn flags, by our forwarder names. */
const FWD_BITS: Record<string, number> = { nat: 0, tun: 2, dr: 3 };
const RING = 65536;
const TEMPLATE_FLAG = 0x1000; // IP_VS_CONN_F_TEMPLATE
const FLUSH_MS = 200;

export class SyncDaemon {
  private master: { spec: SyncDaemonSpec; sock: Socket; timer: NodeJS.Timeout } | null = null;
  private backup: { spec: SyncDaemonSpec; sock: Socket } | null = null;
  private readonly ring = new Int32Array(RING);
  private head = 0;
  private tail = 0;
  sent = 0;
  received = 0;
  dropped = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly conns: ConnTable,
    private readonly services: ServiceTable,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** From the pipeline (hot path): remember the connection; a full ring drops the oldest news. */
  onConn(c: number): void {
    this.ring[this.head] = c;
    this.head = (this.head + 1) & (RING - 1);
    if (this.head === this.tail) {
      this.tail = (this.tail + 1) & (RING - 1);
      this.dropped++;
    }
  }

  async start(spec: SyncDaemonSpec): Promise<void> {
    if ((spec.state === 'master' ? this.master : this.backup) !== null) throw new LvsError('EEXIST', 'Daemon has already run');
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    if (spec.state === 'master') {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(0, spec.ifaceAddr, () => resolve());
      });
      sock.setMulticastTTL(spec.ttl);
      sock.setMulticastInterface(spec.ifaceAddr);
      sock.setMulticastLoopback(false);
      this.master = { spec, sock, timer: setInterval(() => this.flush(), FLUSH_MS) };
      this.pipeline.syncSink = this;
    } else {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(spec.port, () => resolve());
      });
      sock.addMembership(spec.group, spec.ifaceAddr);
      sock.on('message', (msg) => this.receive(msg, spec));
      this.backup = { spec, sock };
    }
    sock.on('error', (err) => this.log.error({ err: err.message, state: spec.state }, 'sync socket error'));
    this.log.info({ ...spec }, `${spec.state} sync daemon started`);
  }

  stop(state: 'master' | 'backup'): void {
    if (state === 'master') {
      if (!this.master) throw new LvsError('ESRCH', 'No daemon is running');
      clearInterval(this.master.timer);
      this.master.sock.close();
      this.master = null;
      this.pipeline.syncSink = null;
      this.head = this.tail = 0;
    } else {
      if (!this.backup) throw new LvsError('ESRCH', 'No daemon is running');
      this.backup.sock.close();
      this.backup = null;
    }
  }

  stopAll(): void {
    if (this.master) this.stop('master');
    if (this.backup) this.stop('backup');
  }

  /** What -L --daemon lists. */
  status(): SyncDaemonSpec[] {
    return [this.master?.spec, this.backup?.spec].filter((s): s is SyncDaemonSpec => s !== undefined);
  }

  /** Master: the connections that changed since the last flush, in IPVS's sync messages. */
  private flush(): void {
    if (!this.master || this.head === this.tail) return;
    const t = this.conns;
    const seen = new Set<number>();
    const out: SyncConn[] = [];
    while (this.tail !== this.head) {
      const c = this.ring[this.tail];
      this.tail = (this.tail + 1) & (RING - 1);
      if (seen.has(c) || !t.isLive(c)) continue;
      seen.add(c);
      const template = (t.flagsOf(c) & CF_TEMPLATE) !== 0;
      const fwd = forwarderOf(t.flagsOf(c));
      const bits = FWD_BITS[fwd.name];
      const rs = this.services.dests[t.destOf(c)];
      if (bits === undefined || !rs) continue; // FullNAT: not in the sync format
      const i = c * 2;
      const fwmark = this.services.services[t.svcOf(c)]?.fwmark ?? 0;
      out.push({
        // A template (IP_VS_CONN_F_TEMPLATE): <proto, snet, 0, vaddr|fwmark, vport> -> the RS it pins.
        protocol: t.protoOf(c) & 0xff, flags: bits | (template ? TEMPLATE_FLAG : (t.flagsOf(c) & CF_INACTIVE) !== 0 ? 0x100 : 0),
        state: template || t.stateOf(c) === S_UDP ? 0 : t.stateOf(c), cport: t.tSport(i), vport: t.tDport(i),
        dport: template ? rs.port : fwd.seesReplies ? t.tSport(i + 1) : t.tDport(i), fwmark,
        timeout: Math.max(1, t.expiresOf(c) - this.now()), caddr: t.tSrc(i) >>> 0, vaddr: t.tDst(i) >>> 0, daddr: rs.addr >>> 0,
      });
    }
    const { spec, sock } = this.master;
    for (const m of encodeSync(spec.syncid, out, spec.maxlen)) {
      sock.send(m, spec.port, spec.group);
      this.sent++;
    }
  }

  /** Backup: create or refresh what the master says, for the services and real servers we also have. */
  private receive(msg: Buffer, spec: SyncDaemonSpec): void {
    const m = decodeSync(msg);
    if (!m || (spec.syncid !== 0 && m.syncid !== spec.syncid)) return;
    for (const s of m.conns) {
      const svc = s.fwmark ? this.services.findFwmark(s.fwmark) : this.services.findService(s.protocol, s.vaddr, s.vport);
      const rs = svc?.dests.find((d) => d.addr >>> 0 === s.daddr && (d.port === s.dport || d.port === 0));
      if (!svc || !rs) continue;
      if (s.flags & TEMPLATE_FLAG) {
        this.pipeline.adoptTemplate(svc, s.protocol, s.caddr, rs, s.timeout);
        this.received++;
        continue;
      }
      const state = s.protocol === 17 ? S_UDP : s.state;
      if (this.pipeline.adopt(s.protocol, s.caddr, s.cport, s.vaddr, s.vport, rs, state, s.timeout)) this.received++;
    }
  }
}

export const syncDefaults = (state: 'master' | 'backup', mcastInterface: string, ifaceAddr: string): SyncDaemonSpec => ({
  state, mcastInterface, ifaceAddr, syncid: 0, group: SYNC_GROUP, port: SYNC_PORT, ttl: SYNC_TTL, maxlen: SYNC_MAXLEN,
});
