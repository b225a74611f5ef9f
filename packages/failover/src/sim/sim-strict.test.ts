// Strict mode (an etcd lease) in the simulated cluster: generated fault schedules with etcd faults
// (a host cut off etcd, etcd down, etcd on either side of a partition) for each on_loss, at 3
// members and at 2 (etcd breaks the tie between two Redis hosts), and a few scenarios made by hand:
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
 * Counterexamples the simulation found, for the owners of lease-guard.ts and the agent to decide
 * on (nothing was changed in them): each names the property that fails and why.
 */
const KNOWN = {
  lostWrites:
    'with on_loss "fence" a write acknowledged by a host that can no longer replicate it (a master partitioned from its replicas, before the isolation timeout or its fence deadline) is lost when another host takes over: the lease prevents two writers, not the asynchronous window; see also takeoverWithoutLease',
  takeoverWithoutLease:
    'a VRRP master without the lease still promotes its Redis and, after a takeover, makes the previous master\'s Redis follow it ("previous master: follow-us"): the lease keeps it from acknowledging writes, not from discarding what the holder acknowledged (on_loss fence seed 41 at 2 members; embedded seed 171 at 2 members, where an emptied Redis took every write with it)',
  historyLock:
    'the lease history can lock every host out for good: a host that is VRRP master for a moment (two masters at start-up, a takeover it abandons) acquires the lease with its Redis as it is (a replica, never promoted: its own replid) and records that history; a Redis restarted from its AOF has a new replid; either way no Redis covers the recorded history any more and nobody takes the lease again (seeds 44, 78, 95 at 3 members; 14 at 2)',
  embeddedTwoHosts:
    'on_loss "embedded" at 2 members: the member quorum is both hosts, so a dead or resyncing Redis stops writes (min-replicas-to-write 1) while both hosts answer: the checker counts hosts, not Redis',
  keepTwoHosts:
    'on_loss "keep" at 2 members: etcd counts as a voter (quorum 1), and a holder cut off from etcd and from its member writes on, while the member with etcd takes the lease once it expires: two writers',
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

        const keepAt2 = onLoss === 'keep' && hosts === 2;
        it('keeps a cut-off side within its bound, and two masters within theirs', { ...(keepAt2 ? { todo: KNOWN.keepTwoHosts } : {}) }, () => {
          const bad = Object.entries(s.kinds).filter(([k]) => isSafety(k));
          assert.deepEqual(bad, []);
        });

        const lost = onLoss === 'fence' ? `${KNOWN.lostWrites}; ${KNOWN.takeoverWithoutLease}` : keepAt2 ? KNOWN.keepTwoHosts : hosts === 2 ? KNOWN.takeoverWithoutLease : undefined;
        it('loses no write beyond the asynchronous window', { ...(lost !== undefined ? { todo: lost } : {}) }, () => {
          assert.equal(s.lostMajority + s.lostCutOff, 0, kindsText(s));
        });

        const liveness = onLoss === 'embedded' && hosts === 2 ? `${KNOWN.historyLock}; ${KNOWN.embeddedTwoHosts}` : KNOWN.historyLock;
        it('recovers after the last fault, and a client with the quorum writes again, within the bounds', { todo: liveness }, () => {
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

  const frozenAndCut = (deputy: boolean): Schedule =>
    scenario(2, { onLoss: 'fence', ...(deputy ? {} : { deputy: false }) }, [
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
    // What h1 acknowledged before its deadline is on no other Redis (see KNOWN.lostWrites): that
    // is the only violation.
    assert.deepEqual(r.violations.filter((v) => !v.includes('writes a cut-off side acknowledged (within its bound) are lost')), []);
  });

  it('without the deputy the same schedule has two writers: the check can fail', () => {
    const r = runSchedule(frozenAndCut(false));
    assert.ok(r.dualMasterMs > 1000, `two masters for ${r.dualMasterMs} ms`);
    assert.ok(r.violations.some((v) => v.startsWith('two Redis masters')));
  });

  it('replays a strict seed exactly', () => {
    const s = scenario(3, { onLoss: 'fence' }, [fault({ kind: 'etcd-down', atMs: 4000, durationMs: 3000 })]);
    const a = runSchedule(s);
    const b = runSchedule(s);
    assert.deepEqual({ ...a, events: [] }, { ...b, events: [] });
  });
});
