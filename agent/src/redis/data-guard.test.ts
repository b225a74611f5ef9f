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

  it('heals at once when a peer answers again', () => {
    const g = new DataGuard(SETTINGS);
    const down = [peer('192.0.2.11', false)];
    g.evaluate(master(0, facts(), down));
    assert.equal(g.evaluate(master(6000, facts(), down)).ok, false);
    assert.equal(g.evaluate(master(6100, facts(), [peer('192.0.2.11', true)])).ok, true);
    // and the window starts again from there
    assert.equal(g.evaluate(master(11_000, facts(), down)).ok, true);
    assert.equal(g.evaluate(master(11_200, facts(), down)).ok, false);
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

  it('starts the window when the host becomes master, not before', () => {
    const g = new DataGuard(SETTINGS);
    g.evaluate(backup(0, replica(), []));
    const down = [peer('192.0.2.11', false)];
    assert.equal(g.evaluate(master(50_000, facts(), down)).ok, true);
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

  it('compares offsets across a promotion (replid2) but not across unrelated histories', () => {
    const a = facts({ replId: 'aaaa' });
    assert.equal(sameHistory(a, facts({ replId: 'bbbb', replId2: 'aaaa' })), true);
    assert.equal(sameHistory(facts({ replId: 'bbbb', replId2: 'aaaa' }), a), true);
    assert.equal(sameHistory(a, facts({ replId: 'cccc', replId2: 'dddd' })), false);
    assert.equal(sameHistory(a, facts({ replId: undefined })), false);
  });
});
