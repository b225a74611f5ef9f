// The few rtnetlink messages the agent needs (rtnetlink(7), netlink(7)): dump links and
// addresses, add and remove an address. Encoding and decoding only, on bytes; the socket lives
// in netlink.ts. Decoding never throws: a short or malformed message is skipped.
//
// Written here rather than taken from the `netlink` package: its generated structures for every
// netlink family cost 9 to 14 MB of resident memory to load, a third of the agent's budget, for
// four message types.

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
export const IFA_F_NODAD = 0x02;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;

const align4 = (n: number): number => (n + 3) & ~3;

export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** The payload after the 16-byte header. */
  readonly body: Uint8Array;
}

/** One netlink message: header, then `body` (already laid out), padded to 4 bytes. */
export function encodeMessage(type: number, flags: number, seq: number, body: Uint8Array): Uint8Array {
  const len = NLMSG_HDRLEN + body.length;
  const out = new Uint8Array(align4(len));
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out.set(body, NLMSG_HDRLEN);
  return out;
}

/** Every whole message in a datagram (several per datagram in a dump). */
export function decodeMessages(data: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= data.length) {
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > data.length) break;
    out.push({ type: v.getUint16(off + 4, true), flags: v.getUint16(off + 6, true), seq: v.getUint32(off + 8, true), body: data.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return out;
}

/** The errno of an NLMSG_ERROR message (0: an acknowledgement), or undefined if too short. */
export function errorCode(m: NlMessage): number | undefined {
  if (m.body.length < 4) return undefined;
  const e = new DataView(m.body.buffer, m.body.byteOffset, 4).getInt32(0, true);
  return e === 0 ? 0 : -e;
}

function attribute(type: number, value: Uint8Array): Uint8Array {
  const len = 4 + value.length;
  const out = new Uint8Array(align4(len));
  const v = new DataView(out.buffer);
  v.setUint16(0, len, true);
  v.setUint16(2, type, true);
  out.set(value, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Attributes after a fixed header of `skip` bytes: type -> value (the last of a type wins). */
function attributes(body: Uint8Array, skip: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = skip;
  while (off + 4 <= body.length) {
    const len = v.getUint16(off, true);
    if (len < 4 || off + len > body.length) break;
    out.set(v.getUint16(off + 2, true) & 0x3fff, body.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

function cString(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return Buffer.from(b.subarray(0, end < 0 ? b.length : end)).toString('utf8');
}

/** RTM_GETLINK dump request. */
export function getLinksRequest(seq: number): Uint8Array {
  return encodeMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, new Uint8Array(IFINFOMSG_LEN));
}

/** RTM_GETADDR dump request, every family. */
export function getAddressesRequest(seq: number): Uint8Array {
  return encodeMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq, new Uint8Array(IFADDRMSG_LEN));
}

export interface LinkMessage {
  readonly index: number;
  readonly name: string;
  readonly mac: Uint8Array | undefined;
  readonly flags: number;
  readonly adminUp: boolean;
  readonly carrier: boolean;
}

/** An RTM_NEWLINK message's index, name, hardware address and flags; undefined if malformed. */
export function decodeLink(m: NlMessage): LinkMessage | undefined {
  if (m.type !== RTM_NEWLINK || m.body.length < IFINFOMSG_LEN) return undefined;
  const v = new DataView(m.body.buffer, m.body.byteOffset, IFINFOMSG_LEN);
  const index = v.getInt32(4, true);
  const flags = v.getUint32(8, true);
  const attrs = attributes(m.body, IFINFOMSG_LEN);
  return {
    index,
    name: cString(attrs.get(IFLA_IFNAME)) ?? '',
    mac: attrs.get(IFLA_ADDRESS),
    flags,
    adminUp: (flags & IFF_UP) !== 0,
    carrier: (flags & IFF_LOWER_UP) !== 0 && (flags & IFF_RUNNING) !== 0,
  };
}

export interface AddressMessage {
  readonly family: number;
  readonly prefixLength: number;
  readonly index: number;
  /** IFA_LOCAL, else IFA_ADDRESS (a point-to-point peer has both). */
  readonly address: Uint8Array | undefined;
  readonly label: string | undefined;
}

/** An RTM_NEWADDR message; undefined if malformed. */
export function decodeAddress(m: NlMessage): AddressMessage | undefined {
  if (m.type !== RTM_NEWADDR || m.body.length < IFADDRMSG_LEN) return undefined;
  const v = new DataView(m.body.buffer, m.body.byteOffset, IFADDRMSG_LEN);
  const attrs = attributes(m.body, IFADDRMSG_LEN);
  return {
    family: v.getUint8(0),
    prefixLength: v.getUint8(1),
    index: v.getUint32(4, true),
    address: attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS),
    label: cString(attrs.get(IFA_LABEL)),
  };
}

function ifaddrmsg(family: number, prefixLength: number, flags: number, index: number): Uint8Array {
  const b = new Uint8Array(IFADDRMSG_LEN);
  const v = new DataView(b.buffer);
  v.setUint8(0, family);
  v.setUint8(1, prefixLength);
  v.setUint8(2, flags);
  v.setUint8(3, 0); // RT_SCOPE_UNIVERSE
  v.setUint32(4, index, true);
  return b;
}

/** RTM_NEWADDR (create, fail if it exists), acknowledged. */
export function addAddressRequest(seq: number, a: { family: number; prefixLength: number; index: number; address: Uint8Array; label?: string | undefined; nodad?: boolean }): Uint8Array {
  const parts = [ifaddrmsg(a.family, a.prefixLength, a.nodad ? IFA_F_NODAD : 0, a.index), attribute(IFA_LOCAL, a.address), attribute(IFA_ADDRESS, a.address)];
  if (a.label !== undefined) parts.push(attribute(IFA_LABEL, new TextEncoder().encode(`${a.label}\0`)));
  return encodeMessage(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, concat(parts));
}

/** RTM_DELADDR, acknowledged. */
export function delAddressRequest(seq: number, a: { family: number; prefixLength: number; index: number; address: Uint8Array }): Uint8Array {
  return encodeMessage(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, seq, concat([ifaddrmsg(a.family, a.prefixLength, 0, a.index), attribute(IFA_LOCAL, a.address)]));
}
