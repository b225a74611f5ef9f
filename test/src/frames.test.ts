// Cross-package: pcap files from keepalived, dissected by the wire package into VRRP and ARP.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCaptures, parsePcap } from '@redkeep/pcap';
import { dissectFrame } from '@redkeep/wire';

const VECTORS = fileURLToPath(new URL('../vectors/keepalived-2.2.7', import.meta.url));

describe('frames of the keepalived captures', () => {
  for (const c of loadCaptures(VECTORS)) {
    it(`${c.name}: every frame dissects as tcpdump saw it`, () => {
      const parsed = parsePcap(c.pcap);
      assert.ok(parsed.ok);
      assert.equal(parsed.file.records.length, c.frames.length);
      parsed.file.records.forEach((rec, i) => {
        const want = c.frames[i];
        assert.ok(want);
        const got = dissectFrame(rec.linkType, rec.data);
        assert.equal(got.kind, want.kind, `frame ${i + 1}`);
        if (got.kind === 'vrrp') {
          assert.equal(got.link.srcMac, want.srcMac);
          assert.ok(got.result.ok);
        } else if (got.kind === 'arp' && want.kind === 'arp') {
          assert.ok(got.result.ok);
          assert.equal(got.result.arp.op, want.op);
          assert.equal(got.result.arp.senderIp, want.senderIp);
          assert.equal(got.result.arp.targetIp, want.targetIp);
          assert.equal(got.result.arp.senderMac, want.srcMac);
          assert.equal(got.result.gratuitous, true);
        }
      });
    });
  }
});
