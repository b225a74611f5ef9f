// VRRP over raw IP (protocol 112) on one interface, through the socket addon.
//
// IPv4: one raw socket bound to the device (SO_BINDTODEVICE), IP_HDRINCL so that we write the
// header ourselves (TTL 255, TOS 0xC0, the configured source), member of 224.0.0.18 on that
// interface, multicast loopback off. What it receives includes the IPv4 header.
//
// IPv6: a raw socket sends (the kernel fills in the link-local source and the checksum through
// IPV6_CHECKSUM, hop limit 255), but an IPv6 raw socket hides the header, and with it the hop
// limit and destination RFC 5798 §7.1 needs; so IPv6 adverts are received on an AF_PACKET socket
// filtered to next header 112, and the raw socket drops what it would receive (a filter).
//
// Sends are one synchronous sendto each: nothing to wait for, no poll started and stopped around
// it (what made raw-socket cost several event-loop turns per advert).

import { ETH_P_IPV6, PacketSocket, RawSocket, dropAllFilter, vrrpIpv6Filter } from '@redkeep/afpacket';
import { VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6, parseIpv4, parseIpv6 } from '@redkeep/vrrp';
import { parseEthernet } from '@redkeep/wire';

const IPPROTO_VRRP = 112;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_ADD_MEMBERSHIP = 20;
const IPV6_TCLASS = 67;

export class VrrpSocketError extends Error {
  override readonly name = 'VrrpSocketError';
  readonly code = 'ERR_VRRP_SOCKET';
}

export interface VrrpSocketHandlers {
  /** An IPv4 datagram (header included) or an IPv6 packet (fixed header included). */
  readonly onPacket: (packet: Uint8Array) => void;
  readonly onError: (error: Error) => void;
}

/** Destination addresses as bytes, parsed once (adverts go to the same few every interval). */
function destinations<T>(parse: (text: string) => T | undefined): (dst: string) => T {
  const known = new Map<string, T>();
  return (dst) => {
    let a = known.get(dst);
    if (a === undefined) {
      a = parse(dst);
      if (a === undefined) throw new VrrpSocketError(`not an address: ${dst}`);
      if (known.size < 1024) known.set(dst, a);
    }
    return a;
  };
}

function permissionHint(msg: string): string {
  return /not permitted|EPERM|EACCES/i.test(msg) ? ' (a raw IP socket needs CAP_NET_RAW: run as root or with AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)' : '';
}

export interface VrrpSocket {
  readonly family: 'ipv4' | 'ipv6';
  /** IPv4: a whole datagram, header included. IPv6: the bare VRRP message. Throws on failure. */
  send(packet: Uint8Array, dst: string): void;
  close(): void;
}

export function openVrrpSocketV4(ifname: string, ifindex: number, h: VrrpSocketHandlers): VrrpSocket {
  let s: RawSocket | undefined;
  try {
    s = RawSocket.openRawIp(4, IPPROTO_VRRP, ifname);
    s.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    s.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    const mreqn = new Uint8Array(12);
    mreqn.set(parseIpv4(VRRP_MULTICAST_IPV4) ?? [], 0);
    new DataView(mreqn.buffer).setInt32(8, ifindex, true); // struct ip_mreqn: imr_ifindex, host order (x86/arm: LE)
    s.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn);
  } catch (e) {
    s?.close();
    const msg = e instanceof Error ? e.message : String(e);
    throw new VrrpSocketError(`VRRP socket on ${ifname}: ${msg}${permissionHint(msg)}`);
  }
  const sock = s;
  sock.read(
    (datagram) => h.onPacket(datagram),
    (status) => h.onError(new VrrpSocketError(`VRRP socket read on ${ifname} failed (${status})`)),
  );
  const to = destinations(parseIpv4);
  return {
    family: 'ipv4',
    send: (packet, dst) => sock.sendTo(packet, to(dst)),
    close: () => sock.close(),
  };
}

export function openVrrpSocketV6(ifname: string, ifindex: number, h: VrrpSocketHandlers): VrrpSocket {
  let s: RawSocket | undefined;
  let rx: PacketSocket | undefined;
  try {
    s = RawSocket.openRawIp(6, IPPROTO_VRRP, ifname);
    // Send only: what it would receive comes through AF_PACKET below, with the header.
    s.setFilter(dropAllFilter());
    s.setOption(IPPROTO_IPV6, IPV6_CHECKSUM, 6);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    s.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    s.setOption(IPPROTO_IPV6, IPV6_TCLASS, 0xc0); // as TOS 0xC0 on IPv4 (network control)
    const mreq = new Uint8Array(20);
    mreq.set(parseIpv6(VRRP_MULTICAST_IPV6) ?? [], 0);
    new DataView(mreq.buffer).setInt32(16, ifindex, true);
    s.setOption(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq);
    rx = PacketSocket.open(ifindex, ETH_P_IPV6, vrrpIpv6Filter());
  } catch (e) {
    s?.close();
    rx?.close();
    const msg = e instanceof Error ? e.message : String(e);
    throw new VrrpSocketError(`VRRP IPv6 socket on ${ifname}: ${msg}${permissionHint(msg)}`);
  }
  rx.read(
    (frame, direction) => {
      // Our own frames, and unicast frames for other hosts (a promiscuous interface), are not ours.
      if (direction === 'outgoing' || direction === 'otherhost') return;
      const eth = parseEthernet(frame);
      if (eth.ok) h.onPacket(eth.payload);
    },
    (status) => h.onError(new VrrpSocketError(`AF_PACKET read on ${ifname} failed (${status})`)),
  );
  const sock = s;
  const rxSocket = rx;
  let closed = false;
  // Link-local destinations (ff02::12, fe80::...) are scoped to this interface.
  const to = destinations((text) => {
    const a = parseIpv6(text);
    if (!a) return undefined;
    const linkLocal = (a[0] === 0xfe && ((a[1] ?? 0) & 0xc0) === 0x80) || (a[0] === 0xff && ((a[1] ?? 0) & 0x0f) === 0x02);
    return { a, scope: linkLocal ? ifindex : 0 };
  });
  return {
    family: 'ipv6',
    send: (packet, dst) => {
      const d = to(dst);
      sock.sendTo(packet, d.a, d.scope);
    },
    close: () => {
      if (closed) return;
      closed = true;
      sock.close();
      rxSocket.close();
    },
  };
}
