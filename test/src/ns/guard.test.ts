// Redis' write gate as the data guard keeps it: while a master may acknowledge writes, Redis
// itself holds min-replicas-to-write at (quorum - 1) with min-replicas-max-lag at most 2, so it
// refuses writes when its replicas go silent even while the agent is frozen; an agent killed
// while refusing writes (min-replicas-to-write 10000) leaves that behind, and the next agent on
// that host recognises it. An operator's stricter values are kept.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, waitFor } from '@redkeep/scripts/lab';

describe('Redis write gate (three hosts, real Redis)', () => {
  let c: RedisCluster;
  before(async () => {
    c = new RedisCluster();
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => c.destroy());

  const get = (h: string, k: string): string => c.r(h).cli(['config', 'get', k]).split('\n')[1] ?? '';

  it('keeps the quorum backstop in Redis while master: min-replicas-to-write 1, min-replicas-max-lag 2', async () => {
    await waitFor('the gate on h3', 5000, () => get('h3', 'min-replicas-to-write') === '1' && get('h3', 'min-replicas-max-lag') === '2', 50);
    // Set on the replicas too, so that it is in force the moment one is promoted.
    await waitFor('the gate on h1', 5000, () => get('h1', 'min-replicas-to-write') === '1', 50);
  });

  it('a restarted agent lifts the write refusal a killed predecessor left behind', async () => {
    // On a replica, so that the kill causes no failover.
    c.a('h1').signal('SIGKILL');
    await c.a('h1').exited();
    // What an agent killed while refusing writes leaves behind.
    assert.equal(c.r('h1').cli(['config', 'set', 'min-replicas-to-write', '10000', 'min-replicas-max-lag', '2']), 'OK');
    c.restartAgent('h1');
    await waitFor('the open gate back on h1', 15_000, () => get('h1', 'min-replicas-to-write') === '1' && get('h1', 'min-replicas-max-lag') === '2', 50);
    // The log line travels through a pipe: it may arrive just after Redis shows the new values.
    await waitFor('the agent to say it found the leftover', 5000, () => /found writes refused by an earlier redkeep run/.test(c.a('h1').logs.text), 20);
    await c.settled('h3', ['h1', 'h2'], 15_000);
    assert.equal(c.r('h3').cli(['set', 'k', 'v']), 'OK', 'the master takes writes');
  });

  it('keeps an operator\'s stricter min-replicas values', async () => {
    c.a('h2').signal('SIGKILL');
    await c.a('h2').exited();
    assert.equal(c.r('h2').cli(['config', 'set', 'min-replicas-to-write', '2', 'min-replicas-max-lag', '1']), 'OK');
    c.restartAgent('h2');
    await c.settled('h3', ['h1', 'h2'], 15_000);
    await waitFor('the new agent to run its data guard', 5000, async () => (await c.a('h2').status()).instances[0]?.guard?.why !== 'not checked yet', 50);
    assert.equal(get('h2', 'min-replicas-to-write'), '2');
    assert.equal(get('h2', 'min-replicas-max-lag'), '1');
  });

  it('gives back the values it found when the agent stops', async () => {
    // h1's agent found Redis' defaults (it took the leftover for ours).
    c.a('h1').signal('SIGTERM');
    await c.a('h1').exited(10_000);
    assert.equal(get('h1', 'min-replicas-to-write'), '0');
    assert.equal(get('h1', 'min-replicas-max-lag'), '10');
  });
});
