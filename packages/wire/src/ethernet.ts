// Ethernet II (with optional 802.1Q tags), Linux cooked captures (v1 and v2), and ARP (RFC 826).

import { formatIpv4, parseIpv4 } from '@redkeep/vrrp';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((bytes[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/.test(text);
  if (!m) return undefined;
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

export interface LinkHeader {
  /** Destination MAC; absent for Linux cooked captures, which record only the source. */
  readonly dstMac: string | undefined;
  readonly srcMac: string | undefined;
  readonly etherType: number;
  readonly vlan: number | undefined;
}

export type LinkParseResult =
  | { readonly ok: true; readonly link: LinkHeader; readonly payload: Uint8Array }
  | { readonly ok: false; readonly reason: 'truncated-link-header' };

export function parseEthernet(frame: Uint8Array): LinkParseResult {
  if (frame.length < 14) return { ok: false, reason: 'truncated-link-header' };
  let etherType = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  let off = 14;
  let vlan: number | undefined;
  while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) {
    if (frame.length < off + 4) return { ok: false, reason: 'truncated-link-header' };
    vlan = (((frame[off] ?? 0) & 0x0f) << 8) | (frame[off + 1] ?? 0);
    etherType = ((frame[off + 2] ?? 0) << 8) | (frame[off + 3] ?? 0);
    off += 4;
  }
  return {
    ok: true,
    link: { dstMac: formatMac(frame, 0), srcMac: formatMac(frame, 6), etherType, vlan },
    payload: frame.subarray(off),
  };
}

/** Linux "cooked" capture header (tcpdump -i any), LINKTYPE_LINUX_SLL. */
export function parseLinuxSll(frame: Uint8Array): LinkParseResult {
  // Packet type (2), ARPHRD_ type (2), address length (2), address (8), protocol type (2).
  if (frame.length < 16) return { ok: false, reason: 'truncated-link-header' };
  const addrLen = ((frame[4] ?? 0) << 8) | (frame[5] ?? 0);
  return cooked(frame, addrLen, 6, ((frame[14] ?? 0) << 8) | (frame[15] ?? 0), 16);
}

/**
 * Linux "cooked" capture header, version 2 (tcpdump -i any since libpcap 1.10, e.g. Debian 12),
 * LINKTYPE_LINUX_SLL2 (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): protocol type (2),
 * reserved (2), interface index (4), ARPHRD_ type (2), packet type (1), address length (1),
 * address (8), all in network byte order.
 */
export function parseLinuxSll2(frame: Uint8Array): LinkParseResult {
  if (frame.length < 20) return { ok: false, reason: 'truncated-link-header' };
  return cooked(frame, frame[11] ?? 0, 12, ((frame[0] ?? 0) << 8) | (frame[1] ?? 0), 20);
}

/** A cooked header records the sender's address only (up to 8 bytes): a MAC when it has 6. */
function cooked(frame: Uint8Array, addrLen: number, addrOffset: number, etherType: number, headerBytes: number): LinkParseResult {
  return {
    ok: true,
    link: { dstMac: undefined, srcMac: addrLen === 6 ? formatMac(frame, addrOffset) : undefined, etherType, vlan: undefined },
    payload: frame.subarray(headerBytes),
  };
}

export function encodeEthernet(
  dstMac: Uint8Array,
  srcMac: Uint8Array,
  etherType: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dstMac, 0);
  f.set(srcMac, 6);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f.set(payload, 14);
  return f;
}

export type ArpOperation = 'request' | 'reply';

export interface ArpPacket {
  readonly op: ArpOperation;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

export type ArpDecodeResult =
  | { readonly ok: true; readonly arp: ArpPacket; readonly gratuitous: boolean }
  | { readonly ok: false; readonly reason: 'truncated-arp' | 'unsupported-arp' };

/** Decodes an Ethernet/IPv4 ARP packet (RFC 826). */
export function decodeArp(p: Uint8Array): ArpDecodeResult {
  if (p.length < 28) return { ok: false, reason: 'truncated-arp' };
  const htype = ((p[0] ?? 0) << 8) | (p[1] ?? 0);
  const ptype = ((p[2] ?? 0) << 8) | (p[3] ?? 0);
  const oper = ((p[6] ?? 0) << 8) | (p[7] ?? 0);
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || p[4] !== 6 || p[5] !== 4) {
    return { ok: false, reason: 'unsupported-arp' };
  }
  if (oper !== 1 && oper !== 2) return { ok: false, reason: 'unsupported-arp' };
  const arp: ArpPacket = {
    op: oper === 1 ? 'request' : 'reply',
    senderMac: formatMac(p, 8),
    senderIp: formatIpv4(p, 14),
    targetMac: formatMac(p, 18),
    targetIp: formatIpv4(p, 24),
  };
  // A gratuitous ARP announces the sender's own address: sender IP = target IP.
  return { ok: true, arp, gratuitous: arp.senderIp === arp.targetIp };
}

/**
 * The gratuitous ARP keepalived sends (see the keepalived-2.2.7 vectors): an ARP request,
 * sender = target = the virtual address, target MAC ff:ff:ff:ff:ff:ff, to broadcast.
 */
export function encodeGratuitousArp(mac: Uint8Array, ip: string): Uint8Array {
  const ipBytes = parseIpv4(ip);
  if (!ipBytes || mac.length !== 6) throw new RangeError('gratuitous ARP needs a MAC and an IPv4');
  const p = new Uint8Array(28);
  p[1] = 1; // Ethernet
  p[2] = 0x08; // IPv4
  p[4] = 6;
  p[5] = 4;
  p[7] = 1; // request
  p.set(mac, 8);
  p.set(ipBytes, 14);
  p.fill(0xff, 18, 24);
  p.set(ipBytes, 24);
  const bcast = new Uint8Array(6).fill(0xff);
  return encodeEthernet(bcast, mac, ETHERTYPE_ARP, p);
}
