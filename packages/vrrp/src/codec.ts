// VRRP advertisement codec: RFC 3768 (v2) §5.1 and RFC 5798 (v3) §5.1/§5.2.
// decode*() never throws: a bad packet is data, returned as { ok: false, reason }.

import {
  type AddressFamily,
  addressLength,
  formatAddress,
  formatIpv4,
  parseAddress,
} from './address.js';

export type VrrpVersion = 2 | 3;

/** RFC 3768 §5.3.6: 0 = none, 1 = simple text password (keepalived "PASS"), 2 = IP AH (deprecated). */
export type AuthType = 'none' | 'simple' | 'ah';

export const VRRP_PROTOCOL = 112;
export const VRRP_TTL = 255;
export const VRRP_TOS = 0xc0;
export const VRRP_MULTICAST_IPV4 = '224.0.0.18';
export const VRRP_MULTICAST_IPV6 = 'ff02::12';
/** RFC 3768 §5.3.2 / RFC 5798 §5.2.2: the only packet type. */
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const V2_AUTH_DATA_LENGTH = 8;

export interface VrrpAdvert {
  readonly version: VrrpVersion;
  readonly vrid: number;
  readonly priority: number;
  /** v3 carries centiseconds (12 bits); v2 carries whole seconds, shown here ×100. */
  readonly advertIntervalCs: number;
  readonly family: AddressFamily;
  readonly addresses: readonly string[];
  /** v2 only; v3 has no authentication and always reports 'none'. */
  readonly authType: AuthType;
  /** v2 only: the eight authentication octets exactly as carried. Secret: never log it. */
  readonly authData?: Uint8Array;
}

export interface IpInfo {
  readonly family: AddressFamily;
  readonly src: string;
  readonly dst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
  readonly tos: number;
  readonly protocol: number;
}

export const DECODE_FAILURES = [
  'too-short',
  'bad-ip-header',
  'bad-length',
  'fragmented',
  'not-vrrp',
  'bad-version',
  'bad-type',
  'bad-vrid',
  'no-addresses',
  'address-count-mismatch',
  'bad-interval',
  'bad-auth-type',
  'bad-checksum',
  'bad-ttl',
  'bad-pseudo-header',
] as const;
export type DecodeFailure = (typeof DECODE_FAILURES)[number];

export type DecodeResult =
  | {
      readonly ok: true;
      readonly advert: VrrpAdvert;
      readonly checksum: number;
      readonly checksumOk: true;
      readonly ip: IpInfo | undefined;
    }
  | {
      readonly ok: false;
      readonly reason: DecodeFailure;
      /** Present when the VRRP fields could be read (e.g. a bad checksum or TTL). */
      readonly advert: VrrpAdvert | undefined;
      readonly checksum: number | undefined;
      readonly checksumOk: boolean | undefined;
      readonly ip: IpInfo | undefined;
    };

export interface DecodeOptions {
  /**
   * Check that the TTL / hop limit is 255 (default true, as RFC 5798 §7.1 asks). keepalived
   * skips the check for unicast; a unicast setup across a router can turn it off.
   */
  readonly checkTtl?: boolean;
}

export interface PseudoHeader {
  /** Source address of the IP packet (text). */
  readonly src: string;
  /** Destination address of the IP packet (text): 224.0.0.18, ff02::12 or the unicast peer. */
  readonly dst: string;
}

function fail(
  reason: DecodeFailure,
  ip: IpInfo | undefined,
  advert?: VrrpAdvert,
  checksum?: number,
  checksumOk?: boolean,
): DecodeResult {
  return { ok: false, reason, advert, checksum, checksumOk, ip };
}

/** Internet checksum (RFC 1071) over the given chunks; returns the one's complement of the sum. */
export function internetChecksum(chunks: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const chunk of chunks) {
    let i = 0;
    if (odd !== undefined && chunk.length > 0) {
      sum += (odd << 8) | (chunk[0] ?? 0);
      odd = undefined;
      i = 1;
    }
    for (; i + 1 < chunk.length; i += 2) sum += ((chunk[i] ?? 0) << 8) | (chunk[i + 1] ?? 0);
    if (i < chunk.length) odd = chunk[i] ?? 0;
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RFC 5798 §5.2.8: v3 includes the IP pseudo-header; RFC 3768 §5.3.8: v2 covers the message only. */
function pseudoHeaderBytes(
  family: AddressFamily,
  src: Uint8Array,
  dst: Uint8Array,
  length: number,
): Uint8Array {
  if (family === 'ipv4') {
    const p = new Uint8Array(12);
    p.set(src, 0);
    p.set(dst, 4);
    p[9] = VRRP_PROTOCOL;
    p[10] = length >> 8;
    p[11] = length & 0xff;
    return p;
  }
  const p = new Uint8Array(40);
  p.set(src, 0);
  p.set(dst, 16);
  p[34] = length >> 8;
  p[35] = length & 0xff;
  p[39] = VRRP_PROTOCOL;
  return p;
}

function checksumFor(
  version: VrrpVersion,
  family: AddressFamily,
  message: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  if (version === 2) return internetChecksum([message]);
  return internetChecksum([pseudoHeaderBytes(family, src, dst, message.length), message]);
}

function authTypeOf(code: number): AuthType | undefined {
  return code === 0 ? 'none' : code === 1 ? 'simple' : code === 2 ? 'ah' : undefined;
}

function authCode(type: AuthType): number {
  return type === 'none' ? 0 : type === 'simple' ? 1 : 2;
}

function decodeMessage(
  msg: Uint8Array,
  family: AddressFamily,
  src: Uint8Array,
  dst: Uint8Array,
  ip: IpInfo | undefined,
  checkTtl = true,
): DecodeResult {
  if (msg.length < 8) return fail('too-short', ip);
  const b0 = msg[0] ?? 0;
  const version = b0 >> 4;
  const type = b0 & 0x0f;
  if (version !== 2 && version !== 3) return fail('bad-version', ip);
  if (version === 2 && family !== 'ipv4') return fail('bad-version', ip); // RFC 3768 is IPv4 only
  if (type !== VRRP_TYPE_ADVERTISEMENT) return fail('bad-type', ip);
  const vrid = msg[1] ?? 0;
  const priority = msg[2] ?? 0;
  const count = msg[3] ?? 0;
  const alen = addressLength(family);
  const authLen = version === 2 ? V2_AUTH_DATA_LENGTH : 0;
  const expected = 8 + count * alen + authLen;
  if (msg.length < expected) return fail(count === 0 ? 'too-short' : 'address-count-mismatch', ip);
  if (msg.length > expected) return fail('address-count-mismatch', ip);
  let advertIntervalCs: number;
  let authType: AuthType = 'none';
  if (version === 2) {
    const at = authTypeOf(msg[4] ?? 0);
    if (at === undefined) return fail('bad-auth-type', ip);
    authType = at;
    advertIntervalCs = (msg[5] ?? 0) * 100;
  } else {
    // RFC 5798 §5.2.6: 4 reserved bits, then a 12-bit Max Adver Int in centiseconds.
    advertIntervalCs = (((msg[4] ?? 0) & 0x0f) << 8) | (msg[5] ?? 0);
  }
  const checksum = ((msg[6] ?? 0) << 8) | (msg[7] ?? 0);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatAddress(family, msg, 8 + i * alen));
  const advert: VrrpAdvert =
    version === 2
      ? {
          version,
          vrid,
          priority,
          advertIntervalCs,
          family,
          addresses,
          authType,
          authData: msg.slice(8 + count * alen, 8 + count * alen + authLen),
        }
      : { version, vrid, priority, advertIntervalCs, family, addresses, authType };
  const checksumOk = checksumFor(version, family, msg, src, dst) === 0;
  if (vrid === 0) return fail('bad-vrid', ip, advert, checksum, checksumOk);
  if (count === 0) return fail('no-addresses', ip, advert, checksum, checksumOk);
  if (advertIntervalCs === 0) return fail('bad-interval', ip, advert, checksum, checksumOk);
  if (!checksumOk) return fail('bad-checksum', ip, advert, checksum, checksumOk);
  // RFC 5798 §7.1 / RFC 3768 §7.1: the TTL (hop limit) must be 255.
  if (ip && checkTtl && ip.ttl !== VRRP_TTL) return fail('bad-ttl', ip, advert, checksum, checksumOk);
  return { ok: true, advert, checksum, checksumOk: true, ip };
}

/**
 * Decodes a bare VRRP message (the IP payload), as an IPv6 raw socket delivers it. The
 * pseudo-header addresses are needed for v3 checksums; the TTL/hop limit check is the caller's
 * (pass `ttl` to have it checked here).
 */
export function decodeVrrp(
  message: Uint8Array,
  family: AddressFamily,
  pseudo: PseudoHeader,
  ttl?: number,
): DecodeResult {
  const src = parseAddress(family, pseudo.src);
  const dst = parseAddress(family, pseudo.dst);
  // Without both addresses a v3 checksum cannot be checked: refuse rather than skip it.
  if (!src || !dst) return fail('bad-pseudo-header', undefined);
  const ip: IpInfo | undefined =
    ttl === undefined
      ? undefined
      : { family, src: pseudo.src, dst: pseudo.dst, ttl, tos: 0, protocol: VRRP_PROTOCOL };
  return decodeMessage(message, family, src, dst, ip);
}

/**
 * Decodes an IPv4 datagram, header included (what an IPv4 raw socket delivers). Checks the
 * header, that it carries VRRP, and (RFC 5798 §7.1) that the TTL is 255.
 */
export function decodeIpv4Datagram(datagram: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  if (datagram.length < 20) return fail('too-short', undefined);
  const b0 = datagram[0] ?? 0;
  if (b0 >> 4 !== 4) return fail('bad-ip-header', undefined);
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < 20) return fail('bad-ip-header', undefined);
  if (datagram.length < ihl) return fail('too-short', undefined);
  const totalLength = ((datagram[2] ?? 0) << 8) | (datagram[3] ?? 0);
  const ip: IpInfo = {
    family: 'ipv4',
    src: formatIpv4(datagram, 12),
    dst: formatIpv4(datagram, 16),
    ttl: datagram[8] ?? 0,
    tos: datagram[1] ?? 0,
    protocol: datagram[9] ?? 0,
  };
  if (totalLength < ihl || totalLength > datagram.length) return fail('bad-length', ip);
  const flagsFrag = ((datagram[6] ?? 0) << 8) | (datagram[7] ?? 0);
  if ((flagsFrag & 0x2000) !== 0 || (flagsFrag & 0x1fff) !== 0) return fail('fragmented', ip);
  if (ip.protocol !== VRRP_PROTOCOL) return fail('not-vrrp', ip);
  return decodeMessage(
    datagram.subarray(ihl, totalLength),
    'ipv4',
    datagram.subarray(12, 16),
    datagram.subarray(16, 20),
    ip,
    opts.checkTtl ?? true,
  );
}

/**
 * Decodes an IPv6 packet with its fixed header (as captured on the wire). Extension headers are
 * not followed: VRRP packets carry none.
 */
export function decodeIpv6Packet(packet: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  if (packet.length < 40) return fail('too-short', undefined);
  if ((packet[0] ?? 0) >> 4 !== 6) return fail('bad-ip-header', undefined);
  const payloadLength = ((packet[4] ?? 0) << 8) | (packet[5] ?? 0);
  const ip: IpInfo = {
    family: 'ipv6',
    src: formatAddress('ipv6', packet, 8),
    dst: formatAddress('ipv6', packet, 24),
    ttl: packet[7] ?? 0,
    tos: (((packet[0] ?? 0) & 0x0f) << 4) | ((packet[1] ?? 0) >> 4),
    protocol: packet[6] ?? 0,
  };
  if (40 + payloadLength > packet.length) return fail('bad-length', ip);
  if (ip.protocol !== VRRP_PROTOCOL) return fail('not-vrrp', ip);
  return decodeMessage(
    packet.subarray(40, 40 + payloadLength),
    'ipv6',
    packet.subarray(8, 24),
    packet.subarray(24, 40),
    ip,
    opts.checkTtl ?? true,
  );
}

export class VrrpEncodeError extends Error {
  override readonly name = 'VrrpEncodeError';
  readonly code = 'ERR_VRRP_ENCODE';
}

function assertRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new VrrpEncodeError(`${what} must be an integer in ${min}..${max}, got ${value}`);
  }
}

/**
 * Encodes a VRRP message with its checksum. For v3 the pseudo-header uses `pseudo.dst`, the
 * packet's real destination (224.0.0.18, ff02::12, or the unicast peer).
 */
export function encodeVrrp(advert: VrrpAdvert, pseudo: PseudoHeader): Uint8Array {
  const { version, family } = advert;
  if (version === 2 && family !== 'ipv4') throw new VrrpEncodeError('VRRPv2 is IPv4 only');
  assertRange('vrid', advert.vrid, 1, 255);
  assertRange('priority', advert.priority, 0, 255);
  assertRange('address count', advert.addresses.length, 1, 255);
  if (version === 2) {
    if (advert.advertIntervalCs % 100 !== 0) {
      throw new VrrpEncodeError(
        `VRRPv2 advert interval is whole seconds, got ${advert.advertIntervalCs} cs`,
      );
    }
    assertRange('v2 advert interval (s)', advert.advertIntervalCs / 100, 1, 255);
  } else {
    assertRange('v3 advert interval (cs)', advert.advertIntervalCs, 1, 4095);
  }
  const alen = addressLength(family);
  const authLen = version === 2 ? V2_AUTH_DATA_LENGTH : 0;
  const msg = new Uint8Array(8 + advert.addresses.length * alen + authLen);
  msg[0] = (version << 4) | VRRP_TYPE_ADVERTISEMENT;
  msg[1] = advert.vrid;
  msg[2] = advert.priority;
  msg[3] = advert.addresses.length;
  if (version === 2) {
    msg[4] = authCode(advert.authType);
    msg[5] = advert.advertIntervalCs / 100;
  } else {
    msg[4] = (advert.advertIntervalCs >> 8) & 0x0f;
    msg[5] = advert.advertIntervalCs & 0xff;
  }
  advert.addresses.forEach((text, i) => {
    const bytes = parseAddress(family, text);
    if (!bytes) throw new VrrpEncodeError(`not an ${family} address: ${text}`);
    msg.set(bytes, 8 + i * alen);
  });
  if (version === 2 && advert.authData) {
    if (advert.authData.length > authLen) throw new VrrpEncodeError('auth data over 8 octets');
    msg.set(advert.authData, 8 + advert.addresses.length * alen);
  }
  const src = parseAddress(family, pseudo.src);
  const dst = parseAddress(family, pseudo.dst);
  if (!src || !dst) throw new VrrpEncodeError(`pseudo-header needs ${family} source and destination`);
  const sum = checksumFor(version, family, msg, src, dst);
  msg[6] = sum >> 8;
  msg[7] = sum & 0xff;
  return msg;
}

/** RFC 3768 §5.3.6.1: a simple-text password is up to 8 octets, zero padded. */
export function simpleAuthData(password: string): Uint8Array {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > V2_AUTH_DATA_LENGTH) {
    throw new VrrpEncodeError('a VRRPv2 PASS password is at most 8 octets');
  }
  const out = new Uint8Array(V2_AUTH_DATA_LENGTH);
  out.set(bytes);
  return out;
}

export interface Ipv4HeaderFields {
  readonly src: string;
  readonly dst: string;
  readonly ttl?: number;
  readonly tos?: number;
  readonly id?: number;
  readonly protocol?: number;
}

/** Wraps a payload in an IPv4 header (no options), header checksum filled in. */
export function encodeIpv4Datagram(payload: Uint8Array, h: Ipv4HeaderFields): Uint8Array {
  const src = parseAddress('ipv4', h.src);
  const dst = parseAddress('ipv4', h.dst);
  if (!src || !dst) throw new VrrpEncodeError('IPv4 header needs IPv4 source and destination');
  const total = 20 + payload.length;
  assertRange('IPv4 total length', total, 20, 0xffff);
  const d = new Uint8Array(total);
  d[0] = 0x45;
  d[1] = h.tos ?? VRRP_TOS;
  d[2] = total >> 8;
  d[3] = total & 0xff;
  const id = h.id ?? 0;
  d[4] = (id >> 8) & 0xff;
  d[5] = id & 0xff;
  d[8] = h.ttl ?? VRRP_TTL;
  d[9] = h.protocol ?? VRRP_PROTOCOL;
  d.set(src, 12);
  d.set(dst, 16);
  const sum = internetChecksum([d.subarray(0, 20)]);
  d[10] = sum >> 8;
  d[11] = sum & 0xff;
  d.set(payload, 20);
  return d;
}

export interface Ipv6HeaderFields {
  readonly src: string;
  readonly dst: string;
  readonly hopLimit?: number;
  readonly trafficClass?: number;
  readonly nextHeader?: number;
}

/** Wraps a payload in a fixed IPv6 header (no extension headers), as it appears on the wire. */
export function encodeIpv6Packet(payload: Uint8Array, h: Ipv6HeaderFields): Uint8Array {
  const src = parseAddress('ipv6', h.src);
  const dst = parseAddress('ipv6', h.dst);
  if (!src || !dst) throw new VrrpEncodeError('IPv6 header needs IPv6 source and destination');
  assertRange('IPv6 payload length', payload.length, 0, 0xffff);
  const p = new Uint8Array(40 + payload.length);
  const tc = h.trafficClass ?? VRRP_TOS;
  p[0] = 0x60 | (tc >> 4);
  p[1] = (tc & 0x0f) << 4;
  p[4] = payload.length >> 8;
  p[5] = payload.length & 0xff;
  p[6] = h.nextHeader ?? VRRP_PROTOCOL;
  p[7] = h.hopLimit ?? VRRP_TTL;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(payload, 40);
  return p;
}
