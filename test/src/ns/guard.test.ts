// The data guard's leftovers: an agent killed while its master was isolated leaves Redis
// refusing writes (min-replicas-to-write 1, min-replicas-max-lag 2); the next agent on that
// host gives Redis its defaults back once the master is not isolated.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, waitFor } from '@redkeep/scripts/lab';

describe('data guard leftovers (three hosts, real Redis)', () => {
  let c: RedisCluster;
  before(async () => {
    c = new RedisCluster();
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => c.destroy());

  it('a restarted agent lifts the write refusal an isolated, killed predecessor left behind', async () => {
    const get = (k: string): string => c.r('h3').cli(['config', 'get', k]).split('\n')[1] ?? '';
    c.a('h3').signal('SIGKILL');
    await c.a('h3').exited();
    // What an agent killed while isolated leaves behind.
    assert.equal(c.r('h3').cli(['config', 'set', 'min-replicas-to-write', '1', 'min-replicas-max-lag', '2']), 'OK');
    c.restartAgent('h3');
    await waitFor('redis defaults back on h3', 15_000, () => get('min-replicas-to-write') === '0' && get('min-replicas-max-lag') === '10', 50);
    assert.match(c.a('h3').logs.text, /found writes refused by an earlier redkeep run/);
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });

  it('leaves a min-replicas setting of the operator\'s own alone', async () => {
    const get = (k: string): string => c.r('h2').cli(['config', 'get', k]).split('\n')[1] ?? '';
    c.a('h2').signal('SIGKILL');
    await c.a('h2').exited();
    assert.equal(c.r('h2').cli(['config', 'set', 'min-replicas-to-write', '1', 'min-replicas-max-lag', '10']), 'OK');
    c.restartAgent('h2');
    await c.settled('h3', ['h1', 'h2'], 15_000);
    await waitFor('the new agent to run its data guard', 5000, async () => (await c.a('h2').status()).instances[0]?.guard?.why !== 'not checked yet', 50);
    assert.equal(get('min-replicas-to-write'), '1');
    assert.equal(get('min-replicas-max-lag'), '10');
  });
});
