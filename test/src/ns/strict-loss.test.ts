// Strict mode when etcd is lost entirely, for the two `on_loss` choices other than the default
// (strict.test and chaos-strict.test cover "fence"): two Redis hosts (h1, h2) with redkeep and a
// 3-member etcd cluster on h3..h5, all of whose members are stopped.
// - "keep": the holder keeps acknowledging writes for many TTLs without etcd, and the other host,
//   without the lease, still refuses them; once etcd is back the holder holds a lease again.
// - "embedded": a switchover without etcd gives a master that writes (the embedded rules alone
//   decide, as without strict mode); once etcd is back it takes the lease. Under "fence" the same
//   switchover would leave no writer until etcd answered.
// No acknowledged write is lost in either.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, EtcdCluster, RedisCluster, Writer, holders, sleep, waitFor } from '@redkeep/scripts/lab';

const MEMBERS = ['h3', 'h4', 'h5'];

function strictLab(onLoss: 'keep' | 'embedded'): { cluster: () => RedisCluster; etcd: () => EtcdCluster } {
  let c: RedisCluster | undefined;
  let etcd: EtcdCluster | undefined;
  before(async () => {
    const endpoints = MEMBERS.map((h) => `"http://198.51.100.${Number(h.slice(1)) + 10}:2379"`);
    c = new RedisCluster({ hosts: 2, outsiders: 3, replicationNetwork: true, agentExtra: `etcd = { endpoints = [${endpoints.join(', ')}], on_loss = "${onLoss}" }` });
    etcd = new EtcdCluster(c.lab, { members: MEMBERS, heartbeatMs: 50, electionTimeoutMs: 500 });
    await etcd.start();
    await c.start('h2');
    await c.settled('h2', ['h1'], 20_000);
  });
  after(async () => {
    if (process.env.REDKEEP_STRICT_LOGS) writeFileSync(`${process.env.REDKEEP_STRICT_LOGS}.${onLoss}`, `${c?.logs() ?? ''}\n${etcd?.logs.text ?? ''}`);
    await etcd?.destroy();
    c?.destroy();
  });
  const need = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the lab did not start');
    return x;
  };
  return { cluster: () => need(c), etcd: () => need(etcd) };
}

type Lease = { held: boolean; writes: string; why: string } | undefined;
const lease = async (c: RedisCluster, h: string): Promise<Lease> => (await c.a(h).status()).instances[0]?.guard?.lease as Lease;

async function etcdDown(etcd: EtcdCluster): Promise<void> {
  await Promise.all(MEMBERS.map((m) => etcd.stopMember(m)));
}

function etcdUp(etcd: EtcdCluster): void {
  for (const m of MEMBERS) etcd.startMember(m);
}

describe('strict mode, on_loss = "keep": the holder keeps writing while etcd is down; nobody else starts', () => {
  const lab = strictLab('keep');

  it('acknowledges writes on the holder through many TTLs without etcd, refuses them on the other host, and holds a lease again once etcd is back', async (t) => {
    const c = lab.cluster();
    const etcd = lab.etcd();
    const writer = new Writer(c.lab, 5);
    await waitFor('writes through the VIP (once h2 holds the lease)', 10_000, () => writer.acks().length > 50, 50);
    assert.equal((await lease(c, 'h2'))?.held, true);
    const downAt = Date.now();
    await etcdDown(etcd);
    // Three lease TTLs (2 s each) and more: the holder's writes go on, its VIP stays.
    await sleep(7000);
    const during = writer.acks().filter((a) => a.atMs > downAt + 6000);
    assert.ok(during.length > 50, `writes acknowledged 6 to 7 s after etcd went down: ${during.length}`);
    assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2']);
    const l2 = await lease(c, 'h2');
    assert.equal(l2?.writes, 'allow', JSON.stringify(l2));
    assert.match(l2?.why ?? '', /on_loss = "keep"/);
    // The other host's Redis, asked directly, refuses writes: it has no lease (and is a replica).
    assert.match(c.r('h1').cli(['set', 'strict:probe', '1']), /READONLY|NOREPLICAS/);
    assert.equal((await lease(c, 'h1'))?.writes, 'refuse');
    etcdUp(etcd);
    await etcd.healthy();
    const upAt = Date.now();
    await waitFor('h2 to hold a lease again', 20_000, async () => (await lease(c, 'h2'))?.held === true, 100);
    await writer.flowing(upAt, 500, 10_000);
    const acks = await writer.stop();
    t.diagnostic(`etcd down for ${upAt - downAt} ms; ${during.length} writes acknowledged in its 7th second; ${acks.length} in all`);
    assert.deepEqual(c.lostOn('h2', acks), []);
    assert.deepEqual(c.lostOn('h1', acks.filter((a) => a.atMs < Date.now() - 1000)), [], 'the replica has every acknowledged write');
  });
});

describe('strict mode, on_loss = "embedded": without etcd the embedded rules alone decide', () => {
  const lab = strictLab('embedded');

  it('a switchover while etcd is down gives a master that writes; once etcd is back it takes the lease; nothing lost', async (t) => {
    const c = lab.cluster();
    const etcd = lab.etcd();
    const writer = new Writer(c.lab, 5);
    await waitFor('writes through the VIP (once h2 holds the lease)', 10_000, () => writer.acks().length > 50, 50);
    await etcdDown(etcd);
    // Lost for longer than the TTL: the lease guard stands aside.
    await waitFor('h2 to write by the embedded rules', 10_000, async () => /on_loss = "embedded"/.test((await lease(c, 'h2'))?.why ?? ''), 100);
    const switchAt = Date.now();
    c.plannedSwitchover('h2', 'h1');
    await waitFor('h1 to hold the VIP', 10_000, () => holders(c.lab, CLUSTER_VIP).join() === 'h1', 20);
    await writer.flowing(switchAt, 500, 10_000);
    const l1 = await lease(c, 'h1');
    assert.equal(l1?.held, false, 'h1 writes without a lease');
    assert.equal(l1?.writes, 'allow', JSON.stringify(l1));
    etcdUp(etcd);
    await etcd.healthy();
    const upAt = Date.now();
    await waitFor('h1 to hold the lease', 20_000, async () => (await lease(c, 'h1'))?.held === true, 100);
    await writer.flowing(upAt, 500, 15_000);
    const acks = await writer.stop();
    t.diagnostic(`switchover ${upAt - switchAt} ms before etcd came back; ${acks.length} writes acknowledged`);
    assert.deepEqual(c.lostOn('h1', acks), []);
  });
});
