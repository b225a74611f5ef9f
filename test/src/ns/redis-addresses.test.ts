// Where the members' Redis are reached, for real, on three hosts with a client writing through
// the VIP:
// - a replication network: VRRP adverts and the VIP on 192.0.2.0/24 (eth0), Redis replication
//   on 198.51.100.0/24 (eth1), `peer_addresses` mapping each member's advert address to its Redis
//   address;
// - IPv6 VRRP: the members are link-local advert sources (fe80::...), which Redis reaches only
//   with a zone (REPLICAOF fe80::1 fails with "Invalid argument"; fe80::1%eth0 works).
// In both, replicas follow the master at its Redis address, and a master host crash and a
// planned switchover lose no acknowledged write (beyond a crash's asynchronous window). A backup
// cut off from the replication network alone leaves the VIP where it is.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, type RedisClusterOptions, SCENARIOS, Writer, holders, measureFailover, sleep, waitFor } from '@redkeep/scripts/lab';

/** Writes acknowledged this long before a crash may be on the master alone (Redis' asynchronous window). */
const CRASH_WINDOW_MS = 250;

const VARIANTS: readonly { name: string; opts: RedisClusterOptions }[] = [
  { name: 'Redis replication on a network of its own (peer_addresses)', opts: { replicationNetwork: true } },
  { name: 'IPv6 VRRP: replicas of a link-local master', opts: { ipv6: true } },
];

for (const v of VARIANTS) {
  describe(`${v.name}, three hosts`, () => {
    let c: RedisCluster;
    before(async () => {
      c = new RedisCluster(v.opts);
      try {
        await c.start('h3');
        await c.settled('h3', ['h1', 'h2'], 15_000);
      } catch (e) {
        (e as Error).message += `\n--- logs ---\n${c.logs()}`;
        c.destroy();
        throw e;
      }
    });
    after(() => c.destroy());

    it('replicas follow the master at its Redis address, and it lists them at theirs', async () => {
      const master = c.redisAddress('h3');
      assert.equal(master, v.opts.ipv6 ? `${c.advertAddress('h3')}%eth0` : '198.51.100.13');
      for (const h of ['h1', 'h2']) {
        const i = c.r(h).info('replication');
        assert.equal(i.master_host, master, `${h}'s master_host`);
        assert.equal(i.master_link_status, 'up');
        const st = (await c.a(h).status()).instances[0];
        assert.equal(st?.masterAddress, c.advertAddress('h3'), 'VRRP names the master by its advert address');
        assert.equal(st?.redis?.masterHost, `${master}:6379`);
        assert.equal(st?.guard?.quorum?.ok, true, 'the members are read at their Redis addresses');
      }
      // A master lists its replicas without a zone.
      const listed = Object.entries(c.r('h3').info('replication')).filter(([k]) => /^slave\d+$/.test(k)).map(([, x]) => /ip=([^,]+)/.exec(x)?.[1]).sort();
      assert.deepEqual(listed, ['h1', 'h2'].map((h) => c.redisAddress(h).replace(/%.*/, '')).sort());
      if (v.opts.replicationNetwork) {
        const clients = c.r('h3').cli(['client', 'list']);
        assert.match(clients, /addr=198\.51\.100\.11:\d+ .*name=redkeep-redis-write-peer/, 'the members\' reads go over the replication network');
        assert.doesNotMatch(clients, /addr=192\.0\.2\.1[12]:\d+ .*name=redkeep-/, 'no agent reads the master over the VIP network');
      }
      assert.doesNotMatch(c.logs(), /Invalid argument/);
    });

    if (v.opts.replicationNetwork) {
      it('a backup cut off from the replication network alone does not move the VIP, and rejoins', async () => {
        const writer = new Writer(c.lab, 5, undefined, c.vip);
        try {
          await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
          const cutAt = Date.now();
          c.lab.isolateSecond('h1');
          const moved: string[] = [];
          const until = Date.now() + 3000;
          while (Date.now() < until) {
            const h = holders(c.lab, c.vip).join();
            if (h !== 'h3') moved.push(`${Date.now() - cutAt} ms: ${h || 'nobody'}`);
            await sleep(50);
          }
          assert.deepEqual(moved, [], 'the VIP stays on h3');
          assert.equal(await c.a('h3').state(), 'master');
          assert.notEqual(await c.a('h1').state(), 'master');
          assert.equal((await c.a('h1').status()).instances[0]?.guard?.quorum?.ok, false, 'h1 reaches no member\'s Redis: no quorum there');
          assert.equal((await c.a('h3').status()).instances[0]?.guard?.quorum?.ok, true, 'h3 reaches h2: it keeps its quorum');
          await writer.flowing(cutAt, 1000, 5000);
          c.lab.rejoinSecond('h1');
          await c.settled('h3', ['h1', 'h2'], 15_000);
          assert.deepEqual(holders(c.lab, c.vip), ['h3']);
          const acks = await writer.stop();
          await sleep(300);
          for (const h of c.hostNames) assert.deepEqual(c.lostOn(h, acks).map((x) => x.n), [], `acknowledged writes missing on ${h}`);
        } finally {
          await writer.stop();
        }
      });
    }

    for (const name of ['host-crash', 'switchover']) {
      const s = SCENARIOS.find((x) => x.name === name);
      assert.ok(s);
      it(`${s.name} (a fresh cluster): ${s.description}; no acknowledged write lost${s.crash ? ` beyond the ${CRASH_WINDOW_MS} ms window` : ''}`, async () => {
        const m = await measureFailover(s, { ...v.opts, advertInterval: '100ms' }, async (f, m) => {
          // settled() waited for the replicas to follow h2 at its Redis address.
          assert.equal(f.r('h1').info('replication').master_host, f.redisAddress('h2'));
          assert.equal((await f.a('h1').status()).instances[0]?.redis?.masterHost, `${f.redisAddress('h2')}:6379`);
          if (s.name === 'switchover') {
            assert.equal(f.r('h3').info('replication').master_host, f.redisAddress('h2'));
            // The successor is designated by its advert address, found among the replicas by its Redis address.
            assert.match(f.a('h3').logs.text, new RegExp(`switchover: resigning.*caught up.*${f.advertAddress('h2')} designated`));
            assert.match(f.a('h2').logs.text, /backup -> master .*reason=designated/);
          }
          assert.ok(m.acked > 150, `the client kept writing (${m.acked} acknowledged)`);
        });
        const late = m.lost.filter((x) => !s.crash || x.atMs < m.faultAtMs - CRASH_WINDOW_MS || x.atMs > m.faultAtMs);
        assert.deepEqual(late.map((x) => x.n), [], `acknowledged writes lost: ${late.length} (of ${m.lost.length} lost)`);
        process.stdout.write(`# ${v.opts.ipv6 ? 'ipv6' : 'replication network'} ${s.name}: ${m.acked} acknowledged, ${m.lost.length} lost, longest write gap ${m.longestWriteGapMs} ms, single master after ${m.timeToSingleMasterMs} ms\n`);
      });
    }
  });
}
