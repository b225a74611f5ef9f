// Maintenance on real agents: three lab hosts with real Redis. `redkeep maintenance on` on the
// master hands over first with no acknowledged write lost, then the host stays backup at priority
// 1, across an agent restart, and is not elected while another member qualifies; off gives it its
// priority back (with preempt, it takes the master role back).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, REDKEEP_BIN, RedisCluster, Writer, holders, sleep, waitFor } from '@redkeep/scripts/lab';

describe('maintenance (three hosts, real Redis)', () => {
  let c: RedisCluster;
  let drainDir: string;
  const ip = (h: string): string => c.lab.host(h).address;
  const maintenance = (host: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    c.lab.exec(host, [process.execPath, REDKEEP_BIN, 'maintenance', ...args, '--socket', c.a(host).socket]);
  const instance = async (host: string): Promise<{ state: string; maintenance: boolean; effectivePriority: number | undefined }> => {
    const i = (await c.a(host).status()).instances[0];
    assert.ok(i);
    return i as unknown as { state: string; maintenance: boolean; effectivePriority: number | undefined };
  };

  before(async () => {
    drainDir = mkdtempSync(join(tmpdir(), 'redkeep-drain-'));
    c = new RedisCluster({
      // A drain file per host (keepalived's track_file): its number lowers the priority.
      topFor: (h) => ['[[track]]', 'name = "drain"', 'type = "file"', `file = "${join(drainDir, h)}"`, 'interval = "50ms"', 'weight = -1', ''].join('\n'),
      tracks: ['drain'],
    });
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => {
    c.destroy();
    rmSync(drainDir, { recursive: true, force: true });
  });

  it('on: the master hands over with no acknowledged write lost, then stays backup at priority 1', async () => {
    const writer = new Writer(c.lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    // h2's events, followed as they happen.
    const follower = c.lab.spawn('h2', [process.execPath, REDKEEP_BIN, 'events', '--json', '--limit', '0', '--socket', c.a('h2').socket]);
    let followed = '';
    follower.stdout?.on('data', (d: Buffer) => (followed += d.toString()));
    await sleep(300);
    const r = maintenance('h3', 'on');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`redis-write: maintenance on: priority 1 until off; handed over to ${ip('h2').replace(/\./g, '\\.')} in \\d+ ms`));
    const at = Date.now();
    await writer.flowing(at, 500, 10_000);
    const acks = await writer.stop();
    await c.settled('h2', ['h1', 'h3'], 10_000);
    for (const h of c.hostNames) assert.deepEqual(c.lostOn(h, acks).map((x) => x.n), [], `writes lost on ${h}`);
    const i = await instance('h3');
    assert.equal(i.state, 'backup');
    assert.equal(i.maintenance, true);
    assert.equal(i.effectivePriority, 1);
    const human = c.lab.run('h3', [process.execPath, REDKEEP_BIN, 'status', '--socket', c.a('h3').socket]);
    assert.match(human, /MAINTENANCE: priority 1/);
    assert.match(human, /priority 1 \(base 130\)/);
    // h2 streamed its takeover as it happened; h3's recent events tell the hand-over.
    const streamed = followed.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; message: string; reason?: string; seq: number });
    follower.kill('SIGTERM');
    assert.ok(streamed.some((e) => e.kind === 'transition' && e.message === 'backup -> master'), JSON.stringify(streamed));
    assert.ok(streamed.every((e, k) => k === 0 || e.seq > (streamed[k - 1]?.seq ?? 0)), 'in order');
    const h3events = c.lab.run('h3', [process.execPath, REDKEEP_BIN, 'events', '--no-follow', '--socket', c.a('h3').socket]);
    assert.match(h3events, / redis-write switchover: switchover: resigning /);
    assert.match(h3events, / redis-write transition: master -> backup reason=resigned/);
    assert.match(h3events, / redis-write maintenance: maintenance on: priority 1 until off handedOverTo=/);
    // The hand-over among the last transitions (a loaded machine may add a quorum blip after it).
    assert.match(human, /(last transition|before:.*) master -> backup \(resigned: designated 192\.0\.2\.12\)/);
    assert.match(human, /before: .*backup -> master/);
    // The cluster as h1 sees it: h2 master with the VIP, h3 in maintenance at priority 1, both replicas in sync.
    type Cluster = { members: { name: string | null; address: string; self: boolean; reachable: boolean; instances: Record<string, { state: string; priority: number; maintenance: boolean; vipsHeld: string[] }>; redis: { role: string; offset: number; master: string | null; linkUp: boolean | null; lagBytes: number | null } | null }[] };
    await waitFor('h1 to see h3 in maintenance', 5000, () => {
      const v = JSON.parse(c.lab.run('h1', [process.execPath, REDKEEP_BIN, 'status', '--cluster', '--json', '--socket', c.a('h1').socket])) as Cluster;
      return v.members.find((m) => m.name === 'h3')?.instances['redis-write']?.maintenance === true;
    }, 100);
    const view = JSON.parse(c.lab.run('h1', [process.execPath, REDKEEP_BIN, 'status', '--cluster', '--json', '--socket', c.a('h1').socket])) as Cluster;
    assert.deepEqual(view.members.map((m) => [m.name, m.address, m.self, m.reachable]), [['h2', ip('h2'), false, true], ['h1', ip('h1'), true, true], ['h3', ip('h3'), false, true]]);
    const [m2, m1, m3] = view.members;
    assert.equal(m2?.instances['redis-write']?.state, 'master');
    assert.equal(m2?.instances['redis-write']?.priority, 120);
    assert.deepEqual(m2?.instances['redis-write']?.vipsHeld, [`${CLUSTER_VIP}/24`]);
    assert.equal(m2?.redis?.role, 'master');
    assert.deepEqual([m3?.instances['redis-write']?.state, m3?.instances['redis-write']?.priority, m3?.instances['redis-write']?.maintenance], ['backup', 1, true]);
    for (const m of [m1, m3]) {
      assert.equal(m?.redis?.role, 'replica');
      assert.equal(m?.redis?.master, `${ip('h2')}:6379`);
      assert.equal(m?.redis?.linkUp, true);
      assert.ok((m?.redis?.lagBytes ?? -1) >= 0 && (m?.redis?.lagBytes ?? 1e9) < 100_000, `lag of ${m?.name}: ${m?.redis?.lagBytes}`);
    }
    assert.match(c.lab.run('h2', [process.execPath, REDKEEP_BIN, 'status', '--cluster', '--socket', c.a('h2').socket]), /h3 192\.0\.2\.13\n {2}redis-write: BACKUP priority 1 \(base 130\), data guard ok, MAINTENANCE/);
    // Kept in the state directory.
    const stateDir = readFileSync(c.a('h3').config, 'utf8').match(/^state_dir = "(.+)"$/m)?.[1] ?? '';
    assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'maintenance.json'), 'utf8')), { instances: ['redis-write'] });
  });

  it('is kept across an agent restart: h3 (base priority 130) does not preempt h2 (120)', async () => {
    c.agentSignal('h3', 'SIGTERM');
    await waitFor('h3\'s agent to exit', 10_000, () => !c.a('h3').running, 50);
    c.startAgent('h3');
    await waitFor('h3 to run again', 10_000, async () => (await c.a('h3').state().catch(() => undefined)) === 'backup', 50);
    for (let k = 0; k < 20; k++) {
      await sleep(100);
      assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2']);
    }
    const i = await instance('h3');
    assert.equal(i.maintenance, true);
    assert.equal(i.effectivePriority, 1);
  });

  it('is not elected while another member qualifies: h2 crashes, h1 (110) takes over, not h3', async () => {
    c.partition('h2');
    c.a('h2').signal('SIGKILL');
    c.r('h2').kill();
    await waitFor('h1 to be master', 10_000, async () => (await c.a('h1').state()) === 'master', 50);
    await sleep(500);
    assert.equal(await c.a('h3').state(), 'backup');
    await waitFor('h1 to see h2 unreachable', 5000, () => {
      const v = JSON.parse(c.lab.run('h1', [process.execPath, REDKEEP_BIN, 'status', '--cluster', '--json', '--socket', c.a('h1').socket])) as { members: { address: string; reachable: boolean; instances: Record<string, { state: string }> }[] };
      const h2 = v.members.find((m) => m.address === ip('h2'));
      return h2?.reachable === false && h2.instances['redis-write']?.state === 'unknown (unreachable)';
    }, 100);
    // h2's killed agent left its VIP behind on its cut-off host; h3 holds none.
    assert.ok(holders(c.lab, CLUSTER_VIP).includes('h1'));
    assert.ok(!holders(c.lab, CLUSTER_VIP).includes('h3'));
  });

  it('off: the configured priority again; with preempt, h3 becomes master again', async () => {
    const r = maintenance('h3', 'off', '--json');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{ instance: 'redis-write', maintenance: false }]);
    await waitFor('h3 to be master again', 15_000, async () => (await c.a('h3').state()) === 'master', 50);
    const i = await instance('h3');
    assert.equal(i.maintenance, false);
    assert.equal(i.effectivePriority, 130);
    // A drain file does what tools that drain hosts expect: h3 at 130 - 100 = 30 loses to h1 (110;
    // h2 is down since the crash above) with no acknowledged write lost, and takes the master role
    // back once the file is gone.
    const writer = new Writer(c.lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    writeFileSync(join(drainDir, 'h3'), '100\n');
    await waitFor('h1 to be master (h3 drained)', 15_000, async () => (await c.a('h1').state()) === 'master', 50);
    await writer.flowing(Date.now(), 500, 10_000);
    const drained = (await c.a('h3').status()).instances[0];
    assert.deepEqual(drained?.tracks.find((t) => t.name === 'track:drain'), { name: 'track:drain', weight: -1, ok: true, value: 100 });
    // 130 - 100, or lower while its data guard waits for the new master.
    assert.ok((drained?.effectivePriority ?? 255) <= 30, `h3's priority ${drained?.effectivePriority}`);
    rmSync(join(drainDir, 'h3'));
    await waitFor('h3 to be master again (undrained)', 15_000, async () => (await c.a('h3').state()) === 'master', 50);
    await writer.flowing(Date.now(), 500, 10_000);
    const acks = await writer.stop();
    await c.settled('h3', ['h1'], 10_000, ['h2']);
    for (const h of ['h1', 'h3']) assert.deepEqual(c.lostOn(h, acks).map((x) => x.n), [], `writes lost on ${h}`);
    // Bad requests are refused with a clear error and change nothing.
    const bad = maintenance('h3', 'on', '--instance', 'nope');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /no instance named nope/);
    assert.equal((await instance('h3')).maintenance, false);
  });
});
