// Classic libpcap files (not pcapng): read and write. Parsing never throws.

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;

export interface PcapRecord {
  /** Capture time as seconds since the epoch, with sub-second precision. */
  readonly timestamp: number;
  /** Length of the packet on the wire (may exceed data.length if the capture was cut). */
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly linkType: number;
  readonly snapLength: number;
  readonly nanosecond: boolean;
  readonly records: readonly PcapRecord[];
  /** Set when the file ends inside a record; the records before it are still returned. */
  readonly truncated: boolean;
}

export type PcapParseResult =
  | { readonly ok: true; readonly file: PcapFile }
  | { readonly ok: false; readonly reason: string };

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;

export function parsePcap(bytes: Uint8Array): PcapParseResult {
  if (bytes.length < 24) {
    return { ok: false, reason: `not a pcap file: ${bytes.length} bytes is shorter than a pcap header` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = view.getUint32(0, false);
  const le = view.getUint32(0, true);
  let little: boolean;
  let nanosecond: boolean;
  if (le === MAGIC_US || le === MAGIC_NS) {
    little = true;
    nanosecond = le === MAGIC_NS;
  } else if (be === MAGIC_US || be === MAGIC_NS) {
    little = false;
    nanosecond = be === MAGIC_NS;
  } else if (be === PCAPNG_SHB) {
    return {
      ok: false,
      reason: 'pcapng is not supported: save as classic pcap (tcpdump -w, or editcap -F pcap)',
    };
  } else {
    return { ok: false, reason: `not a pcap file: unknown magic 0x${be.toString(16).padStart(8, '0')}` };
  }
  const snapLength = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  let truncated = false;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) {
      truncated = true;
      break;
    }
    const sec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const inclLen = view.getUint32(off + 8, little);
    const originalLength = view.getUint32(off + 12, little);
    if (off + 16 + inclLen > bytes.length) {
      truncated = true;
      break;
    }
    records.push({
      timestamp: sec + frac / (nanosecond ? 1e9 : 1e6),
      originalLength,
      data: bytes.subarray(off + 16, off + 16 + inclLen),
    });
    off += 16 + inclLen;
  }
  return { ok: true, file: { linkType, snapLength, nanosecond, records, truncated } };
}

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
