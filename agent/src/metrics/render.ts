// The Prometheus text exposition (format 0.0.4) of the agent's status: one pure function from
// AgentStatus to text, so every number /metrics shows is one `redkeep status --json` shows too,
// but for the event-loop lag, which belongs to the scrape interval (server.ts measures it).

import type { AgentStatus } from '../status-types.js';

/** What only the endpoint knows: measured over the time since the last scrape. */
export interface ScrapeSample {
  readonly eventLoopLagS?: number;
}

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: { labels: Labels; value: number }[];
}

const STATES = ['initialize', 'backup', 'master', 'fault', 'stopped', 'waiting'] as const;
const REDIS_ROLES = ['master', 'replica', 'unknown'] as const;

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** An ISO time in `redkeep status` as seconds since the epoch; undefined stays out. */
function epochS(iso: string | undefined): number | undefined {
  return iso === undefined ? undefined : Date.parse(iso) / 1000;
}

export function renderMetrics(st: AgentStatus, scrape: ScrapeSample = {}): string {
  const families = new Map<string, Family>();
  const add = (name: string, type: Family['type'], help: string, labels: Labels, value: number | undefined): void => {
    if (value === undefined || Number.isNaN(value)) return;
    let f = families.get(name);
    if (!f) {
      f = { help, type, samples: [] };
      families.set(name, f);
    }
    f.samples.push({ labels, value });
  };

  add('redkeep_up', 'gauge', 'The agent answers (always 1).', {}, 1);
  add('redkeep_uptime_seconds', 'gauge', 'Seconds since the agent started.', {}, st.agent.uptimeMs / 1000);
  add('redkeep_build_info', 'gauge', 'The running redkeep (always 1), its version as a label.', { version: st.agent.version }, 1);
  const rl = st.agent.lastReload;
  add('redkeep_config_last_reload_successful', 'gauge', 'The last load of the configuration (start, SIGHUP, redkeep reload) took effect whole (1) or was refused or in part (0).', {}, rl.ok ? 1 : 0);
  add('redkeep_config_last_reload_timestamp_seconds', 'gauge', 'When the configuration was last loaded (start or reload, whatever the outcome), seconds since the epoch.', {}, epochS(rl.at));
  const p = st.process;
  add('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', {}, p.cpuSeconds);
  add('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', {}, p.residentBytes);
  add('process_open_fds', 'gauge', 'Number of open file descriptors.', {}, p.openFds);
  add('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', {}, p.startTimeS);
  add('redkeep_event_loop_lag_seconds', 'gauge', 'Longest delay of the event loop (a timer due every 0.1 s) since the last scrape.', {}, scrape.eventLoopLagS);
  for (const f of st.interfaces) {
    const l = { interface: f.name };
    add('redkeep_interface_packets_received_total', 'counter', 'VRRP packets received on the interface.', l, f.packetsRx);
    add('redkeep_interface_send_errors_total', 'counter', 'Packets the interface failed to send.', l, f.sendErrors);
    for (const [reason, n] of Object.entries(f.drops)) {
      add('redkeep_interface_drops_total', 'counter', 'Packets dropped before reaching an instance, by reason.', { ...l, reason }, n);
    }
  }
  for (const i of st.instances) {
    // Not `instance`: Prometheus sets that label to the scrape target.
    const l = { vrrp_instance: i.name };
    for (const s of STATES) add('redkeep_instance_state', 'gauge', 'VRRP state of the instance (1 for the current one).', { ...l, state: s }, i.state === s ? 1 : 0);
    add('redkeep_instance_priority', 'gauge', 'Effective priority (base plus track weights).', l, i.effectivePriority);
    add('redkeep_instance_base_priority', 'gauge', 'Configured priority.', l, i.basePriority);
    add('redkeep_instance_master_priority', 'gauge', 'Priority of the master last heard (backups).', l, i.masterPriority);
    add('redkeep_instance_last_transition_timestamp_seconds', 'gauge', 'When the instance last changed state, seconds since the epoch (none yet: left out).', l, epochS(i.lastTransition?.at));
    add('redkeep_instance_vips_held', 'gauge', 'Virtual addresses this host holds for the instance.', l, i.vipsHeld.length);
    if (i.readServe) {
      for (const serving of ['replica', 'master', 'none']) add('redkeep_read_serving', 'gauge', 'serve = "read": 1 for how this host\'s Redis serves reads (replica, master as the fallback, none).', { ...l, serving }, i.readServe.serving === serving ? 1 : 0);
    }
    add('redkeep_instance_maintenance', 'gauge', '1 while the instance is in maintenance here (redkeep maintenance on): priority 1.', l, i.maintenance ? 1 : 0);
    const c = i.counters;
    if (c) {
      add('redkeep_instance_transitions_total', 'counter', 'State transitions.', l, c.transitions);
      add('redkeep_instance_became_master_total', 'counter', 'Transitions to master.', l, c.becameMaster);
      add('redkeep_instance_adverts_received_total', 'counter', 'Adverts accepted by the instance.', l, c.advertsRx);
      add('redkeep_instance_adverts_sent_total', 'counter', 'Adverts sent.', l, c.advertsTx);
      add('redkeep_instance_priority_zero_received_total', 'counter', 'Priority 0 adverts received (a master leaving).', l, c.priorityZeroRx);
      add('redkeep_instance_priority_zero_sent_total', 'counter', 'Priority 0 adverts sent.', l, c.priorityZeroTx);
      add('redkeep_instance_garps_sent_total', 'counter', 'Gratuitous ARPs and unsolicited NAs sent.', l, c.garpsSent);
      add('redkeep_instance_designations_received_total', 'counter', 'Hand-over designations from the master followed, naming this host.', l, c.designationsRx);
      add('redkeep_instance_designations_ignored_total', 'counter', 'Hand-over designations ignored (not a backup, not naming this host, not from the master followed, not a member).', l, c.designationsIgnored);
      add('redkeep_instance_designated_takeovers_total', 'counter', 'Takeovers at once (no Skew_Time) on a designation and the designator\'s priority 0.', l, c.designatedTakeovers);
      add('redkeep_instance_designations_sent_total', 'counter', 'Resigns after designating a successor.', l, c.designationsTx);
      for (const [reason, n] of Object.entries(c.drops)) {
        add('redkeep_instance_adverts_dropped_total', 'counter', 'Adverts dropped, by reason.', { ...l, reason }, n);
      }
    }
    for (const t of i.tracks) {
      add('redkeep_track_up', 'gauge', 'Track status (1 ok, 0 failing).', { ...l, track: t.name }, t.ok ? 1 : 0);
      add('redkeep_track_weight', 'gauge', 'Track weight (0: Fault while failing).', { ...l, track: t.name }, t.weight);
    }
    const r = i.redis;
    if (r) {
      add('redkeep_redis_up', 'gauge', 'The local Redis answers.', l, r.up ? 1 : 0);
      for (const role of REDIS_ROLES) add('redkeep_redis_role', 'gauge', 'Role of the local Redis (1 for the current one).', { ...l, role }, r.role === role ? 1 : 0);
      add('redkeep_redis_offset_bytes', 'gauge', 'Replication offset of the local Redis (master_repl_offset).', l, r.offset);
      if (r.masterLinkUp !== undefined) add('redkeep_redis_master_link_up', 'gauge', 'A replica\'s link to its master is up.', l, r.masterLinkUp ? 1 : 0);
      for (const x of r.replicas) {
        add('redkeep_redis_replica_lag_seconds', 'gauge', 'Seconds since each replica last acknowledged (master side).', { ...l, replica: x.address }, x.lagS);
        add('redkeep_redis_replica_lag_bytes', 'gauge', 'Bytes each replica is behind the master\'s offset.', { ...l, replica: x.address }, Math.max(0, (r.offset ?? 0) - x.offset));
      }
    }
    if (i.guard) {
      add('redkeep_data_guard_ok', 'gauge', 'The data guard (isolation, staleness) passes.', l, i.guard.ok ? 1 : 0);
      add('redkeep_data_guard_writes_refused', 'gauge', 'Redis refuses writes (no quorum, not the VRRP master, or superseded).', l, i.guard.writesRefused ? 1 : 0);
      if (i.guard.quorum) {
        add('redkeep_members_reachable', 'gauge', 'Members reachable, this host included.', l, i.guard.quorum.reachable);
        add('redkeep_members_quorum', 'gauge', 'Members that must be reachable for this host to be master.', l, i.guard.quorum.needed);
      }
      const ls = i.guard.lease;
      if (ls) {
        add('redkeep_lease_held', 'gauge', 'Strict mode: this host holds the instance\'s etcd lease.', l, ls.held ? 1 : 0);
        add('redkeep_lease_writes_allowed', 'gauge', 'Strict mode: the lease guard lets Redis acknowledge writes (the other guards still apply).', l, ls.writes === 'allow' ? 1 : 0);
        add('redkeep_lease_step_down', 'gauge', 'Strict mode: the lease guard lowers the priority (cut off etcd, or the history rule fails).', l, ls.stepDown ? 1 : 0);
        add('redkeep_lease_term', 'gauge', 'Strict mode: the term (create revision) of the lease held.', l, ls.term);
        add('redkeep_lease_fence_in_seconds', 'gauge', 'Strict mode: time left before writes are refused without a renew (held only).', l, ls.fenceInMs === undefined ? undefined : ls.fenceInMs / 1000);
        add('redkeep_lease_ttl_seconds', 'gauge', 'Strict mode: the lease TTL etcd granted.', l, ls.ttlMs / 1000);
        const c = ls.counters;
        add('redkeep_lease_acquired_total', 'counter', 'Strict mode: leases acquired.', l, c.acquired);
        add('redkeep_lease_renewed_total', 'counter', 'Strict mode: renews etcd confirmed.', l, c.renewed);
        add('redkeep_lease_renew_failures_total', 'counter', 'Strict mode: renews that failed or timed out.', l, c.renewFailed);
        add('redkeep_lease_fenced_total', 'counter', 'Strict mode: fences at the deadline (no renew in time).', l, c.fenced);
        add('redkeep_lease_lost_total', 'counter', 'Strict mode: leases lost (etcd expired them).', l, c.lost);
        add('redkeep_lease_released_total', 'counter', 'Strict mode: leases given up (revoked).', l, c.released);
        add('redkeep_lease_deputy_fences_total', 'counter', 'Strict mode: times the fence deputy closed the write gate because the agent did not renew in time.', l, c.deputyFences);
      }
    }
    if (i.hooks) {
      add('redkeep_hook_runs_total', 'counter', 'Hook runs.', l, i.hooks.runs);
      add('redkeep_hook_failures_total', 'counter', 'Hook runs that failed or timed out.', l, i.hooks.failures);
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
    for (const s of f.samples) out.push(`${name}${labelText(s.labels)} ${s.value}`);
  }
  return `${out.join('\n')}\n`;
}
