// Two Redis hosts and a witness: `redkeep witness` on a third host (no Redis) is the third voter.
// When the master's host crashes, the survivor still has a quorum (itself and the witness) and
// takes writes; without the witness' host it is alone, a minority: it goes to Fault and refuses
// writes.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, REDKEEP_BIN, RedisCluster, Writer, holders, waitFor } from '@redkeep/scripts/lab';

describe('two Redis hosts and a witness', () => {
  let c: RedisCluster;
  let witness: ChildProcess;
  before(async () => {
    c = new RedisCluster({ hosts: 2, outsiders: 1, preempt: false, instanceExtra: 'witnesses = ["192.0.2.13"]' });
    witness = c.lab.spawn('h3', [process.execPath, REDKEEP_BIN, 'witness', '--listen', '0.0.0.0:6379']);
    await c.start('h2');
    await c.settled('h2', ['h1'], 15_000);
  });
  after(() => {
    witness.kill('SIGKILL');
    c.destroy();
  });

  it('keeps taking writes after the master host crashes (the witness votes), and refuses them once the witness is gone too', async () => {
    const st = (await c.a('h1').status()).instances[0];
    assert.equal(st?.guard?.quorum?.needed, 2);
    assert.equal(st?.guard?.quorum?.reachable, 3);
    // Redis' own backstop counts replicas only: with a witness, one host may take writes alone.
    assert.equal(c.r('h2').cli(['config', 'get', 'min-replicas-to-write']).split('\n')[1], '0');
    const writer = new Writer(c.lab, 5);
    await waitFor('writes', 5000, () => writer.acks().length > 50);
    c.lab.cutLink('h2');
    c.a('h2').signal('SIGKILL');
    c.r('h2').kill();
    await waitFor('h1 to take over', 5000, () => holders(c.lab, CLUSTER_VIP).includes('h1'), 20);
    const since = Date.now();
    await writer.flowing(since, 500, 10_000);
    const q = (await c.a('h1').status()).instances[0]?.guard?.quorum;
    assert.equal(q?.ok, true, JSON.stringify(q));
    // Without the witness' host, h1 is alone: a minority. (A host that refuses the connection is
    // still reachable, and counts: its link must go.)
    c.lab.cutLink('h3');
    await waitFor('h1 to lose its quorum and go to fault', 5000, async () => (await c.a('h1').state()) === 'fault', 50);
    await waitFor('h1 to refuse writes', 5000, () => /NOREPLICAS/.test(c.r('h1').cli(['set', 'alone', '1'])), 50);
    await writer.stop();
  });
});
