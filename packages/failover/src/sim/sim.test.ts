// Property tests over generated fault schedules on the simulated cluster (the real VRRP and
// policy cores): no write a majority side acknowledged is lost, a minority acknowledges only
// within the stated bound, two masters never acknowledge at once beyond it, and one master holds
// the VIP with writes flowing soon after the last fault; a client with the majority writes again
// within a second of any fault beginning or ending. REDKEEP_SIM_SCHEDULES sets how many
// (default 10 000: 60 % at 3 members, 40 % at 5); the schedules run on worker threads, one per
// core. A failure names its seed: `node scripts/dist/sim/run.js --hosts N --seed S` replays it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runParallel, report } from './batch.js';
import { RECOVERY_BOUND_MS, RESUME_BOUND_MS, runSchedule } from './check.js';
import { generateSchedule } from './schedule.js';
import { World } from './world.js';

const total = Number(process.env.REDKEEP_SIM_SCHEDULES ?? 10_000);

describe('simulated cluster: property tests over generated fault schedules', () => {
  for (const [hosts, share, firstSeed] of [
    [3, 0.6, 1],
    [5, 0.4, 1],
  ] as const) {
    it(`holds every property at ${hosts} members`, async (t) => {
      const s = await runParallel(hosts, Math.round(total * share), firstSeed);
      t.diagnostic(report(hosts, s));
      assert.equal(s.failures.length, 0, `${s.failures.length} failing schedules (replay: node scripts/dist/sim/run.js --hosts ${hosts} --seed S):\n${s.failures.join('\n')}`);
      assert.ok(s.recoveries.every((x) => x <= RECOVERY_BOUND_MS));
      assert.ok(s.resumeGapMsMax <= RESUME_BOUND_MS);
    });
  }

  for (const advertIntervalMs of [100, 1000]) {
    for (const to of ['192.0.2.12', undefined]) {
      it(`hands over in a few milliseconds, no Skew_Time, at ${advertIntervalMs} ms adverts, ${to !== undefined ? 'with' : 'without'} --to`, () => {
        const w = new World({ hosts: 3, seed: 11, advertIntervalMs });
        w.keepNotes = true;
        w.start();
        w.run(5000);
        const before = w.acks.length;
        const at = w.nowMs;
        const old = w.hosts.find((h) => h.vipHeld);
        assert.equal(old?.name, 'h1');
        w.switchover({ to });
        w.run(at + 3000);
        const acks = w.acks.slice(before - 1);
        let gap = 0;
        for (let k = 1; k < acks.length; k++) gap = Math.max(gap, (acks[k]?.atMs ?? 0) - (acks[k - 1]?.atMs ?? 0));
        const h2 = w.hosts[1];
        assert.ok(h2?.agent?.vrrp.state === 'master' && h2.vipHeld, 'h2 (the highest priority backup, 120) took over');
        assert.ok(w.events.some((e) => e.host === 'h2' && e.what.includes('(designated)')), 'designated: no Skew_Time');
        assert.equal(w.hosts.filter((h) => h.vipHeld).length, 1);
        assert.ok(gap <= 50, `longest write gap ${gap} ms`);
        assert.ok(w.acks.slice(before).every((a) => a.host !== old.address || a.atMs <= at + 5), 'the old master acknowledges nothing after its hand-over');
      });
    }
  }

  it('replays a seed exactly', () => {
    const a = runSchedule(generateSchedule(4242, 3));
    const b = runSchedule(generateSchedule(4242, 3));
    assert.deepEqual({ ...a, events: [] }, { ...b, events: [] });
    assert.ok(a.acked > 100, 'the clients wrote');
  });

  it('the checker finds a lost write, a long minority and a missing master', () => {
    const s = generateSchedule(7, 3);
    const lost = runSchedule(s, { tamper: (w) => w.hosts.forEach((h) => h.redis.data.splice(100, 1)) });
    assert.ok(lost.lostMajority >= 1, 'a write removed from every Redis is lost');
    // Seed 3's partitions leave a client with the cut-off master: it acknowledges within the bound, not within 0 ms.
    const cut = generateSchedule(3, 3, { kinds: ['partition'] });
    assert.ok(runSchedule(cut).minorityAcks > 0);
    assert.ok(runSchedule(cut, { isolationBoundMs: 0 }).violations.some((v) => v.includes('after losing its majority')));
    // A partition of the master leaves the majority's clients a Master_Down_Interval without a write: not within 50 ms.
    assert.ok(runSchedule(cut, { resumeBoundMs: 50 }).violations.some((v) => v.includes('on a majority side wrote nothing')));
    assert.ok(!runSchedule(cut).violations.some((v) => v.includes('on a majority side wrote nothing')));
    const noMaster = runSchedule(s, { tamper: (w) => w.hosts.forEach((h) => (h.vipHeld = false)) });
    assert.ok(noMaster.violations.some((v) => v.startsWith('end state')));
  });
});
