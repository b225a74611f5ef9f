// A representative subset of the chaos lab, against redkeep: random fault schedules (fixed
// seeds; REDKEEP_CHAOS_SEED picks others) on a three-host cluster with a client writing through
// the VIP. Each must lose no acknowledged write beyond the stated windows (a crash's asynchronous
// window, a cut-off master's minority window), and end with one master every host follows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSchedule, namedSchedules, randomSchedule, runChaos } from '@redkeep/scripts/chaos';

const first = Number(process.env.REDKEEP_CHAOS_SEED ?? '1');
const seeds = [first, first + 1, first + 2];

describe('chaos lab: random schedules against redkeep (three hosts, 100 ms adverts)', () => {
  for (const seed of seeds) {
    const s = randomSchedule(seed, ['h1', 'h2', 'h3'], 5000);
    it(`${s.name}: ${describeSchedule(s)}`, async () => {
      const r = await runChaos(s, { impl: 'redkeep', hosts: 3, advertInterval: '100ms' });
      process.stdout.write(`# ${s.name}: ${r.acked} acknowledged, ${r.lost} lost (${r.unexplained} unexplained), longest gap ${r.longestGapMs} ms, two masters ${r.twoMastersMs} ms, end ${r.end}\n`);
      assert.equal(r.end, 'ok');
      assert.ok(r.unexplained <= 2, `${r.unexplained} acknowledged writes lost outside the crash and minority windows`);
      assert.ok(r.acked > 300, `the client kept writing (${r.acked})`);
    });
  }
});

describe('chaos lab: the master host crashes and reboots with its Redis data (appendonly)', () => {
  const s = namedSchedules(['crash-aof'])[0];
  if (!s) throw new Error('no crash-aof schedule');
  it(`${s.name}: ${describeSchedule(s)}`, async () => {
    const r = await runChaos(s, { impl: 'redkeep', hosts: 3, advertInterval: '100ms' });
    process.stdout.write(`# ${s.name}: ${r.acked} acknowledged, ${r.lost} lost (${r.unexplained} unexplained), longest gap ${r.longestGapMs} ms, two masters ${r.twoMastersMs} ms, end ${r.end}\n`);
    assert.equal(r.end, 'ok');
    // The rebooted Redis comes back with a new replication id and its data: it must follow the
    // new master (resynced), never be followed, and never take the VIP back with its old data.
    assert.equal(r.unexplained, 0, `${r.unexplained} acknowledged writes lost outside the crash window`);
    assert.ok(r.acked > 300, `the client kept writing (${r.acked})`);
  });
});
