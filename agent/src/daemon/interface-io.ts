// Everything one interface carries for the agent: the VRRP sockets (one per address family in
// use), the announcer for gratuitous ARP / unsolicited NA, and the dispatch of received adverts
// to instances by VRID. Packets that cannot be attributed to an instance are counted here.

import {
  Announcer,
  type VrrpSocket,
  openVrrpSocketV4,
  openVrrpSocketV6,
} from '@redkeep/host';
import {
  type AddressFamily,
  type DecodeResult,
  VRRP_MULTICAST_IPV4,
  VRRP_MULTICAST_IPV6,
  type VrrpAdvert,
  decodeIpv4Datagram,
  decodeIpv6Packet,
  encodeIpv4Datagram,
  encodeVrrp,
} from '@redkeep/vrrp';
import type { Logger } from '../log.js';

export interface AdvertSink {
  readonly vrid: number;
  readonly family: AddressFamily;
  deliver(result: DecodeResult): void;
}

export interface InterfaceCounters {
  packetsRx: number;
  /** Packets dropped before an instance could be named: by decode reason, or unknown-vrid. */
  drops: Record<string, number>;
  sendErrors: number;
  garpsSent: number;
}

export class InterfaceIo {
  readonly counters: InterfaceCounters = { packetsRx: 0, drops: {}, sendErrors: 0, garpsSent: 0 };
  private readonly sinks: AdvertSink[] = [];
  private v4: VrrpSocket | undefined;
  private v6: VrrpSocket | undefined;
  private announcer: Announcer | undefined;
  /**
   * Encoded adverts by what they say (VRID, priority, interval, source, destination): an advert
   * repeats itself every interval, so each is encoded once. IPv4 datagrams leave the IP id 0 for
   * the kernel to fill (it does for a raw socket that writes its own header), and the kernel
   * computes the header checksum.
   */
  private readonly encoded = new Map<string, Uint8Array>();
  /** Last send failure per destination, so each is logged once per change of condition. */
  private readonly sendErrors = new Map<string, string>();

  /** A socket failed (a read error, its interface went away): reopened at the next refresh. */
  private broken: string | undefined;

  constructor(
    readonly name: string,
    public index: number,
    public mac: string | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * The interface as the kernel has it now: when it was re-created (another index) or a socket
   * failed, every socket is closed and opened again on it. Resolves whether it reopened.
   */
  heal(index: number, mac: string | undefined): boolean {
    if (index === this.index && this.broken === undefined) return false;
    const why = index !== this.index ? `re-created (index ${this.index} -> ${index})` : `a socket failed (${this.broken ?? ''})`;
    this.close();
    this.index = index;
    this.mac = mac;
    this.broken = undefined;
    try {
      this.open();
      this.log.warn(`interface ${why}: VRRP sockets opened again`, { interface: this.name });
    } catch (e) {
      this.broken = e instanceof Error ? e.message : String(e);
      this.log.error('cannot open VRRP sockets again', { interface: this.name, error: this.broken, will: 'retry' });
    }
    return true;
  }

  attach(sink: AdvertSink): void {
    this.sinks.push(sink);
    this.encoded.clear();
  }

  /** An instance going away (reload): its adverts are no longer delivered. */
  detach(sink: AdvertSink): void {
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
    this.encoded.clear();
  }

  get attached(): number {
    return this.sinks.length;
  }

  /** Opens the sockets the attached instances need and are not open yet. Throws VrrpSocketError on failure. */
  open(): void {
    const handlers = (family: AddressFamily) => ({
      onPacket: (p: Uint8Array) => this.receive(family, p),
      onError: (e: Error) => {
        if (this.broken === undefined) this.log.error('VRRP socket error: it is opened again at the next refresh', { interface: this.name, error: e.message });
        this.broken = e.message;
      },
    });
    if (!this.v4 && this.sinks.some((s) => s.family === 'ipv4')) this.v4 = openVrrpSocketV4(this.name, this.index, handlers('ipv4'));
    if (!this.v6 && this.sinks.some((s) => s.family === 'ipv6')) this.v6 = openVrrpSocketV6(this.name, this.index, handlers('ipv6'));
    if (!this.announcer && this.mac) this.announcer = Announcer.open(this.index, this.mac);
  }

  close(): void {
    this.v4?.close();
    this.v6?.close();
    this.announcer?.close();
    this.v4 = this.v6 = this.announcer = undefined;
  }

  private receive(family: AddressFamily, packet: Uint8Array): void {
    this.counters.packetsRx++;
    const r = family === 'ipv4' ? decodeIpv4Datagram(packet) : decodeIpv6Packet(packet);
    const vrid = r.advert?.vrid;
    const sink = vrid === undefined ? undefined : this.sinks.find((s) => s.vrid === vrid && s.family === family);
    if (sink) {
      sink.deliver(r);
      return;
    }
    const reason = r.ok || r.reason === 'bad-checksum' || r.reason === 'bad-ttl' ? 'unknown-vrid' : r.reason;
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /**
   * Sends an advert from `src` to each destination (the multicast group, or unicast peers), now:
   * a send is one synchronous syscall. A failure is counted and logged once per change of
   * condition, never thrown.
   */
  sendAdvert(advert: VrrpAdvert, src: string, unicastPeers: readonly string[]): void {
    const dsts = unicastPeers.length > 0 ? unicastPeers : [advert.family === 'ipv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6];
    for (const dst of dsts) {
      try {
        const sock = advert.family === 'ipv4' ? this.v4 : this.v6;
        if (!sock) throw new Error(`no ${advert.family} VRRP socket`);
        const key = `${advert.vrid} ${advert.priority} ${advert.advertIntervalCs} ${advert.addresses.length} ${src} ${dst}`;
        let bytes = this.encoded.get(key);
        if (bytes === undefined) {
          const msg = encodeVrrp(advert, { src, dst });
          bytes = advert.family === 'ipv4' ? encodeIpv4Datagram(msg, { src, dst, id: 0 }) : msg;
          if (this.encoded.size >= 4096) this.encoded.clear();
          this.encoded.set(key, bytes);
        }
        sock.send(bytes, dst);
        if (this.sendErrors.size > 0 && this.sendErrors.delete(dst)) this.log.info('sending adverts works again', { interface: this.name, to: dst });
      } catch (e) {
        this.counters.sendErrors++;
        const msg = e instanceof Error ? e.message : String(e);
        if (this.sendErrors.get(dst) !== msg) {
          this.sendErrors.set(dst, msg);
          this.log.warn('cannot send advert', { interface: this.name, to: dst, error: msg });
        }
      }
    }
  }

  /**
   * Sends `count` rounds of gratuitous ARP / NA for the addresses, `intervalMs` apart. Rounds
   * after the first stop as soon as `cancelled()` says so (the VIPs are going away).
   */
  async announce(addresses: readonly string[], count: number, intervalMs: number, cancelled: () => boolean): Promise<number> {
    const a = this.announcer;
    if (!a) return 0;
    let sent = 0;
    for (let i = 0; i < count; i++) {
      if (i > 0 && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      if (cancelled()) break;
      try {
        sent += a.sendRound(addresses);
      } catch (e) {
        this.counters.sendErrors++;
        this.log.warn('cannot send gratuitous ARP/NA', { interface: this.name, error: e instanceof Error ? e.message : String(e) });
        break;
      }
    }
    this.counters.garpsSent += sent;
    return sent;
  }
}
