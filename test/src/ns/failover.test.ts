// The data-safety scenarios, each on a fresh three-host lab with real redis-server and a client
// writing through the VIP every 5 ms and recording every acknowledged write (the same harness
// as the failover benchmark). Each asserts that the cluster settles with one VIP holder and one
// Redis master that every replica follows (the scenario's settle step), that the takeover host
// became the single master, and that no acknowledged write was lost, except, for a crash of the
// master, writes acknowledged within CRASH_WINDOW_MS before the crash (the asynchronous
// replication window: acknowledged by the master, not yet on a replica).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCENARIOS, measureFailover } from '@redkeep/scripts/lab';

const CRASH_WINDOW_MS = 250;

describe('data safety with a client writing through the VIP (three hosts, real Redis, 100 ms adverts)', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: ${s.description}`, async () => {
      const m = await measureFailover(s, { advertInterval: '100ms' }, async (c, m) => {
        if (s.name === 'switchover') {
          assert.match(c.a('h3').logs.text, /switchover: resigning.*caught up.*192\.0\.2\.12 designated/);
          // No Skew_Time: the designated target took over the moment the priority 0 came.
          assert.match(c.a('h2').logs.text, /backup -> master .*reason=designated/);
        }
        if (s.name === 'agent-kill') assert.match(c.a('h2').logs.text, /took over from a live master.*caught up/);
        if (s.name === 'restart-empty') assert.match(c.a('h3').logs.text, /fenced so that no replica can sync from it/);
        if (s.name === 'isolation') assert.match(c.a('h3').logs.text, /members: no quorum/);
        if (s.name === 'stale-replica') assert.match(c.a('h2').logs.text, /redis data guard: stale; priority lowered.*bytes behind|redis data guard: stale; priority lowered.*down for/);
        assert.ok(m.acked > 150, `the client kept writing (${m.acked} acknowledged)`);
      });
      // Allowed: a crash's asynchronous window before the fault, and what a cut-off master
      // acknowledged before it could know it was cut off (the stated minority bound).
      const minority = (x: { atMs: number }): boolean => m.minorityWindows.some(([from, to]) => x.atMs >= from && x.atMs <= to);
      const late = m.lost.filter((x) => !s.crash || (x.atMs < m.faultAtMs - CRASH_WINDOW_MS && !minority(x)) || (x.atMs > m.faultAtMs && !minority(x)));
      assert.deepEqual(
        late.map((x) => x.n),
        [],
        `acknowledged writes lost ${s.crash ? `outside the ${CRASH_WINDOW_MS} ms crash window` : ''}: ${late.length} (of ${m.lost.length} lost)`,
      );
      assert.ok(Number.isFinite(m.timeToSingleMasterMs), `${s.takeover ?? 'h2'} became the single Redis master (roles: ${m.roleChanges.join('; ')})`);
      process.stdout.write(`# ${s.name}: ${m.acked} acknowledged, ${m.lost.length} lost, longest write gap ${m.longestWriteGapMs} ms, single master after ${m.timeToSingleMasterMs} ms\n`);
    });
  }
});
