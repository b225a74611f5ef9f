// Strict mode (an etcd lease) in the simulated cluster: generated fault schedules with etcd faults
// (a host cut off etcd, etcd down, etcd on either side of a partition) for each on_loss, at 3
// members and at 2, and a few scenarios made by hand:
// the master cut off etcd alone, a frozen master partitioned from everyone with and without the
// fence deputy. REDKEEP_SIM_STRICT_SCHEDULES sets how many generated schedules in all (default
// 1200: a third per on_loss, half of that at each member count). A failure names its seed:
// `node scripts/dist/sim/run.js --strict fence --hosts N --seed S` replays it with its story.
//
// What must hold is asserted; what the simulation showed does NOT hold yet is a `todo` test
// naming the seeds (it runs, its failure is reported, it does not fail the run): see KNOWN.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Summary, report, runParallel } from './batch.js';
import { runSchedule } from './check.js';
import type { Fault, Schedule } from './schedule.js';
import type { Ack, StrictOptions } from './world.js';

const total = Number(process.env.REDKEEP_SIM_STRICT_SCHEDULES ?? 1200);

/**
 * What the simulation shows does not hold yet (todo tests, reported, not failing the run). Fixed
 * since it first ran: etcd counted as a voter (two hosts promoted on both sides of a partition and
 * the lease holder's Redis followed the other at the heal: seeds 5, 41 at 2 members), a history
 * entry at offset 0 (a fresh Redis that held the lease for a moment at start locked every host
 * out: seeds 44, 78, 95, 196 at 3 members), a holder releasing its lease while its frozen Redis
 * could still acknowledge, a VRRP master without the lease promoting its Redis (seed 171 at 2
 * members: the survivor promoted its empty Redis while the old master's Redis, back from its AOF,
 * held the writes; promotion now waits for the lease and its history rule).
 */
const KNOWN = {
  twoHostsLiveness:
    'at 2 members the quorum is both hosts (etcd does not vote): a dead or resyncing Redis stops writes while both hosts answer, which the checker (counting hosts, not Redis) calls a majority side without writes; and when the only Redis with the newest writes restarted from its appendonly file (a new replication id at offset 0, as Redis 7.0 does) while the other restarted empty (seed 171), neither may take the lease: its history no longer shows it covers the recorded one, and only an operator can accept that (README: delete the history key)',
} as const;

function isSafety(kind: string): boolean {
  return kind.startsWith('two Redis masters') || kind.includes('after losing its majority');
}

function kindsText(s: Summary): string {
  return Object.entries(s.kinds)
    .map(([k, seeds]) => `${[...new Set(seeds)].length} schedules: ${k} (seeds ${[...new Set(seeds)].slice(0, 20).join(' ')})`)
    .join('; ');
}

describe('simulated cluster in strict mode: property tests over generated fault schedules', () => {
  for (const onLoss of ['fence', 'keep', 'embedded'] as const) {
    for (const hosts of [3, 2]) {
      describe(`on_loss ${onLoss} at ${hosts} members`, () => {
        let s: Summary;
        before(async () => {
          s = await runParallel(hosts, Math.max(1, Math.round(total / 6)), 1, { onLoss });
        });

        it('runs its schedules', (t) => {
          t.diagnostic(`${report(hosts, s)}; lost beyond the window: ${s.lostMajority} acknowledged by a side with the quorum${onLoss === 'fence' ? ` (and etcd), ${s.lostCutOff} by a cut-off side` : ''}`);
          if (Object.keys(s.kinds).length > 0) t.diagnostic(kindsText(s));
          assert.ok(s.schedules > 0 && s.acked > 0);
        });

        if (onLoss === 'fence') {
          it('never has two Redis acknowledging writes at the same instant', () => {
            assert.equal(s.dualMasterMsMax, 0, kindsText(s));
          });
        }

        it('keeps a cut-off side within its bound, and two masters within theirs', () => {
          const bad = Object.entries(s.kinds).filter(([k]) => isSafety(k));
          assert.deepEqual(bad, []);
        });

        it('loses no write a side with the quorum acknowledged, beyond the asynchronous window', () => {
          assert.equal(s.lostMajority, 0, kindsText(s));
        });

        it('recovers after the last fault, and a client with the quorum writes again, within the bounds', { ...(hosts === 2 ? { todo: KNOWN.twoHostsLiveness } : {}) }, () => {
          const bad = Object.entries(s.kinds).filter(([k]) => !isSafety(k) && !k.includes('writes') && !k.includes('lost'));
          assert.deepEqual(bad, []);
        });
      });
    }
  }
});

/** A fault as the schedule generator writes one, with the defaults of a scenario. */
function fault(f: Partial<Fault> & Pick<Fault, 'kind' | 'atMs' | 'durationMs'>): Fault {
  return { target: 'master', clientSides: [0, 0], etcdSide: 0, asMaster: false, keepData: true, flaps: [], switchoverAfterMs: undefined, ...f };
}

function scenario(hosts: number, strict: StrictOptions, faults: readonly Fault[]): Schedule {
  const lastFaultEndMs = Math.max(...faults.map((f) => f.atMs + f.durationMs));
  return { seed: 1, hosts, preempt: true, strict, faults, lastFaultEndMs, endMs: lastFaultEndMs + 6000 };
}

describe('strict mode scenarios', () => {
  it('a master cut off etcd alone refuses writes before its lease can expire; another host takes over after the expiry; nothing lost, no overlap', () => {
    let acks: readonly Ack[] = [];
    const r = runSchedule(scenario(3, { onLoss: 'fence' }, [fault({ kind: 'etcd-cut', atMs: 4000, durationMs: 6000 })]), { notes: true, tamper: (w) => (acks = w.acks) });
    assert.deepEqual(r.violations, []);
    assert.equal(r.lostMajority + r.lostAsync + r.lostMinority + r.lostCutOff, 0);
    assert.equal(r.dualMasterMs, 0);
    const expired = r.events.find((e) => e.host === 'etcd' && e.what.includes('expired'));
    assert.ok(expired, 'the old holder\'s lease expired on etcd');
    const h1 = acks.filter((a) => a.host === '192.0.2.11' && a.atMs > 4000 && a.atMs < 10_000);
    const others = acks.filter((a) => a.host !== '192.0.2.11' && a.atMs > 4000 && a.atMs < 10_000);
    assert.ok(h1.length > 0 && others.length > 0, 'h1 wrote after the cut, then another host');
    assert.ok((h1[h1.length - 1]?.atMs ?? Infinity) < expired.atMs, 'h1 acknowledged nothing once its lease could have expired');
    const acquired = r.events.find((e) => e.host !== 'h1' && e.atMs > 4000 && e.what.startsWith('etcd: lease acquired'));
    assert.ok(acquired && acquired.atMs > expired.atMs, 'the next holder took the lease after the expiry');
    assert.ok((others[0]?.atMs ?? 0) > expired.atMs, 'and wrote only after it');
  });

  // Three members: the other two keep a quorum. Redis' own backstop (min-replicas-max-lag) stops
  // the frozen master's Redis too, but only about 3 s after its replicas went silent: after the
  // 2 s lease could expire and another host take it.
  const frozenAndCut = (deputy: boolean): Schedule =>
    scenario(3, { onLoss: 'fence', ...(deputy ? {} : { deputy: false }) }, [
      fault({ kind: 'pause-agent', atMs: 4000, durationMs: 6000 }),
      // Client 0 stays with the frozen master: it writes there as long as that Redis acknowledges.
      fault({ kind: 'partition', atMs: 4000, durationMs: 5000, clientSides: [1, 0] }),
    ]);

  it('the fence deputy closes a frozen, cut-off master\'s write gate before the next holder writes', () => {
    const r = runSchedule(frozenAndCut(true), { notes: true });
    assert.equal(r.dualMasterMs, 0);
    const fenced = r.events.find((e) => e.host === 'h1' && e.what.startsWith('fence deputy closed the write gate'));
    const acquired = r.events.find((e) => e.host === 'h2' && e.atMs > 4000 && e.what.startsWith('etcd: lease acquired'));
    assert.ok(fenced && acquired && fenced.atMs < acquired.atMs, 'the deputy fenced before h2 took the lease');
    assert.deepEqual(r.violations, []);
  });

  it('without the deputy the frozen master\'s Redis acknowledges past its bound (until Redis\' own backstop): the check can fail', () => {
    const r = runSchedule(frozenAndCut(false));
    assert.ok(r.violations.some((v) => v.startsWith('192.0.2.11 acknowledged') && v.includes('after losing its majority')), r.violations.slice(0, 3).join('; '));
  });

  it('replays a strict seed exactly', () => {
    const s = scenario(3, { onLoss: 'fence' }, [fault({ kind: 'etcd-down', atMs: 4000, durationMs: 3000 })]);
    const a = runSchedule(s);
    const b = runSchedule(s);
    assert.deepEqual({ ...a, events: [] }, { ...b, events: [] });
  });
});
