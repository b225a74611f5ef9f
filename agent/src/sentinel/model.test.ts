import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MasterView, type ReplicaView, infoText, roleReply, sentinelCommand, sentinelEvents } from './model.js';
import { type Reply, encode } from './resp.js';

const id = { myId: 'a'.repeat(40), port: 26379, version: '0.1.0' };
const replica = (ip: string, over: Partial<ReplicaView> = {}): ReplicaView => ({ ip, port: 6379, reachable: true, linkUp: true, offset: 100, runId: 'r', masterHost: '192.0.2.13', masterPort: 6379, priority: 100, ...over });
const view = (over: Partial<MasterView> = {}): MasterView => ({
  name: 'redis-write',
  master: { ip: '192.0.2.13', port: 6379, runId: 'm'.repeat(40) },
  lastMaster: { ip: '192.0.2.13', port: 6379 },
  replicas: [replica('192.0.2.11'), replica('192.0.2.12')],
  sentinels: [{ ip: '192.0.2.11', port: 26379, runId: 'b'.repeat(40), reachable: true }],
  quorum: 2,
  downAfterMs: 340,
  configEpoch: 0,
  ...over,
});

/** A flat field list (RESP2 view of a map) as an object. */
function obj(r: Reply): Record<string, string> {
  assert.equal(r.t, 'map');
  if (r.t !== 'map') return {};
  return Object.fromEntries(r.v.map(([k, v]) => [k, v.t === 'bulk' ? (v.v ?? '') : '?']));
}

describe('Sentinel replies', () => {
  it('get-master-addr-by-name: the master, nil while none may take writes, nil for another name', () => {
    assert.equal(encode(sentinelCommand(['get-master-addr-by-name', 'redis-write'], [view()], id), 2), '*2\r\n$10\r\n192.0.2.13\r\n$4\r\n6379\r\n');
    assert.equal(encode(sentinelCommand(['get-master-addr-by-name', 'redis-write'], [view({ master: undefined })], id), 2), '*-1\r\n');
    assert.equal(encode(sentinelCommand(['get-master-addr-by-name', 'other'], [view()], id), 2), '*-1\r\n');
    assert.equal(sentinelCommand(['get-master-addr-by-name'], [view()], id).t, 'error');
  });

  it('master: the fields clients check, flagged down while no master may take writes', () => {
    const m = obj(sentinelCommand(['master', 'redis-write'], [view()], id));
    assert.equal(m.name, 'redis-write');
    assert.equal(m.ip, '192.0.2.13');
    assert.equal(m.port, '6379');
    assert.equal(m.flags, 'master');
    assert.equal(m['num-slaves'], '2');
    assert.equal(m['num-other-sentinels'], '1');
    assert.equal(m.quorum, '2');
    for (const k of ['down-after-milliseconds', 'config-epoch', 'quorum', 'num-slaves', 'failover-timeout', 'parallel-syncs', 'role-reported-time']) assert.match(m[k] ?? '', /^\d+$/, k);
    const down = obj(sentinelCommand(['master', 'redis-write'], [view({ master: undefined })], id));
    assert.equal(down.flags, 'master,s_down,o_down');
    assert.equal(down.ip, '192.0.2.13');
    assert.equal(sentinelCommand(['master', 'nope'], [view()], id).t, 'error');
  });

  it('replicas: flags as ioredis filters them (disconnected, s_down)', () => {
    const r = sentinelCommand(['replicas', 'redis-write'], [view({ replicas: [replica('192.0.2.11'), replica('192.0.2.12', { linkUp: false }), replica('192.0.2.14', { reachable: false, linkUp: false })] })], id);
    assert.equal(r.t, 'array');
    const rows = r.t === 'array' ? (r.v ?? []).map(obj) : [];
    assert.deepEqual(rows.map((x) => [x.ip, x.flags, x['master-link-status']]), [
      ['192.0.2.11', 'slave', 'ok'],
      ['192.0.2.12', 'slave,disconnected', 'err'],
      ['192.0.2.14', 'slave,s_down', 'err'],
    ]);
    assert.equal(rows[0]?.name, '192.0.2.11:6379');
    assert.deepEqual(sentinelCommand(['slaves', 'redis-write'], [view()], id), sentinelCommand(['replicas', 'redis-write'], [view()], id));
  });

  it('sentinels, myid, ckquorum, ROLE, INFO', () => {
    const s = sentinelCommand(['sentinels', 'redis-write'], [view()], id);
    const rows = s.t === 'array' ? (s.v ?? []).map(obj) : [];
    assert.deepEqual(rows.map((x) => [x.ip, x.port, x.flags]), [['192.0.2.11', '26379', 'sentinel']]);
    assert.equal(encode(sentinelCommand(['myid'], [view()], id), 2), `$40\r\n${'a'.repeat(40)}\r\n`);
    assert.equal(sentinelCommand(['ckquorum', 'redis-write'], [view()], id).t, 'simple');
    assert.equal(sentinelCommand(['ckquorum', 'redis-write'], [view({ sentinels: [{ ip: '192.0.2.11', port: 26379, runId: 'b', reachable: false }] })], id).t, 'error');
    assert.equal(sentinelCommand(['failover', 'redis-write'], [view()], id).t, 'error');
    assert.equal(encode(roleReply([view()]), 2), '*2\r\n$8\r\nsentinel\r\n*1\r\n$11\r\nredis-write\r\n');
    const info = infoText([view()], id, 5, undefined);
    assert.match(info, /redis_mode:sentinel/);
    assert.match(info, /master0:name=redis-write,status=ok,address=192\.0\.2\.13:6379,slaves=2,sentinels=2/);
    assert.doesNotMatch(infoText([view()], id, 5, 'sentinel'), /redis_mode/);
  });
});

describe('Sentinel events', () => {
  const at = (ip: string): MasterView['master'] => ({ ip, port: 6379, runId: undefined });
  it('nothing at start or while nothing changes', () => {
    assert.deepEqual(sentinelEvents(undefined, view()), []);
    assert.deepEqual(sentinelEvents(view(), view()), []);
  });

  it('a failover: +sdown of the old master, then +switch-master old -> new', () => {
    const a = view();
    const gap = view({ master: undefined });
    const b = view({ master: at('192.0.2.12'), lastMaster: { ip: '192.0.2.12', port: 6379 }, replicas: [replica('192.0.2.11'), replica('192.0.2.13', { reachable: false })] });
    assert.deepEqual(sentinelEvents(a, gap), [{ channel: '+sdown', message: 'master redis-write 192.0.2.13 6379' }]);
    const e = sentinelEvents(gap, b);
    assert.deepEqual(e[0], { channel: '+switch-master', message: 'redis-write 192.0.2.13 6379 192.0.2.12 6379' });
    // A direct switch (a view between them never seen) is a switch as well.
    assert.deepEqual(sentinelEvents(a, b)[0], { channel: '+switch-master', message: 'redis-write 192.0.2.13 6379 192.0.2.12 6379' });
  });

  it('the same master back: -sdown', () => {
    assert.deepEqual(sentinelEvents(view({ master: undefined }), view()), [{ channel: '-sdown', message: 'master redis-write 192.0.2.13 6379' }]);
  });

  it('replicas: +slave when one appears, +sdown / -sdown when its host goes and comes back', () => {
    const one = view({ replicas: [replica('192.0.2.11')] });
    const two = view();
    assert.deepEqual(sentinelEvents(one, two), [{ channel: '+slave', message: 'slave 192.0.2.12:6379 192.0.2.12 6379 @ redis-write 192.0.2.13 6379' }]);
    const gone = view({ replicas: [replica('192.0.2.11'), replica('192.0.2.12', { reachable: false })] });
    assert.deepEqual(sentinelEvents(two, gone), [{ channel: '+sdown', message: 'slave 192.0.2.12:6379 192.0.2.12 6379 @ redis-write 192.0.2.13 6379' }]);
    assert.deepEqual(sentinelEvents(gone, two), [{ channel: '-sdown', message: 'slave 192.0.2.12:6379 192.0.2.12 6379 @ redis-write 192.0.2.13 6379' }]);
  });
});
