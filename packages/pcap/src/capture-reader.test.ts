// The capture reader on real captures (tcpdump's classic pcap, editcap's pcapng of the same
// frames), on pcapng built block by block (both byte orders, several sections, timestamp
// resolutions, unknown blocks), streamed in pieces, cut short, and corrupted: it never throws.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CaptureReader, type PcapRecord } from './capture-reader.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, linkTypeName, parsePcap } from './pcap.js';
import {
  type BlockOptions,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodePcapngBlock,
  encodeSectionHeader,
  encodeSimplePacket,
} from './pcapng-write.js';

const VECTORS = fileURLToPath(new URL('../../../test/vectors/', import.meta.url));
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(`${VECTORS}${name}`));
const SLL2_PCAP = read('linux-sll2-pcapng/keepalived-v3-any.pcap');
const SLL2_PCAPNG = read('linux-sll2-pcapng/keepalived-v3-any.pcapng');
const ETH_PCAP = read('keepalived-2.2.7/v2-none-mcast-with-garp-and-shutdown.pcap');
const ETH_PCAPNG = read('linux-sll2-pcapng/v2-none-mcast-with-garp-and-shutdown.pcapng');

function records(bytes: Uint8Array): readonly PcapRecord[] {
  const p = parsePcap(bytes);
  assert.ok(p.ok, p.ok ? '' : p.reason);
  assert.equal(p.file.truncated, false);
  return p.file.records;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** What the reader says of a whole file given in pieces of `size` bytes. */
function streamed(bytes: Uint8Array, size: number): { records: PcapRecord[]; truncated: boolean; error: string | undefined } {
  const reader = new CaptureReader();
  const out: PcapRecord[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.slice(i, i + size)));
  const end = reader.end();
  return { records: out, truncated: end.truncated, error: end.error && `${end.error.offset}: ${end.error.reason}` };
}

function sameRecords(got: readonly PcapRecord[], want: readonly PcapRecord[]): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i];
    assert.ok(w);
    assert.equal(g.linkType, w.linkType, `record ${i + 1} link type`);
    assert.equal(g.originalLength, w.originalLength);
    assert.deepEqual([...g.data], [...w.data], `record ${i + 1} bytes`);
    if (g.timestamp === undefined || w.timestamp === undefined) assert.equal(g.timestamp, w.timestamp);
    else assert.ok(Math.abs(g.timestamp - w.timestamp) < 1e-6, `record ${i + 1}: ${g.timestamp} vs ${w.timestamp}`);
  });
}

/** Offsets where a header, packet or block ends, in a little-endian classic pcap or pcapng file. */
function boundaries(bytes: Uint8Array): Set<number> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const classic = v.getUint32(0, true) === 0xa1b2c3d4;
  let off = classic ? 24 : 0;
  const out = new Set([off]);
  while (off < bytes.length) {
    off += classic ? 16 + v.getUint32(off + 8, true) : v.getUint32(off + 4, true);
    out.add(off);
  }
  return out;
}

/** The records of a classic pcap rewritten as one pcapng section: an IDB, then one EPB each. */
function asPcapng(pcap: Uint8Array, opts: BlockOptions): Uint8Array {
  const rs = records(pcap);
  const linkType = rs[0]?.linkType ?? LINKTYPE_ETHERNET;
  return concat([
    encodeSectionHeader(opts),
    encodeInterfaceDescription(linkType, opts),
    ...rs.map((r) => encodeEnhancedPacket(0, BigInt(Math.round((r.timestamp ?? 0) * 1e6)), r.data, opts)),
  ]);
}

describe('capture reader on real captures', () => {
  it('reads tcpdump -i any (LINUX_SLL2) classic pcap, every packet with its link type', () => {
    const p = parsePcap(SLL2_PCAP);
    assert.ok(p.ok);
    assert.equal(p.file.format, 'pcap');
    assert.deepEqual(p.file.interfaces, [{ linkType: LINKTYPE_LINUX_SLL2, snapLength: 262144, section: 0 }]);
    assert.equal(p.file.records.length, 11);
    for (const r of p.file.records) assert.equal(r.linkType, LINKTYPE_LINUX_SLL2);
  });

  for (const [name, pcap, pcapng] of [
    ['LINUX_SLL2', SLL2_PCAP, SLL2_PCAPNG],
    ['Ethernet', ETH_PCAP, ETH_PCAPNG],
  ] as const) {
    it(`reads editcap's pcapng of the ${name} capture as the same packets, times and link type`, () => {
      const p = parsePcap(pcapng);
      assert.ok(p.ok);
      assert.equal(p.file.format, 'pcapng');
      assert.equal(p.file.interfaces.length, 1);
      sameRecords(p.file.records, records(pcap));
    });

    it(`reads the ${name} capture rewritten as a big-endian pcapng`, () => {
      const big = asPcapng(pcap, { bigEndian: true });
      assert.deepEqual([...big.subarray(8, 12)], [0x1a, 0x2b, 0x3c, 0x4d]);
      sameRecords(records(big), records(pcap));
    });
  }

  it('gives the same packets whatever pieces the bytes arrive in', () => {
    for (const bytes of [SLL2_PCAP, SLL2_PCAPNG, ETH_PCAP, asPcapng(ETH_PCAP, { bigEndian: true })]) {
      const whole = records(bytes);
      for (const size of [1, 2, 3, 5, 7, 13, 64, 1000]) {
        const s = streamed(bytes, size);
        assert.equal(s.error, undefined);
        assert.equal(s.truncated, false);
        sameRecords(s.records, whole);
      }
    }
  });

  it('reads a capture cut anywhere as the whole packets before the cut', () => {
    for (const bytes of [SLL2_PCAP, SLL2_PCAPNG, ETH_PCAPNG]) {
      const whole = records(bytes);
      const bounds = boundaries(bytes);
      for (let n = 0; n <= bytes.length; n++) {
        const p = parsePcap(bytes.subarray(0, n));
        if (!p.ok) {
          // Only a file cut inside its first header is no capture at all.
          assert.match(p.reason, /shorter than a capture header/, `cut at ${n}`);
          continue;
        }
        assert.ok(p.file.records.length <= whole.length);
        sameRecords(p.file.records, whole.slice(0, p.file.records.length));
        assert.equal(p.file.truncated, !bounds.has(n), `cut at ${n}: inside a block or packet, or between two`);
      }
    }
  });

  it('never throws on any single corrupted byte, and names an offset inside the file when it refuses', () => {
    for (const bytes of [SLL2_PCAPNG, asPcapng(SLL2_PCAP, { bigEndian: true })]) {
      for (let i = 0; i < bytes.length; i++) {
        for (const v of [0x00, 0xff, (bytes[i] ?? 0) ^ 0x80, (bytes[i] ?? 0) ^ 0x01]) {
          const m = bytes.slice();
          m[i] = v;
          const p = parsePcap(m);
          if (!p.ok) assert.ok(p.offset >= 0 && p.offset < m.length, `${i}: ${p.reason}`);
        }
      }
    }
  });
});

describe('pcapng built block by block', () => {
  const frame = (n: number): Uint8Array => Uint8Array.from({ length: 60 }, (_, i) => (i * 7 + n) & 0xff);

  it('reads several sections in either byte order; interface numbers restart per section', () => {
    const le: BlockOptions = {};
    const be: BlockOptions = { bigEndian: true };
    const bytes = concat([
      encodeSectionHeader(le),
      encodeInterfaceDescription(LINKTYPE_ETHERNET, le),
      encodeInterfaceDescription(LINKTYPE_LINUX_SLL2, le),
      encodeEnhancedPacket(1, 1_000_000n, frame(1), le),
      encodeEnhancedPacket(0, 2_000_000n, frame(2), le),
      encodeSectionHeader(be),
      encodeInterfaceDescription(113, be),
      encodeEnhancedPacket(0, 3_000_000n, frame(3), be),
    ]);
    const p = parsePcap(bytes);
    assert.ok(p.ok, p.ok ? '' : p.reason);
    assert.deepEqual(
      p.file.interfaces.map((i) => [i.linkType, i.section]),
      [
        [LINKTYPE_ETHERNET, 0],
        [LINKTYPE_LINUX_SLL2, 0],
        [113, 1],
      ],
    );
    assert.deepEqual(
      p.file.records.map((r) => [r.interfaceId, r.linkType, r.timestamp, r.data[0]]),
      [
        [1, LINKTYPE_LINUX_SLL2, 1, frame(1)[0]],
        [0, LINKTYPE_ETHERNET, 2, frame(2)[0]],
        [2, 113, 3, frame(3)[0]],
      ],
    );
  });

  it('reads timestamps in the resolution and offset the interface declares (if_tsresol, if_tsoffset), microseconds by default', () => {
    const t = 1_800_000_000n;
    const bytes = concat([
      encodeSectionHeader(),
      encodeInterfaceDescription(LINKTYPE_ETHERNET),
      encodeInterfaceDescription(LINKTYPE_ETHERNET, { tsresol: 9 }),
      encodeInterfaceDescription(LINKTYPE_ETHERNET, { tsresol: 0x80 | 20 }),
      encodeInterfaceDescription(LINKTYPE_ETHERNET, { tsresol: 3, tsoffsetSeconds: 1_000_000_000, bigEndian: false }),
      encodeEnhancedPacket(0, t * 1_000_000n + 250_000n, frame(0)),
      encodeEnhancedPacket(1, t * 1_000_000_000n + 123_456_789n, frame(1)),
      encodeEnhancedPacket(2, (t << 20n) + (1n << 19n), frame(2)),
      encodeEnhancedPacket(3, 800_000_000_500n, frame(3)),
    ]);
    const ts = records(bytes).map((r) => r.timestamp ?? Number.NaN);
    assert.equal(ts[0], 1_800_000_000.25);
    assert.ok(Math.abs((ts[1] ?? 0) - 1_800_000_000.123456789) < 1e-6);
    assert.equal(ts[2], 1_800_000_000.5);
    assert.equal(ts[3], 1_800_000_000.5);
  });

  it('reads simple packet blocks (interface 0, no time, cut at its snapshot length) and obsolete packet blocks', () => {
    const opb = new Uint8Array(20 + 60);
    const v = new DataView(opb.buffer);
    v.setUint16(0, 1, true); // interface 1
    v.setUint32(8, 5_000_000, true); // 5 s, low 32 bits
    v.setUint32(12, 60, true);
    v.setUint32(16, 60, true);
    opb.set(frame(9), 20);
    const bytes = concat([
      encodeSectionHeader(),
      encodeInterfaceDescription(LINKTYPE_LINUX_SLL2, { snapLength: 40 }),
      encodeInterfaceDescription(LINKTYPE_ETHERNET),
      encodeSimplePacket(frame(7)),
      encodePcapngBlock(2, opb),
    ]);
    const [spb, old, ...rest] = records(bytes);
    assert.equal(rest.length, 0);
    assert.deepEqual(spb && [spb.linkType, spb.timestamp, spb.originalLength, spb.data.length], [LINKTYPE_LINUX_SLL2, undefined, 60, 40]);
    assert.deepEqual([...(spb?.data ?? [])], [...frame(7).subarray(0, 40)]);
    assert.deepEqual(old && [old.interfaceId, old.linkType, old.timestamp, old.data[0]], [1, LINKTYPE_ETHERNET, 5, frame(9)[0]]);
  });

  it('skips blocks it does not know (name resolution, statistics, custom, future types) by their length', () => {
    const le = concat([
      encodeSectionHeader(),
      encodePcapngBlock(0x00000004, new Uint8Array(12)),
      encodeInterfaceDescription(LINKTYPE_ETHERNET),
      encodePcapngBlock(0x00000bad, Uint8Array.of(1, 2, 3, 4, 5)),
      encodeEnhancedPacket(0, 1n, frame(1)),
      encodePcapngBlock(0x40000bad, new Uint8Array(0)),
      encodePcapngBlock(0x00000005, new Uint8Array(20)),
      encodeEnhancedPacket(0, 2n, frame(2)),
    ]);
    assert.deepEqual(
      records(le).map((r) => r.data[0]),
      [frame(1)[0], frame(2)[0]],
    );
  });

  describe('refuses a corrupt capture, naming the offset of the block at fault', () => {
    const shb = encodeSectionHeader();
    const idb = encodeInterfaceDescription(LINKTYPE_ETHERNET);
    const epb = encodeEnhancedPacket(0, 1n, frame(1));
    const at = shb.length + idb.length;
    const withLength = (block: Uint8Array, total: number, where: 'start' | 'end' | 'both'): Uint8Array => {
      const b = block.slice();
      const v = new DataView(b.buffer);
      if (where !== 'end') v.setUint32(4, total, true);
      if (where !== 'start') v.setUint32(b.length - 4, total, true);
      return b;
    };
    const cases: [string, Uint8Array, number, RegExp][] = [
      ['a length that is not a multiple of 4', concat([shb, idb, withLength(epb, epb.length - 2, 'start')]), at, /enhanced packet block with a total length of 90 \(a multiple of 4/],
      ['a length under 12', concat([shb, idb, withLength(epb, 8, 'start')]), at, /total length of 8/],
      ['different lengths at start and end', concat([shb, idb, withLength(epb, epb.length - 4, 'end')]), at, /total length of 92 at its start but 88 at its end/],
      ['a packet longer than its block', concat([shb, idb, withLength(epb.subarray(0, epb.length - 4), epb.length - 4, 'both')]), at, /packet of 60 bytes overruns the block \(88 bytes\)/],
      ['a packet on an interface never described', concat([shb, idb, encodeEnhancedPacket(3, 1n, frame(1))]), at, /on interface 3, but its section describes 1 interface$/],
      ['a length beyond any capture', concat([shb, idb, withLength(epb, 0x7ffffff0, 'start')]), at, /claims 2147483632 bytes/],
      ['a section header without the byte-order magic', concat([shb, idb, shb.slice(0, 8), new Uint8Array(20)]), at, /without the byte-order magic/],
      ['an unknown major version', (() => { const s = shb.slice(); s[12] = 2; return s; })(), 0, /pcapng version 2\.0 is not supported/],
      ['a classic packet longer than any', (() => { const p = ETH_PCAP.slice(); new DataView(p.buffer).setUint32(24 + 8, 0xfffffff0, true); return p; })(), 24, /corrupt pcap: a packet claims 4294967280 bytes/],
      ['not a capture', new TextEncoder().encode('this is not a capture\n'), 0, /unknown magic 0x74686973/],
    ];
    // An option of 200 bytes in a block of 20 (the IDB has no options: make room for one).
    const idbOpt = encodeInterfaceDescription(LINKTYPE_ETHERNET, { tsresol: 9 });
    new DataView(idbOpt.buffer).setUint16(18, 200, true);
    cases.push(['an option overrunning its block', concat([shb, idbOpt]), shb.length, /option 9 \(200 bytes\) overruns the block/]);
    for (const [what, bytes, offset, reason] of cases) {
      it(what, () => {
        const p = parsePcap(bytes);
        assert.equal(p.ok, false);
        assert.ok(!p.ok);
        assert.equal(p.offset, offset, p.reason);
        assert.match(p.reason, reason);
        if (offset > 0) assert.match(p.reason, new RegExp(`^at offset ${offset}: `));
        // The stream reader says the same at the same place, however the bytes arrive.
        assert.equal(streamed(bytes, 3).error, `${offset}: ${p.reason.replace(/^at offset \d+: /, '')}`);
      });
    }
  });

  it('names link types as tcpdump.org does, or by number', () => {
    assert.equal(linkTypeName(276), '276 (LINUX_SLL2)');
    assert.equal(linkTypeName(105), '105 (IEEE802_11)');
    assert.equal(linkTypeName(4242), '4242');
  });
});
