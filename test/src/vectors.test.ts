import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DECODE_FAILURES,
  type DecodeResult,
  decodeIpv4Datagram,
  encodeIpv4Datagram,
  encodeVrrp,
} from '@redkeep/vrrp';
import { seededRandom } from '@redkeep/vrrp/sim';
import {
  ETHERTYPE_IPV4,
  LINKTYPE_ETHERNET,
  dissectFrame,
  parseEthernet,
  parsePcap,
} from '@redkeep/wire';
import { loadVectors } from './vectors.js';

const vectors = loadVectors();

/** The link-layer payload of every frame. */
function linkPayloads(pcap: Uint8Array): { etherType: number; payload: Uint8Array }[] {
  const parsed = parsePcap(pcap);
  assert.ok(parsed.ok, 'vector is a readable pcap');
  assert.equal(parsed.file.linkType, LINKTYPE_ETHERNET);
  return parsed.file.records.map((r) => {
    const eth = parseEthernet(r.data);
    assert.ok(eth.ok);
    return { etherType: eth.link.etherType, payload: eth.payload };
  });
}

/** The IPv4 datagrams carrying VRRP. */
function vrrpDatagrams(pcap: Uint8Array): Uint8Array[] {
  return linkPayloads(pcap)
    .filter((p) => p.etherType === ETHERTYPE_IPV4 && p.payload[9] === 112)
    .map((p) => p.payload);
}

describe('keepalived 2.2.7 captures', () => {
  it('has all four captures, each with frames', () => {
    assert.equal(vectors.length, 4);
    for (const v of vectors) assert.ok(v.frames.length > 0, v.name);
  });

  for (const v of vectors) {
    describe(v.name, () => {
      it('decodes every frame with the fields tcpdump shows', () => {
        const parsed = parsePcap(v.pcap);
        assert.ok(parsed.ok);
        assert.equal(parsed.file.records.length, v.frames.length);
        parsed.file.records.forEach((rec, i) => {
          const want = v.frames[i];
          assert.ok(want);
          const got = dissectFrame(parsed.file.linkType, rec.data);
          assert.equal(got.kind, want.kind, `frame ${i + 1} kind`);
          if (got.kind === 'vrrp' && want.kind === 'vrrp') {
            assert.equal(got.link.srcMac, want.srcMac);
            const r = got.result;
            assert.ok(r.ok, `frame ${i + 1}: ${r.ok ? '' : r.reason}`);
            assert.equal(r.ip?.src, want.src);
            assert.equal(r.ip?.dst, want.dst);
            assert.equal(r.ip?.ttl, want.ttl);
            assert.equal(r.ip?.tos, want.tos);
            assert.equal(r.advert.version, want.version);
            assert.equal(r.advert.vrid, want.vrid);
            assert.equal(r.advert.priority, want.priority);
            assert.equal(r.advert.advertIntervalCs, want.intervalCs);
            assert.deepEqual(r.advert.addresses, want.addresses);
            if (want.authType !== undefined) assert.equal(r.advert.authType, want.authType);
            if (want.auth !== undefined) {
              const pass = new TextDecoder().decode(r.advert.authData).replace(/\0+$/, '');
              assert.equal(pass, want.auth);
            }
            assert.equal(r.checksumOk, true);
          } else if (got.kind === 'arp' && want.kind === 'arp') {
            assert.ok(got.result.ok);
            assert.equal(got.result.arp.op, want.op);
            assert.equal(got.result.arp.senderIp, want.senderIp);
            assert.equal(got.result.arp.targetIp, want.targetIp);
            assert.equal(got.result.arp.senderMac, want.srcMac);
            assert.equal(got.result.gratuitous, want.senderIp === want.targetIp);
          }
        });
      });

      it('matches the bytes of tcpdump\'s hex dump', () => {
        const payloads = linkPayloads(v.pcap);
        payloads.forEach((p, i) => assert.deepEqual(p.payload, v.frames[i]?.hex, `frame ${i + 1}`));
      });

      it('re-encodes every advert to the identical VRRP bytes and IP datagram', () => {
        const datagrams = vrrpDatagrams(v.pcap);
        assert.equal(datagrams.length, v.frames.filter((f) => f.kind === 'vrrp').length);
        for (const p of datagrams) {
          const r = decodeIpv4Datagram(p);
          assert.ok(r.ok && r.ip);
          const msg = encodeVrrp(r.advert, { src: r.ip.src, dst: r.ip.dst });
          assert.deepEqual(msg, p.subarray(20));
          const id = ((p[4] ?? 0) << 8) | (p[5] ?? 0);
          const dgram = encodeIpv4Datagram(msg, { src: r.ip.src, dst: r.ip.dst, id });
          assert.deepEqual(dgram, p);
        }
      });

      it('rejects every truncation with a reason and never throws', () => {
        for (const p of vrrpDatagrams(v.pcap)) {
          for (let len = 0; len < p.length; len++) {
            const r = decodeIpv4Datagram(p.subarray(0, len));
            assert.equal(r.ok, false, `truncated to ${len} bytes`);
            assert.ok(!r.ok && DECODE_FAILURES.includes(r.reason));
          }
          // Truncating the VRRP message while fixing up the IP total length.
          for (let len = 20; len < p.length; len++) {
            const cut = Uint8Array.from(p.subarray(0, len));
            cut[2] = len >> 8;
            cut[3] = len & 0xff;
            const r = decodeIpv4Datagram(cut);
            assert.equal(r.ok, false, `VRRP cut to ${len - 20} bytes`);
          }
        }
      });
    });
  }

  it('survives 100 000 random mutations: decode never throws and always says why', () => {
    const seed = Number(process.env.REDKEEP_FUZZ_SEED ?? 20261121);
    const random = seededRandom(seed);
    const corpus = vectors.flatMap((v) => vrrpDatagrams(v.pcap));
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const base = corpus[Math.floor(random() * corpus.length)] ?? new Uint8Array(0);
      const m = mutate(base, random);
      let r: DecodeResult;
      try {
        r = decodeIpv4Datagram(m);
      } catch (e) {
        assert.fail(`seed ${seed} iteration ${i}: decode threw ${String(e)} on ${hex(m)}`);
      }
      const key = r.ok ? 'ok' : r.reason;
      assert.ok(r.ok || DECODE_FAILURES.includes(r.reason));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // The mutations must reach deep into the decoder, not just fail the first check.
    for (const reason of ['bad-checksum', 'bad-ttl', 'bad-length', 'not-vrrp', 'bad-version']) {
      assert.ok((counts.get(reason) ?? 0) > 0, `no mutation produced ${reason}`);
    }
  });
});

function mutate(base: Uint8Array, random: () => number): Uint8Array {
  const out = Array.from(base);
  const n = 1 + Math.floor(random() * 4);
  for (let k = 0; k < n; k++) {
    const op = random();
    const at = Math.floor(random() * (out.length + 1));
    if (op < 0.6) out[Math.min(at, out.length - 1)] = Math.floor(random() * 256);
    else if (op < 0.75) out.splice(at, 1);
    else if (op < 0.9) out.splice(at, 0, Math.floor(random() * 256));
    else out.length = at;
  }
  return Uint8Array.from(out);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
