import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RedisFacts } from '@redkeep/redis';
import type { Beacon } from './beacon.js';
import { type MemberReading, buildClusterView, formatClusterView } from './view.js';

const facts = (over: Partial<RedisFacts>): RedisFacts => ({
  role: 'replica', runId: 'r', replOffset: 0, replId: 'a', replId2: undefined, secondReplOffset: undefined, masterHost: undefined, masterPort: undefined,
  masterLinkUp: false, masterLinkDownS: undefined, replicaOffset: undefined, syncInProgress: false, replicas: [], keys: 0, uptimeS: 1, ...over,
}) as RedisFacts;
const beacon = (agent: string, address: string, state: string, priority: number, over: Partial<Beacon> = {}): Beacon => ({ agent, address, instance: 'redis-write', state, priority, basePriority: priority, maintenance: false, vipsHeld: [], guardOk: true, writesRefused: false, ...over });
const reading = (address: string, over: Partial<MemberReading>): MemberReading => ({ instance: 'redis-write', address, redisHost: address, self: false, reachable: true, beacon: undefined, facts: undefined, port: 6379, ...over });

describe('cluster view', () => {
  const readings = [
    reading('192.0.2.11', { self: true, beacon: beacon('h1', '192.0.2.11', 'backup', 1, { basePriority: 110, maintenance: true }), facts: facts({ masterHost: '192.0.2.12', masterPort: 6379, masterLinkUp: true, replicaOffset: 900, replOffset: 900 }) }),
    reading('192.0.2.12', { beacon: beacon('h2', '192.0.2.12', 'master', 120, { vipsHeld: ['192.0.2.50/24'] }), facts: facts({ role: 'master', replOffset: 1000 }) }),
    reading('192.0.2.13', { reachable: false }),
  ];

  it('lists every member, masters first, with its agent\'s word and its Redis, and a replica\'s lag in bytes', () => {
    const v = buildClusterView('h1', 'T', readings);
    assert.deepEqual(v.members.map((m) => [m.name, m.address, m.self, m.reachable]), [['h2', '192.0.2.12', false, true], ['h1', '192.0.2.11', true, true], [null, '192.0.2.13', false, false]]);
    assert.deepEqual(v.members[0]?.instances['redis-write'], { state: 'master', priority: 120, basePriority: 120, maintenance: false, vipsHeld: ['192.0.2.50/24'], dataGuard: { ok: true, writesRefused: false } });
    assert.deepEqual(v.members[1]?.redis, { role: 'replica', offset: 900, master: '192.0.2.12:6379', linkUp: true, lagBytes: 100 });
    assert.equal(v.members[1]?.instances['redis-write']?.maintenance, true);
    assert.equal(v.members[2]?.instances['redis-write']?.state, 'unknown (unreachable)');
    assert.equal(v.members[2]?.redis, null);
  });

  it('reads as text', () => {
    const text = formatClusterView(buildClusterView('h1', 'T', readings)).join('\n');
    assert.match(text, /^cluster as seen from h1 at T: 3 members/);
    assert.match(text, /h2 192\.0\.2\.12\n {2}redis-write: MASTER priority 120, holds 192\.0\.2\.50\/24, data guard ok\n {2}redis: master, offset 1000/);
    assert.match(text, /h1 192\.0\.2\.11 \(this host\)\n {2}redis-write: BACKUP priority 1 \(base 110\), data guard ok, MAINTENANCE\n {2}redis: replica of 192\.0\.2\.12:6379, link up, 100 bytes behind, offset 900/);
    assert.match(text, /\? 192\.0\.2\.13 UNREACHABLE\n {2}redis-write: unknown \(unreachable\)\n {2}redis: not read/);
  });
});
