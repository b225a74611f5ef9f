// The local Redis of one instance: the shell around @redkeep/failover's RolePolicy. It samples
// (our Redis' INFO each pass, the followed master's INFO through a watch connection, the VRRP
// state from the instance) and applies the policy's steps: REPLICAOF NO ONE, REPLICAOF the
// master, the fence, a stale master fenced, a resign. Reconciled, not fired once: every pass asks
// the policy again. Failures are logged once per change of condition.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CatchUpOutcome, type DesiredRole, type Lineage, type MemberChannels, type MembersNow, type PromotePlan, RedisHosts, type ReplicationFacts, RolePolicy, type RoleStep, describeRole, formatHandoverMessage, handoverChannel, sameRedisHost, stateChannelPattern, successorCandidates } from '@redkeep/failover';
import { type RedisFacts, RedisLink, clientLocalAddresses } from '@redkeep/redis';
import { type AddressFamily, type VrrpState, canonicalAddress, electedBackup } from '@redkeep/vrrp';
import type { InstanceSettings, RedisSettings } from '../config/config.js';
import type { Logger } from '../log.js';
import { markSecretVariable } from '../child-env.js';
import { ReconcileLoop } from '../daemon/reconcile-loop.js';
import type { HandoverChannel } from './handover-channel.js';

/**
 * Where a fenced Redis replicates from: nothing listens there, so its link stays down and it
 * answers NOMASTERLINK to any replica's SYNC. A replica can never full-sync (and be wiped) from it.
 */
export const FENCE_HOST = '127.0.0.1';
export const FENCE_PORT = 1;

export interface HandOverOptions {
  /** The one replica (by the address its master sees) that must catch up; default every online one. */
  readonly only?: string;
  readonly maxWaitMs?: number;
  /** Give up (writes resume here, nothing fenced) when the replicas do not catch up in time. */
  readonly abortIfBehind?: boolean;
  /** Checked right before the fence: false (the instance stopped being master meanwhile) aborts. */
  readonly stillMaster?: () => boolean;
  /**
   * Designate a successor once our Redis is fenced with it caught up (the hand-over channel):
   * `only` when given, else the Backup VRRP would elect, if every other member says where it
   * stands. Our VRRP instance's id and address, its family, and the other members.
   */
  readonly designate?: { readonly vrid: number; readonly self: string; readonly family: AddressFamily; readonly members: readonly string[] };
}

export type HandOverResult = {
  readonly ok: boolean;
  readonly detail: string;
  /** The successor told to take over at once (its agent listened); undefined: VRRP alone decides (Skew_Time). */
  readonly designated?: string;
};

export type { DesiredRole };

export interface RedisStatus {
  readonly address: string;
  readonly up: boolean;
  readonly role: string | undefined;
  readonly masterHost: string | undefined;
  readonly masterLinkUp: boolean | undefined;
  readonly offset: number | undefined;
  /** As this Redis (a master) lists them: address, acknowledged offset, seconds since the last ack. */
  readonly replicas: readonly { address: string; offset: number; lagS: number }[];
  readonly desired: string;
  readonly lastError: string | undefined;
}

const COMMAND_TIMEOUT_MS = 1000;
/** How long a takeover tries to reach the previous master's Redis before promoting without it. */
const CATCH_UP_CONNECT_MS = 100;
/** How long a takeover waits for the previous master's last writes. */
const CATCH_UP_MAX_MS = 500;
/** How long a takeover waits for our Redis to sync from a member master it did not follow yet. */
const CATCH_UP_SYNC_MS = 1500;
/** After a takeover, how often the previous master's Redis is looked at while our promotion is under way. */
const PEER_AFTER_TAKEOVER_RETRY_MS = 10;
/** ... for this long; then once a second. */
const PEER_AFTER_TAKEOVER_SOON_MS = 3000;
/** The master watch PINGs this often; no answer this long and the master's Redis counts as gone. */
const MASTER_WATCH_HEARTBEAT_MS = 500;

/**
 * Where the members' Redis of an instance are reached: `peer_addresses`, else each member's
 * advert address; a link-local one through the instance's interface. The one mapping every
 * connection to a member's Redis, every REPLICAOF and every "whom does it follow" goes through.
 */
export function redisHostsOf(inst: InstanceSettings): RedisHosts {
  return new RedisHosts({
    members: inst.members ?? inst.unicastPeers,
    ...(inst.redis?.peerAddresses !== undefined ? { peerAddresses: inst.redis.peerAddresses } : {}),
    zone: inst.interface,
  });
}

/** Reads the Redis password from its file or environment variable (never from the config text). */
export function redisPassword(s: RedisSettings): string | undefined {
  if (s.passwordFile !== undefined) return readFileSync(s.passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (s.passwordEnv !== undefined) {
    markSecretVariable(s.passwordEnv);
    const v = process.env[s.passwordEnv];
    if (v === undefined) throw new Error(`environment variable ${s.passwordEnv} (redis password_env) is not set`);
    return v;
  }
  return undefined;
}


interface DrainOutcome {
  readonly caughtUp: boolean;
  /** The master's offset once paused. */
  readonly target: number;
  /** The followers' offsets when the wait ended. */
  readonly at: string;
  readonly ms: number;
  readonly fenced: boolean;
  /** The source was not a master any more when the wait ended (someone else fenced it): left alone. */
  readonly taken: boolean;
}

/**
 * The one way redkeep takes the last writes off a master (a planned hand-over, a takeover from a
 * live master): pause writes on it (CLIENT PAUSE WRITE), read its offset, wait at most
 * `maxWaitMs` until every offset `offsets()` reports has reached it, fence it (a replica of
 * nothing; skipped when they did not catch up and `fenceIfBehind` is false), unpause. Writes are
 * unpaused on every path; the pause also expires by itself.
 */
async function drainAndFence(
  source: RedisLink,
  o: {
    timeoutMs: number;
    maxWaitMs: number;
    offsets: () => Promise<number[]>;
    fenceIfBehind: boolean;
    beforeFence?: () => void;
    mayFence?: () => boolean;
    /** Once fenced with the followers caught up: runs beside the unpause (a designation), awaited with it. */
    afterFence?: () => Promise<void>;
  },
): Promise<DrainOutcome> {
  const start = performance.now();
  let after: Promise<void> | undefined;
  await source.command(o.timeoutMs, 'CLIENT', 'PAUSE', String(o.maxWaitMs + 3000), 'WRITE');
  try {
    const target = (await source.facts(o.timeoutMs)).replOffset;
    let offsets: number[] = [];
    let caughtUp = false;
    for (;;) {
      offsets = await o.offsets();
      caughtUp = offsets.every((x) => x >= target);
      if (caughtUp || performance.now() - start >= o.maxWaitMs) break;
      await sleep(2);
    }
    // Another router taking over at the same moment may have fenced it meanwhile: leave it alone.
    if ((await source.facts(o.timeoutMs)).role !== 'master') {
      return { caughtUp, target, at: offsets.join(', '), ms: Math.round(performance.now() - start), fenced: false, taken: true };
    }
    const fenced = (caughtUp || o.fenceIfBehind) && (o.mayFence?.() ?? true);
    if (fenced) {
      o.beforeFence?.();
      await source.replicaOf(FENCE_HOST, FENCE_PORT, o.timeoutMs);
      if (caughtUp) after = o.afterFence?.();
    }
    return { caughtUp, target, at: offsets.join(', '), ms: Math.round(performance.now() - start), fenced, taken: false };
  } finally {
    await Promise.all([source.command(o.timeoutMs, 'CLIENT', 'UNPAUSE').catch(() => undefined), after]);
  }
}

export class RedisSupervisor {
  readonly link: RedisLink;
  private readonly policy: RolePolicy;
  private facts: RedisFacts | undefined;
  private lastError: string | undefined;
  private readonly loop = new ReconcileLoop(() => this.reconcileOnce());
  private stopped = false;
  private readonly fencing = new Set<string>();
  /** fencePeer()s waiting for our promotion: told the moment it is done. */
  private readonly peerNudges = new Set<() => void>();
  /**
   * A connection to the master's Redis while ours replicates from it. When that connection
   * drops (its Redis died or restarted), ours is fenced at once: a restarted, empty master must
   * never be full-synced from (that wipes the replica). It follows again once that Redis is back
   * with the same run_id (a blip), or once another master is elected.
   */
  private masterWatch: { link: RedisLink; host: string; port: number } | undefined;
  /** Told the moment the connection to the master's Redis drops (the data guard looks again at once). */
  onMasterLost: () => void = () => undefined;
  /** Our own address as the members see it (the advert source). */
  self: () => string | undefined = () => undefined;
  /** Told when our Redis, master by our hand, was made a replica by someone else: resign. */
  onDemoted: (why: string) => void = () => undefined;
  /** Told when fencing starts (false) and ends (true): the instance's redis-safety track. */
  onSafety: (ok: boolean, why: string) => void = () => undefined;
  /** The members read fresh, for a promotion (the data guard's peers); undefined: no quorum rule. */
  membersNow: () => Promise<MembersNow | undefined> = () => Promise.resolve(undefined);
  /** The hand-over channel (with manage_role): designations, the successor's notice, our VRRP state. */
  handover: HandoverChannel | undefined;
  private handOverQueue: Promise<void> = Promise.resolve();
  /** promote()s waiting for REPLICAOF NO ONE (the reconciliation's 'promote' step) to be done. */
  private readonly promotedWaiters = new Set<() => void>();

  constructor(
    private readonly instance: string,
    private readonly settings: RedisSettings,
    password: string | undefined,
    private readonly log: Logger,
    /** Where the members' Redis are reached (redisHostsOf). */
    readonly hosts: RedisHosts,
    private readonly periodMs = 1000,
  ) {
    this.policy = new RolePolicy({
      manageRole: settings.manageRole,
      peerPort: settings.peerPort,
      hosts,
      fence: { host: FENCE_HOST, port: FENCE_PORT },
      catchUpWaitMs: CATCH_UP_MAX_MS + 2 * CATCH_UP_CONNECT_MS,
    });
    const tls = settings.tls;
    this.link = new RedisLink(
      {
        host: settings.host,
        port: settings.port,
        db: settings.db,
        ...(settings.username !== undefined ? { username: settings.username } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(tls
          ? {
              tls: {
                ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
                ...(tls.certFile ? { cert: readFileSync(tls.certFile, 'utf8') } : {}),
                ...(tls.keyFile ? { key: readFileSync(tls.keyFile, 'utf8') } : {}),
                ...(tls.serverName ? { serverName: tls.serverName } : {}),
                verify: tls.verify,
              },
            }
          : {}),
      },
      { connectTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMs: 100, name: `redkeep-${instance}` },
    );
    this.link.on('up', () => {
      this.log.info('redis connected', { instance, redis: this.address });
      void this.kick();
    });
    this.link.on('down', (why) => {
      // Remember now: the lost connection sends the instance to Fault right after this.
      this.policy.localDown();
      this.log.warn('redis connection lost', { instance, redis: this.address, why });
    });
  }

  get address(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  start(): void {
    this.loop.every(this.periodMs);
  }

  /** The VRRP state changed, or the master seen changed: what should our Redis be now? */
  follow(state: VrrpState, masterAddress: string | undefined): Promise<void> {
    if (!this.policy.vrrp(state, masterAddress)) return Promise.resolve();
    this.watchMaster(this.policy.following());
    this.log.info('redis role wanted', { instance: this.instance, role: describeRole(this.policy.desired) });
    return this.kick();
  }

  /** An INFO read of ours or a member's: the policy remembers how histories descend. */
  observe(f: ReplicationFacts | undefined): void {
    this.policy.observe(f);
  }

  get lineage(): Lineage {
    return this.policy.lineage;
  }

  /** Whether this agent's promotion of our Redis (VRRP master) is done. */
  promotedByUs(): boolean {
    return this.policy.promotedByUs();
  }

  /** Whether our Redis' fence (if it has one) was set by this agent (a restart, a hand-over, a lost master). */
  fencedByUs(): boolean {
    return this.policy.fencedByUs();
  }

  /**
   * The data guard found our Redis superseded: a member's Redis succeeds our history, or someone
   * else fenced ours while we were master. Never promoted again by drift correction; only a new
   * election (promote) lifts this.
   */
  supersede(by: string | undefined): void {
    if (!this.policy.supersede(by, performance.now())) return;
    this.log.error('redis superseded: a member has a newer history; this Redis stops being master and follows it', { event: 'superseded', instance: this.instance, ...(by !== undefined ? { successor: by } : {}) });
    void this.kick();
  }

  /**
   * Our Redis, master, lost its quorum: its history is no longer an elected one (what it took
   * alone is the minority's), so it may follow a quorum's master even without a shared id.
   */
  disown(why: string): void {
    if (this.policy.disown()) this.log.warn('redis history no longer an elected one', { instance: this.instance, why });
  }

  /** The master's Redis ours should replicate from, if any (a backup's). */
  following(): { host: string; port: number } | undefined {
    return this.policy.following();
  }

  /** Runs a reconciliation now (or right after the one in progress); none once stopped. */
  kick(): Promise<void> {
    return this.stopped ? Promise.resolve() : this.loop.kick();
  }

  private async reconcileOnce(): Promise<void> {
    // Stopped: the connection is closing and the logger may be gone (a look-again timer, a pass queued).
    if (this.stopped || !this.link.isUp) return;
    try {
      this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
      let steps = this.policy.reconcile({ nowMs: performance.now(), local: this.facts });
      const read = steps.find((x) => x.type === 'read-target');
      if (read?.type === 'read-target') {
        const w = this.masterWatch;
        const target = w && w.host === read.host && w.port === read.port && w.link.isUp ? await w.link.facts(CATCH_UP_CONNECT_MS * 2).catch(() => undefined) : undefined;
        steps = this.policy.reconcile({ nowMs: performance.now(), local: this.facts, target: target ?? 'unreachable' });
      }
      for (const step of steps) await this.apply(step);
      if (this.lastError !== undefined) {
        this.log.info('redis role control works again', { instance: this.instance });
        this.lastError = undefined;
      }
    } catch (e) {
      if (this.stopped) return;
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.warn('redis role control failed', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
    }
  }

  /** Applies one of the policy's steps to our Redis (or a target's). */
  private async apply(step: RoleStep): Promise<void> {
    switch (step.type) {
      case 'promote': {
        // INFO right behind REPLICAOF on the same connection (one round trip): it sees the new history.
        const [, after] = await Promise.all([this.link.replicaOf(undefined, undefined, COMMAND_TIMEOUT_MS), this.link.facts(COMMAND_TIMEOUT_MS)]);
        this.log.info('redis promoted: REPLICAOF NO ONE', { event: 'promote', instance: this.instance });
        this.facts = after;
        this.policy.promotedTo(after);
        for (const w of this.promotedWaiters) w();
        return;
      }
      case 'follow':
        await this.link.replicaOf(step.host, step.port, COMMAND_TIMEOUT_MS);
        this.policy.followed();
        this.log[step.lostBytes > 0 ? 'warn' : 'info'](`${step.what}: REPLICAOF`, {
          instance: this.instance,
          master: `${step.host}:${step.port}`,
          why: step.why,
          ...(step.lostBytes > 0 ? { lostBytes: step.lostBytes } : {}),
        });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
        return;
      case 'fence':
        await this.fence();
        return;
      case 'fence-target': {
        const key = `${step.host}:${step.port}`;
        const w = this.masterWatch;
        if (!w || w.host !== step.host || w.port !== step.port) return;
        const me = this.self();
        await w.link.replicaOf(me !== undefined ? this.hosts.hostOf(me) : this.settings.host, this.settings.port, COMMAND_TIMEOUT_MS).then(
          () => this.log.warn(`fenced ${key}: ${step.why}; it now replicates from ours`, { event: 'fence', instance: this.instance }),
          (e: unknown) => this.log.warn(`cannot fence ${key} yet`, { instance: this.instance, error: e instanceof Error ? e.message : String(e), will: 'retry' }),
        );
        return;
      }
      case 'read-target':
        return; // read above; a second ask in one pass waits for the next pass
      case 'resign':
        this.log.warn(`${step.why}: not promoted again; resigning`, { event: 'step-down', instance: this.instance });
        this.onDemoted(step.why);
        return;
      case 'safety':
        this.onSafety(step.ok, step.why);
        return;
      case 'look-again':
        setTimeout(() => void this.kick(), step.inMs);
        return;
      case 'log':
        this.log[step.level](step.message, { instance: this.instance, ...step.fields });
        return;
    }
  }

  private async fence(): Promise<void> {
    try {
      await this.link.replicaOf(FENCE_HOST, FENCE_PORT, COMMAND_TIMEOUT_MS);
    } catch (e) {
      this.log.error('cannot fence redis yet', { event: 'fence', instance: this.instance, error: e instanceof Error ? e.message : String(e), will: 'retry' });
    }
  }

  /**
   * Makes our Redis writable before the VIP comes up; resolves 'master' when it is, 'not-yet'
   * when role control keeps trying, 'abandon' when the takeover must not happen (fewer members
   * than a quorum answer now, a member's Redis is ahead of ours, or the previous master's writes
   * could not be taken in time): the instance then resigns, nothing was fenced.
   * `handedOver`: the previous master resigned (priority 0), so its Redis is fenced on purpose.
   * Otherwise a previous master's Redis found already fenced means another router is taking
   * over at the same moment (two Master_Down_Timers a few ms apart): wait `settleMs` for VRRP to
   * pick one before promoting, and do not promote if `stillMaster()` says we lost.
   */
  async promote(opts: { handedOver?: boolean; settleMs?: number; stillMaster?: () => boolean } = {}): Promise<'master' | 'not-yet' | 'abandon'> {
    if (!this.settings.manageRole) return 'master';
    let outcome: CatchUpOutcome | undefined;
    let fence: readonly string[] = [];
    const t0 = performance.now();
    for (let round = 0; ; round++) {
      const [f, members] = await Promise.all([
        this.link.isUp ? this.link.facts(COMMAND_TIMEOUT_MS).catch(() => undefined) : Promise.resolve(undefined),
        this.membersNow().catch(() => undefined),
      ]);
      // Another router won the election during the read (its advert came meanwhile): nothing to do.
      if (opts.stillMaster && !opts.stillMaster()) return 'not-yet';
      this.policy.selfAddress = this.self();
      const plan: PromotePlan = this.policy.promote(f, members);
      if (plan.type === 'wait') {
        if (round >= 3) return 'not-yet';
        // A master cut off only just now may still take writes: wait until it must have stopped
        // (adverts go on meanwhile), then read the members again.
        this.log.info('takeover waits', { event: 'takeover', instance: this.instance, ms: plan.ms, why: plan.why });
        await sleep(plan.ms);
        continue;
      }
      if (plan.type === 'refuse') return 'not-yet';
      if (plan.type === 'no-quorum' || plan.type === 'behind') {
        this.policy.abandoned();
        this.log.warn('takeover abandoned: redis not promoted', { event: 'takeover', instance: this.instance, why: plan.why });
        return 'abandon';
      }
      fence = plan.fence;
      outcome = undefined;
      if (plan.type === 'catch-up') {
        // Take the previous master's last writes before ours becomes writable, and fence it, so
        // that no write it acknowledged is lost and clients still connected to it cannot write there.
        const c = plan.fromReplica ? await this.catchUpFromReplica(plan.host, plan.port) : await this.catchUpFrom(plan.host, plan.port, plan.follow, opts.stillMaster);
        outcome = c.outcome;
        if (outcome === 'lost-election') {
          this.log.info('takeover given up: another router won the election during the catch-up; nothing fenced', { event: 'takeover', instance: this.instance, master: `${plan.host}:${plan.port}` });
          return 'not-yet';
        }
        if (outcome === 'behind' || outcome === 'not-synced') {
          this.policy.abandoned({ host: plan.host, port: plan.port });
          this.watchMaster(this.policy.following());
          this.log.warn("takeover abandoned: the previous master's writes could not be taken in time; nothing fenced", { event: 'takeover', instance: this.instance, master: `${plan.host}:${plan.port}`, outcome: c.detail });
          return 'abandon';
        }
        this.log.info('took over from a live master', { event: 'takeover', instance: this.instance, master: `${plan.host}:${plan.port}`, why: plan.why, outcome: c.detail });
        if (RolePolicy.mustSettle(outcome, opts.handedOver === true) && opts.settleMs !== undefined && round < 3) {
          // Another router is taking over at the same moment: let VRRP pick one, then look again
          // (the other may have promoted meanwhile, with the data ours has not got).
          await sleep(opts.settleMs);
          if (opts.stillMaster && !opts.stillMaster()) return 'not-yet';
          continue;
        }
      }
      break;
    }
    // Still the elected one? (A router that lost meanwhile fences and promotes nothing.)
    if (opts.stillMaster && !opts.stillMaster()) return 'not-yet';
    // Any other member master is fenced right before ours becomes one: no two masters take
    // writes while VRRP settles (none of them has data ours lacks, the plan made sure).
    await Promise.all(fence.map((host) => this.fenceMember(host)));
    this.policy.promoted(outcome, opts.handedOver === true);
    this.watchMaster(undefined);
    // Done when our Redis is master (not when every pass the reconciliation has queued is).
    let waiter: (() => void) | undefined;
    const promoted = new Promise<void>((resolve) => this.promotedWaiters.add((waiter = resolve)));
    await Promise.race([this.kick(), promoted]);
    if (waiter) this.promotedWaiters.delete(waiter);
    for (const nudge of this.peerNudges) nudge();
    this.log.debug('promotion: done', { instance: this.instance, ms: Math.round(performance.now() - t0) });
    return this.facts?.role === 'master' ? 'master' : 'not-yet';
  }

  /** A short-lived link to a member's Redis, connected within CATCH_UP_CONNECT_MS, or undefined (closed). */
  private async connectWithin(host: string, port: number, purpose: string): Promise<RedisLink | undefined> {
    const link = new RedisLink({ ...this.link.endpoint, host, port }, { connectTimeoutMs: CATCH_UP_CONNECT_MS, reconnectMs: 1000, name: `redkeep-${this.instance}-${purpose}` });
    const start = performance.now();
    while (!link.isUp && performance.now() - start < CATCH_UP_CONNECT_MS) await sleep(2);
    if (link.isUp) return link;
    link.close();
    return undefined;
  }

  /**
   * The master is gone and a member replica of our history is ahead of ours: REPLICAOF it and
   * wait (at most CATCH_UP_SYNC_MS) until ours has its offset, which stands still (nothing feeds
   * it). It is neither paused nor fenced.
   */
  private async catchUpFromReplica(host: string, port: number): Promise<{ outcome: CatchUpOutcome; detail: string }> {
    const start = performance.now();
    const link = await this.connectWithin(host, port, 'takeover');
    if (!link) return { outcome: 'not-synced', detail: `not reachable within ${CATCH_UP_CONNECT_MS} ms` };
    try {
      const target = (await link.facts(CATCH_UP_CONNECT_MS)).replOffset;
      this.policy.catchUpFollows();
      await this.link.replicaOf(host, port, COMMAND_TIMEOUT_MS);
      for (;;) {
        const [mine, theirs] = await Promise.all([this.link.facts(COMMAND_TIMEOUT_MS), link.facts(COMMAND_TIMEOUT_MS)]);
        // Promoted meanwhile: its router is taking over too; let VRRP pick one, then look again.
        if (theirs.role === 'master') return { outcome: 'already-fenced', detail: 'it was promoted meanwhile (another router is taking over)' };
        if (inSync(mine, theirs, host) && (mine.replicaOffset ?? mine.replOffset) >= target) {
          return { outcome: 'caught-up', detail: `took the replica's last bytes (to offset ${target}) in ${Math.round(performance.now() - start)} ms` };
        }
        if (performance.now() - start >= CATCH_UP_SYNC_MS) return { outcome: 'not-synced', detail: `not at its offset ${target} after ${Math.round(performance.now() - start)} ms` };
        await sleep(2);
      }
    } catch (e) {
      return { outcome: 'not-synced', detail: `failed: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      this.policy.catchUpEnded();
      link.close();
    }
  }

  /** REPLICAOF the fence on a member's Redis that is master (bounded: CATCH_UP_CONNECT_MS to connect). */
  private async fenceMember(member: string): Promise<void> {
    const host = this.hosts.hostOf(member);
    const link = await this.connectWithin(host, this.settings.peerPort, 'fence');
    if (!link) return;
    try {
      if ((await link.facts(CATCH_UP_CONNECT_MS)).role !== 'master') return;
      await link.replicaOf(FENCE_HOST, FENCE_PORT, CATCH_UP_CONNECT_MS);
      this.log.warn("fenced a member's Redis that was master too, before promoting ours", { event: 'fence', instance: this.instance, member, redis: `${host}:${this.settings.peerPort}` });
    } catch (e) {
      this.log.warn("cannot fence a member's Redis that is master too", { instance: this.instance, member, error: e instanceof Error ? e.message : String(e) });
    } finally {
      link.close();
    }
  }

  /**
   * Before promoting: (with `follow`, REPLICAOF the member master first and wait until ours is in
   * sync with it, at most CATCH_UP_SYNC_MS) pause writes on the master, wait until our Redis has
   * its offset, fence it (a replica of nothing), unpause. Bounded: an unreachable master (a
   * crashed host) costs at most CATCH_UP_CONNECT_MS; a slow one CATCH_UP_MAX_MS. When ours does
   * not catch up, nothing is fenced and the outcome says so.
   */
  private async catchUpFrom(host: string, port: number, follow: boolean, stillMaster?: () => boolean): Promise<{ outcome: CatchUpOutcome; detail: string }> {
    const start = performance.now();
    const took = (): number => Math.round(performance.now() - start);
    const link = await this.connectWithin(host, port, 'takeover');
    if (!link) return { outcome: 'unreachable', detail: `not reachable within ${CATCH_UP_CONNECT_MS} ms: promoted without it` };
    try {
      // Fenced already (a hand-over, or another router taking over too): leave it alone.
      const first = await link.facts(CATCH_UP_CONNECT_MS);
      if (first.role !== 'master') return { outcome: 'already-fenced', detail: 'not a master any more: already fenced' };
      if (follow) {
        this.policy.catchUpFollows();
        await this.link.replicaOf(host, port, COMMAND_TIMEOUT_MS);
        this.log.info('takeover: redis follows the member master first, to take its data', { event: 'takeover', instance: this.instance, master: `${host}:${port}` });
        for (;;) {
          const [mine, theirs] = await Promise.all([this.link.facts(COMMAND_TIMEOUT_MS), link.facts(COMMAND_TIMEOUT_MS)]);
          if (theirs.role !== 'master') return { outcome: 'already-fenced', detail: 'fenced by someone else while ours synced from it' };
          if (inSync(mine, theirs, host)) break;
          if (performance.now() - start >= CATCH_UP_SYNC_MS) return { outcome: 'not-synced', detail: `not in sync with it after ${took()} ms` };
          await sleep(5);
        }
      }
      const d = await drainAndFence(link, {
        timeoutMs: CATCH_UP_CONNECT_MS,
        maxWaitMs: Math.max(CATCH_UP_MAX_MS / 2, CATCH_UP_MAX_MS - took()),
        fenceIfBehind: false,
        ...(stillMaster ? { mayFence: stillMaster } : {}),
        offsets: async () => {
          const [mine, theirs] = await Promise.all([this.link.facts(COMMAND_TIMEOUT_MS), link.facts(COMMAND_TIMEOUT_MS)]);
          return [inSync(mine, theirs, host) ? (mine.replicaOffset ?? mine.replOffset) : -1];
        },
      });
      if (d.taken) return { outcome: 'already-fenced', detail: 'fenced by someone else during the catch-up' };
      if (!d.fenced && d.caughtUp) return { outcome: 'lost-election', detail: 'another router won the election meanwhile; nothing fenced' };
      return d.caughtUp
        ? { outcome: 'caught-up', detail: `caught up to offset ${d.target} in ${took()} ms; it is fenced` }
        : { outcome: 'behind', detail: `at offset ${d.at} of ${d.target} after ${took()} ms; writes resumed there, nothing fenced` };
    } catch (e) {
      return { outcome: 'failed', detail: `failed after ${took()} ms (${e instanceof Error ? e.message : String(e)}): promoted without it` };
    } finally {
      this.policy.catchUpEnded();
      link.close();
    }
  }

  /**
   * Fences the previous master's Redis after a takeover: if its agent died (kill -9), its Redis
   * may still be a writable master that clients reach; make it a replica of ours. Keeps trying
   * every second while we are master, until that Redis is a replica.
   */
  fencePeer(peer: string, self: string, isMaster: () => boolean): void {
    if (!this.settings.manageRole || this.fencing.has(peer) || peer === self) return;
    const host = this.hosts.hostOf(peer);
    const redis = `${host}:${this.settings.peerPort}`;
    // The connection we watched it by, when we followed it, is ours now (no new connection to make).
    const w = this.masterWatch;
    const watched = w !== undefined && w.host === host && w.port === this.settings.peerPort;
    if (watched) this.masterWatch = undefined;
    const link = watched
      ? w.link
      : new RedisLink({ ...this.link.endpoint, host, port: this.settings.peerPort }, { connectTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMs: 500, name: `redkeep-${this.instance}-fence` });
    this.fencing.add(peer);
    let lastError: string | undefined;
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let busy = false;
    const schedule = (ms: number): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void tick(), ms);
    };
    // Looked at once connected (the connection is made while our promotion runs), and again the
    // moment our promotion is done (promote() nudges).
    const nudge = (): void => {
      if (!busy) schedule(0);
    };
    const done = (): void => {
      if (timer) clearTimeout(timer);
      this.peerNudges.delete(nudge);
      link.close();
      this.fencing.delete(peer);
    };
    // While our promotion is under way, look often (for a while): a new master takes writes only
    // once a replica follows it (min-replicas-to-write), and after a hand-over this is the first.
    const soon = (): number => (performance.now() - start < PEER_AFTER_TAKEOVER_SOON_MS ? PEER_AFTER_TAKEOVER_RETRY_MS : 1000);
    const tick = async (): Promise<void> => {
      timer = undefined;
      if (this.stopped || !isMaster()) return done();
      busy = true;
      try {
        const [f, ours] = await Promise.all([link.facts(COMMAND_TIMEOUT_MS), this.link.facts(COMMAND_TIMEOUT_MS)]);
        if (ours.role !== 'master') {
          // Our promotion is still under way (its catch-up may be taking the previous master's
          // last writes): nothing is done to that Redis before ours is master.
          schedule(soon());
          return;
        }
        // A master still taking writes is fenced; it follows ours only where the history rule
        // allows (never a blind REPLICAOF: that replaces its data by a full sync).
        const what = this.policy.peerAfterTakeover(f, ours);
        if (what === 'follow-us') {
          await link.replicaOf(this.hosts.hostOf(self), this.settings.port, COMMAND_TIMEOUT_MS);
          // Still a master (its agent is gone): a warning; already fenced (a hand-over, our catch-up): news.
          this.log[f.role === 'master' ? 'warn' : 'info']('fenced the previous master\'s Redis: it now replicates from ours', { event: 'fence', instance: this.instance, peer: redis });
        } else if (what === 'fence') {
          await link.replicaOf(FENCE_HOST, FENCE_PORT, COMMAND_TIMEOUT_MS);
          this.log.warn('fenced the previous master\'s Redis: it may not follow ours (its history is not one ours continues)', { event: 'fence', instance: this.instance, peer: redis });
        }
        done();
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== lastError) this.log.info('cannot reach the previous master\'s Redis yet', { instance: this.instance, peer: redis, error: msg, will: 'retry' });
        lastError = msg;
        schedule(link.isUp ? 1000 : soon());
      } finally {
        busy = false;
      }
    };
    this.peerNudges.add(nudge);
    link.once('up', nudge);
    schedule(link.isUp ? 0 : COMMAND_TIMEOUT_MS);
  }


  /**
   * Planned hand-over (a switchover, or this master stopping with switchover_on_stop): pause
   * writes, wait until the replicas that matter (`only`, else every online one) have our
   * replication offset, then fence our Redis (a read-only replica of nothing) and unpause, so
   * clients get errors instead of writes that would be lost. The VIP then moves with priority 0
   * and the new master's agent points our Redis at its own.
   * With `abortIfBehind`, replicas that do not catch up in time abort it: writes resume here and
   * nothing is fenced.
   */
  handOver(opts: HandOverOptions = {}): Promise<HandOverResult> {
    // One at a time: CLIENT PAUSE and UNPAUSE are global in Redis, so a second hand-over (a stop
    // during a switchover) would unpause the first one's clients. The second waits for the first.
    const run = this.handOverQueue.then(() => this.handOverOnce(opts));
    this.handOverQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async handOverOnce(opts: HandOverOptions): Promise<HandOverResult> {
    const maxWaitMs = opts.maxWaitMs ?? 2000;
    if (!this.settings.manageRole) return { ok: true, detail: 'redis role control is off: nothing to hand over' };
    if (!this.link.isUp) return { ok: !opts.abortIfBehind, detail: 'redis not reachable' };
    /** The replicas waited for, by member (advert address), each through a link to its Redis. */
    let links: { member: string; link: RedisLink }[] = [];
    try {
      // Connect to the replicas first (not while writes are paused): their own offset is current,
      // while the master learns it only from their acknowledgements, once a second. A replica
      // counts as the member whose Redis address it has (trust from configuration: an address
      // our Redis lists is never connected to for itself).
      const before = await this.link.facts(COMMAND_TIMEOUT_MS);
      const only = opts.only === undefined ? undefined : (canonicalAddress(opts.only) ?? opts.only);
      const online = before.replicas.filter((r) => r.state === 'online').map((r) => ({ replica: `${r.ip}:${r.port}`, member: this.hosts.memberAt(r.ip) }));
      const targets = online.flatMap((r) => (r.member !== undefined && (only === undefined || r.member === only) ? [r.member] : []));
      if (only !== undefined && targets.length === 0) {
        return { ok: false, detail: `${only} is not an online replica of this Redis (at ${this.hosts.hostOf(only)}; replicas: ${before.replicas.map((r) => `${r.ip}:${r.port} ${r.state}`).join(', ') || 'none'})` };
      }
      const strangers = online.filter((r) => r.member === undefined).map((r) => r.replica);
      if (only === undefined) {
        // A member that follows ours but is not listed yet (it is still connecting, right after a
        // takeover) may win the election too: it must catch up as well.
        const self = this.self();
        const members = await this.membersNow().catch(() => undefined);
        for (const m of members?.answered ?? []) {
          if (m.facts?.role === 'replica' && this.hosts.isAt(m.facts.masterHost, self) && !targets.includes(m.address)) targets.push(m.address);
        }
      }
      links = targets.map((member) => ({
        member,
        link: new RedisLink({ ...this.link.endpoint, host: this.hosts.hostOf(member), port: this.settings.peerPort }, { connectTimeoutMs: 200, reconnectMs: 20, name: `redkeep-${this.instance}-handover` }),
      }));
      const connectStart = performance.now();
      while (links.some((l) => !l.link.isUp) && performance.now() - connectStart < 500) await sleep(2);
      // A replica we cannot reach (cut off, its host gone: its master lists it online until
      // repl-timeout) is not waited for with writes paused. Should it win the election all the
      // same, its promotion finds our fenced Redis ahead and catches up from it first.
      const unreachable = links.filter((l) => !l.link.isUp).map((l) => l.member);
      for (const l of links) if (!l.link.isUp) l.link.close();
      links = links.filter((l) => l.link.isUp);
      const skipped =
        (unreachable.length > 0 ? ` (not reachable, not waited for: ${unreachable.join(', ')})` : '') +
        (strangers.length > 0 ? ` (replicas that are no member's Redis, not waited for: ${strangers.join(', ')})` : '');
      if (opts.abortIfBehind && links.length === 0) {
        return { ok: false, detail: targets.length === 0 ? 'no replica to hand over to' : `no replica reachable to hand over to${skipped}; nothing changed` };
      }
      // Who takes over, told before writes pause (reads of the members, a subscription on its
      // Redis for its notice), designated once our Redis is fenced with it caught up.
      let successor: string | undefined;
      let designated: string | undefined;
      let notDesignated = '';
      if (opts.designate && this.handover) {
        const pick = only !== undefined ? { to: only } : await this.electedSuccessor(opts.designate, links);
        if (pick.to === undefined) notDesignated = pick.why ?? '';
        else if (!links.some((l) => l.member === pick.to && l.link.isUp)) notDesignated = `${pick.to} is not a replica we reach`;
        else if (!(await this.handover.watchSuccessor(this.hosts.hostOf(pick.to), 200))) notDesignated = `cannot listen on ${pick.to}'s Redis`;
        else successor = pick.to;
      }
      const successorLink = links.find((l) => l.member === successor)?.link;
      const d = await drainAndFence(this.link, {
        timeoutMs: COMMAND_TIMEOUT_MS,
        maxWaitMs,
        fenceIfBehind: !opts.abortIfBehind,
        // A replica counts once it streams from us in our history (during a full sync its offset is its old data's).
        offsets: () =>
          Promise.all(
            links.map(({ link: l }) =>
              l.isUp
                ? l.facts(200).then(
                    (x) => (x.masterLinkUp && !x.syncInProgress && x.replId === before.replId ? Math.max(x.replicaOffset ?? -1, x.replOffset) : -1),
                    () => -1,
                  )
                : Promise.resolve(-1),
            ),
          ),
        beforeFence: () => this.policy.handedOver(performance.now()),
        ...(opts.stillMaster ? { mayFence: opts.stillMaster } : {}),
        // Our Redis is fenced with the successor caught up: tell it (beside the unpause).
        afterFence: async () => {
          if (successor === undefined || !successorLink || !opts.designate) return;
          // PUBLISH answers how many subscribers got it: none, nobody listens (VRRP alone decides).
          const text = formatHandoverMessage({ type: 'designate', from: opts.designate.self, to: successor });
          const receivers = await successorLink.command(200, 'PUBLISH', handoverChannel(opts.designate.vrid), text).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
          if (typeof receivers === 'number' && receivers > 0) designated = successor;
          else notDesignated = `nobody listens on ${successor}'s Redis (${String(receivers)})`;
        },
      });
      if (!d.fenced) this.handover?.forgetSuccessor();
      if (!d.fenced && opts.stillMaster && !opts.stillMaster()) return { ok: false, detail: 'this instance stopped being master during the hand-over; writes resumed, nothing changed' };
      if (!d.fenced) return { ok: false, detail: `replicas did not reach offset ${d.target} within ${maxWaitMs} ms (at ${d.at}); writes resumed here, nothing changed${skipped}` };
      if (designated === undefined) this.handover?.forgetSuccessor();
      const told = designated !== undefined ? `; ${designated} designated` : opts.designate && this.handover ? `; no successor designated (${notDesignated || 'replicas behind'}): VRRP decides` : '';
      const detail = d.caughtUp
        ? `${links.length} replicas caught up to offset ${d.target} in ${d.ms} ms; redis fenced${skipped}${told}`
        : `replicas did not all reach offset ${d.target} within ${maxWaitMs} ms; redis fenced anyway${skipped}${told}`;
      return designated !== undefined ? { ok: true, detail, designated } : { ok: true, detail };
    } catch (e) {
      return { ok: false, detail: `failed: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      for (const l of links) l.link.close();
    }
  }

  /**
   * The Backup VRRP would elect after our priority 0, when every other member's agent says, on
   * its own Redis, its state and effective priority (handover.ts); else why that cannot be told.
   */
  private async electedSuccessor(d: NonNullable<HandOverOptions['designate']>, links: readonly { member: string; link: RedisLink }[]): Promise<{ to?: string; why?: string }> {
    const pattern = stateChannelPattern(d.vrid);
    const read = async (address: string): Promise<MemberChannels> => {
      const have = links.find((l) => l.member === address && l.link.isUp)?.link;
      const link = have ?? (await this.connectWithin(this.hosts.hostOf(address), this.settings.peerPort, 'handover'));
      if (!link) return { address, channels: undefined };
      try {
        const r = await link.command(CATCH_UP_CONNECT_MS, 'PUBSUB', 'CHANNELS', pattern);
        return { address, channels: Array.isArray(r) ? r.map(String) : [] };
      } catch {
        return { address, channels: undefined };
      } finally {
        if (!have) link.close();
      }
    };
    const members = await Promise.all(d.members.filter((m) => m !== d.self).map(read));
    const c = successorCandidates(d.vrid, members);
    if (!c.ok) return { why: c.why };
    const to = electedBackup(d.family, c.candidates);
    return to === undefined ? { why: 'no candidate' } : { to };
  }

  /**
   * Our VIPs are about to go to a successor that holds them already: the clients that reached our
   * Redis through them (CLIENT KILL LADDR, plain and pub/sub connections, not replicas, not ours)
   * are disconnected, so they connect again at once, to the new holder, instead of waiting for
   * their timeout on an address nobody here answers any more. (Once the address is gone, the FIN
   * would not leave the host.) Returns how many were closed.
   */
  async closeClients(vips: readonly string[]): Promise<number> {
    if (!this.settings.manageRole || !this.link.isUp || vips.length === 0) return 0;
    try {
      const list = await this.link.command(COMMAND_TIMEOUT_MS, 'CLIENT', 'LIST');
      const laddrs = clientLocalAddresses(String(list), vips, (ip) => canonicalAddress(ip) ?? ip);
      // All at once (one round trip): the VIPs go right after.
      const counts = await Promise.all(laddrs.flatMap((laddr) => ['normal', 'pubsub'].map((type) => this.link.command(COMMAND_TIMEOUT_MS, 'CLIENT', 'KILL', 'LADDR', laddr, 'TYPE', type, 'SKIPME', 'yes'))));
      const closed = counts.reduce<number>((n, c) => n + Number(c), 0);
      if (closed > 0) this.log.info('closed the connections clients made through the VIPs: they connect again to the new holder', { event: 'clients-closed', instance: this.instance, clients: closed });
      return closed;
    } catch (e) {
      this.log.warn('cannot close the clients connected through the VIPs', { instance: this.instance, error: e instanceof Error ? e.message : String(e) });
      return 0;
    }
  }

  /** A new master says, on its own Redis, that it holds the VIPs now (a resigned master listening there releases its own). */
  async announceHolds(vrid: number, self: string): Promise<void> {
    if (!this.settings.manageRole || !this.link.isUp) return;
    await this.link.command(COMMAND_TIMEOUT_MS, 'PUBLISH', handoverChannel(vrid), formatHandoverMessage({ type: 'holds', by: self })).catch(() => undefined);
  }

  private watchMaster(m: { host: string; port: number } | undefined): void {
    const w = this.masterWatch;
    if (w && m && w.host === m.host && w.port === m.port) return;
    if (w) {
      w.link.close();
      this.masterWatch = undefined;
    }
    if (!m || this.stopped || !this.settings.manageRole) return;
    const link = new RedisLink(
      { ...this.link.endpoint, host: m.host, port: m.port },
      { connectTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMs: 100, name: `redkeep-${this.instance}-master-watch`, heartbeatMs: MASTER_WATCH_HEARTBEAT_MS },
    );
    const watch = { link, host: m.host, port: m.port };
    this.masterWatch = watch;
    link.on('up', () => {
      void link.facts(COMMAND_TIMEOUT_MS).then(
        (f) => {
          if (this.masterWatch !== watch) return;
          if (this.policy.targetUp(watch.host, watch.port, f.runId)) {
            this.log.info("the master's Redis is back, not restarted: redis follows it again", { event: 'master-watch', instance: this.instance, master: `${watch.host}:${watch.port}` });
          }
          // Its Redis can be read now: a new master's replicas follow it without waiting for a retry.
          void this.kick();
        },
        () => undefined,
      );
    });
    link.on('down', () => {
      if (this.masterWatch !== watch || this.stopped) return;
      const steps = this.policy.targetDown(watch.host, watch.port, performance.now());
      if (steps.length === 0) return;
      this.log.warn("lost the connection to the master's Redis: redis is fenced until it is back unchanged or a new master is elected", {
        event: 'fence',
        instance: this.instance,
        master: `${watch.host}:${watch.port}`,
      });
      this.onMasterLost();
      void this.fence().then(() => this.kick());
    });
  }

  /** Our Redis' INFO as last read, or undefined while it does not answer. */
  get latestFacts(): RedisFacts | undefined {
    return this.link.isUp ? this.facts : undefined;
  }

  status(): RedisStatus {
    const f = this.facts;
    return {
      address: this.address,
      up: this.link.isUp,
      role: f?.role,
      masterHost: f?.masterHost !== undefined ? `${f.masterHost}:${f.masterPort ?? ''}` : undefined,
      masterLinkUp: f?.role === 'replica' ? f.masterLinkUp : undefined,
      offset: f?.replOffset,
      replicas: (f?.replicas ?? []).map((r) => ({ address: `${r.ip}:${r.port}`, offset: r.offset, lagS: r.lagS })),
      desired: describeDesired(this.policy.describe()),
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    this.handover?.close();
    this.watchMaster(undefined);
    this.loop.stop();
    this.link.close();
  }
}

/** The policy's wish for status, with a fence's start on the wall clock. */
/** Our Redis streams from `host` in the same history as its Redis, not in a full sync. */
function inSync(mine: RedisFacts, theirs: RedisFacts, host: string): boolean {
  return mine.role === 'replica' && sameRedisHost(mine.masterHost, host) && mine.masterLinkUp && !mine.syncInProgress && mine.replId === theirs.replId;
}

function describeDesired(d: { desired: string; fencedSinceMs?: number; fenceWhy?: string }): string {
  if (d.fencedSinceMs === undefined) return d.desired;
  const since = new Date(Date.now() - (performance.now() - d.fencedSinceMs)).toISOString();
  return `fenced since ${since}: ${d.fenceWhy ?? ''}`;
}
