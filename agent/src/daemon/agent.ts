// The daemon: wires config, host networking and one runner per instance. start() brings it up
// (stale VIPs removed first); stop() is the one shutdown path (priority 0, VIPs released,
// sockets closed). Host state is observed through netlink events and a periodic reconcile.

import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import type { Server as HttpServer } from 'node:http';
import { type Server, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type HostAddress, type HostLink, HostNetlink } from '@redkeep/host';
import { LeaseGuard, defaultLeaseTtlMs, readServeVerdict } from '@redkeep/failover';
import { canonicalAddress, hostPortText, masterDownIntervalMs } from '@redkeep/vrrp';
import { type InstanceSettings, type RedkeepConfig, type TrackSettings, loadConfig } from '../config/config.js';
import { guardPeriodMs } from '../config/redis-config.js';
import { HookRunner } from '../hooks/hook-runner.js';
import { GuardRunner } from '../redis/guard-runner.js';
import { type RedisEndpoint, loadRedis } from '@redkeep/redis';
import { HandoverChannel } from '../redis/handover-channel.js';
import { RedisSupervisor, redisHostsOf, redisPassword } from '../redis/supervisor.js';
import { type Check, TrackRunner, readTrackFile } from '../tracks/track-runner.js';
import { ControlStream, startControlServer, stopControlServer } from '../control/server.js';
import type { ControlRequest } from '../control/protocol.js';
import type { Logger } from '../log.js';
import type { SentinelEndpoint } from '../sentinel/endpoint.js';
import { type Beacon, beaconChannel, beaconPattern, parseBeacon } from '../cluster/beacon.js';
import { type ClusterView, type MemberReading, buildClusterView } from '../cluster/view.js';
import { type ProcessSample, sampleProcess } from '../metrics/process.js';
import { EventLog } from './events.js';
import { InterfaceIo } from './interface-io.js';
import { FenceDeputy } from '../etcd/fence-deputy.js';
import { LeaseRunner } from '../etcd/lease-runner.js';
import { openLeaseStore } from '../etcd/lease-store.js';
import { loadMaintenance, saveMaintenance } from './maintenance-store.js';
import { type UnitKeys, unitChange, unitKeys } from './reload-plan.js';
import { ETCD_LEASE_TRACK, InstanceRunner, READ_IN_SYNC_TRACK, READ_ON_MASTER_TRACK, REDIS_DATA_TRACK, REDIS_QUORUM_TRACK, REDIS_SAFETY_TRACK, type SwitchoverResult } from './instance-runner.js';
import type { AgentStatus, RunnerStatus } from '../status-types.js';
import { statusJson } from '../status-json.js';
import { type VipSpec, VipReconciler } from './vip-reconciler.js';
import { REDKEEP_VERSION } from '../version.js';

/** The backstop look at links and addresses (the kernel's events trigger one at once). */
const REFRESH_PERIOD_MS = 5000;
const ROLE_SETTLE_MS = 3000;
/** A read VIP: the master's offset read within this many guard periods counts (older: not in sync). */
const READ_MASTER_FRESH_PERIODS = 5;
/** How often an agent with Redis role control refreshes its beacons (status --cluster). */
const BEACON_PERIOD_MS = 1000;
/** status --cluster: how long a member's Redis may take to list its agent's beacon. */
const CLUSTER_READ_MS = 1000;
/** status --cluster: a member's INFO or answer older than this (or than this many guard periods) is not current. */
const CLUSTER_FRESH_MS = 500;
const CLUSTER_FRESH_PERIODS = 5;

interface Unit {
  readonly settings: InstanceSettings;
  /** The instance's settings and the [[track]] definitions it uses, split as a reload applies them. */
  readonly keys: UnitKeys;
  readonly runner: InstanceRunner;
  /** Its hooks (none configured: runs nothing until a reload adds some). */
  readonly hooks: HookRunner;
  readonly redis: RedisSupervisor | undefined;
  readonly guard: GuardRunner | undefined;
  readonly handover: HandoverChannel | undefined;
  readonly tracks: readonly TrackRunner[];
  readonly io: InterfaceIo;
  /** Strict mode's lease runner, once etcd3 is loaded (`[agent] etcd`, write instances steering their Redis). */
  readonly lease: LeaseBox | undefined;
}

/** Strict mode's parts for one instance: the lease runner (once etcd3 is loaded) and the fence deputy. */
interface LeaseBox {
  runner: LeaseRunner | undefined;
  deputy: FenceDeputy | undefined;
  /** Times the deputy closed the gate. */
  deputyFences: number;
  stopped: boolean;
}

export interface MaintenanceResult {
  readonly instance: string;
  readonly maintenance: boolean;
  /** The master this host handed over to first, and how long it took. */
  readonly handedOverTo?: string;
  readonly ms?: number;
}

export interface ReloadResult {
  readonly ok: boolean;
  readonly file: string;
  readonly error?: string;
  readonly unchanged: readonly string[];
  /** Instances whose hooks or track checks changed: applied in place, no state change. */
  readonly updated: readonly string[];
  readonly restarted: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Instances (or metrics_address) that could not start; the rest of the reload stands. */
  readonly failed: readonly { name: string; error: string }[];
  /** [agent] keys whose new value waits for a restart. */
  readonly needsRestart: readonly string[];
}

/**
 * The [agent] settings a reload applies (etcd by restarting the instances it guards); every other one (name, control_socket, control_group,
 * state_dir, and any added later) keeps its running value until the agent restarts, and the
 * reload says so.
 */
const AGENT_KEYS_APPLIED_ON_RELOAD: readonly (keyof RedkeepConfig['agent'])[] = ['logLevel', 'logFormat', 'metrics', 'sentinel', 'etcd'];
/** The TOML key of an [agent] setting: controlSocket -> control_socket. */
const tomlKey = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Strict mode's settings belong to every write instance that steers its Redis: a change restarts them. */
function strictOf(inst: InstanceSettings, c: RedkeepConfig): unknown {
  return inst.serve === 'write' && inst.redis?.manageRole ? c.agent.etcd : undefined;
}

function vipSpecs(instances: readonly InstanceSettings[]): VipSpec[] {
  return instances.flatMap((i) =>
    i.virtualAddresses.map((v) => ({
      instance: i.name,
      interface: i.interface,
      family: v.family,
      address: v.address,
      prefixLength: v.prefixLength,
      label: v.family === 'ipv4' ? i.addressLabel : undefined,
    })),
  );
}

export class Agent {
  private readonly nl = HostNetlink.open();
  private readonly ios = new Map<string, InterfaceIo>();
  /** One per running instance: its core's runner and what hangs off it. */
  private units: Unit[] = [];
  private metrics: HttpServer | undefined;
  private sentinel: SentinelEndpoint | undefined;
  /** Instances in maintenance (the state directory's copy, read at start). */
  private maintenance = new Set<string>();
  private vips: VipReconciler | undefined;
  private reloadRun: Promise<ReloadResult> | undefined;
  private stopRun: Promise<void> | undefined;
  private control: Server | undefined;
  private readonly startedAt = performance.now();
  private lastReload = { ok: true, at: new Date().toISOString() };
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private stopped = false;

  /** Transitions, fences, hand-overs, hooks...: what `redkeep events` streams. */
  readonly events = new EventLog();

  constructor(
    private config: RedkeepConfig,
    private readonly log: Logger,
  ) {
    log.onEvent = (e) => this.events.push(e);
  }

  private get runners(): InstanceRunner[] {
    return this.units.map((u) => u.runner);
  }

  private starting: Promise<void> | undefined;
  private refreshError: string | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private beaconTimer: NodeJS.Timeout | undefined;
  private readServeTimer: NodeJS.Timeout | undefined;

  start(): Promise<void> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const c = this.config;
    // The Redis client is loaded only by agents that use it, and then at once.
    if (c.instances.some((i) => i.redis)) loadRedis();
    // The control socket first: it refuses a second agent (which would fight this one over the
    // VIPs) and a bad control_group before anything on the host is touched.
    this.control = await startControlServer(c.agent.controlSocket, c.agent.controlGroup, (req) => this.answer(req));
    if (this.stopped) return;
    // Secrets and interfaces before the host is touched: a missing password file or interface
    // stops start-up with a clear message, not half-way.
    const links = await this.nl.links();
    const passwords = this.prepare(c.instances, links);
    this.maintenance = loadMaintenance(c.agent.stateDir);
    this.vips = new VipReconciler(this.nl, vipSpecs(c.instances), this.log);
    // A crash may have left our VIPs behind: remove them before any instance runs.
    await this.vips.kick();
    if (this.stopped) return;
    for (const inst of c.instances) this.startUnit(inst, c, links, passwords.get(inst.name));

    this.nl.subscribe((e) => {
      if (e.overflow) this.log.warn('the kernel dropped link/address events; re-reading everything');
      this.scheduleRefresh();
    });
    // The kernel's events say when to look (and our event socket reports lost ones); a look every
    // few seconds whatever happens is the backstop, and reconciles the VIPs with what it saw.
    this.periodic = setInterval(() => this.scheduleRefresh(), REFRESH_PERIOD_MS);
    // Read VIPs follow their Redis' replica state (and the master's offset) every guard period.
    this.startReadServe();
    // Beacons follow what a transition does not announce (VIPs added after it, a track's number).
    if (this.units.some((u) => u.handover)) this.beaconTimer = setInterval(() => this.publishBeacons(), BEACON_PERIOD_MS);
    await this.refresh();
    if (!this.stopped) await this.startMetrics(c.agent.metrics);
    if (!this.stopped) await this.startSentinel(c.agent.sentinel);
    this.log.info('redkeep started', { event: 'agent', instances: c.instances.length, control: c.agent.controlSocket });
  }

  /**
   * Checks what would only fail half-way through starting these instances: interfaces that do
   * not exist, passwords that cannot be read. Throws; resolves the passwords by instance.
   */
  private prepare(instances: readonly InstanceSettings[], links: readonly HostLink[]): Map<string, string | undefined> {
    const passwords = new Map<string, string | undefined>();
    for (const inst of instances) {
      if (!links.some((l) => l.name === inst.interface)) throw new Error(`instance ${inst.name}: interface ${inst.interface} does not exist`);
      if (!inst.redis) continue;
      try {
        passwords.set(inst.name, redisPassword(inst.redis));
      } catch (e) {
        throw new Error(`instance ${inst.name}: cannot read the Redis password: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return passwords;
  }

  /** Builds and starts one instance (its core starts at the next refresh, once its address is known). */
  private startUnit(inst: InstanceSettings, c: RedkeepConfig, links: readonly HostLink[], password: string | undefined): void {
    const link = links.find((l) => l.name === inst.interface);
    if (!link || !this.vips) throw new Error(`instance ${inst.name}: interface ${inst.interface} does not exist`);
    let io = this.ios.get(inst.interface);
    if (!io) {
      io = new InterfaceIo(link.name, link.index, link.mac, this.log);
      this.ios.set(inst.interface, io);
    }
    // A read instance has no Redis of its own to steer: it reads the write instance's (placeReadVips).
    const redis = inst.redis && inst.serve === 'write' ? new RedisSupervisor(inst.name, inst.redis, password, this.log, redisHostsOf(inst)) : undefined;
    const hooks = new HookRunner(inst.name, inst.hooks, this.log);
    let guard: GuardRunner | undefined;
    let runner: InstanceRunner | undefined;
    const handover = redis && inst.redis?.manageRole ? new HandoverChannel(inst.name, inst.vrid, redis.link.endpoint, inst.redis.peerPort, this.log) : undefined;
    if (redis && handover) redis.handover = handover;
    // The data guard needs redkeep to steer the roles (it reasons about whom our Redis follows).
    if (redis && inst.redis?.manageRole) {
      const ctx = {
        state: () => runner?.state ?? 'waiting',
        self: () => runner?.primaryAddress,
        advertisingMasters: () => runner?.advertisingMasters() ?? [],
        stepDown: (why: string) => runner?.stepDown(why),
        announce: (why: string) => runner?.announce(why),
      };
      guard = new GuardRunner(inst.name, inst.redis, redis, ctx, inst.members ?? [], inst.witnesses, inst.advertIntervalCs * 10, this.log);
    }
    runner = new InstanceRunner(inst, io, this.vips, this.log, { ...(redis ? { redis } : {}), hooks, ...(guard ? { guard } : {}), ...(handover ? { handover } : {}), ...(guard && c.agent.etcd ? { strict: true } : {}) });
    const r = runner;
    r.maintenance = this.maintenance.has(inst.name);
    const lease = guard && redis && c.agent.etcd ? this.startLease(inst, c, r, guard, redis) : undefined;
    r.onStateChange = () => {
      lease?.runner?.handle({ type: 'vrrp', state: r.state });
      guard?.kick();
      this.onChange();
      this.publishBeacons();
    };
    if (redis && guard) {
      const g = guard;
      redis.onMasterLost = () => g.kick();
      // Members vote: a promotion reads them fresh and needs a quorum answering now.
      redis.membersNow = () => g.membersNow();
    }
    io.attach(r);
    if (redis) redis.onSafety = (ok) => r.setTrack(REDIS_SAFETY_TRACK, ok);
    if (guard) {
      guard.onVerdict = (ok) => {
        r.setTrack(REDIS_DATA_TRACK, ok);
        this.publishBeacons();
      };
      guard.onQuorum = (ok) => r.setTrack(REDIS_QUORUM_TRACK, ok);
    }
    if (redis) {
      redis.self = () => r.primaryAddress;
      redis.onDemoted = (why) => r.stepDown(why);
    }
    const tracks: TrackRunner[] = [];
    for (const ref of inst.tracks) {
      const def = c.tracks.find((t) => t.name === ref.name);
      if (def) tracks.push(this.makeTrack(def, r, redis));
    }
    const unit: Unit = { settings: inst, keys: unitKeys(inst, c.tracks, password, strictOf(inst, c)), runner: r, hooks, redis, guard, handover, tracks, io, lease };
    this.units.push(unit);
    io.open();
    redis?.start();
    guard?.start();
    for (const t of tracks) t.start();
  }

  /**
   * A reload's in-place part (reload-plan.ts): new hooks, and new checks for its tracks from their
   * next run; the core, its state, the VIPs and the tracks' states stay.
   */
  private updateUnit(u: Unit, inst: InstanceSettings, c: RedkeepConfig, keys: UnitKeys): void {
    u.runner.updateSettings(inst);
    u.hooks.update(inst.hooks);
    for (const t of u.tracks) {
      const def = c.tracks.find((d) => d.name === t.def.name);
      if (def) t.update(def);
    }
    const next: Unit = { ...u, settings: inst, keys };
    this.units = this.units.map((x) => (x === u ? next : x));
    this.log.info('instance updated in place: its state stays', { instance: inst.name, state: u.runner.state });
  }

  /**
   * Strict mode for one write instance: the lease runner starts once etcd3 is loaded (until then,
   * and whenever the lease guard says so, the data guard keeps Redis' write gate closed); its
   * verdict goes to the write gate (through the data guard's next look, at once) and to the
   * etcd-lease track (Fault: the step-down).
   */
  private startLease(inst: InstanceSettings, c: RedkeepConfig, r: InstanceRunner, guard: GuardRunner, redisSup: RedisSupervisor): LeaseBox {
    const etcd = c.agent.etcd;
    const redis = inst.redis;
    const box: LeaseBox = { runner: undefined, deputy: undefined, deputyFences: 0, stopped: false };
    if (!etcd || !redis) return box;
    // With on_loss = "fence", a second process closes the gate at the fence deadline if this one
    // cannot (frozen, killed): fence-deputy.ts.
    if (etcd.onLoss === 'fence') box.deputy = this.startDeputy(inst.name, redisSup.link.endpoint, () => box.deputyFences++);
    guard.leaseRefusal = () => (box.runner === undefined ? 'strict mode: etcd not reached yet' : box.runner.verdict?.writes === 'allow' ? undefined : (box.runner.verdict?.why ?? 'strict mode: no lease yet'));
    guard.onLook = (local, gateClosed) => {
      box.runner?.handle({ type: 'local', facts: local });
      box.runner?.handle({ type: 'gate', closed: gateClosed });
    };
    const advertMs = inst.advertIntervalCs * 10;
    const ttlMs = etcd.leaseTtlMs ?? defaultLeaseTtlMs(masterDownIntervalMs(inst.version, inst.priority, inst.advertIntervalCs));
    const lease = new LeaseGuard({
      ttlMs,
      onLoss: etcd.onLoss,
      maxDriftRatio: 0.01,
      // The data guard's next look closes the gate: a read of INFO and a CONFIG SET.
      applyMs: Math.max(500, 2 * guardPeriodMs(advertMs)),
      // The advert address once known (the core starts when the interface has one): a leader key
      // naming this holder, address and Redis is this host's own leftover (lease-guard.ts).
      self: { holder: c.agent.name, get advert() { return r.primaryAddress ?? ''; }, redis: hostPortText(redis.host, redis.port) },
      // The promotions this agent saw (ours and the members'): a history two promotions on is still a successor.
    }, redisSup.lineage);
    guard.leaseStatus = () => {
      const run = box.runner;
      const v = run?.verdict;
      // The guard's counts (whatever the runner did with it so far), and the deputy's fences.
      const { unexpected: _, ...counts } = lease.counters;
      const counters = { ...counts, deputyFences: box.deputyFences };
      if (run === undefined || v === undefined) return { writes: 'refuse', stepDown: false, why: 'strict mode: etcd not reached yet', held: false, term: undefined, holder: undefined, fenceInMs: undefined, ttlMs, counters };
      const now = performance.now();
      const st = lease.status(now);
      return { writes: v.writes, stepDown: v.stepDown, why: v.why, held: st.held, term: st.term, holder: st.holder, fenceInMs: st.fenceAtMs === undefined ? undefined : Math.max(0, Math.round(st.fenceAtMs - now)), ttlMs: st.ttlMs, counters };
    };
    // Opened again (every 1 s, then less often up to a minute) when it cannot be: a certificate or
    // password file unreadable, etcd3 failing to load. Meanwhile this host refuses writes and is in
    // Fault: it cannot hold the lease, so it must not be the VRRP master that waits for it.
    const open = (retryMs: number): void => {
      openLeaseStore(etcd, inst.name, Math.max(100, Math.floor(ttlMs / 6))).then(
        (store) => {
          if (box.stopped) {
            store.close();
            return;
          }
          // Failed requests: the first of a kind is logged (and again every minute while it lasts),
          // so an operator sees why etcd "does not answer" (refused credentials, a bad certificate).
          let failing: { detail: string; loggedAtMs: number } | undefined;
          box.runner = new LeaseRunner(lease, store, {
            onDeadline: (atMs, nowMs) => box.deputy?.arm(atMs, nowMs),
            onResult: (req, result) => {
              const now = performance.now();
              if (result.ok) {
                if (failing !== undefined) this.log.info('etcd answers again', { event: 'lease', instance: inst.name });
                failing = undefined;
                return;
              }
              if (result.reason !== 'error') return;
              const detail = result.detail ?? 'error';
              if (failing?.detail === detail && now - failing.loggedAtMs < 60_000) return;
              failing = { detail, loggedAtMs: now };
              this.log.warn('etcd request failed', { event: 'lease', instance: inst.name, request: req.type, error: detail });
            },
            onVerdict: (v) => {
              if (v.writes === 'allow') this.log.info('etcd lease: writes allowed', { event: 'lease', instance: inst.name, why: v.why });
              else this.log.warn('etcd lease: writes refused', { event: 'lease', instance: inst.name, why: v.why, stepDown: v.stepDown });
              r.setTrack(ETCD_LEASE_TRACK, !v.stepDown);
              guard.kick();
              // A VRRP master whose promotion waited for the lease promotes now.
              r.leaseChanged();
            },
          });
          box.runner.handle({ type: 'vrrp', state: r.state });
          box.runner.start();
          this.log.info('strict mode: etcd lease guard started', { event: 'lease', instance: inst.name, endpoints: etcd.endpoints.join(', '), ttlMs, onLoss: etcd.onLoss });
        },
        (e: unknown) => {
          if (box.stopped) return;
          this.log.error('strict mode: cannot open the etcd client; writes stay refused, the instance stays in Fault, and it is tried again', { event: 'lease', instance: inst.name, error: e instanceof Error ? e.message : String(e), retryMs });
          r.setTrack(ETCD_LEASE_TRACK, false);
          setTimeout(() => open(Math.min(60_000, retryMs * 2)), retryMs).unref();
        },
      );
    };
    open(1000);
    return box;
  }

  /**
   * The fence deputy of one instance, restarted if it dies while the agent runs (its deadline is
   * sent again at the lease runner's next step).
   */
  private startDeputy(instance: string, endpoint: RedisEndpoint, onFence: () => void): FenceDeputy {
    const deputy: FenceDeputy = new FenceDeputy(endpoint, {
      onMessage: (m) => {
        if (m.type === 'connected') this.log.debug('fence deputy connected to redis', { event: 'lease', instance, pid: deputy.pid });
        else if (m.type === 'spawn-failed') this.log.error('fence deputy cannot start: a frozen agent would leave its Redis writable past the lease', { event: 'lease', instance, error: m.error });
        else if (m.ok) {
          onFence();
          this.log.error('fence deputy closed the write gate: the agent did not renew the lease in time', { event: 'lease', instance, why: m.why });
        } else this.log.error('fence deputy could not close the write gate', { event: 'lease', instance, why: m.why, error: m.error });
      },
      onExit: (code, signal) => {
        if (this.stopped || deputy.stopping) return;
        this.log.warn('fence deputy exited; starting it again', { event: 'lease', instance, code, signal });
        setTimeout(() => {
          if (!this.stopped && !deputy.stopping) deputy.start();
        }, 1000).unref();
      },
    });
    deputy.start();
    return deputy;
  }

  /**
   * Strict mode's part of the shutdown path, after the instance left master: the lease is revoked
   * if writes are refused; the deputy ends before the write gate's original values come back.
   */
  private static async stopLease(u: Unit): Promise<void> {
    if (!u.lease) return;
    u.lease.stopped = true;
    await u.lease.runner?.stop();
    await u.lease.deputy?.stop();
  }

  /** The instance's shutdown path (priority 0 if master, VIPs released), then everything of it closed. */
  private async stopUnit(u: Unit): Promise<void> {
    for (const t of u.tracks) t.stop();
    await u.runner.stop();
    await Agent.stopLease(u);
    await u.guard?.stop();
    u.redis?.stop();
    u.io.detach(u.runner);
    if (!u.io.attached) {
      u.io.close();
      this.ios.delete(u.io.name);
    }
    this.units = this.units.filter((x) => x !== u);
  }

  private async startSentinel(o: RedkeepConfig['agent']['sentinel']): Promise<void> {
    if (!o) return;
    let password: string | undefined;
    if (o.passwordFile !== undefined) {
      try {
        password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        throw new Error(`agent.sentinel_password_file: cannot read ${o.passwordFile}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // Loaded when configured, as the metrics server is.
    const { SentinelEndpoint } = await import('../sentinel/endpoint.js');
    const ep = new SentinelEndpoint(o.host, o.port, password, REDKEEP_VERSION, () => this.units, this.log);
    await ep.start();
    this.sentinel = ep;
  }

  private async startMetrics(m: RedkeepConfig['agent']['metrics']): Promise<void> {
    if (!m) return;
    // Loaded when configured: an agent without metrics does not carry the HTTP server.
    const { startMetricsServer } = await import('../metrics/server.js');
    this.metrics = await startMetricsServer(m.host, m.port, () => this.status(), (e) => this.log.warn('metrics endpoint error', { error: e.message }));
    this.log.info('metrics endpoint listening', { address: `http://${hostPortText(m.host, m.port)}/metrics` });
  }

  /**
   * SIGHUP and `redkeep reload`: the file is read and validated first (a bad one is refused and
   * the running configuration stays); instances whose settings (and tracks) did not change are
   * not touched, a master stays master with its VIPs; those where only hooks or track checks
   * changed take them in place, with no state change (reload-plan.ts says which settings those
   * are); removed instances stop by their shutdown path, other changed ones stop and start again,
   * new ones start. Log level and format apply at once; agent settings that only a restart can
   * change (name, control socket and group) are kept and reported.
   */
  reload(): Promise<ReloadResult> {
    if (this.stopped) return Promise.reject(new Error('the agent is stopping'));
    if (this.reloadRun) return Promise.reject(new Error('a reload is already running'));
    this.onReload('start');
    const run = this.reloadOnce()
      .then(
        (r) => {
          this.lastReload = { ok: r.ok, at: new Date().toISOString() };
          return r;
        },
        (e: unknown) => {
          this.lastReload = { ok: false, at: new Date().toISOString() };
          throw e;
        },
      )
      .finally(() => {
        this.reloadRun = undefined;
        this.onReload('end');
      });
    this.reloadRun = run;
    return run;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    // Never beside a start: its instances must all exist before they are compared.
    await this.starting?.catch(() => undefined);
    const file = this.config.file;
    const refused = (error: string, needsRestart: readonly string[] = []): ReloadResult => {
      this.log.error('reload refused: the running configuration stays', { event: 'reload', file, error });
      return { ok: false, file, error, unchanged: [], updated: [], restarted: [], added: [], removed: [], failed: [], needsRestart };
    };
    if (this.stopped) return refused('the agent is stopping');
    let next: RedkeepConfig;
    try {
      next = loadConfig(file);
    } catch (e) {
      return refused(e instanceof Error ? e.message : String(e));
    }
    const cur = this.config;
    const keptKeys = (Object.keys({ ...cur.agent, ...next.agent }) as (keyof RedkeepConfig['agent'])[]).filter(
      (k) => !AGENT_KEYS_APPLIED_ON_RELOAD.includes(k) && JSON.stringify(next.agent[k]) !== JSON.stringify(cur.agent[k]),
    );
    const needsRestart = keptKeys.map((k) => tomlKey(k));
    if (needsRestart.length) this.log.warn('reload: these [agent] settings change only at a restart', { keys: needsRestart.join(', ') });
    // Everything that could fail is checked before anything stops; passwords are read for every
    // instance, so that a changed password restarts its instance too.
    let passwords: Map<string, string | undefined>;
    try {
      passwords = this.prepare(next.instances, await this.nl.links());
    } catch (e) {
      return refused(e instanceof Error ? e.message : String(e), needsRestart);
    }
    if (this.stopped) return refused('the agent is stopping');
    const byName = new Map(this.units.map((u) => [u.settings.name, u]));
    const plan = next.instances.map((inst) => {
      const keys = unitKeys(inst, next.tracks, passwords.get(inst.name), strictOf(inst, next));
      const old = byName.get(inst.name);
      return { inst, keys, old, change: unitChange(old?.keys, keys) };
    });
    const keep = plan.filter((p) => p.change === 'unchanged' || p.change === 'updated');
    const update = plan.filter((p) => p.change === 'updated');
    const start = plan.filter((p) => p.change === 'restarted' || p.change === 'added');
    const stop = this.units.filter((u) => !keep.some((k) => k.old === u));
    for (const u of stop) await this.stopUnit(u);
    for (const p of update) if (p.old) this.updateUnit(p.old, p.inst, next, p.keys);
    this.vips?.setSpecs(vipSpecs(next.instances));
    const failed: { name: string; error: string }[] = [];
    if (!this.stopped) {
      const links = await this.nl.links();
      for (const p of start) {
        try {
          this.startUnit(p.inst, next, links, passwords.get(p.inst.name));
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          failed.push({ name: p.inst.name, error });
          this.log.error('reload: instance cannot start', { instance: p.inst.name, error });
        }
      }
    }
    this.config = { ...next, agent: { ...next.agent, ...Object.fromEntries(keptKeys.map((k) => [k, cur.agent[k]])) } };
    if (next.agent.logLevel !== cur.agent.logLevel) this.log.level = next.agent.logLevel;
    if (next.agent.logFormat !== cur.agent.logFormat) this.log.format = next.agent.logFormat;
    if (!this.stopped && JSON.stringify(next.agent.metrics) !== JSON.stringify(cur.agent.metrics)) {
      if (this.metrics) await (await import('../metrics/server.js')).stopMetricsServer(this.metrics);
      this.metrics = undefined;
      try {
        await this.startMetrics(next.agent.metrics);
      } catch (e) {
        failed.push({ name: 'metrics_address', error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (!this.stopped && JSON.stringify(next.agent.sentinel) !== JSON.stringify(cur.agent.sentinel)) {
      await this.sentinel?.stop();
      this.sentinel = undefined;
      try {
        await this.startSentinel(next.agent.sentinel);
      } catch (e) {
        failed.push({ name: 'sentinel_address', error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (!this.stopped) {
      this.startReadServe();
      await this.refresh();
    }
    const result: ReloadResult = {
      ok: failed.length === 0,
      file,
      ...(failed.length ? { error: failed.map((f) => `${f.name}: ${f.error}`).join('; ') } : {}),
      unchanged: keep.filter((p) => p.change === 'unchanged').map((p) => p.inst.name),
      updated: update.map((p) => p.inst.name),
      restarted: start.filter((p) => p.old !== undefined && !failed.some((f) => f.name === p.inst.name)).map((p) => p.inst.name),
      added: start.filter((p) => p.old === undefined && !failed.some((f) => f.name === p.inst.name)).map((p) => p.inst.name),
      removed: stop.filter((u) => !next.instances.some((i) => i.name === u.settings.name)).map((u) => u.settings.name),
      failed,
      needsRestart,
    };
    this.log.info('configuration reloaded', { event: 'reload', unchanged: result.unchanged.join(', ') || 'none', updated: result.updated.join(', ') || 'none', restarted: result.restarted.join(', ') || 'none', added: result.added.join(', ') || 'none', removed: result.removed.join(', ') || 'none', failed: failed.map((f) => f.name).join(', ') || 'none' });
    this.onChange();
    return result;
  }

  private makeTrack(def: TrackSettings, runner: InstanceRunner, redis: RedisSupervisor | undefined): TrackRunner {
    const name = runner.settings.name;
    let check: Check;
    let lastState = runner.state;
    let settledAt = performance.now();
    switch (def.type) {
      case 'redis-ping':
        check = async (d) => {
          if (!redis) return { ok: false, detail: 'no redis configured' };
          await redis.link.ping(d.timeoutMs);
          return { ok: true, detail: 'PONG' };
        };
        break;
      case 'redis-role':
        // The role must match the VRRP state once role control has had time to settle it.
        check = async (d) => {
          if (!redis) return { ok: false, detail: 'no redis configured' };
          const facts = await redis.link.facts(d.timeoutMs);
          const state = runner.state;
          if (state !== lastState) {
            lastState = state;
            settledAt = performance.now();
          }
          const want = state === 'master' ? 'master' : state === 'backup' ? 'replica' : undefined;
          if (want === undefined || performance.now() - settledAt < ROLE_SETTLE_MS) return { ok: true, detail: `role ${facts.role}` };
          return { ok: facts.role === want, detail: `role ${facts.role}, ${state} wants ${want}` };
        };
        break;
      case 'exec':
        check = async (d) => {
          const { runCheck } = await import('../tracks/exec-check.js');
          const r = await runCheck(d.command, d.timeoutMs);
          return { ok: r.ok, detail: r.outcome };
        };
        break;
      case 'file':
        check = (d) => readTrackFile(d.file ?? '');
        break;
    }
    const t = new TrackRunner(def, name, check, (ok, value) => runner.setTrack(def.name, ok, value), this.log);
    // A dropped connection fails a PING track at once, not at the next interval.
    if (def.type === 'redis-ping') redis?.link.on('down', (why) => t.failNow(why));
    return t;
  }

  /** Link and address events arrive in bursts: look once, soon after the first. */
  private scheduleRefresh(): void {
    if (this.refreshTimer || this.stopped) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, 5);
  }

  /** Reads links and addresses, tells instances, starts those that were waiting, reconciles VIPs. */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.scheduleRefresh();
      return;
    }
    this.refreshing = true;
    try {
      const stamp = this.vips?.lookStamp ?? 0;
      const links = await this.nl.links();
      const addrs = await this.nl.addresses();
      const byName = new Map(links.map((l) => [l.name, l]));
      // An interface re-created (new index) or a socket that failed: its sockets open again.
      for (const io of this.ios.values()) {
        const l = byName.get(io.name);
        if (l) io.heal(l.index, l.mac);
      }
      for (const r of this.runners) {
        const s = r.settings;
        const own = byName.get(s.interface);
        r.setLink(own !== undefined && own.adminUp && own.carrier);
        for (const t of s.trackInterfaces) {
          const l = byName.get(t.name);
          r.setTrackedInterface(t.name, l !== undefined && l.adminUp && l.carrier);
        }
        if (r.state === 'waiting') {
          try {
            r.start(this.sourceAddress(s, own, addrs));
          } catch (e) {
            this.log.error('instance cannot start', { instance: s.name, error: e instanceof Error ? e.message : String(e) });
          }
        }
      }
      await this.vips?.observe(links, addrs, stamp);
      if (this.refreshError !== undefined) {
        this.log.info('reading links and addresses works again');
        this.refreshError = undefined;
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.refreshError) this.log.error('cannot read links and addresses', { error: msg, will: 'retry' });
      this.refreshError = msg;
    } finally {
      this.refreshing = false;
    }
  }

  /** The advert source: unicast_source, else the interface's first own address of the family. */
  private sourceAddress(s: InstanceSettings, link: HostLink | undefined, addrs: readonly HostAddress[]): string | undefined {
    if (s.unicastSource !== undefined) return s.unicastSource;
    if (!link) return undefined;
    const vips = new Set(this.config.instances.flatMap((i) => i.virtualAddresses.map((v) => v.address)));
    const mine = addrs.filter((a) => a.index === link.index && a.family === s.family && !vips.has(a.address));
    // RFC 5798 §5.1.2.2: over IPv6 the source is the link-local address.
    const pick = s.family === 'ipv6' ? mine.find((a) => a.address.startsWith('fe80:')) : mine[0];
    return pick?.address;
  }

  private answer(req: ControlRequest): unknown {
    switch (req.cmd) {
      case 'ping':
        return 'pong';
      case 'status':
        return statusJson(this.status());
      case 'switchover':
        return this.switchover(req.instance, req.to);
      case 'reload':
        return this.reload();
      case 'maintenance':
        return this.setMaintenance(req.on, req.instance);
      case 'cluster':
        return this.cluster();
      case 'events': {
        const recent = this.events.recent(req.limit);
        return req.follow ? new ControlStream(recent, (push) => this.events.subscribe(push)) : recent;
      }
    }
  }

  /** Runs the read instances' placement every guard period of the fastest one (none: no timer). */
  private startReadServe(): void {
    if (this.readServeTimer) clearInterval(this.readServeTimer);
    this.readServeTimer = undefined;
    const reads = this.units.filter((u) => u.settings.serve === 'read');
    if (reads.length === 0) return;
    const period = Math.min(...reads.map((u) => guardPeriodMs(u.settings.advertIntervalCs * 10)));
    this.readServeTimer = setInterval(() => this.placeReadVips(), period);
    this.placeReadVips();
  }

  /**
   * Each read instance's two tracks from its Redis as the write instance of that Redis sees it:
   * its facts, the write master, and the master's offset (ours, or the data guard's read of it).
   */
  private placeReadVips(): void {
    for (const u of this.units) {
      if (u.settings.serve !== 'read' || !u.settings.redis) continue;
      const rs = u.settings.redis;
      const w = this.units.find((x) => x.settings.serve === 'write' && x.settings.redis?.host === rs.host && x.settings.redis.port === rs.port);
      // Our Redis as the write instance's guard read it this period (a frozen Redis reads as nothing).
      const freshMs = w?.guard ? READ_MASTER_FRESH_PERIODS * w.guard.period : 0;
      const facts = w?.guard?.localFacts(freshMs);
      const writeMaster = w !== undefined && w.runner.state === 'master' && w.runner.masterNow();
      const seen = w?.runner.status().masterAddress;
      // Its Redis as replicas are told to follow it (peer_addresses, a link-local zone).
      const masterHost = writeMaster || seen === undefined || !w ? undefined : redisHostsOf(w.settings).hostOf(seen);
      let masterOffset: number | undefined;
      if (writeMaster) masterOffset = facts?.replOffset;
      else if (w?.guard && seen !== undefined) masterOffset = w.guard.peerFacts(seen, freshMs)?.replOffset;
      const v = readServeVerdict({ facts, writeMaster, masterHost, masterPort: w?.settings.redis?.peerPort ?? rs.peerPort, masterOffset, maxLagBytes: rs.guard.maxLagBytes });
      const before = u.runner.readServe;
      u.runner.readServe = { serving: v.serving, why: v.why };
      u.runner.setTrack(READ_IN_SYNC_TRACK, v.serving !== 'none');
      u.runner.setTrack(READ_ON_MASTER_TRACK, v.serving !== 'master');
      if (before?.serving !== v.serving) {
        const meta = { event: 'read-serve', instance: u.settings.name, serving: v.serving, why: v.why };
        if (v.serving === 'none') this.log.warn('read VIP: this host does not serve reads', meta);
        else this.log.info(v.serving === 'master' ? 'read VIP: the master serves reads until a replica qualifies' : 'read VIP: this replica serves reads', meta);
      }
    }
  }

  /** What this agent says of each instance to the others' `status --cluster` (on its own Redis). */
  private publishBeacons(): void {
    for (const u of this.units) {
      const b = this.beaconOf(u);
      if (b) u.handover?.setBeacon(beaconChannel(u.settings.vrid, b));
    }
  }

  private beaconOf(u: Unit): Beacon | undefined {
    const st = u.runner.status();
    if (st.primaryAddress === undefined) return undefined;
    const g = u.guard?.status();
    return {
      agent: this.config.agent.name,
      address: st.primaryAddress,
      instance: st.name,
      state: st.state,
      priority: st.effectivePriority ?? st.basePriority,
      basePriority: st.basePriority,
      maintenance: st.maintenance,
      vipsHeld: st.vipsHeld,
      guardOk: g?.ok,
      writesRefused: g?.writesRefused,
    };
  }

  /**
   * `redkeep status --cluster`: every member of the instances here, with what its agent says of
   * itself (its beacon on its Redis) and what its Redis says (the data guard's latest INFO).
   */
  private async cluster(): Promise<ClusterView> {
    this.publishBeacons();
    const readings: MemberReading[] = [];
    await Promise.all(
      this.units.map(async (u) => {
        const s = u.settings;
        const self = u.runner.primaryAddress;
        const port = s.redis?.peerPort ?? 0;
        const hosts = redisHostsOf(s);
        if (self !== undefined) {
          readings.push({ instance: s.name, address: self, redisHost: hosts.hostOf(self), self: true, reachable: true, beacon: this.beaconOf(u), facts: u.redis?.latestFacts, port });
        }
        const guard = u.guard;
        if (!guard) {
          // No members' Redis to read: the master as VRRP sees it.
          const m = u.runner.status().masterAddress;
          if (m !== undefined && m !== self) readings.push({ instance: s.name, address: m, redisHost: hosts.hostOf(m), self: false, reachable: true, beacon: undefined, facts: undefined, port });
          return;
        }
        const members = (s.members ?? s.unicastPeers).filter((m) => m !== self);
        await Promise.all(
          members.map(async (m) => {
            const channels = await guard.peerCommand(m, CLUSTER_READ_MS, 'PUBSUB', 'CHANNELS', beaconPattern(s.vrid)).catch(() => undefined);
            const beacon = Array.isArray(channels)
              ? channels.map((c) => (typeof c === 'string' ? parseBeacon(s.vrid, c) : undefined)).find((b) => b !== undefined && b.address === m && b.instance === s.name)
              : undefined;
            // Members are read every guard period: a few periods without an answer is not current.
            const freshMs = Math.max(CLUSTER_FRESH_MS, CLUSTER_FRESH_PERIODS * guard.period);
            readings.push({ instance: s.name, address: m, redisHost: hosts.hostOf(m), self: false, reachable: guard.peerAnswered(m, freshMs), beacon, facts: guard.peerFacts(m, freshMs), port });
          }),
        );
      }),
    );
    return buildClusterView(this.config.agent.name, new Date().toISOString(), readings);
  }

  /** `redkeep maintenance on|off`: the named instance, else every instance here; kept in the state directory. */
  private async setMaintenance(on: boolean, instance: string | undefined): Promise<MaintenanceResult[]> {
    const targets = instance === undefined ? this.runners : this.runners.filter((r) => r.settings.name === instance);
    if (targets.length === 0) throw new Error(instance === undefined ? 'no instance runs here' : `no instance named ${instance} (instances: ${this.runners.map((r) => r.settings.name).join(', ')})`);
    const out: MaintenanceResult[] = [];
    for (const r of targets) {
      const name = r.settings.name;
      const before = new Set(this.maintenance);
      if (on) this.maintenance.add(name);
      else this.maintenance.delete(name);
      // Written first: an agent that dies during the hand-over comes back in maintenance.
      saveMaintenance(this.config.agent.stateDir, this.maintenance);
      try {
        const handedOver = await r.setMaintenance(on);
        out.push({ instance: name, maintenance: on, ...(handedOver?.newMaster !== undefined ? { handedOverTo: handedOver.newMaster, ms: handedOver.ms } : {}) });
      } catch (e) {
        this.maintenance = before;
        saveMaintenance(this.config.agent.stateDir, this.maintenance);
        throw e;
      }
    }
    this.onChange();
    this.publishBeacons();
    return out;
  }

  /** `redkeep switchover`: the named instance, else the one instance this host is master of. */
  private async switchover(instance: string | undefined, to: string | undefined): Promise<SwitchoverResult> {
    let runner: InstanceRunner | undefined;
    if (instance !== undefined) {
      runner = this.runners.find((r) => r.settings.name === instance);
      if (!runner) throw new Error(`no instance named ${instance} (instances: ${this.runners.map((r) => r.settings.name).join(', ')})`);
    } else {
      const masters = this.runners.filter((r) => r.state === 'master');
      if (masters.length === 1) runner = masters[0];
      else if (this.runners.length === 1) runner = this.runners[0];
      else throw new Error(`name the instance (--instance): this host is master of ${masters.length === 0 ? 'none' : masters.map((r) => r.settings.name).join(', ')}`);
    }
    if (!runner) throw new Error('no instance');
    let target = to;
    if (to !== undefined) {
      const family = runner.family === 'ipv4' ? 4 : 6;
      if (isIP(to) === 0) {
        try {
          target = (await lookup(to, { family })).address;
        } catch (e) {
          throw new Error(`cannot resolve ${to}: ${e instanceof Error ? e.message : String(e)}`);
        }
      } else if (isIP(to) !== family) throw new Error(`${to} is not an ${runner.family} address`);
      target = canonicalAddress(target ?? to) ?? to;
    }
    return await runner.switchover(target);
  }

  /** Told whenever an instance changes state (systemd STATUS). */
  onChange: () => void = () => undefined;

  /** Told when a reload begins and when it ends, whatever its outcome (systemd RELOADING, READY). */
  onReload: (phase: 'start' | 'end') => void = () => undefined;

  /** One line for systemd's STATUS: "MASTER on redis-write", or one such part per instance. */
  summary(): string {
    if (this.runners.length === 0) return 'starting';
    return this.runners.map((r) => `${r.state.toUpperCase()} on ${r.settings.name}`).join('; ');
  }

  status(): AgentStatus {
    return {
      agent: {
        name: this.config.agent.name,
        version: REDKEEP_VERSION,
        pid: process.pid,
        uptimeMs: Math.round(performance.now() - this.startedAt),
        config: this.config.file,
        lastReload: { ...this.lastReload },
      },
      process: sampleProcess(),
      interfaces: [...this.ios.values()].map((io) => ({
        name: io.name,
        index: io.index,
        mac: io.mac,
        packetsRx: io.counters.packetsRx,
        drops: { ...io.counters.drops },
        sendErrors: io.counters.sendErrors,
        garpsSent: io.counters.garpsSent,
      })),
      instances: this.runners.map((r) => r.status()),
    };
  }

  /** The one shutdown path: priority-0 adverts from masters, VIPs released, everything closed. */
  stop(): Promise<void> {
    // Every caller (a second signal, an error during shutdown) waits for the same shutdown.
    this.stopRun ??= this.stopOnce();
    return this.stopRun;
  }

  /**
   * How long the shutdown path may rightly take: a master's hand-over (catch-up, designation, the
   * successor's takeover: well under 30 s) and then the stop hooks, each bounded by its instance's
   * hook timeout. systemd is asked for more time up to this, no longer.
   */
  stopBudgetMs(): number {
    const hooks = Math.max(0, ...this.config.instances.map((i) => (i.hooks ? i.hooks.timeoutMs : 0)));
    return 30_000 + hooks;
  }

  get stopping(): boolean {
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.stopped = true;
    // A stop during start or a reload waits for it to reach a point where it notices.
    await this.starting?.catch(() => undefined);
    await this.reloadRun?.catch(() => undefined);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.periodic) clearInterval(this.periodic);
    if (this.beaconTimer) clearInterval(this.beaconTimer);
    if (this.readServeTimer) clearInterval(this.readServeTimer);
    this.log.info('redkeep stopping', { event: 'agent' });
    // Sentinel clients ask the other agents while this one hands over.
    await this.sentinel?.stop();
    for (const u of this.units) for (const t of u.tracks) t.stop();
    await Promise.all(this.units.map((u) => u.runner.stop()));
    await Promise.all(this.units.map((u) => Agent.stopLease(u)));
    await Promise.all(this.units.map((u) => u.guard?.stop()));
    for (const u of this.units) u.redis?.stop();
    await this.vips?.releaseAll();
    for (const io of this.ios.values()) io.close();
    if (this.metrics) await (await import('../metrics/server.js')).stopMetricsServer(this.metrics);
    if (this.control) await stopControlServer(this.control, this.config.agent.controlSocket);
    this.nl.close();
    this.log.info('redkeep stopped');
  }
}
