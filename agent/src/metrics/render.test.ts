import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderMetrics } from './render.js';
import { INSTANCE, STATUS } from './status-fixture.js';

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('Prometheus metrics', () => {
  it('exposes state, priorities, counters, drops by reason, tracks, Redis role, offset and lag, guard and hooks', () => {
    const t = renderMetrics(STATUS);
    const l = 'vrrp_instance="redis-write"';
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

  it("exposes strict mode's lease: held, writes, step-down, term, time to the fence, TTL and the counts, the deputy's fences among them", () => {
    const l = 'vrrp_instance="redis-write"';
    assert.equal(sample(renderMetrics(STATUS), 'redkeep_lease_held', l), undefined, 'no lease metrics without strict mode');
    const lease = {
      writes: 'allow' as const, stepDown: false, why: 'holds the lease (term 7)', held: true, term: 7, holder: 'h3', fenceInMs: 1250, ttlMs: 2000,
      counters: { acquired: 2, renewed: 40, renewFailed: 3, fenced: 1, lost: 0, released: 1, deputyFences: 1 },
    };
    const guard = INSTANCE.guard && { ...INSTANCE.guard, lease };
    const t = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, guard }] });
    assert.equal(sample(t, 'redkeep_lease_held', l), 1);
    assert.equal(sample(t, 'redkeep_lease_writes_allowed', l), 1);
    assert.equal(sample(t, 'redkeep_lease_step_down', l), 0);
    assert.equal(sample(t, 'redkeep_lease_term', l), 7);
    assert.equal(sample(t, 'redkeep_lease_fence_in_seconds', l), 1.25);
    assert.equal(sample(t, 'redkeep_lease_ttl_seconds', l), 2);
    assert.equal(sample(t, 'redkeep_lease_renewed_total', l), 40);
    assert.equal(sample(t, 'redkeep_lease_renew_failures_total', l), 3);
    assert.equal(sample(t, 'redkeep_lease_deputy_fences_total', l), 1);
    assert.match(t, /# TYPE redkeep_lease_deputy_fences_total counter/);
    // Not held: no term, no fence deadline.
    const t2 = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, guard: INSTANCE.guard && { ...INSTANCE.guard, lease: { ...lease, held: false, term: undefined, fenceInMs: undefined } } }] });
    assert.equal(sample(t2, 'redkeep_lease_held', l), 0);
    assert.equal(sample(t2, 'redkeep_lease_term', l), undefined);
    assert.equal(sample(t2, 'redkeep_lease_fence_in_seconds', l), undefined);
  });

  it('exposes the version, the process, the last reload and when each instance last changed state', () => {
    const t = renderMetrics(STATUS, { eventLoopLagS: 0.25 });
    assert.equal(sample(t, 'redkeep_build_info', 'version="0.1.0"'), 1);
    assert.equal(sample(t, 'process_cpu_seconds_total'), 1.25);
    assert.equal(sample(t, 'process_resident_memory_bytes'), 50_331_648);
    assert.equal(sample(t, 'process_open_fds'), 23);
    assert.equal(sample(t, 'process_start_time_seconds'), 1_767_322_000.5);
    assert.equal(sample(t, 'redkeep_event_loop_lag_seconds'), 0.25);
    assert.equal(sample(t, 'redkeep_config_last_reload_successful'), 0);
    assert.equal(sample(t, 'redkeep_config_last_reload_timestamp_seconds'), Date.UTC(2026, 0, 2, 3, 5) / 1000);
    assert.equal(sample(t, 'redkeep_instance_last_transition_timestamp_seconds', 'vrrp_instance="redis-write"'), Date.UTC(2026, 0, 2, 3, 4, 5, 250) / 1000);
    assert.match(t, /# TYPE process_cpu_seconds_total counter\n/);
  });

  it('leaves out the lag when the endpoint has not measured it, and the transition time before the first one', () => {
    const t = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, lastTransition: undefined }] });
    assert.ok(!t.includes('redkeep_event_loop_lag_seconds'));
    assert.ok(!t.includes('redkeep_instance_last_transition_timestamp_seconds'));
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
    assert.ok(t.includes('vrrp_instance="a\\"b\\\\c\\nd"'), 'escaped');
    assert.ok(!t.includes('secret'), 'nothing from the config but names');
  });

  it('leaves out what is not known yet instead of inventing a value', () => {
    const t = renderMetrics({ ...STATUS, instances: [{ ...INSTANCE, state: 'waiting', effectivePriority: undefined, counters: undefined, redis: undefined, guard: undefined, hooks: undefined }] });
    assert.equal(sample(t, 'redkeep_instance_priority', 'vrrp_instance="redis-write"'), undefined);
    assert.equal(sample(t, 'redkeep_instance_state', 'vrrp_instance="redis-write",state="waiting"'), 1);
    assert.ok(!t.includes('redkeep_redis_'));
  });
});
