import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RedisFacts, ReplicaInfo } from '@redkeep/redis';
import { DataGuard, type DataGuardInput, LAG_SAMPLES, type PeerView, sameHistory } from './data-guard.js';

const SETTINGS = { isolationTimeoutMs: 5000, maxLinkDownMs: 5000, maxLagBytes: 1000 };
const M = { host: '192.0.2.13', port: 6379 };

function facts(over: Partial<RedisFacts> = {}): RedisFacts {
  return {
    role: 'master',
    runId: 'r1',
    replOffset: 10_000,
    replId: 'aaaa',
    replId2: undefined,
    masterHost: undefined,
    masterPort: undefined,
    masterLinkUp: false,
    masterLinkDownS: undefined,
    replicaOffset: undefined,
    syncInProgress: false,
    replicas: [],
    keys: 10,
    uptimeS: 100,
    ...over,
  };
}

const replica = (over: Partial<RedisFacts> = {}): RedisFacts =>
  facts({ role: 'replica', masterHost: M.host, masterPort: M.port, masterLinkUp: true, replicaOffset: 10_000, ...over });
const online = (ip: string, lagS = 0): ReplicaInfo => ({ ip, port: 6379, state: 'online', offset: 10_000, lagS });
const peer = (address: string, reachable: boolean, f?: RedisFacts): PeerView => ({ address, reachable, facts: f });

function master(nowMs: number, local: RedisFacts | undefined, peers: PeerView[]): DataGuardInput {
  return { nowMs, state: 'master', master: undefined, local, peers };
}
function backup(nowMs: number, local: RedisFacts | undefined, peers: PeerView[], m = M): DataGuardInput {
  return { nowMs, state: 'backup', master: m, local, peers };
}

describe('isolation guard (master)', () => {
  it('fails once no replica acknowledges and no peer answers for longer than the timeout', () => {
    const g = new DataGuard(SETTINGS);
    const down = [peer('192.0.2.11', false), peer('192.0.2.12', false)];
    assert.equal(g.evaluate(master(0, facts({ replicas: [online('192.0.2.11')] }), down)).ok, true);
    assert.equal(g.evaluate(master(1000, facts({ replicas: [online('192.0.2.11')] }), down)).ok, true);
    assert.equal(g.evaluate(master(5999, facts(), down)).ok, true);
    const v = g.evaluate(master(6001, facts(), down));
    assert.equal(v.ok, false);
    assert.ok(!v.ok && v.kind === 'isolated' && /5001 ms/.test(v.why), v.why);
  });

  it('stays isolated when a peer answers again, until a replica acknowledges or the host steps down', () => {
    const g = new DataGuard(SETTINGS);
    const down = [peer('192.0.2.11', false)];
    g.evaluate(master(0, facts(), down));
    assert.equal(g.evaluate(master(6000, facts(), down)).ok, false);
    // The partition heals: the peer answers, but the other side may have a master of its own.
    const back = [peer('192.0.2.11', true, facts())];
    const v = g.evaluate(master(6100, facts(), back));
    assert.ok(!v.ok && v.kind === 'isolated', v.why);
    assert.equal(g.evaluate(master(6200, facts({ replicas: [online('192.0.2.11')] }), back)).ok, true, 'a replica follows us again');
    // and the window starts again from there
    assert.equal(g.evaluate(master(11_000, facts(), down)).ok, true);
    assert.equal(g.evaluate(master(11_300, facts(), down)).ok, false);
    // stepping down ends it too
    g.evaluate(backup(11_400, replica(), back));
    assert.equal(g.evaluate(master(11_500, facts(), back)).ok, true);
  });

  it('counts a replica only while its acknowledgements are fresh', () => {
    const g = new DataGuard(SETTINGS);
    const down = [peer('192.0.2.11', false)];
    g.evaluate(master(0, facts(), down));
    // Still listed online (Redis notices a dead link only after repl-timeout) but silent.
    assert.equal(g.evaluate(master(6000, facts({ replicas: [online('192.0.2.11', 30)] }), down)).ok, false);
    assert.equal(g.evaluate(master(6100, facts({ replicas: [online('192.0.2.11', 1)] }), down)).ok, true);
  });

  it('does not apply to a standalone master (no peer ever known), when off, or when Redis is not master', () => {
    assert.equal(new DataGuard(SETTINGS).evaluate(master(0, facts(), [])).ok, true);
    const lone = new DataGuard(SETTINGS);
    lone.evaluate(master(0, facts(), []));
    assert.equal(lone.evaluate(master(60_000, facts(), [])).ok, true);
    const off = new DataGuard({ ...SETTINGS, isolationTimeoutMs: 0 });
    off.evaluate(master(0, facts(), [peer('192.0.2.11', false)]));
    assert.equal(off.evaluate(master(60_000, facts(), [peer('192.0.2.11', false)])).ok, true);
    const fenced = new DataGuard(SETTINGS);
    fenced.evaluate(master(0, facts(), [peer('192.0.2.11', false)]));
    assert.equal(fenced.evaluate(master(60_000, replica(), [peer('192.0.2.11', false)])).ok, true);
  });

  it('starts the window again each time the host becomes master', () => {
    const g = new DataGuard(SETTINGS);
    const down = [peer('192.0.2.11', false)];
    g.evaluate(master(0, facts(), down));
    g.evaluate(backup(1000, replica(), []));
    assert.equal(g.evaluate(master(50_000, facts(), down)).ok, true, 'silent since 0 but master only since 50 s');
    assert.equal(g.evaluate(master(54_000, facts(), down)).ok, true);
    assert.equal(g.evaluate(master(55_001, facts(), down)).ok, false);
  });
});

describe('stale replica guard (backup)', () => {
  it('fails until the replica has been in sync with the master it follows', () => {
    const g = new DataGuard(SETTINGS);
    const v = g.evaluate(backup(0, replica({ masterLinkUp: false }), []));
    assert.ok(!v.ok && v.kind === 'stale' && /not yet in sync/.test(v.why), v.why);
    assert.equal(g.evaluate(backup(100, replica({ syncInProgress: true }), [])).ok, false);
    assert.equal(g.evaluate(backup(200, facts(), [])).ok, false, 'still a master of its own');
    assert.equal(g.evaluate(backup(300, replica(), [])).ok, true);
  });

  it('fails again for a new master until in sync with that one', () => {
    const g = new DataGuard(SETTINGS);
    assert.equal(g.evaluate(backup(0, replica(), [])).ok, true);
    const other = { host: '192.0.2.12', port: 6379 };
    assert.equal(g.evaluate(backup(100, replica(), [], other)).ok, false);
    assert.equal(g.evaluate(backup(200, replica({ masterHost: other.host }), [], other)).ok, true);
  });

  it('tolerates a short link loss (a failover) but not one longer than the bound', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(backup(0, replica(), []));
    const fenced = replica({ masterHost: '127.0.0.1', masterPort: 1, masterLinkUp: false });
    assert.equal(g.evaluate(backup(400, fenced, [])).ok, true);
    assert.equal(g.evaluate(backup(4999, fenced, [])).ok, true);
    const v = g.evaluate(backup(5001, fenced, []));
    assert.ok(!v.ok && /down for 5001 ms/.test(v.why), v.ok ? '' : v.why);
    assert.equal(g.evaluate(backup(5100, replica(), [])).ok, true);
  });

  it('fails when its offset stays far behind a reachable peer with the same history', () => {
    const g = new DataGuard(SETTINGS);
    const ahead = peer('192.0.2.11', true, replica({ replOffset: 12_000 }));
    g.evaluate(backup(0, replica(), []));
    for (let k = 1; k < LAG_SAMPLES; k++) assert.equal(g.evaluate(backup(k * 250, replica(), [ahead])).ok, true, 'one sample is not enough');
    const v = g.evaluate(backup(LAG_SAMPLES * 250, replica(), [ahead]));
    assert.ok(!v.ok && /2000 bytes behind 192\.0\.2\.11/.test(v.why), v.ok ? '' : v.why);
    // Within the bound, unreachable, or another history: no verdict against us.
    assert.equal(g.evaluate(backup(2000, replica(), [peer('192.0.2.11', true, replica({ replOffset: 10_900 }))])).ok, true);
    for (const p of [peer('192.0.2.11', false, replica({ replOffset: 99_000 })), peer('192.0.2.11', true, replica({ replOffset: 99_000, replId: 'bbbb' }))]) {
      for (let k = 0; k < LAG_SAMPLES + 1; k++) assert.equal(g.evaluate(backup(3000 + k, replica(), [p])).ok, true);
    }
  });

  it('with the master gone, never in sync with it is no reason to defer: the frozen offsets decide, to the byte', () => {
    // Both replicas had just started following when the master's Redis died (before any look).
    const deadMaster = peer(M.host, true);
    const gone = { ...deadMaster, redis: 'down' as const };
    const h2 = peer('192.0.2.12', true, replica({ replOffset: 10_057, masterHost: '127.0.0.1', masterPort: 1, masterLinkUp: false }));
    const behind = replica({ replOffset: 10_001, masterHost: '127.0.0.1', masterPort: 1, masterLinkUp: false });
    const v = new DataGuard(SETTINGS).evaluate(backup(0, behind, [gone, h2]));
    assert.ok(!v.ok && /56 bytes behind 192\.0\.2\.12 \(the master .* is gone\)/.test(v.why), v.ok ? v.why : v.why);
    const ahead = replica({ replOffset: 10_057, masterHost: '127.0.0.1', masterPort: 1, masterLinkUp: false });
    const w = new DataGuard(SETTINGS).evaluate(backup(0, ahead, [gone, peer('192.0.2.11', true, behind)]));
    assert.ok(w.ok && /gone/.test(w.why), w.why);
    // Silent (its host is down) counts as gone too; a master still starting up does not.
    assert.equal(new DataGuard(SETTINGS).evaluate(backup(0, ahead, [peer(M.host, false), peer('192.0.2.11', true, behind)])).ok, true);
    assert.equal(new DataGuard(SETTINGS).evaluate(backup(0, ahead, [{ ...deadMaster, redis: 'unknown' }])).ok, false);
  });

  it('compares offsets among replicas only: the master is always ahead by what is in flight', () => {
    const g = new DataGuard(SETTINGS);
    const m = peer(M.host, true, facts({ replOffset: 5_000_000 }));
    for (let k = 0; k < LAG_SAMPLES + 2; k++) assert.equal(g.evaluate(backup(k * 250, replica(), [m])).ok, true);
  });

  it('is stale at once while a full resync runs, and again after its Redis restarted', () => {
    const g = new DataGuard(SETTINGS);
    assert.equal(g.evaluate(backup(0, replica(), [])).ok, true);
    const v = g.evaluate(backup(100, replica({ syncInProgress: true }), []));
    assert.ok(!v.ok && /full resync/.test(v.why), v.why);
    assert.equal(g.evaluate(backup(200, replica(), [])).ok, true);
    // Restarted (new run_id), not yet linked: it must prove itself again, at once.
    const w = g.evaluate(backup(300, replica({ runId: 'r2', masterLinkUp: false }), []));
    assert.ok(!w.ok && /not yet in sync/.test(w.why), w.why);
    assert.equal(g.evaluate(backup(400, replica({ runId: 'r2' }), [])).ok, true);
  });

  it('without a master from VRRP, follows a reachable peer whose Redis is master (a preempting host never hears the lower master)', () => {
    const g = new DataGuard(SETTINGS);
    const peers = [peer('192.0.2.12', true, facts()), peer('192.0.2.11', true, replica({ masterHost: '192.0.2.12' }))];
    const v = g.evaluate({ nowMs: 0, state: 'backup', master: undefined, local: facts({ replId: 'old' }), peers });
    assert.ok(!v.ok && /192\.0\.2\.12/.test(v.why), v.why);
    assert.equal(g.evaluate({ nowMs: 100, state: 'backup', master: undefined, local: replica({ masterHost: '192.0.2.12' }), peers }).ok, true);
  });

  it('at start, waits for the known peers to be read before trusting that none is master', () => {
    const g = new DataGuard(SETTINGS);
    const unread = [peer('192.0.2.12', true)];
    const at = (nowMs: number, peers: PeerView[]): DataGuardInput => ({ nowMs, state: 'backup', master: undefined, local: facts(), peers });
    const v = g.evaluate(at(0, unread));
    assert.ok(!v.ok && /not read yet/.test(v.why), v.why);
    assert.equal(g.evaluate(at(1000, [peer('192.0.2.12', true, replica({ masterHost: '127.0.0.1', masterPort: 1 }))])).ok, true, 'read: not a master');
    assert.equal(g.evaluate(at(1500, unread)).ok, false);
    assert.equal(g.evaluate(at(2500, unread)).ok, true, 'bounded: a peer that never answers INFO does not block forever');
    assert.equal(new DataGuard(SETTINGS).evaluate(at(0, [peer('192.0.2.12', false)])).ok, true, 'unreachable peers are not waited for');
  });

  it('compares offsets across a promotion (replid2) but not across unrelated histories', () => {
    const a = facts({ replId: 'aaaa' });
    assert.equal(sameHistory(a, facts({ replId: 'bbbb', replId2: 'aaaa' })), true);
    assert.equal(sameHistory(facts({ replId: 'bbbb', replId2: 'aaaa' }), a), true);
    assert.equal(sameHistory(a, facts({ replId: 'cccc', replId2: 'dddd' })), false);
    assert.equal(sameHistory(a, facts({ replId: undefined })), false);
  });
});
