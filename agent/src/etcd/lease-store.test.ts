import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstAlive, leaseKeys } from './lease-store.js';

describe("strict mode's etcd store", () => {
  it('keeps each instance under the prefix: a leader key on the lease, a history key without', () => {
    assert.deepEqual(leaseKeys('/redkeep/', 'redis-write'), { leader: '/redkeep/redis-write/leader', history: '/redkeep/redis-write/history' });
  });

  it('takes the first member that says the lease lives, even when others hang or fail', async () => {
    const never = new Promise<number>(() => undefined);
    assert.equal(await firstAlive([never, Promise.reject(new Error('cut off')), Promise.resolve(3)]), 3);
  });

  it('says the lease is gone only when no member says it lives', async () => {
    assert.equal(await firstAlive([Promise.resolve(0), Promise.reject(new Error('cut off'))]), 0);
    assert.equal(await firstAlive([Promise.resolve(0), Promise.resolve(3)]), 3);
  });

  it('fails with the first error when every member failed', async () => {
    await assert.rejects(firstAlive([Promise.reject(new Error('a')), Promise.reject(new Error('b'))]), /a/);
    await assert.rejects(firstAlive([]), /no etcd member/);
  });
});
