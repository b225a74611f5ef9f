import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lineage, type ReplicationFacts, divergedBytes, mayFollow, succeeds } from './history.js';
import { factsFixture } from './facts-fixture.js';

const f = factsFixture;

const replicaOf = (over: Partial<ReplicationFacts> = {}): ReplicationFacts => f({ role: 'replica', masterHost: '192.0.2.13', masterPort: 6379, masterLinkUp: true, ...over });
/** Promoted from 'aaaa' at offset 900 (its history starts at 901), now at 1500. */
const successor = f({ replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 901, replOffset: 1500 });

describe('replication history: whom a Redis may follow', () => {
  it('never follows a master that holds no keys and shares no history, when ours holds some (a wipe)', () => {
    // The previous master's Redis came back from its AOF (a new replid, fenced) after a member whose
    // Redis had restarted empty took over meanwhile (simulation, two members, strict seed 171).
    const back = f({ role: 'replica', replId: 'id12', replOffset: 1229, keys: 1229, masterHost: '127.0.0.1', masterPort: 1, masterLinkUp: false });
    const empty = f({ replId: 'id10', replId2: 'id9', secondReplOffset: 1, replOffset: 0, keys: 0 });
    const v = mayFollow(back, empty);
    assert.equal(v.ok, false, JSON.stringify(v));
    // A Redis with nothing to lose still follows it, and a master of our own history still wins when emptied.
    assert.equal(mayFollow({ ...back, keys: 0 }, empty).ok, true);
    assert.equal(mayFollow(replicaOf({ replOffset: 1000 }), f({ replOffset: 1000, keys: 0 })).ok, true);
  });

  it('follows a master of the same history at or beyond its offset', () => {
    assert.equal(mayFollow(replicaOf(), f({ replOffset: 1000 })).ok, true);
    assert.equal(mayFollow(replicaOf(), f({ replOffset: 5000 })).ok, true);
  });

  it('refuses a master of the same history that is behind it', () => {
    const v = mayFollow(replicaOf({ replOffset: 2000 }), f({ replOffset: 1000 }));
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.kind, 'behind');
  });

  it('follows a successor (promoted from its history), counting the bytes it would lose', () => {
    const v = mayFollow(replicaOf({ replOffset: 900 }), successor);
    assert.deepEqual(v.ok && v.lostBytes, 0);
    const tail = mayFollow(f({ replOffset: 1000 }), successor);
    assert.equal(tail.ok, true);
    assert.equal(tail.ok && tail.lostBytes, 100, 'the stale master acknowledged 100 bytes after the promotion');
    assert.equal(divergedBytes(successor, f({ replOffset: 1000 })), 100);
    assert.equal(succeeds(successor, f()), true);
    assert.equal(succeeds(f(), successor), false);
  });

  it('never follows a replica, or a Redis that is not answering as master', () => {
    for (const t of [replicaOf({ replOffset: 9999 }), f({ role: 'unknown' })]) {
      const v = mayFollow(f({ keys: 0 }), t);
      assert.equal(!v.ok && v.kind, 'not-master');
    }
  });

  it('a master of its own elected history never follows an unrelated one behind it; an empty Redis may', () => {
    const other = f({ replId: 'ffff', replOffset: 10_000_000 });
    assert.equal(mayFollow(f(), other, 'aaaa').ok, true, 'even a master of its own elected history follows the elected master ahead of it (two promotions away)');
    const behind = mayFollow(f({ replOffset: 20_000_000 }), other, 'aaaa');
    assert.equal(!behind.ok && behind.kind, 'unrelated');
    assert.equal(mayFollow(f({ replId: 'eeee', replOffset: 0, keys: 0 }), other, 'eeee').ok, true, 'a restarted, empty Redis has nothing to lose');
  });

  it('a replica, or a master whose history is not an elected one (it lost its quorum), follows the elected master even behind it', () => {
    const other = f({ replId: 'ffff', replOffset: 10_000_000 });
    const replica = mayFollow(replicaOf({ replOffset: 20_000_000 }), other);
    assert.equal(replica.ok && replica.lostBytes, 10_000_000, 'the bytes it is ahead by are the cut-off side\'s');
    assert.equal(mayFollow(f({ replOffset: 20_000_000 }), other).ok, true);
  });

  it('a Redis promoted from a history that took nothing since follows that history when it went on', () => {
    // Promoted at offset 1166 (its history starts at 1167), still at 1166; the old one is at 1300.
    const cutShort = f({ role: 'replica', replId: 'bbbb', replId2: 'aaaa', secondReplOffset: 1167, replOffset: 1166 });
    assert.equal(mayFollow(cutShort, f({ replOffset: 1300 })).ok, true);
    assert.equal(mayFollow({ ...cutShort, replOffset: 1170 }, f({ replOffset: 1300 })).ok, false, 'one that took writes since is the newer history');
  });

  it('knows a history two promotions on as a successor through the lineage it saw', () => {
    const lineage = new Lineage();
    lineage.observe(f({ replId: 'bbbb', replId2: 'aaaa' }));
    lineage.observe(f({ replId: 'cccc', replId2: 'bbbb' }));
    assert.equal(lineage.descends('cccc', 'aaaa'), true);
    assert.equal(lineage.descends('aaaa', 'cccc'), false);
    const grandchild = f({ replId: 'cccc', replId2: 'bbbb', replOffset: 900 });
    const v = mayFollow(f({ role: 'replica', replOffset: 1000 }), grandchild, undefined, lineage);
    assert.equal(v.ok && v.why, 'it succeeds our history');
    const back = mayFollow(replicaOf({ replId: 'cccc', replOffset: 1000 }), f({ replId: 'aaaa', replOffset: 5000 }), undefined, lineage);
    assert.equal(!back.ok && back.kind, 'older', 'a replica never goes back to an older history, whatever its offset');
  });

  it('a replica cut off through two promotions follows the member master ahead of its copy (offsets go on across promotions)', () => {
    const twoHopsOn = f({ replId: 'dddd', replId2: 'bbbb', secondReplOffset: 1200, replOffset: 1500 });
    assert.equal(mayFollow(replicaOf({ replId: 'aaaa', replOffset: 1000 }), twoHopsOn).ok, true);
  });

  it('a master this agent promoted does not follow the older history it came from: it is the newer one', () => {
    const stale = f({ replOffset: 1000 });
    const v = mayFollow(successor, stale, 'bbbb');
    assert.equal(!v.ok && v.kind, 'older');
  });

  it('siblings (two backups promoted from one history at the same moment): the elected master wins', () => {
    const mine = f({ replId: 'cccc', replId2: 'aaaa', secondReplOffset: 901, replOffset: 905 });
    const v = mayFollow(mine, successor);
    assert.equal(v.ok, true);
    assert.equal(v.ok && v.lostBytes, 5);
  });

  it('a Redis promoted by someone else (REPLICAOF NO ONE by hand) goes back to the history it came from', () => {
    const drifted = f({ replId: 'cccc', replId2: 'aaaa', secondReplOffset: 1001, replOffset: 1010 });
    const v = mayFollow(drifted, f({ replOffset: 1200 }));
    assert.equal(v.ok, true);
    assert.equal(v.ok && v.lostBytes, 10);
  });
});
