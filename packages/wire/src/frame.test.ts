// Linux cooked v2 (LINKTYPE_LINUX_SLL2, what `tcpdump -i any` writes on Debian 12) on a real
// capture of keepalived, against tcpdump's reading of it; and the same datagrams under each link
// header dissect alike.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, type PcapRecord, parsePcap } from '@redkeep/pcap';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, parseLinuxSll2 } from './ethernet.js';
import { type FrameSummary, SUPPORTED_LINK_TYPES, dissectFrame, isSupportedLinkType } from './frame.js';

const DIR = fileURLToPath(new URL('../../../test/vectors/linux-sll2-pcapng/', import.meta.url));

function recordsOf(file: string): readonly PcapRecord[] {
  const p = parsePcap(new Uint8Array(readFileSync(`${DIR}${file}`)));
  assert.ok(p.ok);
  return p.file.records;
}

/** What tcpdump printed for each frame: ['vrrp', vrid, prio] or ['arp', target, sender]. */
function tcpdumpSaw(): (readonly [string, string, string])[] {
  const out: (readonly [string, string, string])[] = [];
  for (const line of readFileSync(`${DIR}keepalived-v3-any.txt`, 'utf8').split('\n')) {
    const v = /VRRPv3, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
    const a = /Request who-has (\S+) .*tell (\S+),/.exec(line);
    if (v) out.push(['vrrp', v[1] ?? '', v[2] ?? '']);
    else if (a) out.push(['arp', a[1] ?? '', a[2] ?? '']);
  }
  return out;
}

function brief(f: FrameSummary): readonly [string, string, string] {
  if (f.kind === 'vrrp' && f.result.ok) return ['vrrp', String(f.result.advert.vrid), String(f.result.advert.priority)];
  if (f.kind === 'arp' && f.result.ok) return ['arp', f.result.arp.targetIp, f.result.arp.senderIp];
  return [f.kind, '', ''];
}

describe('LINUX_SLL2 frames', () => {
  for (const file of ['keepalived-v3-any.pcap', 'keepalived-v3-any.pcapng']) {
    it(`${file}: every frame dissects as tcpdump saw it, with the sender's MAC`, () => {
      const want = tcpdumpSaw();
      const recs = recordsOf(file);
      assert.equal(recs.length, want.length);
      assert.equal(want.filter(([k]) => k === 'vrrp').length, 6);
      recs.forEach((r, i) => {
        assert.equal(r.linkType, LINKTYPE_LINUX_SLL2);
        const f = dissectFrame(r.linkType, r.data);
        assert.deepEqual(brief(f), want[i], `frame ${i + 1}`);
        assert.equal(f.link?.srcMac, '02:00:00:00:00:0b');
        assert.equal(f.link?.dstMac, undefined);
        if (f.kind === 'vrrp') assert.equal(f.result.checksumOk, true);
      });
    });
  }

  it('reads the 20-byte header: protocol type first, the address after its length byte', () => {
    const [advert, arp] = recordsOf('keepalived-v3-any.pcap');
    assert.ok(advert && arp);
    const a = parseLinuxSll2(advert.data);
    assert.ok(a.ok);
    assert.equal(a.link.etherType, ETHERTYPE_IPV4);
    assert.equal(a.payload[0], 0x45);
    assert.equal(a.payload.length, advert.data.length - 20);
    const b = parseLinuxSll2(arp.data);
    assert.ok(b.ok);
    assert.equal(b.link.etherType, ETHERTYPE_ARP);
    // An address that is no MAC (length 0, e.g. a tunnel) names no sender.
    const noAddr = advert.data.slice();
    noAddr[11] = 0;
    const c = parseLinuxSll2(noAddr);
    assert.ok(c.ok);
    assert.equal(c.link.srcMac, undefined);
  });

  it('calls a frame shorter than the header truncated, and never throws on any cut or any byte changed', () => {
    const recs = recordsOf('keepalived-v3-any.pcap');
    const advert = recs[0]?.data ?? new Uint8Array(0);
    assert.deepEqual(parseLinuxSll2(advert.subarray(0, 19)), { ok: false, reason: 'truncated-link-header' });
    for (const r of recs) {
      for (let n = 0; n <= r.data.length; n++) {
        const f = dissectFrame(LINKTYPE_LINUX_SLL2, r.data.subarray(0, n));
        if (n < 20) assert.deepEqual(f, { kind: 'malformed', link: undefined, reason: 'truncated-link-header' });
      }
      for (let i = 0; i < r.data.length; i++) {
        const m = r.data.slice();
        m[i] = (m[i] ?? 0) ^ 0xff;
        dissectFrame(LINKTYPE_LINUX_SLL2, m);
      }
    }
  });

  it('dissects the same datagram alike under an Ethernet, a Linux cooked v1 and a v2 header', () => {
    const sll2 = recordsOf('keepalived-v3-any.pcap')[0]?.data ?? new Uint8Array(0);
    const payload = sll2.subarray(20);
    const mac = sll2.subarray(12, 18);
    const eth = Uint8Array.from([0x01, 0x00, 0x5e, 0, 0, 0x12, ...mac, 0x08, 0x00, ...payload]);
    // v1: packet type 2 (multicast), ARPHRD_ETHER, address length 6, address padded to 8, protocol.
    const sll = Uint8Array.from([0, 2, 0, 1, 0, 6, ...mac, 0, 0, 0x08, 0x00, ...payload]);
    const [e, s1, s2] = [
      dissectFrame(LINKTYPE_ETHERNET, eth),
      dissectFrame(LINKTYPE_LINUX_SLL, sll),
      dissectFrame(LINKTYPE_LINUX_SLL2, sll2),
    ];
    assert.ok(e.kind === 'vrrp' && s1.kind === 'vrrp' && s2.kind === 'vrrp');
    assert.deepEqual(s1.result, e.result);
    assert.deepEqual(s2.result, e.result);
    assert.equal(s2.link.srcMac, e.link.srcMac);
  });

  it('knows which link types it reads, and says which it does not', () => {
    assert.deepEqual([...SUPPORTED_LINK_TYPES].sort((x, y) => x - y), [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2]);
    assert.equal(isSupportedLinkType(105), false);
    assert.deepEqual(dissectFrame(105, new Uint8Array(64)), { kind: 'malformed', link: undefined, reason: 'unsupported link type 105' });
  });
});
