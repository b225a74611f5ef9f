import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentStatus } from '../daemon/agent.js';
import type { RunnerStatus } from '../daemon/instance-runner.js';
import { renderMetrics } from './render.js';

const INSTANCE: RunnerStatus = {
  name: 'redis-write',
  interface: 'eth0',
  vrid: 51,
  version: 3,
  family: 'ipv4',
  state: 'master',
  waitingFor: undefined,
  basePriority: 130,
  effectivePriority: 130,
  masterAddress: undefined,
  masterPriority: undefined,
  advertIntervalCs: 10,
  masterAdverIntervalCs: undefined,
  primaryAddress: '192.0.2.13',
  unicastPeers: [],
  virtualAddresses: ['192.0.2.50/24'],
  vipsHeld: ['192.0.2.50/24'],
  lastTransition: undefined,
  tracks: [
    { name: 'track:redis-alive', weight: 0, ok: true },
    { name: 'track:redis-data', weight: -253, ok: false },
  ],
  counters: { advertsRx: 3, advertsTx: 120, priorityZeroRx: 1, priorityZeroTx: 0, drops: { 'bad-checksum': 2, 'not-a-peer': 5 }, transitions: 4, becameMaster: 2, garpsRequested: 10, unexpectedInputs: 0, garpsSent: 10 },
  redis: {
    address: '127.0.0.1:6379',
    up: true,
    role: 'master',
    masterHost: undefined,
    masterLinkUp: undefined,
    offset: 5000,
    replicas: [
      { address: '192.0.2.11:6379', offset: 4900, lagS: 0 },
      { address: '192.0.2.12:6379', offset: 5000, lagS: 1 },
    ],
    desired: 'master',
    lastError: undefined,
  },
  guard: { ok: false, why: 'isolated', writesRefused: true, peers: ['192.0.2.11'] },
  hooks: { runs: 7, failures: 1 },
};

const STATUS: AgentStatus = {
  agent: { name: 'h3', version: '0.1.0', pid: 1, uptimeMs: 12_500, config: '/etc/redkeep/redkeep.toml' },
  interfaces: [{ name: 'eth0', index: 2, mac: undefined, packetsRx: 200, drops: { 'unknown-vrid': 3 }, sendErrors: 0, garpsSent: 10 }],
  instances: [INSTANCE],
};

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('Prometheus metrics', () => {
  it('exposes state, priorities, counters, drops by reason, tracks, Redis role, offset and lag, guard and hooks', () => {
    const t = renderMetrics(STATUS);
    const l = 'instance="redis-write"';
    assert.equal(sample(t, 'redkeep_instance_state', `${l},state="master"`), 1);
    assert.equal(sample(t, 'redkeep_instance_state', `${l},state="backup"`), 0);
    assert.equal(sample(t, 'redkeep_instance_priority', l), 130);
    assert.equal(sample(t, 'redkeep_instance_transitions_total', l), 4);
    assert.equal(sample(t, 'redkeep_instance_adverts_sent_total', l), 120);
    assert.equal(sample(t, 'redkeep_instance_adverts_received_total', l), 3);
    assert.equal(sample(t, 'redkeep_instance_adverts_dropped_total', `${l},reason="not-a-peer"`), 5);
    assert.equal(sample(t, 'redkeep_instance_garps_sent_total', l), 10);
    assert.equal(sample(t, 'redkeep_interface_drops_total', 'interface="eth0",reason="unknown-vrid"'), 3);
    assert.equal(sample(t, 'redkeep_track_up', `${l},track="track:redis-data"`), 0);
    assert.equal(sample(t, 'redkeep_redis_role', `${l},role="master"`), 1);
    assert.equal(sample(t, 'redkeep_redis_offset_bytes', l), 5000);
    assert.equal(sample(t, 'redkeep_redis_replica_lag_bytes', `${l},replica="192.0.2.11:6379"`), 100);
    assert.equal(sample(t, 'redkeep_redis_replica_lag_seconds', `${l},replica="192.0.2.12:6379"`), 1);
    assert.equal(sample(t, 'redkeep_data_guard_writes_refused', l), 1);
    assert.equal(sample(t, 'redkeep_hook_failures_total', l), 1);
    assert.equal(sample(t, 'redkeep_uptime_seconds'), 12.5);
  });

  it('writes HELP and TYPE once per family, before its samples, and escapes label values', () => {
    const t = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, name: 'a"b\\c\nd' }] });
    const lines = t.trimEnd().split('\n');
    const types = lines.filter((x) => x.startsWith('# TYPE '));
    assert.equal(new Set(types).size, types.length);
    for (const [i, x] of lines.entries()) {
      if (x.startsWith('#')) continue;
      const name = x.split(/[{ ]/)[0] ?? '';
      const typeAt = lines.indexOf(lines.find((y) => y.startsWith(`# TYPE ${name} `)) ?? '');
      assert.ok(typeAt >= 0 && typeAt < i, `${name} has a TYPE line before its samples`);
      assert.match(x, /^[a-z_]+(\{[^\n]*\})? -?[0-9.e+-]+$/, x);
    }
    assert.ok(t.includes('instance="a\\"b\\\\c\\nd"'), 'escaped');
    assert.ok(!t.includes('secret'), 'nothing from the config but names');
  });

  it('leaves out what is not known yet instead of inventing a value', () => {
    const t = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, state: 'waiting', effectivePriority: undefined, counters: undefined, redis: undefined, guard: undefined, hooks: undefined }] });
    assert.equal(sample(t, 'redkeep_instance_priority', 'instance="redis-write"'), undefined);
    assert.equal(sample(t, 'redkeep_instance_state', 'instance="redis-write",state="waiting"'), 1);
    assert.ok(!t.includes('redkeep_redis_'));
  });
});
