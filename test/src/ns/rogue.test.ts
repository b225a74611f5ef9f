// A rogue VRRP speaker on the LAN: real keepalived on h4 (not a member), VRRPv3, priority 254,
// the same VRID and VIP, with a Redis of its own full of other data. Trust comes from the
// configuration only: the members drop its adverts (counted as not-a-member), never read its
// Redis, never follow it, and keep their own data.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KeepalivedProc, RedisCluster, RedisProc, Writer, sleep, waitFor } from '@redkeep/scripts/lab';

describe('a rogue VRRP speaker with its own Redis (three members and keepalived on h4)', () => {
  let c: RedisCluster;
  let rogueRedis: RedisProc;
  let rogue: KeepalivedProc | undefined;
  before(async () => {
    c = new RedisCluster({ outsiders: 1 });
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
    rogueRedis = new RedisProc(c.lab, 'h4', c.dir).start();
    await waitFor('the rogue Redis', 5000, () => rogueRedis.cli(['ping']) === 'PONG', 50);
    assert.equal(rogueRedis.cli(['replicaof', 'no', 'one']), 'OK');
    for (let k = 0; k < 50; k++) rogueRedis.cli(['set', `rogue:${k}`, String(k)]);
  });
  after(async () => {
    await rogue?.stop().catch(() => undefined);
    c.destroy();
  });

  it('changes no Redis: nobody follows or reads the rogue\'s, and the cluster keeps its data', async () => {
    const writer = new Writer(c.lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    const before = writer.acks();
    const address = (h: string): string => c.lab.host(h).address;
    rogue = new KeepalivedProc(c.lab, 'h4', c.dir, { priority: 254, vrid: 51, version: 3, advertInterval: '100ms' }).start();
    const seen: string[] = [];
    const end = Date.now() + 4000;
    while (Date.now() < end) {
      for (const h of c.hostNames) {
        const m = c.r(h).info('replication').master_host;
        if (m === address('h4')) seen.push(`${h} replicated from the rogue`);
      }
      const clients = rogueRedis.cli(['client', 'list']);
      for (const h of c.hostNames) if (clients.includes(`addr=${address(h)}:`)) seen.push(`${h} connected to the rogue's Redis`);
      await sleep(100);
    }
    await writer.stop();
    assert.deepEqual([...new Set(seen)], []);
    // The rogue's Redis is as it was: a master with its own keys, no replica of ours.
    const ri = rogueRedis.info('replication');
    assert.equal(ri.role, 'master');
    assert.equal(ri.connected_slaves, '0');
    assert.equal(rogueRedis.cli(['get', 'rogue:49']), '49');
    // The cluster is as it was, and has every write acknowledged before the rogue spoke.
    assert.equal(c.r('h3').info('replication').role, 'master');
    for (const h of ['h1', 'h2']) assert.equal(c.r(h).info('replication').master_host, address('h3'));
    for (const h of c.hostNames) assert.deepEqual(c.lostOn(h, before).map((x) => x.n), [], `writes lost on ${h}`);
    assert.equal(c.r('h3').cli(['exists', 'rogue:49']), '0');
    // Its adverts were dropped by the members and counted.
    for (const h of c.hostNames) {
      const drops = (await c.a(h).status()).instances[0]?.counters?.drops['not-a-member'] ?? 0;
      assert.ok(drops > 0, `${h} counted the rogue's adverts as not-a-member (${drops})`);
    }
  });
});
