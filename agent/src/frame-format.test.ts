import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINKTYPE_ETHERNET } from '@redkeep/pcap';
import { dissectFrame } from '@redkeep/wire';
import { frameToJson, frameToText } from './frame-format.js';

describe('frame format', () => {
  it('shows a time no date can hold (a hostile pcapng timestamp) as absent, without throwing', () => {
    const f = dissectFrame(LINKTYPE_ETHERNET, new Uint8Array(10));
    for (const t of [1e15, -1e15, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 64 / 1e6]) {
      const j = frameToJson(1, t, f);
      assert.equal(j.time, null, String(t));
      assert.match(frameToText(j), /^#1 - /, String(t));
    }
    const ok = frameToJson(2, 1_700_000_000.5, f);
    assert.equal(ok.time, '2023-11-14T22:13:20.500Z');
    assert.match(frameToText(ok), /^#2 22:13:20\.500000 /);
  });
});
