// pcapng blocks (draft-ietf-opsawg-pcapng), written one at a time in either byte order, so tests
// can build captures of any shape: several sections, timestamp resolutions, unknown blocks.

export interface BlockOptions {
  /** Big-endian (default little-endian, as most writers do). */
  readonly bigEndian?: boolean;
}

/** Any block (§3.1): type, total length, the body padded to 32 bits, the total length again. */
export function encodePcapngBlock(type: number, body: Uint8Array, opts: BlockOptions = {}): Uint8Array {
  const little = opts.bigEndian !== true;
  const padded = Math.ceil(body.length / 4) * 4;
  const total = 12 + padded;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, little);
  view.setUint32(4, total, little);
  out.set(body, 8);
  view.setUint32(total - 4, total, little);
  return out;
}

/** A Section Header Block (§4.1), version 1.0, section length unknown, no options. */
export function encodeSectionHeader(opts: BlockOptions = {}): Uint8Array {
  const little = opts.bigEndian !== true;
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setUint32(0, 0x1a2b3c4d, little);
  view.setUint16(4, 1, little);
  view.setUint16(6, 0, little);
  view.setBigInt64(8, -1n, little);
  return encodePcapngBlock(0x0a0d0d0a, body, opts);
}

export interface InterfaceOptions extends BlockOptions {
  readonly snapLength?: number;
  /** The if_tsresol byte (§4.2): 6 (µs, the default), 9 (ns), 0x80 | n for 2^-n. */
  readonly tsresol?: number;
  /** if_tsoffset: seconds added to every timestamp of the interface. */
  readonly tsoffsetSeconds?: number;
}

/** An Interface Description Block (§4.2). */
export function encodeInterfaceDescription(linkType: number, opts: InterfaceOptions = {}): Uint8Array {
  const little = opts.bigEndian !== true;
  const options: Uint8Array[] = [];
  const option = (code: number, value: Uint8Array): void => {
    const o = new Uint8Array(4 + Math.ceil(value.length / 4) * 4);
    const v = new DataView(o.buffer);
    v.setUint16(0, code, little);
    v.setUint16(2, value.length, little);
    o.set(value, 4);
    options.push(o);
  };
  if (opts.tsresol !== undefined) option(9, Uint8Array.of(opts.tsresol));
  if (opts.tsoffsetSeconds !== undefined) {
    const value = new Uint8Array(8);
    new DataView(value.buffer).setBigInt64(0, BigInt(opts.tsoffsetSeconds), little);
    option(14, value);
  }
  if (options.length > 0) option(0, new Uint8Array(0));
  const optionBytes = options.reduce((n, o) => n + o.length, 0);
  const body = new Uint8Array(8 + optionBytes);
  const view = new DataView(body.buffer);
  view.setUint16(0, linkType, little);
  view.setUint32(4, opts.snapLength ?? 262144, little);
  let off = 8;
  for (const o of options) {
    body.set(o, off);
    off += o.length;
  }
  return encodePcapngBlock(1, body, opts);
}

/** An Enhanced Packet Block (§4.3); `timestamp` in the interface's units (µs unless if_tsresol says otherwise). */
export function encodeEnhancedPacket(interfaceId: number, timestamp: bigint, data: Uint8Array, opts: BlockOptions & { originalLength?: number } = {}): Uint8Array {
  const little = opts.bigEndian !== true;
  const body = new Uint8Array(20 + data.length);
  const view = new DataView(body.buffer);
  view.setUint32(0, interfaceId, little);
  view.setUint32(4, Number(timestamp >> 32n), little);
  view.setUint32(8, Number(timestamp & 0xffffffffn), little);
  view.setUint32(12, data.length, little);
  view.setUint32(16, opts.originalLength ?? data.length, little);
  body.set(data, 20);
  return encodePcapngBlock(6, body, opts);
}

/** A Simple Packet Block (§4.4): a packet of interface 0, without a timestamp. */
export function encodeSimplePacket(data: Uint8Array, opts: BlockOptions = {}): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  new DataView(body.buffer).setUint32(0, data.length, opts.bigEndian !== true);
  body.set(data, 4);
  return encodePcapngBlock(3, body, opts);
}
