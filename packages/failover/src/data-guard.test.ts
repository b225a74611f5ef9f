import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataGuard, type DataGuardInput, LAG_SAMPLES, type PeerView, defaultQuorum } from './data-guard.js';
import { type ReplicationFacts, sameHistory } from './history.js';
import { RedisHosts } from './redis-hosts.js';

const FENCE = { host: '127.0.0.1', port: 1 };
const SETTINGS = { memberTimeoutMs: 200, quorum: 2, maxLinkDownMs: 5000, maxLagBytes: 1000, fence: FENCE, hosts: new RedisHosts({ members: ['192.0.2.11', '192.0.2.12', '192.0.2.13'] }) };
const M = { host: '192.0.2.13', port: 6379 };
/** A member that answered "just now", whatever the time of the call. */
const ANSWERED = Number.MAX_SAFE_INTEGER;

type Replica = ReplicationFacts['replicas'][number];

function facts(over: Partial<ReplicationFacts> = {}): ReplicationFacts {
  return {
    role: 'master',
    runId: 'r1',
    replOffset: 10_000,
    replId: 'aaaa',
    replId2: undefined,
    secondReplOffset: undefined,
    masterHost: undefined,
    masterPort: undefined,
    masterLinkUp: false,
    syncInProgress: false,
    replicas: [],
    keys: 10,
    ...over,
  };
}

const replica = (over: Partial<ReplicationFacts> = {}): ReplicationFacts =>
  facts({ role: 'replica', masterHost: M.host, masterPort: M.port, masterLinkUp: true, ...over });
const online = (ip: string, lagS = 0): Replica => ({ ip, port: 6379, state: 'online', offset: 10_000, lagS });
const peer = (address: string, reachable: boolean, f?: ReplicationFacts): PeerView => ({
  address,
  lastAnswerMs: reachable ? ANSWERED : undefined,
  redis: f ? 'up' : 'unknown',
  facts: f,
});
const answeredAt = (address: string, lastAnswerMs: number, f?: ReplicationFacts): PeerView => ({ address, lastAnswerMs, redis: f ? 'up' : 'unknown', facts: f });

function master(nowMs: number, local: ReplicationFacts | undefined, peers: PeerView[], more: Partial<DataGuardInput> = {}): DataGuardInput {
  return { nowMs, state: 'master', master: undefined, local, peers, advertisingMasters: [], fencedByUs: false, promotedByUs: true, ...more };
}
function backup(nowMs: number, local: ReplicationFacts | undefined, peers: PeerView[], m = M): DataGuardInput {
  return { nowMs, state: 'backup', master: m, local, peers, advertisingMasters: [], fencedByUs: false, promotedByUs: false };
}

describe('the default quorum', () => {
  it('is a majority of the voters (this host, the other members, the witnesses)', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => defaultQuorum(n)), [1, 2, 2, 3, 3]);
  });
});

describe('quorum and isolation (master)', () => {
  it('goes without quorum and refuses writes as soon as fewer than a quorum of members answered within the member timeout', () => {
    const g = new DataGuard(SETTINGS);
    const ok = g.evaluate(master(1000, facts({ replicas: [online('192.0.2.11')] }), [answeredAt('192.0.2.11', 900), answeredAt('192.0.2.12', 850)]));
    assert.equal(ok.quorum.ok, true);
    assert.equal(ok.writes, 'allow');
    const one = g.evaluate(master(1100, facts(), [answeredAt('192.0.2.11', 900), answeredAt('192.0.2.12', 850)]));
    assert.equal(one.quorum.ok, true, 'one member within 200 ms: 2 of 3');
    const none = g.evaluate(master(1101, facts(), [answeredAt('192.0.2.11', 900), answeredAt('192.0.2.12', 850)]));
    assert.equal(none.quorum.ok, false);
    assert.match(none.quorum.why, /only 1 of 3 members reachable \(2 needed/);
    assert.equal(none.ok, false);
    assert.equal(none.kind, 'isolated');
    assert.equal(none.writes, 'refuse');
  });

  it('tells a master which members came back in reach (a heal), once, and nothing on its first look or as a backup', () => {
    const g = new DataGuard(SETTINGS);
    const first = g.evaluate(master(1000, facts(), [answeredAt('192.0.2.11', 990), answeredAt('192.0.2.12', 500)]));
    assert.deepEqual(first.backInReach, [], 'the first look as master: becoming master announced the VIP');
    assert.deepEqual(g.evaluate(master(1050, facts(), [answeredAt('192.0.2.11', 1040), answeredAt('192.0.2.12', 500)])).backInReach, []);
    const healed = g.evaluate(master(1100, facts(), [answeredAt('192.0.2.11', 1090), answeredAt('192.0.2.12', 1095)]));
    assert.deepEqual(healed.backInReach, ['192.0.2.12']);
    assert.deepEqual(g.evaluate(master(1150, facts(), [answeredAt('192.0.2.11', 1140), answeredAt('192.0.2.12', 1145)])).backInReach, [], 'told once');
    const b = new DataGuard(SETTINGS);
    b.evaluate(backup(1000, replica(), [answeredAt('192.0.2.11', 500)]));
    assert.deepEqual(b.evaluate(backup(1100, replica(), [answeredAt('192.0.2.11', 1090)])).backInReach, []);
  });

  it('stays isolated once the members answer again, until a replica acknowledges and no other member advertises as master', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(master(0, facts(), [peer('192.0.2.11', false)]));
    const back = [peer('192.0.2.11', true, replica())];
    const v = g.evaluate(master(100, facts(), back));
    assert.equal(v.quorum.ok, true);
    assert.equal(v.kind, 'isolated', v.why);
    assert.equal(v.writes, 'refuse');
    const rival = g.evaluate(master(200, facts({ replicas: [online('192.0.2.11')] }), back, { advertisingMasters: ['192.0.2.12'] }));
    assert.equal(rival.writes, 'refuse', 'another router claims master: the other side may have elected one');
    const healed = g.evaluate(master(300, facts({ replicas: [online('192.0.2.11')] }), back));
    assert.equal(healed.ok, true);
    assert.equal(healed.writes, 'allow');
  });

  it('keeps the isolation when one local INFO goes unanswered (a slow Redis is no news)', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(master(0, facts(), [peer('192.0.2.11', false)]));
    const v = g.evaluate(master(100, undefined, [peer('192.0.2.11', true, replica())]));
    assert.equal(v.kind, 'isolated', v.why);
    assert.equal(g.evaluate(master(200, facts(), [peer('192.0.2.11', true, replica())])).writes, 'refuse', 'the latch held');
  });

  it('counts a replica only while its acknowledgements are fresh', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(master(0, facts(), [peer('192.0.2.11', false)]));
    const back = [peer('192.0.2.11', true)];
    // Still listed online (Redis notices a dead link only after repl-timeout) but silent.
    assert.equal(g.evaluate(master(100, facts({ replicas: [online('192.0.2.11', 30)] }), back)).writes, 'refuse');
    assert.equal(g.evaluate(master(200, facts({ replicas: [online('192.0.2.11', 1)] }), back)).writes, 'allow');
  });

  it('a single member (quorum 1) and the guard turned off are never isolated', () => {
    const lone = new DataGuard({ ...SETTINGS, quorum: 1 });
    assert.equal(lone.evaluate(master(0, facts(), [])).writes, 'allow');
    assert.equal(lone.evaluate(master(60_000, facts(), [peer('192.0.2.11', false)])).quorum.ok, true);
    const off = new DataGuard({ ...SETTINGS, memberTimeoutMs: 0 });
    const v = off.evaluate(master(60_000, facts(), [peer('192.0.2.11', false)]));
    assert.equal(v.ok, true);
    assert.equal(v.writes, 'allow');
  });

  it('takes a backup out of the running without quorum too: a minority never promotes', () => {
    const g = new DataGuard(SETTINGS);
    const v = g.evaluate(backup(0, replica(), [peer('192.0.2.11', false), peer(M.host, false)]));
    assert.equal(v.quorum.ok, false);
    assert.equal(g.evaluate(backup(100, replica(), [peer('192.0.2.11', true), peer(M.host, false)])).quorum.ok, true);
  });

  it('refuses writes on a Redis that is master while this host is not the VRRP master', () => {
    const g = new DataGuard(SETTINGS);
    assert.equal(g.evaluate(backup(0, facts(), [peer(M.host, true, facts({ replId: 'zzzz' }))])).writes, 'refuse');
    assert.equal(g.evaluate(backup(100, replica(), [peer(M.host, true, facts({ replId: 'zzzz' }))])).writes, 'allow', 'a replica refuses by itself');
  });
});

describe('superseded: replication history decides, not priority', () => {
  const successor = facts({ replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 9_001, replOffset: 12_000 });

  it('steps down when a member advertising as master has a Redis promoted from our history', () => {
    const g = new DataGuard(SETTINGS);
    const v = g.evaluate(master(0, facts(), [peer('192.0.2.12', true, successor)], { advertisingMasters: ['192.0.2.12'] }));
    assert.equal(v.kind, 'superseded');
    assert.equal(v.stepDown, true);
    assert.equal(v.supersededBy, '192.0.2.12');
    assert.equal(v.writes, 'refuse');
  });

  it('does not step down for a Redis promoted by hand on a member that is not advertising', () => {
    const g = new DataGuard(SETTINGS);
    const v = g.evaluate(master(0, facts({ replicas: [online('192.0.2.11')] }), [peer('192.0.2.12', true, successor)]));
    assert.equal(v.stepDown, false);
    assert.equal(v.writes, 'allow');
  });

  it('steps down when our Redis was made a replica of a member master, or fenced by someone else, while we are master', () => {
    const byMember = new DataGuard(SETTINGS).evaluate(master(0, replica({ masterHost: '192.0.2.12' }), [peer('192.0.2.12', true, successor)]));
    assert.equal(byMember.stepDown, true);
    assert.equal(byMember.supersededBy, '192.0.2.12');
    const fenced = replica({ masterHost: FENCE.host, masterPort: FENCE.port, masterLinkUp: false });
    assert.equal(new DataGuard(SETTINGS).evaluate(master(0, fenced, [peer('192.0.2.12', true)])).stepDown, true);
    assert.equal(new DataGuard(SETTINGS).evaluate(master(0, fenced, [peer('192.0.2.12', true)], { fencedByUs: true })).stepDown, false, 'our own fence (a hand-over)');
    const catchingUp = master(0, replica({ masterHost: '192.0.2.12' }), [peer('192.0.2.12', true, successor)], { promotedByUs: false });
    assert.equal(new DataGuard(SETTINGS).evaluate(catchingUp).stepDown, false, 'a takeover still catching up from the old master before its promotion');
  });

  it('stays superseded (priority lowered) until our Redis has resynced as a replica, also after stepping down', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(master(0, facts(), [peer('192.0.2.12', true, successor)], { advertisingMasters: ['192.0.2.12'] }));
    const after = g.evaluate(backup(100, facts(), [peer('192.0.2.12', true, successor)], { host: '192.0.2.12', port: 6379 }));
    assert.equal(after.kind, 'superseded');
    assert.equal(after.stepDown, false, 'only a master resigns');
    assert.equal(g.evaluate(backup(200, replica({ masterHost: '192.0.2.12', syncInProgress: true }), [], { host: '192.0.2.12', port: 6379 })).kind, 'superseded');
    const done = g.evaluate(backup(300, replica({ masterHost: '192.0.2.12', replId: 'bbbb' }), [], { host: '192.0.2.12', port: 6379 }));
    assert.equal(done.ok, true, done.why);
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

  it('is not in sync while the master lists us acknowledged but streams nothing yet (our first acknowledgement came too early), until our offset moves', () => {
    const g = new DataGuard(SETTINGS);
    const me = '192.0.2.11';
    // Right after a full sync at offset 3523: the master has 5196 and lists us online at 3523.
    const look = (nowMs: number, ours: number): DataGuardInput => ({
      ...backup(nowMs, replica({ replOffset: ours }), [peer(M.host, true, facts({ replOffset: 5196, replicas: [{ ip: me, port: 6379, state: 'online', offset: 3523, lagS: 0 }] }))]),
      self: me,
    });
    const v = g.evaluate(look(0, 3523));
    assert.equal(v.ok, false);
    assert.match(v.why, /no stream from it yet/);
    assert.equal(g.evaluate(look(300, 3523)).ok, false, 'still nothing streamed');
    assert.equal(g.evaluate(look(1100, 4000)).ok, true, 'the stream flows (our offset moved): in sync');
    // At the master's offset (an idle master): in sync at once.
    assert.equal(new DataGuard(SETTINGS).evaluate(look(0, 5196)).ok, true);
  });

  it('is not in sync after a full sync until the master has its first acknowledgement (it streams only after it)', () => {
    const g = new DataGuard(SETTINGS);
    const me = '192.0.2.11';
    const masterSees = (offset: number, state = 'online'): PeerView => peer(M.host, true, facts({ replicas: [{ ip: me, port: 6379, state, offset, lagS: 0 }] }));
    const at = (nowMs: number, p: PeerView): DataGuardInput => ({ ...backup(nowMs, replica(), [p]), self: me });
    const v = g.evaluate(at(0, masterSees(0)));
    assert.equal(v.ok, false);
    assert.match(v.why, /not yet in sync/);
    assert.equal(g.evaluate(at(100, masterSees(0, 'wait_bgsave'))).ok, false);
    assert.equal(g.evaluate(at(200, masterSees(9_990))).ok, true, 'acknowledged');
    // A new master with nothing written yet (offset 0 until its first PING, 10 s later) has nothing to stream.
    const idle = (nowMs: number): DataGuardInput => ({ ...backup(nowMs, replica({ replOffset: 0 }), [peer(M.host, true, facts({ replOffset: 0, replicas: [{ ip: me, port: 6379, state: 'online', offset: 0, lagS: 0 }] }))]), self: me });
    assert.equal(new DataGuard(SETTINGS).evaluate(idle(0)).ok, true, 'an idle new history: in sync');
    // A master that does not list us (another address) is no reason to wait for ever.
    assert.equal(new DataGuard(SETTINGS).evaluate({ ...backup(0, replica(), [peer(M.host, true, facts())]), self: me }).ok, true);
  });

  it('with peer_addresses, compares the master followed and the replicas it lists by Redis address', () => {
    const hosts = new RedisHosts({ members: ['192.0.2.11', '192.0.2.12', '192.0.2.13'], peerAddresses: { '192.0.2.11': '198.51.100.11', '192.0.2.12': '198.51.100.12', '192.0.2.13': '198.51.100.13' } });
    const g = new DataGuard({ ...SETTINGS, hosts });
    const me = '192.0.2.11';
    const mapped = { host: '198.51.100.13', port: 6379 };
    const masterSees = (ip: string, offset: number): PeerView => peer('192.0.2.13', true, facts({ replicas: [{ ip, port: 6379, state: 'online', offset, lagS: 0 }] }));
    const at = (nowMs: number, local: ReplicationFacts, p: PeerView): DataGuardInput => ({ ...backup(nowMs, local, [p], mapped), self: me });
    assert.equal(g.evaluate(at(0, replica({ masterHost: '198.51.100.13' }), masterSees('198.51.100.11', 0))).ok, false, 'listed, not acknowledged yet');
    assert.equal(g.evaluate(at(100, replica({ masterHost: '198.51.100.13' }), masterSees('198.51.100.11', 9_990))).ok, true, 'acknowledged at our Redis address');
    const other = new DataGuard({ ...SETTINGS, hosts });
    assert.equal(other.evaluate(at(0, replica({ masterHost: '192.0.2.13' }), masterSees('198.51.100.11', 9_990))).ok, false, 'following the advert address is not following the master');
    // A master whose Redis a member made its replica (at that member's Redis address) is superseded.
    const made = new DataGuard({ ...SETTINGS, hosts }).evaluate(master(0, replica({ masterHost: '198.51.100.12' }), [peer('192.0.2.12', true, facts())]));
    assert.equal(made.stepDown, true);
    assert.equal(made.supersededBy, '192.0.2.12');
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
    const gone: PeerView = { ...deadMaster, redis: 'down' };
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
    const v = g.evaluate({ nowMs: 0, state: 'backup', master: undefined, local: facts({ replId: 'old' }), peers, advertisingMasters: [], fencedByUs: false, promotedByUs: false });
    assert.ok(!v.ok && /192\.0\.2\.12/.test(v.why), v.why);
    assert.equal(g.evaluate({ nowMs: 100, state: 'backup', master: undefined, local: replica({ masterHost: '192.0.2.12' }), peers, advertisingMasters: [], fencedByUs: false, promotedByUs: false }).ok, true);
  });

  it('at start, waits for the known peers to be read before trusting that none is master', () => {
    const g = new DataGuard(SETTINGS);
    const unread = [peer('192.0.2.12', true)];
    const at = (nowMs: number, peers: PeerView[]): DataGuardInput => ({ nowMs, state: 'backup', master: undefined, local: facts(), peers, advertisingMasters: [], fencedByUs: false, promotedByUs: false });
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
