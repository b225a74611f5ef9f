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
  type LinkParseResult,
  parseLinuxSll,
  parseLinuxSll2,
} from './ethernet.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from '@redkeep/pcap';

const LINK_PARSERS: ReadonlyMap<number, (frame: Uint8Array) => LinkParseResult> = new Map([
  [LINKTYPE_ETHERNET, parseEthernet],
  [LINKTYPE_LINUX_SLL, parseLinuxSll],
  [LINKTYPE_LINUX_SLL2, parseLinuxSll2],
]);

/** The link types dissectFrame reads: Ethernet and Linux cooked captures, v1 and v2. */
export const SUPPORTED_LINK_TYPES: readonly number[] = [...LINK_PARSERS.keys()];

export function isSupportedLinkType(linkType: number): boolean {
  return LINK_PARSERS.has(linkType);
}

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
  const parse = LINK_PARSERS.get(linkType);
  if (!parse) return { kind: 'malformed', link: undefined, reason: `unsupported link type ${linkType}` };
  const parsed = parse(data);
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
