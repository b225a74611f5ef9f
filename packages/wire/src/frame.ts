// Dissects a captured link-layer frame into what redkeep cares about: VRRP adverts and ARP.

import {
  type DecodeOptions,
  type DecodeResult,
  VRRP_PROTOCOL,
  decodeIpv4Datagram,
  decodeIpv6Packet,
} from '@redkeep/vrrp';
import {
  type ArpDecodeResult,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  type LinkHeader,
  decodeArp,
  parseEthernet,
  parseLinuxSll,
} from './ethernet.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from '@redkeep/pcap';

export type FrameSummary =
  | { readonly kind: 'vrrp'; readonly link: LinkHeader; readonly result: DecodeResult }
  | { readonly kind: 'arp'; readonly link: LinkHeader; readonly result: ArpDecodeResult }
  | {
      readonly kind: 'other';
      readonly link: LinkHeader;
      /** IP protocol number for IP frames that are not VRRP. */
      readonly protocol: number | undefined;
      readonly src: string | undefined;
      readonly dst: string | undefined;
    }
  | { readonly kind: 'malformed'; readonly link: LinkHeader | undefined; readonly reason: string };

export function dissectFrame(
  linkType: number,
  data: Uint8Array,
  opts: DecodeOptions = {},
): FrameSummary {
  let parsed;
  if (linkType === LINKTYPE_ETHERNET) parsed = parseEthernet(data);
  else if (linkType === LINKTYPE_LINUX_SLL) parsed = parseLinuxSll(data);
  else return { kind: 'malformed', link: undefined, reason: `unsupported link type ${linkType}` };
  if (!parsed.ok) return { kind: 'malformed', link: undefined, reason: parsed.reason };
  const { link, payload } = parsed;
  switch (link.etherType) {
    case ETHERTYPE_ARP: {
      return { kind: 'arp', link, result: decodeArp(payload) };
    }
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6: {
      const result =
        link.etherType === ETHERTYPE_IPV4
          ? decodeIpv4Datagram(payload, opts)
          : decodeIpv6Packet(payload, opts);
      if (result.ip && result.ip.protocol !== VRRP_PROTOCOL) {
        return {
          kind: 'other',
          link,
          protocol: result.ip.protocol,
          src: result.ip.src,
          dst: result.ip.dst,
        };
      }
      if (!result.ip) return { kind: 'malformed', link, reason: result.ok ? 'no-ip' : result.reason };
      return { kind: 'vrrp', link, result };
    }
    default:
      return { kind: 'other', link, protocol: undefined, src: undefined, dst: undefined };
  }
}
