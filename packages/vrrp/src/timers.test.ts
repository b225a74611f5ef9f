import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { masterDownIntervalMs, skewTimeMs } from './timers.js';

describe('timers', () => {
  it('follows RFC 5798 §6.1 and RFC 3768 §6.1 within keepalived\'s microsecond truncation', () => {
    for (const p of [1, 100, 150, 254]) {
      for (const cs of [10, 100, 333]) {
        const skewMs = (((256 - p) * cs) / 256) * 10;
        assert.ok(skewMs - skewTimeMs(3, p, cs) >= 0 && skewMs - skewTimeMs(3, p, cs) < 0.001);
        assert.equal(masterDownIntervalMs(3, p, cs), 3 * cs * 10 + skewTimeMs(3, p, cs));
      }
      const skew2 = ((256 - p) / 256) * 1000;
      assert.ok(skew2 - skewTimeMs(2, p, 100) >= 0 && skew2 - skewTimeMs(2, p, 100) < 0.001);
      assert.equal(skewTimeMs(2, p, 300), skewTimeMs(2, p, 100), 'v2 skew ignores the interval');
    }
  });

  it('gives keepalived 2.2.7\'s exact values (integer microseconds)', () => {
    // keepalived: ((256 - prio) * (interval_us / 10000) * 625) / 16 µs for v3, 1e6*(256-prio)/256 µs for v2.
    assert.equal(skewTimeMs(3, 254, 10), 0.781);
    assert.equal(skewTimeMs(3, 100, 100), 609.375);
    assert.equal(skewTimeMs(3, 200, 10), 21.875);
    assert.equal(skewTimeMs(3, 1, 33), 328.71);
    assert.equal(skewTimeMs(2, 254, 100), 7.812);
    assert.equal(skewTimeMs(2, 100, 100), 609.375);
  });
});
