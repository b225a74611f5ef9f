import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { twoMastersMs, unexplainedLosses } from './chaos.js';
import { FAULT_KINDS, namedSchedules, randomSchedule } from './schedule.js';

describe('chaos lab checker and schedules', () => {
  it('draws the same random schedule from the same seed, and another from another', () => {
    const a = randomSchedule(7, ['h1', 'h2', 'h3']);
    assert.deepEqual(randomSchedule(7, ['h1', 'h2', 'h3']), a);
    assert.notDeepEqual(randomSchedule(8, ['h1', 'h2', 'h3']), a);
    for (let s = 0; s < 200; s++) {
      const x = randomSchedule(s, ['h1', 'h2', 'h3'], 6000);
      assert.ok(x.faults.length >= 1 && x.faults.length <= 3);
      for (const f of x.faults) {
        assert.ok(FAULT_KINDS.includes(f.kind));
        assert.ok(f.durationMs >= 500 && f.durationMs <= 6000, String(f.durationMs));
      }
    }
  });

  it('has a named schedule for every fault kind', () => {
    assert.deepEqual(namedSchedules().map((s) => s.name), [...FAULT_KINDS]);
  });

  it('counts only losses outside every crash and minority window', () => {
    const lost = [{ atMs: 100 }, { atMs: 250 }, { atMs: 900 }];
    assert.equal(unexplainedLosses(lost, [[50, 300]]).length, 1);
    assert.equal(unexplainedLosses(lost, []).length, 3);
  });

  it('adds up the time two Redis were master at once', () => {
    const changes = [
      { address: 'a', role: 'master', atMs: 0 },
      { address: 'b', role: 'replica', atMs: 0 },
      { address: 'b', role: 'master', atMs: 100 },
      { address: 'a', role: 'replica', atMs: 160 },
      { address: 'a', role: 'master', atMs: 500 },
    ];
    assert.equal(twoMastersMs(changes, 600), 60 + 100);
  });
});
