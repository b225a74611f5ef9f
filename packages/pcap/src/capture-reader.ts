// Reads captures in either format, classic libpcap or pcapng (draft-ietf-opsawg-pcapng), told
// apart by their first four bytes. The reader is incremental: push bytes as they arrive (a whole
// file at once, or a pipe's chunks that may split a block anywhere), take out the packets that
// are complete. Bad input never throws: the reader stops at the first corrupt header or block
// with an error naming its offset in the stream.

/** One captured packet, in either format; each carries the link type of its interface. */
export interface PcapRecord {
  /** Index into the capture's interfaces (over all pcapng sections; always 0 in classic pcap). */
  readonly interfaceId: number;
  readonly linkType: number;
  /**
   * Capture time as seconds since the epoch, with sub-second precision; undefined for pcapng
   * Simple Packet Blocks, which carry none.
   */
  readonly timestamp: number | undefined;
  /** Length of the packet on the wire (may exceed data.length if the capture was cut). */
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface CaptureInterface {
  readonly linkType: number;
  /** 0: no limit. */
  readonly snapLength: number;
  /** The pcapng section (0-based) that described it; 0 in classic pcap. */
  readonly section: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CaptureError {
  /** Byte offset in the stream of the header or block at fault. */
  readonly offset: number;
  readonly reason: string;
}

export interface CaptureEnd {
  /** The stream ended inside a packet or block: the packets before it were returned. */
  readonly truncated: boolean;
  /** Set when the stream was corrupt, or ended before its capture header was complete. */
  readonly error: CaptureError | undefined;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

// pcapng block types and option codes (draft-ietf-opsawg-pcapng §4, §11).
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_OPB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/**
 * No packet or block claims more: a corrupt length is refused rather than waited for. libpcap
 * itself caps a snapshot length at 256 KiB (a few link types at 128 MiB), so this is generous.
 */
export const MAX_CAPTURE_BLOCK_BYTES = 128 * 1024 * 1024;

/** An interface as a section's packets see it: its timestamp units (§4.2, if_tsresol). */
interface SectionInterface {
  readonly id: number;
  readonly linkType: number;
  readonly snapLength: number;
  readonly unitsPerSecond: bigint;
  readonly offsetSeconds: bigint;
}

interface ClassicHeader {
  readonly little: boolean;
  readonly nanosecond: boolean;
}

interface Section {
  readonly little: boolean;
  readonly interfaces: SectionInterface[];
}

/** What one step of parsing found: a packet, nothing to return (a header, a skipped block), more bytes needed, or corruption. */
type Step =
  | { readonly kind: 'record'; readonly record: PcapRecord; readonly bytes: number }
  | { readonly kind: 'skip'; readonly bytes: number }
  | { readonly kind: 'need'; readonly bytes?: number }
  | { readonly kind: 'error'; readonly reason: string };

export class CaptureReader {
  /** Unparsed bytes, from `bufferOffset` in the stream. Never written to: packets are views of it. */
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferOffset = 0;
  private classic: ClassicHeader | undefined;
  private section: Section | undefined;
  private sections = 0;
  private readonly interfaceList: CaptureInterface[] = [];
  private failure: CaptureError | undefined;

  get format(): CaptureFormat | undefined {
    if (this.classic) return 'pcap';
    return this.section ? 'pcapng' : undefined;
  }

  get interfaces(): readonly CaptureInterface[] {
    return this.interfaceList;
  }

  /** The first corruption found; once set, push() returns nothing more. */
  get error(): CaptureError | undefined {
    return this.failure;
  }

  /**
   * Chunks that arrived while a block known to be longer was incomplete: joined once it can be
   * whole, not on every chunk (a block claiming many MiB, arriving 64 KiB at a time, would
   * otherwise be copied thousands of times).
   */
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  /** Bytes the incomplete block at the start of `buffer` needs, when its header told. */
  private wanted = 0;

  /** Adds the next bytes of the stream; returns the packets they completed. */
  push(chunk: Uint8Array): PcapRecord[] {
    if (this.failure) return [];
    if (chunk.length === 0) return [];
    if (this.buffer.length + this.queuedBytes + chunk.length < this.wanted) {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
      return [];
    }
    if (this.buffer.length === 0 && this.queued.length === 0) this.buffer = chunk;
    else {
      const joined = new Uint8Array(this.buffer.length + this.queuedBytes + chunk.length);
      let at = 0;
      for (const part of [this.buffer, ...this.queued, chunk]) {
        joined.set(part, at);
        at += part.length;
      }
      this.buffer = joined;
      this.queued = [];
      this.queuedBytes = 0;
    }
    this.wanted = 0;
    const records: PcapRecord[] = [];
    let pos = 0;
    for (;;) {
      const step = this.step(this.buffer.subarray(pos));
      if (step.kind === 'need') {
        this.wanted = step.bytes ?? 0;
        break;
      }
      if (step.kind === 'error') {
        this.failure = { offset: this.bufferOffset + pos, reason: step.reason };
        break;
      }
      if (step.kind === 'record') records.push(step.record);
      pos += step.bytes;
    }
    this.buffer = this.buffer.subarray(pos);
    this.bufferOffset += pos;
    return records;
  }

  /** The stream has ended: was it cut inside a packet, or never a capture at all? */
  end(): CaptureEnd {
    if (this.failure) return { truncated: false, error: this.failure };
    if (this.format === undefined) {
      const n = this.buffer.length;
      const error = { offset: 0, reason: `not a pcap or pcapng capture: ${n} bytes is shorter than a capture header` };
      return { truncated: false, error };
    }
    return { truncated: this.buffer.length + this.queuedBytes > 0, error: undefined };
  }

  private step(b: Uint8Array): Step {
    if (b.length < 4) return { kind: 'need' };
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (this.classic) return this.classicRecord(b, view, this.classic);
    if (this.section) return this.block(b, view, this.section);
    const be = view.getUint32(0, false);
    const le = view.getUint32(0, true);
    if (be === BLOCK_SHB) return this.block(b, view, undefined);
    for (const little of [true, false]) {
      const magic = little ? le : be;
      if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) continue;
      if (b.length < PCAP_HEADER_BYTES) return { kind: 'need' };
      this.classic = { little, nanosecond: magic === PCAP_MAGIC_NS };
      // The upper bits of the link type field hold FCS information (pcap file format §4).
      const linkType = view.getUint32(20, little) & 0x0fffffff;
      this.interfaceList.push({ linkType, snapLength: view.getUint32(16, little), section: 0 });
      return { kind: 'skip', bytes: PCAP_HEADER_BYTES };
    }
    return { kind: 'error', reason: `not a pcap or pcapng capture: unknown magic 0x${be.toString(16).padStart(8, '0')}` };
  }

  private classicRecord(b: Uint8Array, view: DataView, h: ClassicHeader): Step {
    if (b.length < PCAP_RECORD_HEADER_BYTES) return { kind: 'need' };
    const capturedLength = view.getUint32(8, h.little);
    if (capturedLength > MAX_CAPTURE_BLOCK_BYTES) {
      return { kind: 'error', reason: `corrupt pcap: a packet claims ${capturedLength} bytes` };
    }
    const end = PCAP_RECORD_HEADER_BYTES + capturedLength;
    if (b.length < end) return { kind: 'need', bytes: end };
    const sec = view.getUint32(0, h.little);
    const frac = view.getUint32(4, h.little);
    const record: PcapRecord = {
      interfaceId: 0,
      linkType: this.interfaceList[0]?.linkType ?? 0,
      timestamp: sec + frac / (h.nanosecond ? 1e9 : 1e6),
      originalLength: view.getUint32(12, h.little),
      data: b.subarray(PCAP_RECORD_HEADER_BYTES, end),
    };
    return { kind: 'record', record, bytes: end };
  }

  /** One pcapng block (§3.1): type, total length, body, total length again. */
  private block(b: Uint8Array, view: DataView, section: Section | undefined): Step {
    if (b.length < 8) return { kind: 'need' };
    const type = view.getUint32(0, section?.little ?? true);
    let little = section?.little ?? true;
    if (type === BLOCK_SHB) {
      if (b.length < 12) return { kind: 'need' };
      // The byte-order magic says how this section, this block included, is written (§4.1).
      if (view.getUint32(8, true) === BYTE_ORDER_MAGIC) little = true;
      else if (view.getUint32(8, false) === BYTE_ORDER_MAGIC) little = false;
      else return { kind: 'error', reason: 'corrupt pcapng: a section header without the byte-order magic 0x1a2b3c4d' };
    }
    const total = view.getUint32(4, little);
    const name = blockName(type);
    if (total < 12 || total % 4 !== 0) {
      return { kind: 'error', reason: `corrupt pcapng: ${name} with a total length of ${total} (a multiple of 4, 12 or more, is required)` };
    }
    if (total > MAX_CAPTURE_BLOCK_BYTES) return { kind: 'error', reason: `corrupt pcapng: ${name} claims ${total} bytes` };
    if (b.length < total) return { kind: 'need', bytes: total };
    const trailing = view.getUint32(total - 4, little);
    if (trailing !== total) {
      return { kind: 'error', reason: `corrupt pcapng: ${name} has a total length of ${total} at its start but ${trailing} at its end` };
    }
    const body = new DataView(b.buffer, b.byteOffset + 8, total - 12);
    const bodyBytes = b.subarray(8, total - 4);
    const skip: Step = { kind: 'skip', bytes: total };
    switch (type) {
      case BLOCK_SHB: {
        if (total < 28) return { kind: 'error', reason: `corrupt pcapng: a section header of ${total} bytes (28 or more)` };
        const major = body.getUint16(4, little);
        const minor = body.getUint16(6, little);
        if (major !== 1) return { kind: 'error', reason: `pcapng version ${major}.${minor} is not supported (1.x is)` };
        this.section = { little, interfaces: [] };
        this.sections++;
        return skip;
      }
      case BLOCK_IDB: {
        if (!section) return orphan(name);
        if (total < 20) return { kind: 'error', reason: `corrupt pcapng: an interface description of ${total} bytes (20 or more)` };
        return this.interfaceDescription(body, little, section) ?? skip;
      }
      case BLOCK_EPB:
      case BLOCK_OPB: {
        if (!section) return orphan(name);
        if (total < 32) return { kind: 'error', reason: `corrupt pcapng: ${name} of ${total} bytes (32 or more)` };
        // §4.3: interface (32 bits), timestamp, captured and original length. The obsolete
        // packet block (appendix) has a 16-bit interface and a 16-bit drop count instead.
        const id = type === BLOCK_EPB ? body.getUint32(0, little) : body.getUint16(0, little);
        const iface = section.interfaces[id];
        if (!iface) return noInterface(name, id, section);
        const captured = body.getUint32(12, little);
        if (captured > total - 32) {
          return { kind: 'error', reason: `corrupt pcapng: ${name} whose packet of ${captured} bytes overruns the block (${total} bytes)` };
        }
        const record: PcapRecord = {
          interfaceId: iface.id,
          linkType: iface.linkType,
          timestamp: timestampOf(body.getUint32(4, little), body.getUint32(8, little), iface),
          originalLength: body.getUint32(16, little),
          data: bodyBytes.subarray(20, 20 + captured),
        };
        return { kind: 'record', record, bytes: total };
      }
      case BLOCK_SPB: {
        if (!section) return orphan(name);
        if (total < 16) return { kind: 'error', reason: `corrupt pcapng: a simple packet block of ${total} bytes (16 or more)` };
        const iface = section.interfaces[0];
        if (!iface) return noInterface(name, 0, section);
        // §4.4: the packet is as long as the original, cut at interface 0's snapshot length.
        const originalLength = body.getUint32(0, little);
        let captured = Math.min(originalLength, total - 16);
        if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
        const record: PcapRecord = {
          interfaceId: iface.id,
          linkType: iface.linkType,
          timestamp: undefined,
          originalLength,
          data: bodyBytes.subarray(4, 4 + captured),
        };
        return { kind: 'record', record, bytes: total };
      }
      default:
        // Name resolution, statistics, decryption secrets, custom blocks...: not needed here.
        return skip;
    }
  }

  /** Adds the interface an IDB describes (§4.2); an error step if its options are corrupt. */
  private interfaceDescription(body: DataView, little: boolean, section: Section): Step | undefined {
    const linkType = body.getUint16(0, little);
    const snapLength = body.getUint32(4, little);
    let unitsPerSecond = 1_000_000n;
    let offsetSeconds = 0n;
    for (let off = 8; off + 4 <= body.byteLength; ) {
      const code = body.getUint16(off, little);
      const length = body.getUint16(off + 2, little);
      if (code === OPT_ENDOFOPT) break;
      if (off + 4 + length > body.byteLength) {
        return { kind: 'error', reason: `corrupt pcapng: an interface description whose option ${code} (${length} bytes) overruns the block` };
      }
      if (code === OPT_IF_TSRESOL && length >= 1) {
        // §4.2: most significant bit clear, a negative power of 10; set, of 2.
        const v = body.getUint8(off + 4);
        unitsPerSecond = v & 0x80 ? 2n ** BigInt(v & 0x7f) : 10n ** BigInt(v);
      } else if (code === OPT_IF_TSOFFSET && length >= 8) {
        offsetSeconds = body.getBigInt64(off + 4, little);
      }
      off += 4 + Math.ceil(length / 4) * 4;
    }
    const id = this.interfaceList.length;
    this.interfaceList.push({ linkType, snapLength, section: this.sections - 1 });
    section.interfaces.push({ id, linkType, snapLength, unitsPerSecond, offsetSeconds });
    return undefined;
  }
}

function timestampOf(high: number, low: number, iface: SectionInterface): number {
  const units = (BigInt(high) << 32n) | BigInt(low);
  const whole = units / iface.unitsPerSecond;
  const fraction = units % iface.unitsPerSecond;
  return Number(whole + iface.offsetSeconds) + Number(fraction) / Number(iface.unitsPerSecond);
}

function blockName(type: number): string {
  switch (type) {
    case BLOCK_SHB:
      return 'a section header';
    case BLOCK_IDB:
      return 'an interface description';
    case BLOCK_EPB:
      return 'an enhanced packet block';
    case BLOCK_SPB:
      return 'a simple packet block';
    case BLOCK_OPB:
      return 'an obsolete packet block';
    default:
      return `a block of type 0x${type.toString(16).padStart(8, '0')}`;
  }
}

function orphan(name: string): Step {
  return { kind: 'error', reason: `corrupt pcapng: ${name} before any section header` };
}

function noInterface(name: string, id: number, section: Section): Step {
  const known = section.interfaces.length;
  return { kind: 'error', reason: `corrupt pcapng: ${name} on interface ${id}, but its section describes ${known} interface${known === 1 ? '' : 's'}` };
}
