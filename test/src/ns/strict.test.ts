// Strict mode for real: two Redis hosts (h1, h2) with redkeep and `[agent] etcd`, and a 3-member
// etcd cluster on h3..h5 (the lab's second network, where Redis replicates too). The master is cut
// off etcd alone (nftables drops its traffic to and from the members; its replica and the VIP's
// network still reach it): it refuses writes before its lease can expire, then steps down, and the
// other host takes the lease once it is gone and takes over. No acknowledged write is lost, and
// the old master's Redis refused writes before the new one could take any. A witness on h3 is
// the third voter (etcd decides who writes, not whether the survivor may be master); with it,
// Redis' own backstop counts no replica, so a frozen master's Redis is stopped by the fence deputy.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, EtcdCluster, REDKEEP_BIN, RedisCluster, Writer, holders, sleep, waitFor } from '@redkeep/scripts/lab';

/**
 * A host's log from `from` on: its Redis was promoted only once its lease guard allowed writes
 * (a VRRP master without the lease keeps its Redis a replica). Returns whether it had to wait.
 */
function promotedUnderLease(log: string, host: string): boolean {
  const allowed = log.indexOf('etcd lease: writes allowed');
  const promoted = log.indexOf('redis promoted: REPLICAOF NO ONE');
  assert.ok(promoted >= 0, `${host} promoted its Redis:\n${log.slice(-6000)}`);
  assert.ok(allowed >= 0 && allowed < promoted, `${host}'s lease allowed writes before its Redis was promoted:\n${log.slice(-6000)}`);
  // Its MASTER hook (hooks steer clients to a writable master) ran after the promotion.
  const hook = log.search(/hook done[^\n]*hook=master/);
  assert.ok(hook > promoted, `${host}'s master hook ran after its Redis was promoted:\n${log.slice(-6000)}`);
  return log.includes('redis is not promoted, and the VIP not brought up, until this host holds the etcd lease');
}

describe('strict mode: an etcd lease decides who may acknowledge writes', () => {
  let c: RedisCluster;
  let etcd: EtcdCluster;
  let witness: ChildProcess | undefined;
  before(async () => {
    const endpoints = ['h3', 'h4', 'h5'].map((h) => `"http://198.51.100.${Number(h.slice(1)) + 10}:2379"`);
    c = new RedisCluster({ hosts: 2, outsiders: 3, replicationNetwork: true, instanceExtra: 'witnesses = ["192.0.2.13"]\nhooks = { master = ["/bin/true"] }', agentExtra: `etcd = { endpoints = [${endpoints.join(', ')}] }` });
    etcd = new EtcdCluster(c.lab, { members: ['h3', 'h4', 'h5'], heartbeatMs: 50, electionTimeoutMs: 500 });
    await etcd.start();
    witness = c.lab.spawn('h3', [process.execPath, REDKEEP_BIN, 'witness', '--listen', '192.0.2.13:6379']);
    await c.start('h2');
    await c.settled('h2', ['h1'], 20_000);
  });
  const leader = (): { holder: string } | undefined => {
    const r = etcd.etcdctl('h3', ['get', '/redkeep/redis-write/leader', '--print-value-only']);
    return r.status === 0 && r.stdout.trim() !== '' ? (JSON.parse(r.stdout) as { holder: string }) : undefined;
  };
  /** Whoever holds the lease after the test before: settled, holding the VIP, writes allowed. */
  const settledHolder = (): Promise<string> =>
    waitFor('a settled holder', 20_000, async () => {
      const h = leader()?.holder;
      if (h === undefined || holders(c.lab, CLUSTER_VIP).join() !== h) return undefined;
      return (await c.a(h).status()).instances[0]?.guard?.lease?.writes === 'allow' ? h : undefined;
    }, 100);
  after(async (t) => {
    // A failure's story: the agents' and etcd's logs (the agents log every lease verdict).
    if (process.env.REDKEEP_STRICT_LOGS) writeFileSync(process.env.REDKEEP_STRICT_LOGS, `${c?.logs() ?? ''}\n${etcd?.logs.text ?? ''}`);
    void t;
    witness?.kill('SIGKILL');
    await etcd?.destroy();
    c?.destroy();
  });

  it('fences a master cut off etcd (not from its replica) before its lease can expire; the other host takes the lease and the writes, none lost', async (t) => {
    const writer = new Writer(c.lab, 5);
    await waitFor('writes through the VIP (once h2 holds the lease)', 10_000, () => writer.acks().length > 50, 50);
    assert.equal(leader()?.holder, 'h2');
    const cutAt = Date.now();
    const h1From = c.a('h1').logs.text.length;
    etcd.cutFromEtcd('h2');
    // h2's own Redis, asked on its own host: when does it refuse writes (NOREPLICAS)?
    const refusedAt = await waitFor('h2 to refuse writes', 10_000, () => (/NOREPLICAS/.test(c.r('h2').cli(['set', 'strict:probe', '1'])) ? Date.now() : undefined), 20);
    const takenAt = await waitFor('h1 to hold the lease', 15_000, () => (leader()?.holder === 'h1' ? Date.now() : undefined), 50);
    await waitFor('h1 to hold the VIP', 10_000, () => holders(c.lab, CLUSTER_VIP).join() === 'h1', 20);
    await writer.flowing(takenAt, 500, 10_000);
    // Status shows the lease: held by h1, writes allowed; h2, cut off etcd, keeps its priority lowered.
    const l1 = (await c.a('h1').status()).instances[0]?.guard?.lease;
    assert.equal(l1?.held, true, JSON.stringify(l1));
    assert.equal(l1?.writes, 'allow');
    const l2 = (await c.a('h2').status()).instances[0]?.guard?.lease;
    assert.equal(l2?.held, false, JSON.stringify(l2));
    assert.equal(l2?.stepDown, true, JSON.stringify(l2));
    etcd.heal('h2');
    await sleep(1000);
    const acks = await writer.stop();
    const lost = c.lostOn('h1', acks);
    t.diagnostic(`cut at 0; h2 refused writes at +${refusedAt - cutAt} ms; h1 held the lease at +${takenAt - cutAt} ms; ${acks.length} writes acknowledged`);
    assert.deepEqual(lost, [], `acknowledged writes missing on h1:\n${c.logs().slice(-20_000)}`);
    // The lease is 2 s (Master_Down_Interval at 100 ms adverts, raised to etcd's minimum): h2
    // refused within the fence margin of its last renew, before h1 could hold the lease.
    assert.ok(refusedAt < takenAt, `h2 refused at +${refusedAt - cutAt} ms, h1 took the lease at +${takenAt - cutAt} ms`);
    assert.ok(refusedAt - cutAt < 2000, `h2 refused writes only ${refusedAt - cutAt} ms after the cut`);
    const waited = promotedUnderLease(c.a('h1').logs.text.slice(h1From), 'h1');
    t.diagnostic(`h1's promotion ${waited ? 'waited for' : 'came after'} the lease`);
    // No write was acknowledged by both: every acknowledgement after h1 took the lease went to h1
    // (h2 refused from before then), checked by the keys: none acknowledged after refusedAt is on h2 alone.
    const onH2 = new Set(c.r('h2').cli(['--raw', 'keys', 'w:*']).split('\n').filter(Boolean));
    assert.ok(acks.filter((a) => a.atMs > takenAt).every((a) => !onH2.has(`w:${a.n}`) || c.r('h1').cli(['--raw', 'exists', `w:${a.n}`]).trim() === '1'));
  });

  it("closes a frozen master's gate before its lease can expire (the fence deputy): the master's agent is SIGSTOPped and its host cut off from etcd and its replica", async (t) => {
    const m = await settledHolder();
    const o = m === 'h1' ? 'h2' : 'h1';
    const writer = new Writer(c.lab, 5);
    await waitFor(`writes through the VIP to ${m}`, 10_000, () => writer.acks().length > 50, 50);
    // Two hosts and a witness: Redis' own backstop (min-replicas-max-lag) counts no replica. Without
    // the deputy, the frozen master's Redis would take writes for as long as its agent stays frozen.
    const cutAt = Date.now();
    const oFrom = c.a(o).logs.text.length;
    c.a(m).signal('SIGSTOP');
    c.partition(m);
    c.lab.isolateSecond(m);
    let refusedAt: number | undefined;
    let takenAt: number | undefined;
    try {
      refusedAt = await waitFor(`${m}'s Redis to refuse writes`, 10_000, () => (/NOREPLICAS/.test(c.r(m).cli(['set', 'strict:probe', '1'])) ? Date.now() : undefined), 20);
      takenAt = await waitFor(`${o} to hold the lease`, 15_000, () => (leader()?.holder === o ? Date.now() : undefined), 50);
      await waitFor(`${o} to hold the VIP`, 10_000, () => holders(c.lab, CLUSTER_VIP).includes(o), 20);
      await writer.flowing(takenAt, 500, 10_000);
    } finally {
      c.a(m).signal('SIGCONT');
      c.heal(m);
      c.lab.rejoinSecond(m);
    }
    // Woken, the old master resigns and follows; its Redis catches up from the new master.
    await waitFor(`${m}'s Redis to follow ${o}`, 20_000, () => c.r(m).info('replication').master_host !== undefined && c.r(m).info('replication').master_link_status === 'up', 100);
    const acks = await writer.stop();
    t.diagnostic(`frozen and cut off at 0; ${m}'s Redis refused writes at +${refusedAt - cutAt} ms; ${o} held the lease at +${takenAt - cutAt} ms; ${acks.length} writes acknowledged`);
    assert.ok(c.a(m).logs.text.includes('fence deputy closed the write gate'), `${m}'s log names the deputy's fence`);
    assert.ok(refusedAt < takenAt, `${m} refused at +${refusedAt - cutAt} ms, ${o} took the lease at +${takenAt - cutAt} ms`);
    assert.ok(refusedAt - cutAt < 2000, `${m} refused writes only ${refusedAt - cutAt} ms after the freeze (the lease is 2 s)`);
    assert.deepEqual(c.lostOn(o, acks), [], `acknowledged writes missing on ${o}`);
    // VRRP made ${o} master a Master_Down_Interval after the freeze, long before the lease could
    // expire: its Redis stayed a replica until the lease was its own.
    assert.ok(promotedUnderLease(c.a(o).logs.text.slice(oFrom), o), `${o}'s promotion waited for the lease`);
  });

  it('a switchover hands the lease over: the old holder revokes it once its Redis is fenced, the new master takes it, then promotes; none lost', async (t) => {
    const m = await settledHolder();
    const o = m === 'h1' ? 'h2' : 'h1';
    const releasedBefore = (await c.a(m).status()).instances[0]?.guard?.lease?.counters.released ?? 0;
    const writer = new Writer(c.lab, 5);
    await waitFor(`writes through the VIP to ${m}`, 10_000, () => writer.acks().length > 50, 50);
    const oFrom = c.a(o).logs.text.length;
    const at = Date.now();
    const r = c.switchover(m);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const takenAt = await waitFor(`${o} to hold the lease`, 10_000, () => (leader()?.holder === o ? Date.now() : undefined), 20);
    await writer.flowing(takenAt, 300, 10_000);
    const acks = await writer.stop();
    let gap = 0;
    const after = acks.filter((a) => a.atMs >= at - 1000);
    for (let k = 1; k < after.length; k++) gap = Math.max(gap, (after[k]?.atMs ?? 0) - (after[k - 1]?.atMs ?? 0));
    t.diagnostic(`switchover ${m} -> ${o}: ${r.stdout.trim().split('\n')[0]}; ${o} held the lease at +${takenAt - at} ms; longest write gap ${gap} ms; ${acks.length} writes acknowledged`);
    assert.deepEqual(c.lostOn(o, acks), [], `acknowledged writes missing on ${o}`);
    assert.ok(promotedUnderLease(c.a(o).logs.text.slice(oFrom), o), `${o}'s promotion waited for the lease`);
    // Revoked by the old holder (not left to expire): the next holder did not wait out the TTL.
    const released = (await c.a(m).status()).instances[0]?.guard?.lease?.counters.released ?? 0;
    assert.ok(released > releasedBefore, `${m} revoked its lease (released ${releasedBefore} -> ${released})`);
    assert.ok(takenAt - at < 2000, `${o} held the lease ${takenAt - at} ms after the switchover began (the TTL is 2 s)`);
  });
});
