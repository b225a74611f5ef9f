import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Beacon, beaconChannel, beaconPattern, parseBeacon } from './beacon.js';

const b: Beacon = { agent: 'h3', address: '192.0.2.13', instance: 'redis-write', state: 'master', priority: 130, basePriority: 130, maintenance: false, vipsHeld: ['192.0.2.50/24'], guardOk: true, writesRefused: false };

describe('cluster beacons', () => {
  it('round-trip through a channel name that the pattern of its VRID matches', () => {
    const c = beaconChannel(51, b);
    assert.ok(c.startsWith(beaconPattern(51).slice(0, -1)));
    assert.deepEqual(parseBeacon(51, c), b);
    const noGuard: Beacon = { ...b, guardOk: undefined, writesRefused: undefined };
    assert.deepEqual(parseBeacon(51, beaconChannel(51, noGuard)), noGuard);
  });

  it('refuse what is not a well-formed one of ours', () => {
    assert.equal(parseBeacon(52, beaconChannel(51, b)), undefined, 'another VRID');
    const head = '__redkeep__:51:member:';
    for (const body of ['', '{', 'null', '[]', '{"v":2}', JSON.stringify({ ...b, v: 1, priority: 300 }), JSON.stringify({ ...b, v: 1, agent: '' }), JSON.stringify({ ...b, v: 1, vipsHeld: 'x' }), JSON.stringify({ ...b, v: 1, maintenance: 'no' }), JSON.stringify({ ...b, v: 1, guardOk: 1 }), JSON.stringify({ ...b, v: 1, agent: 'x'.repeat(3000) })]) {
      assert.equal(parseBeacon(51, head + body), undefined, body.slice(0, 60));
    }
    // Only the record's own fields come back (no smuggled keys).
    const extra = parseBeacon(51, head + JSON.stringify({ ...b, v: 1, password: 'x' }));
    assert.ok(extra && !('password' in extra));
  });
});
