import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REFUSE_ALL, originalGate, wantedGate } from './write-gate.js';

describe("Redis' write gate, as the policy wants it", () => {
  const original = { toWrite: 0, maxLag: 10 };
  it('keeps the replicas a quorum needs, with a short lag, while writes are allowed', () => {
    assert.deepEqual(wantedGate({ original, refuse: false, quorumNeeded: 2, witnesses: 0 }), { toWrite: 1, maxLag: 2 });
    assert.deepEqual(wantedGate({ original, refuse: false, quorumNeeded: 3, witnesses: 0 }), { toWrite: 2, maxLag: 2 });
  });
  it("counts witnesses out: Redis sees only replicas", () => {
    assert.deepEqual(wantedGate({ original, refuse: false, quorumNeeded: 2, witnesses: 1 }), original);
  });
  it("keeps the operator's stricter values", () => {
    assert.deepEqual(wantedGate({ original: { toWrite: 3, maxLag: 1 }, refuse: false, quorumNeeded: 2, witnesses: 0 }), { toWrite: 3, maxLag: 1 });
  });
  it('refuses every write when the policy says so', () => {
    assert.equal(wantedGate({ original, refuse: true, quorumNeeded: 0, witnesses: 0 }).toWrite, REFUSE_ALL);
  });
  it("does not take an earlier agent's refusal for the operator's value", () => {
    assert.deepEqual(originalGate({ toWrite: REFUSE_ALL, maxLag: 2 }), { gate: { toWrite: 0, maxLag: 10 }, leftover: true });
    assert.deepEqual(originalGate({ toWrite: 1, maxLag: 5 }), { gate: { toWrite: 1, maxLag: 5 }, leftover: false });
  });
});
