// A read VIP (serve = "read") on real agents: three lab hosts with real Redis, a write instance
// (VRID 51, 192.0.2.50) and a read instance (VRID 52, 192.0.2.60) on each. The read VIP sits on
// the highest-priority in-sync replica, leaves it when its Redis stops answering and comes back,
// moves when that replica is promoted, and falls back to the master only when no replica
// qualifies. It never changes a Redis role.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, holders, waitFor } from '@redkeep/scripts/lab';

const READ_VIP = '192.0.2.60';

describe('read VIP (three hosts, real Redis)', () => {
  let c: RedisCluster;
  const ip = (h: string): string => c.lab.host(h).address;
  const onlyOn = async (host: string, why: string): Promise<void> => {
    await waitFor(`the read VIP on ${host} alone (${why})`, 15_000, () => {
      const hs = holders(c.lab, READ_VIP);
      return hs.length === 1 && hs[0] === host;
    }, 50);
  };

  before(async () => {
    c = new RedisCluster({ readVip: { vip: READ_VIP, redisExtra: 'max_lag = 100000' } });
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => c.destroy());

  it('sits on the highest-priority in-sync replica, not on the master', async () => {
    await onlyOn('h2', 'h2 (120) is the best replica of h3');
    const st = (await c.a('h2').status()).instances.find((i) => i.name === 'redis-read') as unknown as { state: string; readServe: { serving: string } };
    assert.equal(st.state, 'master');
    assert.equal(st.readServe.serving, 'replica');
    const m = (await c.a('h3').status()).instances.find((i) => i.name === 'redis-read') as unknown as { effectivePriority: number; readServe: { serving: string } };
    assert.equal(m.readServe.serving, 'master');
    assert.equal(m.effectivePriority, 1, 'the master holds it only as the fallback');
  });

  it('leaves a replica whose Redis stops answering, and comes back when it is in sync again', async () => {
    c.r('h2').signal('SIGSTOP');
    try {
      await onlyOn('h1', 'h2\'s Redis is frozen: h1 (110) is the best replica');
    } finally {
      c.r('h2').signal('SIGCONT');
    }
    await onlyOn('h2', 'h2 is in sync again and preempts');
  });

  it('moves when its replica is promoted: the write master is no read server while a replica qualifies', async () => {
    const r = c.switchover('h3', ['--to', ip('h2')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    await c.settled('h2', ['h1', 'h3'], 15_000);
    await onlyOn('h3', 'h2 is the master now: h3 (130) is the best replica');
  });

  it('falls back to the master when no replica qualifies, and never changes a Redis role', async () => {
    c.r('h1').signal('SIGSTOP');
    c.r('h3').signal('SIGSTOP');
    try {
      await onlyOn('h2', 'no replica answers: the master serves reads');
      assert.equal(c.r('h2').info('replication').role, 'master');
    } finally {
      c.r('h1').signal('SIGCONT');
      c.r('h3').signal('SIGCONT');
    }
    await onlyOn('h3', 'the replicas are back');
    // The write side is as the switchover left it: the read instance steered no role.
    assert.equal(c.r('h2').info('replication').role, 'master');
    for (const h of ['h1', 'h3']) assert.equal(c.r(h).info('replication').master_host, ip('h2'));
  });
});
