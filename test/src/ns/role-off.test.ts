// With manage_role = false the user's hooks own the Redis role: redkeep never fences it. (A Redis
// restart on the master used to leave it pointed at the fence, 127.0.0.1:1, for good: nothing
// lifts a fence when redkeep does not manage the role.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentProc, Lab, RedisProc, RunDir, redisInstanceToml, sleep, waitFor } from '@redkeep/scripts/lab';

describe('manage_role = false', () => {
  let lab: Lab;
  let dir: RunDir;
  let redis: RedisProc;
  let agent: AgentProc;
  before(() => {
    lab = Lab.create({ hosts: 1, ipv6: false });
    dir = new RunDir();
  });
  after(() => {
    if (agent?.running) agent.signal('SIGKILL');
    redis?.kill();
    lab.destroy();
    dir.remove();
  });

  it('never fences the master\'s Redis when it restarts', async () => {
    redis = new RedisProc(lab, 'h1', dir, 6379, ['--replicaof', 'no', 'one']).start();
    await waitFor('redis', 5000, () => redis.cli(['ping']) === 'PONG', 50);
    redis.cli(['set', 'k', 'v']);
    const toml = redisInstanceToml();
    agent = new AgentProc(lab, 'h1', dir, { priority: 100, top: toml.top, extra: `${toml.instance}\nmanage_role = false` }).start();
    await waitFor('h1 to become master', 10_000, async () => (await agent.state()) === 'master', 50);
    redis.kill();
    await sleep(200);
    redis.start();
    await waitFor('redis back', 5000, () => redis.cli(['ping']) === 'PONG', 50);
    await waitFor('the agent to see redis again', 5000, () => /redis connected[^\n]*\n[\s\S]*redis connected/.test(agent.logs.text), 50);
    await sleep(2000);
    const i = redis.info('replication');
    assert.equal(i.role, 'master', `redis is ${i.role} of ${i.master_host ?? '?'}:${i.master_port ?? '?'}`);
    assert.doesNotMatch(agent.logs.text, /fenced/);
  });
});
