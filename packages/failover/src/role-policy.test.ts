import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicationFacts } from './history.js';
import { FRESH_MASTER_MS, type RoleStep, RolePolicy } from './role-policy.js';
import { factsFixture } from './facts-fixture.js';
import { RedisHosts } from './redis-hosts.js';

const FENCE = { host: '127.0.0.1', port: 1 };
const MEMBERS = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
/** A replication network: each member's Redis at 198.51.100.x. */
const REPL = new RedisHosts({ members: MEMBERS, peerAddresses: { '192.0.2.11': '198.51.100.11', '192.0.2.12': '198.51.100.12', '192.0.2.13': '198.51.100.13' } });

function policy(hosts = new RedisHosts({ members: MEMBERS })): RolePolicy {
  return new RolePolicy({ manageRole: true, peerPort: 6379, fence: FENCE, catchUpWaitMs: 700, hosts });
}

const f = factsFixture;

const replicaOf = (host: string, over: Partial<ReplicationFacts> = {}): ReplicationFacts => f({ role: 'replica', masterHost: host, masterPort: 6379, masterLinkUp: true, ...over });
const fenced = (over: Partial<ReplicationFacts> = {}): ReplicationFacts => f({ role: 'replica', masterHost: FENCE.host, masterPort: FENCE.port, ...over });
const types = (s: RoleStep[]): string[] => s.filter((x) => x.type !== 'log').map((x) => x.type);

describe('role policy: what our Redis should be, one step at a time', () => {
  it('promotes once elected, and remembers the history it created', () => {
    const p = policy();
    p.vrrp('master', undefined);
    assert.deepEqual(p.promote(f({ role: 'replica', masterHost: FENCE.host, masterPort: 1 })), { type: 'promote', fence: [] });
    p.promoted(undefined, false);
    assert.deepEqual(types(p.reconcile({ nowMs: 0, local: fenced() })), ['promote']);
    p.promotedTo(f({ replId: 'new1' }));
    assert.equal(p.promotedByUs(), true);
    assert.deepEqual(p.reconcile({ nowMs: 1, local: f({ replId: 'new1' }) }), []);
  });

  it('takes the last writes of a live master before promoting', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.11');
    p.vrrp('master', undefined);
    assert.deepEqual(p.promote(replicaOf('192.0.2.11')), { type: 'catch-up', host: '192.0.2.11', member: '192.0.2.11', port: 6379, follow: false, why: 'our Redis replicates from it', fence: [] });
    // Found fenced already by someone else: wait for VRRP to settle, unless it was handed over.
    assert.equal(p.promoted('already-fenced', false), true);
    assert.equal(p.promoted('already-fenced', true), false);
  });

  it('before promoting, follows and catches up from a member master with data ours lacks', () => {
    const p = policy();
    p.vrrp('master', undefined);
    const plan = p.promote(fenced({ keys: 0, replOffset: 0, replId: 'empty' }), { answered: [{ address: '192.0.2.12', facts: f({ replId: 'xxxx', replOffset: 7, keys: 1 }) }], quorum: 2, maxLagBytes: 0 });
    assert.equal(plan.type === 'catch-up' && plan.follow && plan.host, '192.0.2.12');
    // A member master behind ours (same history) is not followed: it is fenced, ours promoted.
    assert.deepEqual(p.promote(f({ role: 'replica', masterHost: FENCE.host, masterPort: 1 }), { answered: [{ address: '192.0.2.12', facts: f({ replOffset: 10 }) }], quorum: 2, maxLagBytes: 0 }), { type: 'promote', fence: ['192.0.2.12'] });
  });

  it('does not wait for a master that is known to be out of reach (a crashed host)', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.11');
    p.vrrp('master', undefined);
    const members = { answered: [{ address: '192.0.2.13', facts: replicaOf('192.0.2.11') }], quorum: 2, maxLagBytes: 0, silent: [{ address: '192.0.2.11', silentForMs: 340, wasMaster: true }], isolationBoundMs: 250 };
    assert.deepEqual(p.promote(replicaOf('192.0.2.11'), members), { type: 'promote', fence: [] });
    const unknown = { ...members, silent: [] };
    assert.equal(p.promote(replicaOf('192.0.2.11'), unknown).type, 'catch-up', 'one not known to be silent is tried');
    // Silent for 100 ms only (a partition's first moments): it may still take writes for 150 ms.
    const fresh = { ...members, silent: [{ address: '192.0.2.11', silentForMs: 100, wasMaster: true }] };
    assert.deepEqual(p.promote(replicaOf('192.0.2.11'), fresh).type, 'wait');
    assert.equal((p.promote(replicaOf('192.0.2.11'), fresh) as { ms: number }).ms, 150);
  });

  it('with the master gone, takes the last bytes of a replica ahead of ours, or gives way to it when it cannot pass them on', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.11');
    p.vrrp('master', undefined);
    const ours = replicaOf('192.0.2.11', { masterLinkUp: false, replOffset: 1049 });
    const members = (linkUp: boolean) => ({ answered: [{ address: '192.0.2.12', facts: replicaOf('192.0.2.11', { masterLinkUp: linkUp, replOffset: 1050 }) }], quorum: 2, maxLagBytes: 0, silent: [{ address: '192.0.2.11', silentForMs: 5000, wasMaster: true }], isolationBoundMs: 250 });
    const served = p.promote(ours, members(true));
    assert.ok(served.type === 'catch-up' && served.fromReplica && served.host === '192.0.2.12', 'its link to the master is up (a host cut off): it serves PSYNC');
    // Its master's process is gone: it answers NOMASTERLINK to a SYNC; waiting for it is useless.
    const plan = p.promote(ours, members(false));
    assert.equal(plan.type, 'behind');
  });

  it('after a takeover, makes the previous master\'s Redis follow ours: fenced, still master, or left following a router that held the role a moment before us', () => {
    const p = policy();
    p.selfAddress = '192.0.2.12';
    const ours = f({ replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 1001, replOffset: 1200 });
    assert.equal(p.peerAfterTakeover(fenced(), ours), 'follow-us');
    assert.equal(p.peerAfterTakeover(f(), ours), 'follow-us', 'a master of the history ours succeeds');
    assert.equal(p.peerAfterTakeover(replicaOf('192.0.2.11', { replId: 'bbbb', replOffset: 1100 }), ours), 'follow-us', 'a replica of h1, which held the role before us');
    assert.equal(p.peerAfterTakeover(replicaOf('192.0.2.12', { replId: 'bbbb' }), ours), 'none', 'ours already');
    // A replica is a copy: it follows the elected master whatever its history (as its own agent would make it).
    assert.equal(p.peerAfterTakeover(replicaOf('192.0.2.11', { replId: 'zzzz', replOffset: 5000 }), ours), 'follow-us');
    assert.equal(p.peerAfterTakeover(f({ replId: 'zzzz', replOffset: 5000 }), ours), 'fence', 'a master ahead in another history: fenced, not followed');
  });

  it('does not promote without a quorum of members answering just now', () => {
    const p = policy();
    p.vrrp('master', undefined);
    assert.equal(p.promote(fenced(), { answered: [], quorum: 2, maxLagBytes: 0 }).type, 'no-quorum');
    assert.equal(p.promote(fenced(), { answered: [{ address: '192.0.2.12', facts: replicaOf('192.0.2.11') }], quorum: 2, maxLagBytes: 0 }).type, 'promote');
  });

  it('reads the target fresh before following, and follows a master of our history ahead of us', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.11');
    const local = replicaOf('192.0.2.12', { replOffset: 900 });
    assert.deepEqual(p.reconcile({ nowMs: 0, local }), [{ type: 'read-target', host: '192.0.2.11', port: 6379 }]);
    const s = p.reconcile({ nowMs: 0, local, target: f({ replOffset: 1000 }) });
    assert.deepEqual(types(s), ['follow', 'look-again']);
  });

  it('never follows an unrelated history, and says so once', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(f());
    p.promoted(undefined, false);
    p.promotedTo(f());
    p.vrrp('backup', '192.0.2.11');
    const stranger = f({ replId: 'zzzz', replOffset: 10 });
    const first = p.reconcile({ nowMs: 0, local: f(), target: stranger });
    assert.deepEqual(types(first), ['look-again']);
    assert.equal(first.filter((x) => x.type === 'log').length, 1);
    const second = p.reconcile({ nowMs: 10, local: f(), target: stranger });
    assert.equal(second.filter((x) => x.type === 'log').length, 0);
  });

  it('looks again soon at a new master whose Redis is not master yet (still promoting): it takes writes only once one follows it', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.12');
    const wait = (nowMs: number, target: ReplicationFacts | 'unreachable'): number | undefined => {
      const step = p.reconcile({ nowMs, local: fenced(), target }).find((x) => x.type === 'look-again');
      return step?.type === 'look-again' ? step.inMs : undefined;
    };
    // Its first second: often (not read yet, then not promoted yet); then calmly.
    assert.equal(wait(0, 'unreachable'), 5);
    assert.equal(wait(3, replicaOf('192.0.2.13')), 10);
    assert.equal(wait(FRESH_MASTER_MS - 1, replicaOf('192.0.2.13')), 10);
    assert.equal(wait(FRESH_MASTER_MS, replicaOf('192.0.2.13')), 100);
    assert.equal(wait(FRESH_MASTER_MS + 1, 'unreachable'), 20);
  });

  it('fences a stale master that our elected history succeeds, instead of following it', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(undefined);
    p.promoted(undefined, false);
    const ours = f({ replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 901, replOffset: 1500 });
    p.promotedTo(ours);
    p.vrrp('backup', '192.0.2.11');
    // Read the target first, and wait while it may still be catching up from ours.
    const older = f({ replId: 'aaaa', replOffset: 950 });
    const s = p.reconcile({ nowMs: 2000, local: ours, target: older });
    assert.deepEqual(types(s), ['fence-target', 'look-again']);
    assert.deepEqual(types(p.reconcile({ nowMs: 2100, local: ours, target: older })), ['look-again']);
  });

  it('waits, bounded, while a new master still replicates from ours (a preemption catching up)', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(undefined);
    p.promoted(undefined, false);
    p.promotedTo(f());
    p.vrrp('backup', '192.0.2.11');
    const catching = replicaOf('192.0.2.10');
    assert.deepEqual(types(p.reconcile({ nowMs: 0, local: f(), target: catching })), ['look-again']);
    assert.deepEqual(types(p.reconcile({ nowMs: 600, local: f(), target: catching })), ['look-again']);
    // Past the bound, the history gate decides (it is not a master: not followed).
    assert.deepEqual(types(p.reconcile({ nowMs: 800, local: f(), target: catching })), ['look-again']);
    assert.equal(p.reconcile({ nowMs: 800, local: f(), target: catching }).some((x) => x.type === 'follow'), false);
  });

  it('fences a Redis that restarts on the master, never promotes it, and lifts the fence after a resync', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(undefined);
    p.promoted(undefined, false);
    p.reconcile({ nowMs: 0, local: f({ runId: 'r1' }) });
    p.localDown();
    const s = p.reconcile({ nowMs: 10, local: f({ runId: 'r2', keys: 0, replOffset: 0 }) });
    assert.deepEqual(types(s), ['safety', 'fence']);
    assert.deepEqual(p.promote(fenced()), { type: 'refuse', why: 'redis was fenced after a restart on the master' });
    p.vrrp('backup', '192.0.2.11');
    assert.deepEqual(types(p.reconcile({ nowMs: 20, local: fenced({ runId: 'r2', keys: 0, replOffset: 0 }), target: f({ replId: 'cccc' }) })), ['follow', 'look-again']);
    const lifted = p.reconcile({ nowMs: 30, local: replicaOf('192.0.2.11', { runId: 'r2', replId: 'cccc' }) });
    assert.deepEqual(types(lifted), ['safety']);
    assert.equal(p.fencedByUs(), false);
  });

  it('resigns, once, when someone else made our master Redis a replica', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(undefined);
    p.promoted(undefined, false);
    p.promotedTo(f());
    assert.deepEqual(types(p.reconcile({ nowMs: 0, local: replicaOf('192.0.2.12') })), ['resign']);
    assert.deepEqual(p.reconcile({ nowMs: 5, local: replicaOf('192.0.2.12') }), []);
  });

  it('fences while the followed master is lost, follows again when it is back unchanged', () => {
    const p = policy();
    p.vrrp('backup', '192.0.2.11');
    p.targetUp('192.0.2.11', 6379, 'm1');
    assert.deepEqual(types(p.targetDown('192.0.2.11', 6379, 0)), ['fence']);
    assert.equal(p.fencedByUs(), true);
    assert.deepEqual(types(p.reconcile({ nowMs: 1, local: replicaOf('192.0.2.11') })), ['fence']);
    assert.equal(p.targetUp('192.0.2.11', 6379, 'other'), false, 'a restarted master is not followed again');
    assert.equal(p.targetUp('192.0.2.11', 6379, 'm1'), true);
    assert.equal(p.fencedByUs(), false);
  });

  it("a takeover's catch-up owns our Redis: losing the master followed before the election fences nothing meanwhile", () => {
    const p = policy();
    // Followed 192.0.2.12; the takeover (still queued behind the election) catches up from 192.0.2.11.
    p.vrrp('backup', '192.0.2.12');
    p.targetUp('192.0.2.12', 6379, 'm2');
    p.catchUpFollows();
    assert.deepEqual(p.targetDown('192.0.2.12', 6379, 0), [], 'the dead former master is not a reason to fence');
    assert.deepEqual(p.reconcile({ nowMs: 1, local: replicaOf('192.0.2.11') }), [], 'no drift correction back to 192.0.2.12');
    assert.equal(p.fencedByUs(), false);
    p.catchUpEnded();
    assert.deepEqual(types(p.targetDown('192.0.2.12', 6379, 2)), ['fence'], 'outside a catch-up the rule holds');
  });

  it('a superseded master is not promoted by drift correction until elected again', () => {
    const p = policy();
    p.vrrp('master', undefined);
    p.promote(undefined);
    p.promoted(undefined, false);
    p.promotedTo(f());
    assert.equal(p.supersede('192.0.2.12', 0), true);
    assert.equal(p.desired, undefined);
    assert.deepEqual(p.reconcile({ nowMs: 0, local: fenced() }), []);
    assert.equal(p.promotedByUs(), false);
  });

  it('with peer_addresses, follows the master at its Redis address and reads INFO\'s master_host against it', () => {
    const p = policy(REPL);
    p.vrrp('backup', '192.0.2.11');
    assert.deepEqual(p.desired, { role: 'replica', host: '198.51.100.11', port: 6379 });
    assert.deepEqual(p.following(), { host: '198.51.100.11', port: 6379 });
    assert.deepEqual(p.reconcile({ nowMs: 0, local: replicaOf('192.0.2.12') }), [{ type: 'read-target', host: '198.51.100.11', port: 6379 }]);
    const s = p.reconcile({ nowMs: 0, local: replicaOf('192.0.2.12', { replOffset: 900 }), target: f({ replOffset: 1000 }) });
    assert.ok(s.some((x) => x.type === 'follow' && x.host === '198.51.100.11'), 'REPLICAOF the Redis address');
    assert.deepEqual(p.reconcile({ nowMs: 1, local: replicaOf('198.51.100.11') }), [], 'following it already');
    assert.deepEqual(types(p.reconcile({ nowMs: 2, local: replicaOf('192.0.2.11') })), ['read-target'], 'its advert address is not where its Redis is');
  });

  it('with peer_addresses, a takeover catches up from the member its Redis follows, and trusts no address no member maps to', () => {
    const p = policy(REPL);
    p.vrrp('backup', '192.0.2.11');
    p.vrrp('master', undefined);
    const plan = p.promote(replicaOf('198.51.100.11'));
    assert.deepEqual(plan, { type: 'catch-up', host: '198.51.100.11', member: '192.0.2.11', port: 6379, follow: false, why: 'our Redis replicates from it', fence: [] });
    // A master_host that is no member's Redis address (someone's REPLICAOF by hand, the advert address itself) is nobody.
    assert.deepEqual(p.promote(replicaOf('198.51.100.99')), { type: 'promote', fence: [] });
    assert.deepEqual(p.promote(replicaOf('192.0.2.11')), { type: 'promote', fence: [] });
    // A member master with data ours lacks: followed at its Redis address; the others fenced by member.
    const members = { answered: [{ address: '192.0.2.12', facts: f({ replId: 'xxxx', replOffset: 7, keys: 1 }) }, { address: '192.0.2.13', facts: f({ replId: 'xxxx', replOffset: 5 }) }], quorum: 2, maxLagBytes: 0 };
    const take = p.promote(fenced({ keys: 0, replOffset: 0, replId: 'empty' }), members);
    assert.ok(take.type === 'catch-up' && take.follow && take.host === '198.51.100.12' && take.member === '192.0.2.12');
    assert.deepEqual(take.type === 'catch-up' && take.fence, ['192.0.2.13']);
  });

  it('with peer_addresses, a replica of ours is one whose master_host is our Redis address', () => {
    const p = policy(REPL);
    p.selfAddress = '192.0.2.12';
    const ours = f({ replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 1001, replOffset: 1200 });
    assert.equal(p.peerAfterTakeover(replicaOf('198.51.100.12', { replId: 'bbbb' }), ours), 'none', 'ours already');
    assert.equal(p.peerAfterTakeover(replicaOf('192.0.2.12', { replId: 'bbbb', replOffset: 1100 }), ours), 'follow-us', 'our advert address is not where our Redis is');
  });

  it('follows a link-local master with the zone Redis needs, and knows it again in INFO', () => {
    const p = policy(new RedisHosts({ members: ['fe80::b', 'fe80::c'], zone: 'eth0' }));
    p.vrrp('backup', 'fe80::b');
    assert.deepEqual(p.following(), { host: 'fe80::b%eth0', port: 6379 });
    assert.deepEqual(p.reconcile({ nowMs: 0, local: replicaOf('fe80::b%eth0') }), []);
    p.vrrp('master', undefined);
    const plan = p.promote(replicaOf('fe80::b%eth0'));
    assert.ok(plan.type === 'catch-up' && plan.host === 'fe80::b%eth0' && plan.member === 'fe80::b');
  });

  it('does nothing with role control off', () => {
    const p = new RolePolicy({ manageRole: false, peerPort: 6379, fence: FENCE, catchUpWaitMs: 700, hosts: new RedisHosts({ members: MEMBERS }) });
    assert.equal(p.vrrp('master', undefined), false);
    assert.deepEqual(p.reconcile({ nowMs: 0, local: fenced() }), []);
    assert.deepEqual(p.promote(fenced()), { type: 'promote', fence: [] });
  });
});
