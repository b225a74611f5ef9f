// VRRP over raw IP (protocol 112) on one interface, with raw-socket.
//
// IPv4: one raw socket bound to the device (SO_BINDTODEVICE), IP_HDRINCL so that we write the
// header ourselves (TTL 255, TOS 0xC0, the configured source), member of 224.0.0.18 on that
// interface, multicast loopback off. What it receives includes the IPv4 header.
//
// IPv6: raw-socket sends (the kernel fills in the link-local source and the checksum through
// IPV6_CHECKSUM, hop limit 255), but an IPv6 raw socket hides the header, and with it the hop
// limit and destination RFC 5798 §7.1 needs; so IPv6 adverts are received on an AF_PACKET socket
// filtered to next header 112.

import { createRequire } from 'node:module';
import type { Socket } from 'raw-socket';
import { ETH_P_IPV6, PacketSocket, vrrpIpv6Filter } from '@redkeep/afpacket';
import { VRRP_MULTICAST_IPV4, VRRP_MULTICAST_IPV6, parseIpv4, parseIpv6 } from '@redkeep/vrrp';
import { parseEthernet } from '@redkeep/wire';

const raw = createRequire(import.meta.url)('raw-socket') as typeof import('raw-socket');

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
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

function bindToDevice(s: Socket, ifname: string): void {
  const name = Buffer.from(`${ifname}\0`, 'ascii');
  s.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
}

function sendOn(s: Socket, packet: Uint8Array, dst: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    s.send(buf, 0, buf.length, dst, null, (err) => (err ? reject(err) : resolve()));
  });
}

export interface VrrpSocket {
  readonly family: 'ipv4' | 'ipv6';
  /** IPv4: a whole datagram, header included. IPv6: the bare VRRP message. */
  send(packet: Uint8Array, dst: string): Promise<void>;
  close(): void;
}

export function openVrrpSocketV4(ifname: string, ifindex: number, h: VrrpSocketHandlers): VrrpSocket {
  let s: Socket | undefined;
  try {
    s = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: 112, bufferSize: 2048 });
    bindToDevice(s, ifname);
    s.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    s.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    const mreqn = Buffer.alloc(12);
    Buffer.from(parseIpv4(VRRP_MULTICAST_IPV4) ?? []).copy(mreqn, 0);
    mreqn.writeInt32LE(ifindex, 8); // struct ip_mreqn: imr_ifindex, host order (x86/arm: LE)
    s.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, mreqn.length);
  } catch (e) {
    s?.close();
    const msg = e instanceof Error ? e.message : String(e);
    const hint = /not permitted|EPERM|EACCES/i.test(msg) ? ' (a raw IP socket needs CAP_NET_RAW: run as root or with AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)' : '';
    throw new VrrpSocketError(`VRRP socket on ${ifname}: ${msg}${hint}`);
  }
  s.on('message', (buf) => h.onPacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.length)));
  return wrapSocket('ipv4', s, h);
}

function wrapSocket(family: 'ipv4' | 'ipv6', s: Socket, h: VrrpSocketHandlers, alsoClose?: () => void): VrrpSocket {
  s.on('error', (e) => h.onError(e));
  let closed = false;
  return {
    family,
    send: (packet, dst) => sendOn(s, packet, dst),
    close: () => {
      if (closed) return;
      closed = true;
      s.close();
      alsoClose?.();
    },
  };
}

export function openVrrpSocketV6(ifname: string, ifindex: number, h: VrrpSocketHandlers): VrrpSocket {
  let s: Socket | undefined;
  let rx: PacketSocket | undefined;
  try {
    s = raw.createSocket({ addressFamily: raw.AddressFamily.IPv6, protocol: 112, bufferSize: 2048 });
    bindToDevice(s, ifname);
    s.setOption(IPPROTO_IPV6, IPV6_CHECKSUM, 6);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    s.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
    s.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    s.setOption(IPPROTO_IPV6, IPV6_TCLASS, 0xc0); // as TOS 0xC0 on IPv4 (network control)
    const mreq = Buffer.alloc(20);
    Buffer.from(parseIpv6(VRRP_MULTICAST_IPV6) ?? []).copy(mreq, 0);
    mreq.writeInt32LE(ifindex, 16);
    s.setOption(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, mreq.length);
    // Received through AF_PACKET below; the raw socket's own copies are read and ignored.
    s.on('message', () => undefined);
    rx = PacketSocket.open(ifindex, ETH_P_IPV6, vrrpIpv6Filter());
  } catch (e) {
    s?.close();
    rx?.close();
    throw new VrrpSocketError(`VRRP IPv6 socket on ${ifname}: ${e instanceof Error ? e.message : String(e)}`);
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
  const rxSocket = rx;
  return wrapSocket('ipv6', s, h, () => rxSocket.close());
}
