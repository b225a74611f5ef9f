import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '@redkeep/vrrp/sim';
import type { VrrpState } from '@redkeep/vrrp';
import { factsFixture } from './facts-fixture.js';
import { Lineage } from './history.js';
import {
  type HistoryRecord, type LeaderRecord, LeaseGuard, type LeaseRequest, type LeaseResult, type LeaseSettings, type ObservedLeader, type OnLoss,
  coversHistory, defaultLeaseTtlMs, fenceAtMs, recordHistory,
} from './lease-guard.js';

function settings(over: Partial<LeaseSettings> = {}): LeaseSettings {
  return { ttlMs: 2000, onLoss: 'fence', maxDriftRatio: 0.01, applyMs: 200, self: { holder: 'a', advert: '192.0.2.11', redis: '192.0.2.11:6379' }, ...over };
}

/** Sends the guard's next request at `nowMs` and answers it at `doneMs` with `result`. */
function answer(g: LeaseGuard, nowMs: number, doneMs: number, result: (r: LeaseRequest) => LeaseResult): LeaseRequest {
  const r = g.request(nowMs);
  assert.ok(r, `a request at ${nowMs}`);
  g.handle({ type: 'started', id: r.id, nowMs });
  g.handle({ type: 'done', id: r.id, nowMs: doneMs, result: result(r) });
  return r;
}

const free: LeaseResult = { ok: true, kind: 'read', leader: undefined, history: undefined, historyRevision: 0 };
const granted: LeaseResult = { ok: true, kind: 'acquired', leaseId: 'L1', term: 7, ttlMs: 2000 };

function holding(over: Partial<LeaseSettings> = {}): LeaseGuard {
  const g = new LeaseGuard(settings(over));
  g.handle({ type: 'vrrp', state: 'master' });
  g.handle({ type: 'local', facts: factsFixture() });
  answer(g, 0, 5, () => free);
  const r = answer(g, 10, 20, () => granted);
  assert.equal(r.type, 'acquire');
  return g;
}

describe('the lease guard (strict mode)', () => {
  it('derives the TTL from Master_Down_Interval in whole seconds, at least 2 s', () => {
    assert.equal(defaultLeaseTtlMs(400), 2000);
    assert.equal(defaultLeaseTtlMs(3600), 4000);
  });

  it('refuses writes as VRRP master until the lease is acquired, then allows them', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'master' });
    g.handle({ type: 'local', facts: factsFixture() });
    assert.equal(g.verdict(0).writes, 'refuse');
    assert.equal(answer(g, 0, 5, () => free).type, 'read');
    assert.equal(g.verdict(6).writes, 'refuse');
    const r = answer(g, 10, 20, () => granted);
    assert.ok(r.type === 'acquire');
    assert.equal(r.historyRevision, 0);
    assert.deepEqual(r.leader.history, [{ replId: 'aaaa', offset: 1000 }]);
    assert.deepEqual(g.verdict(21), { writes: 'allow', stepDown: false, why: 'holds the lease (term 7)' });
  });

  it('waits for the lease of another holder without stepping down, and reads again', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'master' });
    g.handle({ type: 'local', facts: factsFixture() });
    const other: ObservedLeader = { leaseId: 'L0', term: 3, record: { holder: 'b', advert: '192.0.2.12', redis: '192.0.2.12:6379', history: [] } };
    answer(g, 0, 5, () => ({ ok: true, kind: 'read', leader: other, history: undefined, historyRevision: 2 }));
    const v = g.verdict(10);
    assert.equal(v.writes, 'refuse');
    assert.equal(v.stepDown, false);
    assert.match(v.why, /held by b/);
    assert.equal(g.request(100), undefined);
    assert.equal(g.request(300)?.type, 'read');
  });

  it('fences at the deadline counted from the START of the last successful renew, and steps down once etcd may have expired it', () => {
    const g = holding();
    // The renew starts at 700 and is answered late, at 1500: the deadline counts from 700.
    const r = answer(g, 700, 1500, () => ({ ok: true, kind: 'renewed', ttlMs: 2000 }));
    assert.equal(r.type, 'renew');
    const deadline = fenceAtMs(700, 2000, 0.01, 200);
    assert.ok(deadline < 700 + 2000 - 200);
    // Every later renew fails.
    for (let t = 1400; t < deadline; t += 150) {
      const q = g.request(t);
      if (q === undefined) continue;
      g.handle({ type: 'started', id: q.id, nowMs: t });
      g.handle({ type: 'done', id: q.id, nowMs: t + 50, result: { ok: false, reason: 'error', detail: 'timeout' } });
    }
    assert.equal(g.verdict(deadline - 1).writes, 'allow');
    const v = g.verdict(deadline);
    assert.deepEqual([v.writes, v.stepDown], ['refuse', false]);
    assert.ok(g.nextDeadlineMs(1500) <= deadline);
    // The lease may still live on etcd until 700 + 2000 * 1.01^2 + 200: no use moving the VIP before.
    const expired = 700 + 2000 * 1.01 ** 2 + 200;
    assert.equal(g.verdict(expired - 1).stepDown, false);
    assert.ok(g.nextDeadlineMs(deadline) <= expired);
    assert.deepEqual([g.verdict(expired).writes, g.verdict(expired).stepDown], ['refuse', true]);
    assert.equal(g.counters.fenced, 1);
  });

  it("gives the fence deputy the holder's fence deadline, moved on by each renew, and none without a lease or past which the holder may write", () => {
    const none = new LeaseGuard(settings());
    none.handle({ type: 'vrrp', state: 'master' });
    assert.equal(none.deputyDeadlineMs(), undefined);
    const g = holding();
    // Acquired: the deadline counts from the start of the acquire (10).
    assert.equal(g.deputyDeadlineMs(), fenceAtMs(10, 2000, 0.01, 200));
    answer(g, 700, 760, () => ({ ok: true, kind: 'renewed', ttlMs: 2000 }));
    assert.equal(g.deputyDeadlineMs(), fenceAtMs(700, 2000, 0.01, 200));
    assert.equal(g.deputyDeadlineMs(), g.status(800).fenceAtMs);
    // A failed renew does not move it.
    answer(g, 1400, 1450, () => ({ ok: false, reason: 'error', detail: 'timeout' }));
    assert.equal(g.deputyDeadlineMs(), fenceAtMs(700, 2000, 0.01, 200));
    // Lost: etcd says the lease is gone; the agent refuses by itself.
    answer(g, 1560, 1570, () => ({ ok: false, reason: 'lease-not-found', detail: 'lease not found' }));
    assert.equal(g.status(1570).held, false);
    assert.equal(g.deputyDeadlineMs(), undefined);
    // on_loss "keep" and "embedded" let the holder write past the deadline: no deputy deadline.
    assert.equal(holding({ onLoss: 'keep' }).deputyDeadlineMs(), undefined);
    assert.equal(holding({ onLoss: 'embedded' }).deputyDeadlineMs(), undefined);
  });

  it('writes again when a renew succeeds after the fence (the lease was still alive)', () => {
    const g = holding();
    const deadline = fenceAtMs(10, 2000, 0.01, 200);
    assert.equal(g.verdict(deadline + 1).writes, 'refuse');
    answer(g, deadline + 1, deadline + 20, () => ({ ok: true, kind: 'renewed', ttlMs: 2000 }));
    assert.equal(g.verdict(deadline + 21).writes, 'allow');
  });

  it('drops the lease at once when etcd says it is not found', () => {
    const g = holding();
    answer(g, 700, 710, () => ({ ok: false, reason: 'lease-not-found' }));
    assert.equal(g.verdict(711).writes, 'refuse');
    assert.equal(g.status(711).held, false);
    assert.equal(g.counters.lost, 1);
  });

  it('keeps the priority of a host etcd does not answer lowered as a backup too, so it does not win VRRP back', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'backup' });
    // A backup reads too, every third of the TTL: whether etcd answers it.
    answer(g, 0, 5, () => free);
    assert.equal(g.request(100), undefined);
    assert.equal(g.verdict(100).stepDown, false);
    for (let t = 700; t < 2800; t += 700) answer(g, t, t + 10, () => ({ ok: false, reason: 'error', detail: 'timeout' }));
    const v = g.verdict(2100);
    assert.deepEqual([v.writes, v.stepDown], ['refuse', true]);
    assert.match(v.why, /etcd has not answered/);
    answer(g, 2800, 2810, () => free);
    assert.equal(g.verdict(2811).stepDown, false);
  });

  it('revokes the lease only once Redis refuses writes, renewing it until then (a frozen Redis cannot be told)', () => {
    const g = holding();
    g.handle({ type: 'vrrp', state: 'backup' });
    g.handle({ type: 'gate', closed: false });
    assert.equal(g.verdict(30).writes, 'refuse');
    assert.equal(g.request(30), undefined);
    // Our Redis does not confirm the gate closed (frozen, say) for many TTLs: the lease is kept
    // alive, so no other host can take it and start writing before ours refuses.
    for (let t = 700; t < 10_000; t += 700) {
      const r = answer(g, t, t + 10, () => ({ ok: true, kind: 'renewed', ttlMs: 2000 }));
      assert.equal(r.type, 'renew', `at ${t}`);
      assert.equal(g.status(t + 10).held, true);
      assert.equal(g.verdict(t + 10).writes, 'refuse');
    }
    g.handle({ type: 'gate', closed: true });
    const r = answer(g, 10_100, 10_105, () => ({ ok: true, kind: 'released' }));
    assert.equal(r.type, 'release');
    assert.equal(g.status(10_110).held, false);
  });

  it('reads again at once when the shell sees the leader key change (its watch), also when the change came during a read', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'master' });
    g.handle({ type: 'local', facts: factsFixture() });
    const other: ObservedLeader = { leaseId: 'L0', term: 3, record: { holder: 'b', advert: '192.0.2.12', redis: '192.0.2.12:6379', history: [] } };
    const held: LeaseResult = { ok: true, kind: 'read', leader: other, history: undefined, historyRevision: 2 };
    answer(g, 0, 5, () => held);
    assert.equal(g.request(50), undefined, 'the next read waits for its period');
    g.handle({ type: 'leader-changed' });
    // The key is gone now: the read goes out at once, and the lease is taken right after.
    assert.equal(answer(g, 51, 53, () => free).type, 'read');
    assert.equal(answer(g, 54, 60, () => granted).type, 'acquire');

    // A change while a read is out: its answer may predate the change, so it is read again at once.
    const h = new LeaseGuard(settings());
    h.handle({ type: 'vrrp', state: 'master' });
    h.handle({ type: 'local', facts: factsFixture() });
    const r = h.request(0);
    assert.equal(r?.type, 'read');
    if (!r) return;
    h.handle({ type: 'started', id: r.id, nowMs: 0 });
    h.handle({ type: 'leader-changed' });
    h.handle({ type: 'done', id: r.id, nowMs: 5, result: held });
    assert.equal(h.request(6)?.type, 'read');
  });

  it('a holder told its key changed reads it, and stops writing when the key is gone (deleted by hand)', () => {
    const g = holding();
    assert.equal(g.verdict(30).writes, 'allow');
    g.handle({ type: 'leader-changed' });
    const r = answer(g, 40, 45, () => free);
    assert.equal(r.type, 'read');
    assert.equal(g.status(46).held, false);
    assert.equal(g.verdict(46).writes, 'refuse');
    // Its own key, unchanged (the acquire's own put): it holds on.
    const h = holding();
    h.handle({ type: 'leader-changed' });
    const mine: ObservedLeader = { leaseId: 'L1', term: 7, record: { holder: 'a', advert: '192.0.2.11', redis: '192.0.2.11:6379', history: [] } };
    assert.equal(answer(h, 40, 45, () => ({ ok: true, kind: 'read', leader: mine, history: undefined, historyRevision: 3 })).type, 'read');
    assert.equal(h.status(46).held, true);
    assert.equal(h.verdict(46).writes, 'allow');
  });

  it("revokes a leftover lease of its own (a previous run killed) once the gate is reported closed; never another host's", () => {
    const mine: ObservedLeader = { leaseId: 'L9', term: 5, record: { holder: 'a', advert: '192.0.2.11', redis: '192.0.2.11:6379', history: [] } };
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'backup' });
    g.handle({ type: 'local', facts: factsFixture() });
    answer(g, 0, 5, () => ({ ok: true, kind: 'read', leader: mine, history: undefined, historyRevision: 2 }));
    // No report of the gate since this guard started: Redis may still take writes under it.
    assert.equal(g.request(10), undefined);
    g.handle({ type: 'gate', closed: false });
    assert.equal(g.request(20), undefined);
    g.handle({ type: 'gate', closed: true });
    const r = answer(g, 30, 35, () => ({ ok: true, kind: 'released' }));
    assert.ok(r.type === 'release' && r.leaseId === 'L9', JSON.stringify(r));
    assert.equal(g.counters.released, 1);
    // Then read again (the key is gone: a master would take it now).
    assert.equal(g.request(40)?.type, 'read');

    // The same holder name with another host's addresses is not ours: it is waited out.
    for (const other of [
      { ...mine, record: { holder: 'a', advert: '192.0.2.12', redis: '192.0.2.12:6379', history: [] } },
      { ...mine, record: { holder: 'b', advert: '192.0.2.11', redis: '192.0.2.11:6379', history: [] } },
      { ...mine, record: undefined },
    ]) {
      const h = new LeaseGuard(settings());
      h.handle({ type: 'vrrp', state: 'master' });
      h.handle({ type: 'gate', closed: true });
      answer(h, 0, 5, () => ({ ok: true, kind: 'read', leader: other, history: undefined, historyRevision: 2 }));
      for (let t = 10; t < 3000; t += 10) {
        const q = h.request(t);
        assert.notEqual(q?.type, 'release', JSON.stringify(other.record));
        if (q) {
          h.handle({ type: 'started', id: q.id, nowMs: t });
          h.handle({ type: 'done', id: q.id, nowMs: t + 1, result: { ok: true, kind: 'read', leader: other, history: undefined, historyRevision: 2 } });
        }
      }
    }
  });

  it('does not take the lease when our Redis is behind the recorded history, and steps down', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'vrrp', state: 'master' });
    g.handle({ type: 'local', facts: factsFixture({ role: 'replica', replOffset: 900 }) });
    const history: HistoryRecord = { holder: 'b', history: [{ replId: 'aaaa', offset: 950 }] };
    answer(g, 0, 5, () => ({ ok: true, kind: 'read', leader: undefined, history, historyRevision: 4 }));
    assert.equal(g.request(10), undefined);
    const v = g.verdict(10);
    assert.deepEqual([v.writes, v.stepDown], ['refuse', true]);
    assert.match(v.why, /behind the recorded 950/);
    // Caught up: it takes the lease with the history's revision in the compare.
    g.handle({ type: 'local', facts: factsFixture({ role: 'replica', replOffset: 960 }) });
    const r = g.request(300);
    assert.ok(r?.type === 'acquire');
    assert.equal(r.historyRevision, 4);
  });

  it('on_loss "keep": the holder keeps writing past its deadline; nobody else starts', () => {
    const g = holding({ onLoss: 'keep' });
    assert.equal(g.verdict(5000).writes, 'allow');
    const other = new LeaseGuard(settings({ onLoss: 'keep' }));
    other.handle({ type: 'vrrp', state: 'master' });
    assert.equal(other.verdict(0).writes, 'refuse');
    assert.equal(other.verdict(5000).writes, 'refuse');
  });

  it('on_loss "embedded": a master writes without the lease once etcd has been lost for a TTL', () => {
    const g = new LeaseGuard(settings({ onLoss: 'embedded' }));
    g.handle({ type: 'vrrp', state: 'master' });
    assert.equal(g.verdict(0).writes, 'refuse');
    assert.equal(g.verdict(2001).writes, 'allow');
  });

  it('counts an answer to no request as a bug of the shell', () => {
    const g = new LeaseGuard(settings());
    g.handle({ type: 'done', id: 42, nowMs: 0, result: free });
    g.handle({ type: 'started', id: 42, nowMs: 0 });
    assert.equal(g.counters.unexpected, 2);
  });
});

describe('the history rule for a new lease holder', () => {
  const rec = [{ replId: 'bbbb', offset: 2000 }, { replId: 'aaaa', offset: 1500 }];
  it('accepts the same history at or beyond the recorded offset', () => {
    assert.equal(coversHistory(factsFixture({ replId: 'bbbb', replOffset: 2000 }), rec).ok, true);
    assert.equal(coversHistory(factsFixture({ replId: 'bbbb', replOffset: 1999 }), rec).ok, false);
  });
  it('accepts a Redis promoted from the recorded history after all of it', () => {
    assert.equal(coversHistory(factsFixture({ replId: 'cccc', replId2: 'bbbb', secondReplOffset: 2001, replOffset: 2100 }), rec).ok, true);
    assert.equal(coversHistory(factsFixture({ replId: 'cccc', replId2: 'bbbb', secondReplOffset: 1900, replOffset: 2100 }), rec).ok, false);
  });
  it('refuses an older or unrelated history, and an empty Redis', () => {
    assert.equal(coversHistory(factsFixture({ replId: 'aaaa', replOffset: 5000 }), rec).ok, false);
    assert.equal(coversHistory(factsFixture({ replId: 'zzzz', replOffset: 0, keys: 0 }), rec).ok, false);
    assert.equal(coversHistory(undefined, rec).ok, false);
  });
  it('accepts a history two promotions on through the promotions the agent saw', () => {
    const seen = new Lineage();
    seen.observe(factsFixture({ replId: 'cccc', replId2: 'bbbb' }));
    seen.observe(factsFixture({ replId: 'dddd', replId2: 'cccc' }));
    const local = factsFixture({ replId: 'dddd', replId2: 'cccc', secondReplOffset: 2050, replOffset: 2100 });
    assert.equal(coversHistory(local, rec).ok, false);
    assert.equal(coversHistory(local, rec, seen).ok, true);
  });
  it('accepts anything when nothing was recorded yet', () => {
    assert.equal(coversHistory(factsFixture(), []).ok, true);
  });
  it('skips entries at offset 0 (no bytes): a fresh Redis that held the lease for a moment locks nobody out', () => {
    // At start two hosts were VRRP master at once; the loser took the lease with a Redis that had
    // never synced (a replid of its own at offset 0), then gave it up.
    const recorded = [{ replId: 'fresh', offset: 0 }, { replId: 'aaaa', offset: 20 }];
    assert.equal(coversHistory(factsFixture({ replId: 'aaaa', replOffset: 20 }), recorded).ok, true);
    assert.equal(coversHistory(factsFixture({ replId: 'aaaa', replOffset: 19 }), recorded).ok, false, 'the entry behind it still counts');
    assert.equal(coversHistory(factsFixture({ replId: 'other', replOffset: 0 }), [{ replId: 'fresh', offset: 0 }]).ok, true);
    // And such an entry is not recorded in the first place.
    assert.deepEqual(recordHistory([], factsFixture({ replId: 'fresh', replOffset: 0 })), []);
    const h = [{ replId: 'aaaa', offset: 20 }];
    assert.equal(recordHistory(h, factsFixture({ replId: 'fresh', replOffset: 0 })), h);
  });

  it('records a new replid in front and moves the newest offset on', () => {
    const h1 = recordHistory([], factsFixture({ replId: 'aaaa', replOffset: 10 }));
    const h2 = recordHistory(h1, factsFixture({ replId: 'aaaa', replOffset: 20 }));
    const h3 = recordHistory(h2, factsFixture({ replId: 'bbbb', replOffset: 25 }));
    assert.deepEqual(h3, [{ replId: 'bbbb', offset: 25 }, { replId: 'aaaa', offset: 20 }]);
    assert.equal(recordHistory(h3, factsFixture({ replId: 'bbbb', replOffset: 25 })), h3);
    // A master with replicas records what its best replica acknowledged: what a successor can have.
    const replicas = [{ ip: '198.51.100.11', port: 6379, state: 'online', offset: 27, lagS: 0 }, { ip: '198.51.100.12', port: 6379, state: 'online', offset: 29, lagS: 0 }];
    assert.deepEqual(recordHistory(h3, factsFixture({ replId: 'bbbb', replOffset: 40, replicas }))[0], { replId: 'bbbb', offset: 29 });
    // A Redis promoted from 'aaaa' after 20 covers it, through the recorded chain too.
    assert.equal(coversHistory(factsFixture({ replId: 'bbbb', replOffset: 30 }), h3).ok, true);
  });
});

// A simulated etcd and hosts with drifting clocks, random request latency, lost requests and
// answers, hosts cut from etcd, and VRRP electing one, two or no masters at random. Checked at
// every step: a host whose Redis write gate is open holds a lease etcd has not expired and the
// leader key is on it; never two open gates.
interface SimLease { expiresAtEtcdMs: number; readonly ttlMs: number }
class SimEtcd {
  rev = 1;
  readonly leases = new Map<string, SimLease>();
  leader: { leaseId: string; record: LeaderRecord; term: number } | undefined;
  history: { record: HistoryRecord; rev: number } | undefined;
  private leaseSeq = 0;
  constructor(readonly rate: number) {}
  now(realMs: number): number { return realMs * this.rate; }
  expire(realMs: number): void {
    const now = this.now(realMs);
    for (const [id, l] of this.leases) {
      if (l.expiresAtEtcdMs <= now) {
        this.leases.delete(id);
        if (this.leader?.leaseId === id) this.leader = undefined;
      }
    }
  }
  alive(leaseId: string, realMs: number): boolean {
    const l = this.leases.get(leaseId);
    return l !== undefined && l.expiresAtEtcdMs > this.now(realMs);
  }
  apply(r: LeaseRequest, realMs: number): LeaseResult {
    this.expire(realMs);
    switch (r.type) {
      case 'read':
        return { ok: true, kind: 'read', leader: this.leader && { leaseId: this.leader.leaseId, term: this.leader.term, record: this.leader.record }, history: this.history?.record, historyRevision: this.history?.rev ?? 0 };
      case 'acquire': {
        if (this.leader !== undefined) return { ok: false, reason: 'taken' };
        if ((this.history?.rev ?? 0) !== r.historyRevision) return { ok: false, reason: 'changed' };
        const ttlMs = Math.max(2000, r.ttlMs);
        const leaseId = `L${++this.leaseSeq}`;
        this.leases.set(leaseId, { expiresAtEtcdMs: this.now(realMs) + ttlMs, ttlMs });
        this.rev++;
        this.leader = { leaseId, record: r.leader, term: this.rev };
        this.history = { record: r.history, rev: this.rev };
        return { ok: true, kind: 'acquired', leaseId, term: this.rev, ttlMs };
      }
      case 'renew': {
        const l = this.leases.get(r.leaseId);
        if (l === undefined) return { ok: false, reason: 'lease-not-found' };
        l.expiresAtEtcdMs = this.now(realMs) + l.ttlMs;
        if (r.history !== undefined && this.leader?.leaseId === r.leaseId) this.history = { record: r.history, rev: ++this.rev };
        return { ok: true, kind: 'renewed', ttlMs: l.ttlMs };
      }
      case 'release':
        this.leases.delete(r.leaseId);
        if (this.leader?.leaseId === r.leaseId) this.leader = undefined;
        return { ok: true, kind: 'released' };
    }
  }
}

interface SimHost {
  readonly name: string;
  readonly guard: LeaseGuard;
  readonly rate: number;
  readonly offsetMs: number;
  vrrp: VrrpState;
  cut: boolean;
  gateOpen: boolean;
  /** Real time the gate closes (apply delay), when a refusal is being applied. */
  closingAtMs: number | undefined;
  /** The request in flight: real time it reaches etcd, then the answer's. */
  flight: { req: LeaseRequest; startLocalMs: number; arriveMs: number; answerMs: number; result: LeaseResult | undefined; lost: boolean } | undefined;
}

function simulate(seed: number, onLoss: OnLoss): { acquired: number; openMs: number } {
  const rnd = seededRandom(seed);
  const drift = 0.01;
  const applyMs = 200;
  const etcd = new SimEtcd(1 + (rnd() * 2 - 1) * drift);
  const hosts: SimHost[] = ['a', 'b', 'c'].map((name) => {
    const rate = 1 + (rnd() * 2 - 1) * drift;
    const guard = new LeaseGuard({ ttlMs: 2000, onLoss, maxDriftRatio: drift, applyMs, self: { holder: name, advert: name, redis: name } });
    guard.handle({ type: 'local', facts: factsFixture({ replOffset: 1000 }) });
    return { name, guard, rate, offsetMs: rnd() * 1e6, vrrp: 'backup', cut: false, gateOpen: false, closingAtMs: undefined, flight: undefined };
  });
  const maxLatencyMs = 50 + rnd() * 1500;
  const loss = rnd() * 0.3;
  const stepMs = 5;
  let acquired = 0;
  let openMs = 0;
  for (let t = 0; t < 30_000; t += stepMs) {
    // Faults: VRRP elects someone (or two, or nobody) now and then; hosts are cut from etcd.
    if (rnd() < stepMs / 1500) {
      const pick = rnd();
      for (const h of hosts) h.vrrp = 'backup';
      const a = hosts[Math.floor(rnd() * 3)];
      const b = hosts[Math.floor(rnd() * 3)];
      if (pick < 0.7 && a) a.vrrp = 'master';
      else if (pick < 0.85 && a && b) { a.vrrp = 'master'; b.vrrp = 'master'; }
      for (const h of hosts) h.guard.handle({ type: 'vrrp', state: h.vrrp });
    }
    if (rnd() < stepMs / 2500) {
      const h = hosts[Math.floor(rnd() * 3)];
      if (h) h.cut = !h.cut;
    }
    etcd.expire(t);
    for (const h of hosts) {
      const local = t * h.rate + h.offsetMs;
      const f = h.flight;
      if (f !== undefined) {
        if (f.result === undefined && t >= f.arriveMs && !f.lost) f.result = etcd.apply(f.req, t);
        const timedOut = local >= f.startLocalMs + f.req.timeoutMs;
        if (t >= f.answerMs && f.result !== undefined && !f.lost && !h.cut && !timedOut) {
          h.guard.handle({ type: 'done', id: f.req.id, nowMs: local, result: f.result });
          h.flight = undefined;
        } else if (timedOut) {
          h.guard.handle({ type: 'done', id: f.req.id, nowMs: local, result: { ok: false, reason: 'error', detail: 'timeout' } });
          h.flight = undefined;
        }
      }
      const v = h.guard.verdict(local);
      if (v.writes === 'allow') {
        h.gateOpen = true;
        h.closingAtMs = undefined;
        h.guard.handle({ type: 'gate', closed: false });
      } else if (h.gateOpen) {
        h.closingAtMs ??= t + rnd() * applyMs * 0.95;
        if (t >= h.closingAtMs) {
          h.gateOpen = false;
          h.closingAtMs = undefined;
          h.guard.handle({ type: 'gate', closed: true });
        }
      } else h.guard.handle({ type: 'gate', closed: true });
      if (h.flight === undefined) {
        const req = h.guard.request(local);
        if (req !== undefined) {
          h.guard.handle({ type: 'started', id: req.id, nowMs: local });
          const arriveMs = t + rnd() * maxLatencyMs;
          h.flight = { req, startLocalMs: local, arriveMs, answerMs: arriveMs + rnd() * maxLatencyMs, result: undefined, lost: h.cut || rnd() < loss };
          if (req.type === 'acquire') acquired++;
        }
      }
    }
    // The checks, at real time t.
    const open = hosts.filter((h) => h.gateOpen);
    if (onLoss === 'fence') {
      assert.ok(open.length <= 1, `seed ${seed}: ${open.map((h) => h.name).join(' and ')} acknowledge writes at ${t} ms`);
      for (const h of open) {
        const held = etcd.leader;
        const ok = held?.record.holder === h.name && etcd.alive(held.leaseId, t);
        assert.ok(ok, `seed ${seed}: ${h.name} acknowledges writes at ${t} ms without a live lease on etcd`);
      }
    }
    if (open.length > 0) openMs += stepMs;
  }
  for (const h of hosts) assert.equal(h.guard.counters.unexpected, 0, `seed ${seed}: ${h.name} got answers to no request`);
  return { acquired, openMs };
}

describe('the lease guard, simulated over random schedules', () => {
  const runs = Number(process.env.REDKEEP_LEASE_SCHEDULES ?? 200);
  it(`fences before etcd expires the lease and never lets two hosts write (${runs} schedules)`, () => {
    let acquired = 0;
    let openMs = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const r = simulate(seed, 'fence');
      acquired += r.acquired;
      openMs += r.openMs;
    }
    // Not vacuous: leases were taken and writes allowed for much of the time.
    assert.ok(acquired > runs, `acquisitions: ${acquired}`);
    assert.ok(openMs > runs * 30_000 * 0.05, `writable ${openMs} ms of ${runs * 30_000}`);
  });
});
