// IPv6 unsolicited neighbour advertisements (RFC 4861 §7.2.6), the IPv6 counterpart of a
// gratuitous ARP: sent to all-nodes, Override set, with the target link-layer address option.

import { encodeIpv6Packet, formatIpv6, internetChecksum, parseIpv6 } from '@redkeep/vrrp';
import { ETHERTYPE_IPV6, encodeEthernet, formatMac } from './ethernet.js';

export const ICMPV6 = 58;
const ICMPV6_NEIGHBOR_ADVERT = 136;
const ALL_NODES = 'ff02::1';
const ALL_NODES_MAC = Uint8Array.from([0x33, 0x33, 0, 0, 0, 1]);
const NA_OVERRIDE = 0x20;

/** The NA for `target`, sent from `target` itself (an address of the interface once added). */
export function encodeUnsolicitedNa(mac: Uint8Array, target: string): Uint8Array {
  const t = parseIpv6(target);
  if (!t || mac.length !== 6) throw new RangeError('unsolicited NA needs a MAC and an IPv6 address');
  const icmp = new Uint8Array(32);
  icmp[0] = ICMPV6_NEIGHBOR_ADVERT;
  icmp[4] = NA_OVERRIDE;
  icmp.set(t, 8);
  icmp[24] = 2; // option: target link-layer address
  icmp[25] = 1; // length in units of 8 octets
  icmp.set(mac, 26);
  const dst = parseIpv6(ALL_NODES) ?? new Uint8Array(16);
  const pseudo = new Uint8Array(40);
  pseudo.set(t, 0);
  pseudo.set(dst, 16);
  pseudo[35] = icmp.length;
  pseudo[39] = ICMPV6;
  const sum = internetChecksum([pseudo, icmp]);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const ip = encodeIpv6Packet(icmp, { src: target, dst: ALL_NODES, hopLimit: 255, nextHeader: ICMPV6, trafficClass: 0 });
  return encodeEthernet(ALL_NODES_MAC, mac, ETHERTYPE_IPV6, ip);
}

export interface NeighborAdvert {
  readonly target: string;
  readonly targetMac: string | undefined;
  readonly override: boolean;
  readonly solicited: boolean;
}

/** Decodes an ICMPv6 neighbour advertisement (the ICMPv6 message, after the IPv6 header). */
export function decodeNeighborAdvert(icmp: Uint8Array): NeighborAdvert | undefined {
  if (icmp.length < 24 || icmp[0] !== ICMPV6_NEIGHBOR_ADVERT) return undefined;
  let targetMac: string | undefined;
  for (let off = 24; off + 8 <= icmp.length; ) {
    const len = (icmp[off + 1] ?? 0) * 8;
    if (len === 0) break;
    if (icmp[off] === 2 && len >= 8) targetMac = formatMac(icmp, off + 2);
    off += len;
  }
  const flags = icmp[4] ?? 0;
  return {
    target: formatIpv6(icmp, 8),
    targetMac,
    override: (flags & NA_OVERRIDE) !== 0,
    solicited: (flags & 0x40) !== 0,
  };
}
