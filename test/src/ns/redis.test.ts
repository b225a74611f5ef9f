// Real redis-server on three namespace hosts, each with a redkeep agent: the Redis role follows
// the VRRP state, a Redis crash on the master fails over, role drift is corrected.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentProc, Lab, REDKEEP_BIN, RedisProc, RunDir, holders, redisInstanceToml, scenarioWithLogs, sleep, waitFor } from '@redkeep/scripts/lab';

const WRITER = fileURLToPath(new URL('../../../scripts/dist/lab/writer.js', import.meta.url));
const SUBSCRIBER = fileURLToPath(new URL('../../../scripts/dist/lab/subscriber.js', import.meta.url));

const VIP = '192.0.2.50';
const PRIORITIES: Record<string, number> = { h1: 110, h2: 120, h3: 130 };

let lab: Lab;
let dir: RunDir;
let agents: AgentProc[] = [];
let redis: RedisProc[] = [];

function r(host: string): RedisProc {
  const x = redis.find((p) => p.host === host);
  assert.ok(x);
  return x;
}

function a(host: string): AgentProc {
  const x = agents.find((p) => p.host === host);
  assert.ok(x);
  return x;
}

/**
 * Starts every Redis, then h3's agent (the highest priority) until it is master, then the
 * others, as the cluster harness does. (Three agents started at the same instant sometimes take
 * longer than these tests' bounds to settle: the first to leave its start-up Fault takes over,
 * not the highest priority, and preemptions follow. Open.)
 */
async function startAll(): Promise<void> {
  redis = lab.hosts.map((h) => new RedisProc(lab, h.name, dir).start());
  const toml = redisInstanceToml();
  const make = (h: string): AgentProc => new AgentProc(lab, h, dir, { priority: PRIORITIES[h] ?? 100, top: toml.top, extra: toml.instance }).start();
  agents = [make('h3')];
  await waitFor('h3 to become master', 15_000, async () => (await agents[0]?.state()) === 'master', 20);
  agents.push(make('h1'), make('h2'));
}

/** Waits until `master` holds the VIP and its Redis is master, and the others replicate from it. */
async function rolesFollow(master: string, others: readonly string[]): Promise<void> {
  await waitFor(`${master} to hold the VIP alone`, 10_000, () => holders(lab, VIP).join() === master);
  await waitFor(`${master}'s Redis to be master`, 5000, () => r(master).info('replication').role === 'master');
  for (const o of others) {
    await waitFor(`${o}'s Redis to replicate from ${master}`, 8000, () => {
      const i = r(o).info('replication');
      return i.role === 'slave' && i.master_host === lab.host(master).address && i.master_link_status === 'up';
    });
  }
  // And their agents are backups hearing the master (an agent still in Fault, its quorum not yet
  // seen, would start its down timer late: a fault now would see two takeovers one after the other).
  for (const o of others) {
    await waitFor(`${o}'s agent to be a backup`, 5000, async () => {
      const st = (await a(o).status()).instances[0];
      return st?.state === 'backup' && st.masterAddress === lab.host(master).address;
    }, 20);
  }
}

function logs(): string {
  return [...agents.map((x) => x.logs.text), ...redis.map((x) => x.logs.text)].join('\n');
}

function scenario(name: string, fn: () => Promise<void>): void {
  scenarioWithLogs(name, logs, fn);
}

describe('redkeep with real Redis on three hosts', () => {
  beforeEach(() => {
    lab = Lab.create({ hosts: 3, ipv6: false });
    dir = new RunDir();
  });
  afterEach(() => {
    for (const x of agents) if (x.running) x.signal('SIGKILL');
    for (const x of redis) x.kill();
    lab.destroy();
    dir.remove();
  });

  scenario('makes the VIP holder\'s Redis the master and the others its replicas; writes through the VIP replicate', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    assert.equal(lab.run('client', ['redis-cli', '-h', VIP, 'set', 'k1', 'v1']).trim(), 'OK');
    await waitFor('k1 on every replica', 3000, () => ['h1', 'h2'].every((h) => r(h).cli(['get', 'k1']) === 'v1'));
    const st = (await a('h1').status()).instances[0];
    assert.equal(st?.redis?.role, 'replica');
    assert.equal(st?.redis?.desired, `replica of ${lab.host('h3').address}:6379`);
  });

  scenario('fails over when the master\'s Redis crashes, and the survivors follow the new master', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    lab.run('client', ['redis-cli', '-h', VIP, 'set', 'k2', 'before']);
    await waitFor('k2 replicated', 3000, () => r('h2').cli(['get', 'k2']) === 'before');
    r('h3').kill();
    await waitFor('h3 to go to fault', 3000, async () => (await a('h3').state()) === 'fault');
    await rolesFollow('h2', ['h1']);
    assert.equal(lab.run('client', ['redis-cli', '-h', VIP, 'get', 'k2']).trim(), 'before', 'the data survived');
    assert.equal(lab.run('client', ['redis-cli', '-h', VIP, 'set', 'k3', 'after']).trim(), 'OK', 'the new master is writable');
    const st = (await a('h3').status()).instances[0];
    assert.equal(st?.lastTransition?.reason, 'track-failed');
  });

  scenario('fences a master Redis that restarts empty: no replica is wiped, the VIP goes to a peer with the data', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    const N = 50;
    for (let i = 0; i < N; i++) lab.run('client', ['redis-cli', '-h', VIP, 'set', `key${i}`, `value${i}`]);
    await waitFor('every key on both replicas', 5000, () => ['h1', 'h2'].every((h) => Number(r(h).cli(['dbsize'])) === N));
    // Watch the replicas' key counts all along: a full sync from an empty master would zero them.
    let minSeen = N;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const h of ['h1', 'h2']) {
          try {
            minSeen = Math.min(minSeen, Number(r(h).cli(['dbsize'])));
          } catch {
            // a replica busy loading answers LOADING: not a loss
          }
        }
        await sleep(20);
      }
    })();
    try {
    // Redis on the master dies and comes straight back, empty (no persistence), as a master.
    r('h3').kill();
    await sleep(30);
    r('h3').start();
    await waitFor('a peer to hold the VIP', 5000, () => ['h1', 'h2'].some((h) => holders(lab, VIP).join() === h));
    await waitFor('the fence to be logged', 5000, () => /fenced so that no replica can sync from it/.test(a('h3').logs.text));
    const newMaster = holders(lab, VIP)[0] ?? '';
    await waitFor(`${newMaster}'s Redis to be master`, 5000, () => r(newMaster).info('replication').role === 'master');
    // h3's Redis resyncs from the new master, the fence is lifted, and nothing was lost anywhere.
    await waitFor('h3 to resync and leave fault', 10_000, async () => (await a('h3').state()) !== 'fault' && Number(r('h3').cli(['dbsize'])) === N);
    await sleep(300);
    } finally {
      watching = false;
      await watcher;
    }
    assert.equal(minSeen, N, 'no replica ever lost its keys');
    for (const h of ['h1', 'h2', 'h3']) assert.equal(Number(r(h).cli(['dbsize'])), N, `${h} has every key`);
    assert.match(a('h3').logs.text, /fence lifted/);
  });

  scenario('fences the Redis of a master whose agent was killed, so it cannot keep taking writes', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    a('h3').signal('SIGKILL');
    await waitFor('h2 to take over', 5000, () => holders(lab, VIP).includes('h2'));
    await waitFor('h3\'s Redis to replicate from h2', 6000, () => {
      const i = r('h3').info('replication');
      return i.role === 'slave' && i.master_host === lab.host('h2').address;
    });
    const write = lab.exec('client', ['redis-cli', '-h', lab.host('h3').address, 'set', 'stale', 'x']);
    assert.match(write.stdout + write.stderr, /READONLY/, 'a client still on the old master cannot write');
    await waitFor('h2 to log the fence', 2000, () => /fenced the previous master's Redis/.test(a('h2').logs.text));
  });

  scenario('hands over on SIGTERM of the master without losing an acknowledged write', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    const writer = lab.spawn('client', [process.execPath, WRITER, VIP, '6379', '5']);
    let text = '';
    writer.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    await waitFor('writes to be acknowledged', 5000, () => (text.match(/^ack /gm) ?? []).length > 50);
    a('h3').signal('SIGTERM');
    assert.equal(await a('h3').exited(8000), 0);
    await rolesFollow('h2', ['h1']);
    await waitFor(`writes to flow again (writer said: ${text.slice(-300)})`, 5000, () => {
      const acks = [...text.matchAll(/^ack (\d+) (\d+)$/gm)];
      const last = acks[acks.length - 1];
      return last !== undefined && Number(last[2]) > Date.now() - 100;
    });
    writer.kill('SIGTERM');
    await new Promise((res) => writer.once('exit', res));
    const acked = [...text.matchAll(/^ack (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), at: Number(m[2]) }));
    // Every acknowledged write is on the new master.
    const keys = new Set(r('h2').cli(['--raw', 'keys', 'w:*']).split('\n').filter(Boolean));
    const lost = acked.filter((x) => !keys.has(`w:${x.n}`)).map((x) => x.n);
    assert.deepEqual(lost, [], `acknowledged writes lost: ${lost.slice(0, 20).join(', ')}`);
    let gap = 0;
    for (let i = 1; i < acked.length; i++) gap = Math.max(gap, (acked[i]?.at ?? 0) - (acked[i - 1]?.at ?? 0));
    assert.match(a('h3').logs.text, /switchover on stop.*replicas caught up/);
    // Without --to, the backup VRRP elects (h2, 120) was designated: no Skew_Time.
    assert.match(a('h3').logs.text, /switchover on stop.*192\.0\.2\.12 designated/);
    assert.match(a('h2').logs.text, /backup -> master .*reason=designated/);
    // The old master's Redis ends up following the new one.
    await waitFor('h3\'s Redis to follow h2', 5000, () => r('h3').info('replication').master_host === lab.host('h2').address);
    const how = /switchover on stop.*outcome=([^\n]*)/.exec(a('h3').logs.text)?.[1] ?? '';
    for (const l of a('h3').logs.text.split('\n').filter((x) => x.includes('replica offsets')).slice(0, 4)) process.stdout.write(`# ${l}\n`);
    process.stdout.write(`# switchover: ${acked.length} acknowledged writes, none lost, longest write gap ${gap} ms (${how})\n`);
  });

  scenario('a switchover closes the old master\'s client connections once the new master holds the VIP: a subscriber moves at once', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    // A pub/sub client through the VIP: idle, it would notice nothing until its keepalive.
    const sub = lab.spawn('client', [process.execPath, SUBSCRIBER, VIP, '6379', 'news']);
    try {
      await waitFor('the subscriber to subscribe on h3', 5000, () => Number(r('h3').cli(['pubsub', 'numsub', 'news']).split('\n')[1] ?? 0) === 1);
      const sw = lab.exec('h3', [process.execPath, REDKEEP_BIN, 'switchover', '--socket', a('h3').socket, '--to', lab.host('h2').address]);
      assert.equal(sw.status, 0, sw.stderr + sw.stdout);
      const done = Date.now();
      await waitFor('the subscriber to be subscribed on h2, the new master', 3000, () => Number(r('h2').cli(['pubsub', 'numsub', 'news']).split('\n')[1] ?? 0) === 1, 10);
      const movedMs = Date.now() - done;
      await waitFor('h3 to log that it closed its clients', 2000, () => /closed the connections clients made through the VIPs.*clients=1/.test(a('h3').logs.text));
      assert.equal(r('h3').cli(['pubsub', 'numsub', 'news']).split('\n')[1], '0', 'none left on the old master');
      process.stdout.write(`# subscriber on the new master ${movedMs} ms after the switchover returned\n`);
    } finally {
      sub.kill('SIGTERM');
    }
  });

  scenario('corrects role drift: a replica turned master by hand goes back to following', async () => {
    await startAll();
    await rolesFollow('h3', ['h1', 'h2']);
    // All three started at once: let the start-up elections settle before the drift.
    await sleep(1000);
    await rolesFollow('h3', ['h1', 'h2']);
    const corrections = (): number => (a('h1').logs.text.match(/redis follows the master: REPLICAOF/g) ?? []).length;
    const before = corrections();
    // The drift (the agent may correct it within moments: its reconciliation runs every second).
    assert.equal(r('h1').cli(['replicaof', 'no', 'one']), 'OK');
    await waitFor('h1 to follow h3 again, by a correction of the agent', 5000, () => {
      const i = r('h1').info('replication');
      return corrections() > before && i.role === 'slave' && i.master_host === lab.host('h3').address;
    });
  });
});
