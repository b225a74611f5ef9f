// Redis' write gate as the data guard keeps it: while a master may acknowledge writes, Redis
// itself holds min-replicas-to-write at (quorum - 1) with min-replicas-max-lag at most 2, so it
// refuses writes when its replicas go silent even while the agent is frozen; an agent killed
// while refusing writes (min-replicas-to-write 10000) leaves that behind, and the next agent on
// that host recognises it. An operator's stricter values are kept. After a heal, the VIP's holder
// announces it again.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, RedisCluster, holders, sleep, waitFor } from '@redkeep/scripts/lab';

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

// Rule 3 of the data-safety issue: after a heal the VIP's holder announces it again. A client that
// was cut off with the old master still has the old master's MAC for the VIP; nothing else would
// correct it before its own ARP probes fail, seconds later.
describe('a heal: the VIP announced again (three hosts, real Redis)', () => {
  let c: RedisCluster;
  before(async () => {
    c = new RedisCluster({ preempt: false });
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => c.destroy());

  it('the new master sends a GARP burst when the cut-off host is back in reach', async (t) => {
    try {
      t.diagnostic(`the client learnt the new holder's MAC ${await healAnnounced()} ms after the heal`);
    } catch (e) {
      (e as Error).message += `\n--- logs ---\n${c.logs()}`;
      throw e;
    }
  });

  async function healAnnounced(): Promise<number> {
    const lab = c.lab;
    c.partition('h3');
    await waitFor('h2 to take over', 8000, () => holders(lab, CLUSTER_VIP).includes('h2'), 20);
    // Past the new master's own second burst (garp delay, 5 s), so that only a heal's can come.
    await sleep(6000);
    // What a client cut off with h3 has: h3's MAC for the VIP.
    const h3mac = lab.host('h3').mac;
    const set = lab.exec('client', ['ip', 'neigh', 'replace', CLUSTER_VIP, 'lladdr', h3mac, 'dev', 'eth0', 'nud', 'stale']);
    assert.equal(set.status, 0, set.stderr);
    assert.equal(lab.neighbour('client', CLUSTER_VIP), h3mac);
    const healedAt = Date.now();
    c.heal('h3');
    await waitFor("the client's neighbour entry to name h2", 1500, () => lab.neighbour('client', CLUSTER_VIP) === lab.host('h2').mac, 10);
    const ms = Date.now() - healedAt;
    await waitFor('the agent to say why', 5000, () => /announcing the VIPs again/.test(c.a('h2').logs.text), 20);
    assert.ok(ms < 1000, `announced ${ms} ms after the heal`);
    await c.settled('h2', ['h1', 'h3'], 15_000);
    return ms;
  }
});
