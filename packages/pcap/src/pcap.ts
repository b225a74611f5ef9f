// Capture files, classic libpcap or pcapng, read whole; and classic pcap written. Parsing never
// throws: a corrupt file is refused with the offset of the fault.

import { type CaptureFormat, type CaptureInterface, CaptureReader, type PcapRecord } from './capture-reader.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

/** tcpdump.org's names of the link types a VRRP host may meet, for messages. */
const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [LINKTYPE_ETHERNET, 'ETHERNET'],
  [101, 'RAW'],
  [105, 'IEEE802_11'],
  [LINKTYPE_LINUX_SLL, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [LINKTYPE_LINUX_SLL2, 'LINUX_SLL2'],
]);

/** "276 (LINUX_SLL2)", or the number alone when it has no name here. */
export function linkTypeName(linkType: number): string {
  const name = LINKTYPE_NAMES.get(linkType);
  return name === undefined ? String(linkType) : `${linkType} (${name})`;
}

export interface PcapFile {
  readonly format: CaptureFormat;
  /** Every interface the capture describes; classic pcap has one. */
  readonly interfaces: readonly CaptureInterface[];
  readonly records: readonly PcapRecord[];
  /** Set when the file ends inside a record; the records before it are still returned. */
  readonly truncated: boolean;
}

export type PcapParseResult =
  | { readonly ok: true; readonly file: PcapFile }
  | { readonly ok: false; readonly reason: string; readonly offset: number };

/** Reads a whole classic pcap or pcapng file. */
export function parsePcap(bytes: Uint8Array): PcapParseResult {
  const reader = new CaptureReader();
  const records = reader.push(bytes);
  const end = reader.end();
  const format = reader.format;
  if (end.error) return { ok: false, reason: captureErrorText(end.error), offset: end.error.offset };
  if (format === undefined) return { ok: false, reason: 'not a pcap or pcapng capture', offset: 0 };
  return { ok: true, file: { format, interfaces: reader.interfaces, records, truncated: end.truncated } };
}

/** "at offset N: reason", except for the header of the stream, which has no offset worth naming. */
export function captureErrorText(e: { readonly offset: number; readonly reason: string }): string {
  return e.offset === 0 ? e.reason : `at offset ${e.offset}: ${e.reason}`;
}

const MAGIC_US = 0xa1b2c3d4;

/** Writes a microsecond-resolution, little-endian classic pcap file. */
export function writePcap(
  records: readonly { timestamp: number; data: Uint8Array }[],
  linkType = LINKTYPE_ETHERNET,
): Uint8Array {
  const total = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_US, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 262144, true);
  view.setUint32(20, linkType, true);
  let off = 24;
  for (const r of records) {
    const sec = Math.floor(r.timestamp);
    view.setUint32(off, sec, true);
    view.setUint32(off + 4, Math.round((r.timestamp - sec) * 1e6), true);
    view.setUint32(off + 8, r.data.length, true);
    view.setUint32(off + 12, r.data.length, true);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}
