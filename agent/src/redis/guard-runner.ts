// Runs the failover policy's data guard for one instance (the shell around @redkeep/failover's
// DataGuard): every guard period it reads the local Redis, takes the members' latest answers
// (polled on their own cadence by the PeerMonitor), asks the DataGuard, and applies the verdict:
// - the redis-quorum track (weight 0: Fault while this host cannot reach a quorum of members, so
//   a minority never promotes) and the redis-data track (guard_weight: priority lowered while
//   stale, isolated or superseded);
// - Redis' write gate, reconciled each period: while this host may acknowledge writes, Redis keeps
//   min-replicas-to-write at (quorum - 1) with min-replicas-max-lag REPLICA_FRESH_S, so it refuses
//   writes by itself when its replicas go silent, even while this agent is frozen; when the policy
//   says refuse (no quorum, not the VRRP master, superseded), min-replicas-to-write goes to
//   REFUSE_ALL and every write gets NOREPLICAS at once. The values found at start come back when
//   the agent stops;
// - a superseded master resigns (priority 0) at once;
// - a master that finds members back in reach (a heal) announces its VIPs again: clients cut off
//   with the other side may still have another holder's MAC for them.

import { performance } from 'node:perf_hooks';
import { DataGuard, type DataGuardVerdict, type LeaseCounters, defaultQuorum, type MembersNow, REFUSE_ALL, type WriteGate, REDIS_GATE_DEFAULTS, originalGate, wantedGate } from '@redkeep/failover';
import type { VrrpState } from '@redkeep/vrrp';
import type { RedisSettings } from '../config/config.js';
import { guardPeriodMs } from '../config/redis-config.js';
import type { Logger } from '../log.js';
import type { RedisFacts } from '@redkeep/redis';
import { PeerMonitor, tcpProbe } from './peer-monitor.js';
import { FENCE_HOST, FENCE_PORT, type RedisSupervisor } from './supervisor.js';

export { REFUSE_ALL };
/** How long a promotion's fresh read of the members may take (they are on the LAN). */
const PROMOTE_READ_MS = 50;
const MIN_REPLICAS = 'min-replicas-to-write';
const MAX_LAG = 'min-replicas-max-lag';

export interface GuardContext {
  /** The VRRP state, our own primary address, and the members heard advertising as master lately. */
  state(): VrrpState | 'waiting';
  self(): string | undefined;
  advertisingMasters(): string[];
  /** The policy says: resign now. */
  stepDown(why: string): void;
  /** Members came back in reach (a heal): a master announces its VIPs again. */
  announce(why: string): void;
}

/** Strict mode's lease, as status shows it. */
export interface LeaseSummary {
  readonly writes: 'allow' | 'refuse';
  readonly stepDown: boolean;
  readonly why: string;
  readonly held: boolean;
  readonly term: number | undefined;
  /** Who holds the instance's key, as last read (this host while it holds it). */
  readonly holder: string | undefined;
  /** Time left before writes are refused without a renew (held only). */
  readonly fenceInMs: number | undefined;
  readonly ttlMs: number;
  /** Since the agent started: the lease guard's counts, and the fence deputy's fences. */
  readonly counters: LeaseCounts;
}

export type LeaseCounts = Readonly<Omit<LeaseCounters, 'unexpected'>> & { readonly deputyFences: number };

export interface GuardStatus {
  /** Strict mode's lease (`[agent] etcd`); undefined without it. */
  readonly lease: LeaseSummary | undefined;
  readonly ok: boolean;
  readonly why: string;
  readonly writesRefused: boolean;
  readonly quorum: { readonly ok: boolean; readonly reachable: number; readonly needed: number; readonly why: string } | undefined;
  readonly peers: readonly string[];
}

export class GuardRunner {
  /** Both made at the first look, once this host's own address (and so the members' count) is known. */
  private guard: DataGuard | undefined;
  private peers: PeerMonitor | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Failing until the first look: a host must not preempt before it knows what its members have. */
  private verdict: DataGuardVerdict | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly periodMs: number;
  /** min-replicas-to-write and -max-lag as found at start (Redis' defaults for leftovers of ours). */
  private original: WriteGate | undefined;
  /** What we last set, and whether it was a refusal. */
  private applied: WriteGate | undefined;
  /** The run_id of the Redis `applied` was read from or set on: a restarted Redis has its own config. */
  private appliedRunId: string | undefined;
  private refusing = false;
  private ticks = 0;
  private quorumNeeded = 1;
  private lastError: string | undefined;
  /** Told when the verdict flips: the instance's redis-data and redis-quorum tracks. */
  onVerdict: (ok: boolean, why: string) => void = () => undefined;
  onQuorum: (ok: boolean, why: string) => void = () => undefined;
  /**
   * Strict mode (`[agent] etcd`): why the lease guard refuses writes now, if it does. Refused on a
   * replica too, so that a promotion starts with writes refused until the lease is held.
   */
  leaseRefusal: () => string | undefined = () => undefined;
  /** Each look: our Redis' INFO, and whether it acknowledges nothing now (a replica, or the gate applied closed). */
  onLook: (local: RedisFacts | undefined, gateClosed: boolean) => void = () => undefined;
  /** Strict mode: the lease, for status. */
  leaseStatus: () => LeaseSummary | undefined = () => undefined;

  constructor(
    private readonly instance: string,
    private readonly settings: RedisSettings,
    private readonly redis: RedisSupervisor,
    private readonly ctx: GuardContext,
    /** The configured members of this instance (this host's own address may be among them). */
    private readonly members: readonly string[],
    /** Witnesses: they vote for the quorum but have no Redis to replicate to. */
    private readonly witnesses: readonly string[],
    advertIntervalMs: number,
    private readonly log: Logger,
  ) {
    this.periodMs = guardPeriodMs(advertIntervalMs);
  }

  start(): void {
    this.schedule(this.periodMs);
  }

  /**
   * Looks now (or right after the look in progress): the master's Redis went away, the VRRP
   * state changed. A failover takes tens of milliseconds after a priority-0 advert; the verdict
   * must be current by then, not up to a period old.
   */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tickOnce().finally(() => {
        if (this.stopped) return;
        const again = this.again;
        this.again = false;
        // While waiting to be in sync, look often: the wait should end when the sync does.
        const waiting = this.verdict?.waiting === true;
        this.schedule(again ? 0 : waiting ? Math.min(25, this.periodMs) : this.periodMs);
      });
    }, ms);
  }

  private ensurePeers(): { peers: PeerMonitor; guard: DataGuard } | undefined {
    if (this.peers && this.guard) return { peers: this.peers, guard: this.guard };
    const self = this.ctx.self();
    if (self === undefined) return undefined;
    const others = [...this.members.filter((m) => m !== self), ...this.witnesses];
    const g = this.settings.guard;
    // A majority of the members (witnesses included) and this host, unless configured otherwise.
    const quorum = g.quorum ?? defaultQuorum(others.length + 1);
    this.guard = new DataGuard({ memberTimeoutMs: g.memberTimeoutMs, quorum, maxLinkDownMs: g.maxLinkDownMs, maxLagBytes: g.maxLagBytes, fence: { host: FENCE_HOST, port: FENCE_PORT }, hosts: this.redis.hosts });
    this.quorumNeeded = quorum;
    this.peers = new PeerMonitor(this.redis.link.endpoint, this.settings.peerPort, this.redis.hosts, this.instance, others, this.periodMs, Math.max(1000, g.memberTimeoutMs * 2));
    return { peers: this.peers, guard: this.guard };
  }

  private async tickOnce(): Promise<void> {
    if (this.running || this.stopped) return;
    const made = this.ensurePeers();
    if (!made) return;
    const { peers, guard } = made;
    this.running = true;
    try {
      const link = this.redis.link;
      const local = link.isUp ? await link.facts(Math.max(100, this.periodMs)).catch(() => undefined) : undefined;
      if (this.stopped) return;
      this.local = { facts: local, atMs: performance.now() };
      const state = this.ctx.state();
      const self = this.ctx.self();
      const following = this.redis.following();
      const views = peers.views();
      this.redis.observe(local);
      for (const p of views) this.redis.observe(p.facts);
      const v = guard.evaluate({
        nowMs: performance.now(),
        state,
        master: state === 'master' ? undefined : following,
        local,
        peers: views,
        advertisingMasters: this.ctx.advertisingMasters(),
        fencedByUs: this.redis.fencedByUs(),
        promotedByUs: this.redis.promotedByUs(),
        ...(self !== undefined ? { self } : {}),
        lineage: this.redis.lineage,
      });
      const before = this.verdict;
      if (v.ok !== before?.ok || (!v.ok && v.kind !== before.kind)) {
        if (v.ok) this.log.info('redis data guard: ok', { event: 'data-guard', instance: this.instance, why: v.why });
        else this.log.warn(`redis data guard: ${v.kind ?? 'failing'}; priority lowered`, { event: 'data-guard', instance: this.instance, why: v.why });
        this.onVerdict(v.ok, v.why);
      }
      if (v.quorum.ok !== before?.quorum.ok) {
        if (v.quorum.ok) this.log.info('members: quorum reachable', { event: 'quorum', instance: this.instance, why: v.quorum.why });
        else this.log.error('members: no quorum; this host may not be master (fault) and its Redis refuses writes', { event: 'quorum', instance: this.instance, why: v.quorum.why });
        this.onQuorum(v.quorum.ok, v.quorum.why);
      }
      this.verdict = v;
      if (v.supersededBy !== undefined || v.kind === 'superseded') this.redis.supersede(v.supersededBy);
      if (!v.quorum.ok && local?.role === 'master') this.redis.disown(v.quorum.why);
      // Writes first (refused at once), then the resign.
      const leaseWhy = this.leaseRefusal();
      // A restarted Redis (another run_id) starts from its redis.conf: read its gate again.
      if (local?.runId !== undefined && local.runId !== this.appliedRunId) {
        this.applied = undefined;
        this.appliedRunId = local.runId;
      }
      const gateAsWanted = local ? await this.reconcileWrites((local.role === 'master' && v.writes === 'refuse') || leaseWhy !== undefined, leaseWhy) : false;
      // Closed: a replica, the gate applied (or confirmed) in this look, or nothing listening on
      // the port (a Redis that does not answer may be frozen, and would take writes when it wakes up).
      const nothingListens = local === undefined && this.leaseStatus() !== undefined && (await tcpProbe(this.redis.link.endpoint.host, this.redis.link.endpoint.port, Math.max(100, this.periodMs))) === 'refused';
      this.onLook(local, nothingListens || (local !== undefined && (local.role === 'replica' || (gateAsWanted && this.refusing))));
      if (v.backInReach.length > 0) this.ctx.announce(`members back in reach: ${v.backInReach.join(', ')}`);
      if (v.stepDown) this.ctx.stepDown(v.why);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.error('redis data guard failed', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
    } finally {
      this.running = false;
    }
  }

  /**
   * The members read fresh for a promotion (members vote: a host promotes only with a quorum
   * answering now), with the quorum and max_lag. Undefined when quorum is off.
   */
  async membersNow(): Promise<MembersNow | undefined> {
    const made = this.ensurePeers();
    const g = this.settings.guard;
    if (!made || g.memberTimeoutMs <= 0) return undefined;
    const before = made.peers.views();
    const answered = await made.peers.readNow(PROMOTE_READ_MS, g.memberTimeoutMs);
    const now = performance.now();
    const silent = before
      .filter((v) => !answered.some((m) => m.address === v.address))
      .map((v) => ({ address: v.address, silentForMs: v.lastAnswerMs === undefined ? undefined : now - v.lastAnswerMs, wasMaster: v.facts?.role === 'master' }));
    return {
      answered,
      quorum: this.quorumNeeded,
      maxLagBytes: g.maxLagBytes,
      advertising: this.ctx.advertisingMasters(),
      silent,
      // A cut-off master refuses writes within this (the README's bound).
      isolationBoundMs: g.memberTimeoutMs + this.periodMs,
    };
  }

  /**
   * Reconciles min-replicas-to-write and min-replicas-max-lag with the gate wanted: refused, or
   * open (the quorum backstop). Read back every few seconds, so a change by hand is corrected.
   * Returns whether the gate is as wanted now (set or read on this Redis run; false on a failure).
   */
  private async reconcileWrites(refuse: boolean, leaseWhy?: string): Promise<boolean> {
    const link = this.redis.link;
    if (!link.isUp) return false;
    try {
      this.ticks++;
      if (this.original === undefined || this.applied === undefined || this.ticks % 20 === 0) {
        const toWrite = Number(configValue(await link.command(1000, 'CONFIG', 'GET', MIN_REPLICAS)));
        const maxLag = Number(configValue(await link.command(1000, 'CONFIG', 'GET', MAX_LAG)));
        if (this.original === undefined) {
          // An earlier agent killed while refusing writes left REFUSE_ALL behind: Redis' defaults.
          const { gate, leftover } = originalGate({ toWrite, maxLag });
          this.original = gate;
          if (leftover) this.log.warn(`found writes refused by an earlier redkeep run (${MIN_REPLICAS} ${toWrite}): Redis' defaults are the values to come back to`, { instance: this.instance });
        }
        this.applied = { toWrite, maxLag };
      }
      const want = wantedGate({
        original: this.original,
        refuse,
        // Redis can count only replicas: a witness' vote is the agent's to check, not Redis'.
        quorumNeeded: this.settings.guard.memberTimeoutMs > 0 ? this.quorumNeeded : 0,
        witnesses: this.witnesses.length,
      });
      if (this.applied.toWrite !== want.toWrite || this.applied.maxLag !== want.maxLag) {
        await link.command(1000, 'CONFIG', 'SET', MIN_REPLICAS, String(want.toWrite), MAX_LAG, String(want.maxLag));
        this.applied = want;
        if (refuse) this.log.error('redis refuses writes (min-replicas-to-write)', { event: 'write-gate', instance: this.instance, why: leaseWhy ?? (this.verdict?.quorum.ok === false ? this.verdict.quorum.why : this.verdict?.why) });
        else if (this.refusing) this.log.info('redis accepts writes again', { event: 'write-gate', instance: this.instance, [MIN_REPLICAS]: want.toWrite, [MAX_LAG]: want.maxLag });
      }
      this.refusing = refuse;
      if (this.lastError !== undefined) this.lastError = undefined;
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.warn('redis data guard cannot set min-replicas-to-write', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
      return false;
    }
  }

  /** Our Redis' INFO as this guard's last look read it (undefined facts: it did not answer), and when. */
  private local: { readonly facts: RedisFacts | undefined; readonly atMs: number } | undefined;

  /** Our Redis' INFO if this guard read it within `maxAgeMs` (a frozen Redis reads as nothing). */
  localFacts(maxAgeMs: number): RedisFacts | undefined {
    return this.local && performance.now() - this.local.atMs <= maxAgeMs ? this.local.facts : undefined;
  }

  /** A member's Redis INFO if read within `maxAgeMs`. */
  peerFacts(address: string, maxAgeMs: number): RedisFacts | undefined {
    const p = this.peers?.latest(address);
    return p?.facts !== undefined && performance.now() - p.factsAtMs <= maxAgeMs ? p.facts : undefined;
  }

  /** Whether a member's host answered (its Redis, or at least a TCP connection) within `withinMs`. */
  peerAnswered(address: string, withinMs: number): boolean {
    const p = this.peers?.latest(address);
    return p?.lastAnswerMs !== undefined && performance.now() - p.lastAnswerMs <= withinMs;
  }

  /** A command to a member's Redis (status --cluster reads the agents' beacons with it). */
  peerCommand(address: string, timeoutMs: number, name: string, ...args: string[]): Promise<unknown> {
    return this.peers ? this.peers.command(address, timeoutMs, name, ...args) : Promise.reject(new Error('members not read yet'));
  }

  /** How often members are read: an answer older than a few periods is not what they have now. */
  get period(): number {
    return this.periodMs;
  }

  /** Members (this host included) a quorum needs, 0 when the quorum rule is off. */
  get quorum(): number {
    return this.guard && this.settings.guard.memberTimeoutMs > 0 ? this.quorumNeeded : 0;
  }

  /** The fresh replicas a master's Redis needs to take writes (its write gate, open), by this host's settings. */
  get gateReplicas(): number {
    return wantedGate({ original: this.original ?? REDIS_GATE_DEFAULTS, refuse: false, quorumNeeded: this.quorum, witnesses: this.witnesses.length }).toWrite;
  }

  status(): GuardStatus {
    const v = this.verdict;
    return {
      lease: this.leaseStatus(),
      ok: v?.ok ?? false,
      why: v?.why ?? 'not checked yet',
      writesRefused: this.refusing,
      quorum: v?.quorum,
      peers: this.peers?.addresses ?? [...this.members.filter((m) => m !== this.ctx.self()), ...this.witnesses],
    };
  }

  /** Part of the one shutdown path: the values found at start come back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.peers?.close();
    const link = this.redis.link;
    const o = this.original;
    if (!o || !link.isUp || (this.applied?.toWrite === o.toWrite && this.applied.maxLag === o.maxLag)) return;
    await link.command(1000, 'CONFIG', 'SET', MIN_REPLICAS, String(o.toWrite), MAX_LAG, String(o.maxLag)).then(
      () => this.log.info('redis write gate restored', { instance: this.instance, [MIN_REPLICAS]: o.toWrite, [MAX_LAG]: o.maxLag }),
      (e: unknown) => this.log.warn('cannot restore min-replicas-to-write', { instance: this.instance, error: e instanceof Error ? e.message : String(e) }),
    );
  }
}

/** CONFIG GET answers [name, value]. */
function configValue(reply: unknown): string {
  if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  throw new Error(`unexpected CONFIG GET reply: ${JSON.stringify(reply)}`);
}
