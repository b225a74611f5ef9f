import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicationFacts } from './history.js';
import { type ReadServeInput, readServeVerdict } from './read-serve.js';

const replica = (over: Partial<ReplicationFacts> = {}): ReplicationFacts => ({
  role: 'replica', runId: 'r', replId: 'a', replId2: undefined, secondReplOffset: undefined, replOffset: 1000, masterHost: '192.0.2.13', masterPort: 6379,
  masterLinkUp: true, syncInProgress: false, keys: 5, replicas: [], ...over,
});
const input = (over: Partial<ReadServeInput> = {}): ReadServeInput => ({ facts: replica(), writeMaster: false, masterHost: '192.0.2.13', masterPort: 6379, masterOffset: 1500, maxLagBytes: 1000, ...over });

describe('read VIP placement (readServeVerdict)', () => {
  it('an online replica of the current master within max_lag serves reads', () => {
    assert.deepEqual(readServeVerdict(input()), { serving: 'replica', lagBytes: 500, why: 'in sync with 192.0.2.13:6379, 500 bytes behind' });
    assert.equal(readServeVerdict(input({ masterOffset: 900 })).serving, 'replica', 'an offset read a moment ago may be behind ours');
  });

  it('the write master serves reads only as the fallback (priority 1)', () => {
    assert.equal(readServeVerdict(input({ facts: replica({ role: 'master' }), writeMaster: true })).serving, 'master');
    assert.equal(readServeVerdict(input({ facts: replica({ role: 'master' }), writeMaster: false })).serving, 'none', 'a master that is not the write master (a fenced or stale one) serves nothing');
  });

  it('does not serve when behind, cut off, syncing, following another master, or unknown', () => {
    const cases: [Partial<ReadServeInput>, RegExp][] = [
      [{ masterOffset: 2001 }, /1001 bytes behind the master \(max_lag 1000\)/],
      [{ facts: replica({ masterLinkUp: false }) }, /replication link down/],
      [{ facts: replica({ syncInProgress: true }) }, /full sync/],
      [{ facts: replica({ masterHost: '192.0.2.12' }) }, /follows 192\.0\.2\.12:6379, not the current master/],
      [{ facts: replica({ masterPort: 6380 }) }, /not the current master/],
      [{ masterHost: undefined }, /no current master/],
      [{ masterOffset: undefined }, /offset is not known/],
      [{ facts: undefined }, /does not answer/],
      [{ facts: replica({ role: 'unknown' }) }, /role is unknown/],
    ];
    for (const [over, why] of cases) {
      const v = readServeVerdict(input(over));
      assert.equal(v.serving, 'none', JSON.stringify(over));
      assert.match(v.why, why);
    }
  });
});
