import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInfo, redisFacts } from './info.js';
import { RiseFall } from './rise-fall.js';

// As Redis 7.0 prints it (CRLF line ends), trimmed to the fields that matter.
const MASTER = [
  '# Server',
  'redis_version:7.0.15',
  'run_id:6b8b4567327b23c6643c986966334873ab1bd2f4',
  'uptime_in_seconds:42',
  '',
  '# Replication',
  'role:master',
  'connected_slaves:2',
  'slave0:ip=192.0.2.12,port=6379,state=online,offset=1543,lag=0',
  'slave1:ip=192.0.2.13,port=6379,state=wait_bgsave,offset=0,lag=1',
  'master_repl_offset:1543',
  '',
  '# Keyspace',
  'db0:keys=10,expires=0,avg_ttl=0',
  'db3:keys=5,expires=1,avg_ttl=100',
].join('\r\n');

const REPLICA = ['# Replication', 'role:slave', 'master_host:192.0.2.11', 'master_port:6379', 'master_link_status:down', 'master_link_down_since_seconds:7', 'master_repl_offset:1200'].join('\r\n');

describe('INFO', () => {
  it('reads a master: run id, offset, replicas with their offsets, keys over all databases', () => {
    const f = redisFacts(parseInfo(MASTER));
    assert.equal(f.role, 'master');
    assert.equal(f.runId, '6b8b4567327b23c6643c986966334873ab1bd2f4');
    assert.equal(f.replOffset, 1543);
    assert.equal(f.keys, 15);
    assert.equal(f.uptimeS, 42);
    assert.deepEqual(f.replicas, [
      { ip: '192.0.2.12', port: 6379, state: 'online', offset: 1543, lagS: 0 },
      { ip: '192.0.2.13', port: 6379, state: 'wait_bgsave', offset: 0, lagS: 1 },
    ]);
  });

  it('reads a replica whose link is down', () => {
    const f = redisFacts(parseInfo(REPLICA));
    assert.deepEqual([f.role, f.masterHost, f.masterPort, f.masterLinkUp, f.masterLinkDownS, f.replOffset, f.keys], ['replica', '192.0.2.11', 6379, false, 7, 1200, 0]);
  });

  it('says unknown for text that is not INFO', () => {
    assert.equal(redisFacts(parseInfo('garbage\nmore garbage')).role, 'unknown');
  });
});

describe('rise and fall', () => {
  it('needs `fall` failures in a row to fail and `rise` successes in a row to recover', () => {
    const rf = new RiseFall(2, 3, 'ok');
    assert.equal(rf.record(false), undefined);
    assert.equal(rf.record(false), undefined);
    assert.equal(rf.record(true), undefined, 'a success resets the failure run');
    assert.equal(rf.record(false), undefined);
    assert.equal(rf.record(false), undefined);
    assert.equal(rf.record(false), 'failed');
    assert.equal(rf.record(true), undefined);
    assert.equal(rf.record(true), 'ok');
  });

  it('fails at once on a dropped connection', () => {
    const rf = new RiseFall(1, 5, 'ok');
    assert.equal(rf.failNow(), 'failed');
    assert.equal(rf.failNow(), undefined);
    assert.equal(rf.record(true), 'ok');
  });
});
