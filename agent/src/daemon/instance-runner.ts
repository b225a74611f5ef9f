// Drives one VRRP core: feeds it inputs with the monotonic clock, arms a timer for its next
// deadline, and carries out its actions in order (VIPs up before gratuitous ARPs go out).

import { performance } from 'node:perf_hooks';
import {
  type DecodeResult,
  type InstanceStatus,
  type VrrpAction,
  type VrrpInput,
  VrrpInstance,
  type VrrpState,
} from '@redkeep/vrrp';
import type { InstanceSettings } from '../config/config.js';
import type { Logger } from '../log.js';
import type { HookRunner, HookState, MasterEndpoint } from '../hooks/hook-runner.js';
import type { GuardRunner, GuardStatus } from '../redis/guard-runner.js';
import type { HandoverChannel } from '../redis/handover-channel.js';
import type { RedisStatus, RedisSupervisor } from '../redis/supervisor.js';
import type { AdvertSink, InterfaceIo } from './interface-io.js';
import type { VipReconciler } from './vip-reconciler.js';
import type { RunnerStatus, Transition } from '../status-types.js';

export const TRACK_INTERFACE_PREFIX = 'interface:';
export const TRACK_PREFIX = 'track:';
export const REDIS_SAFETY_TRACK = 'redis-safety';
/** The data guard: failing on an isolated master or a stale backup (weight: guard_weight). */
export const REDIS_DATA_TRACK = 'redis-data';
/** Members vote: failing while this host cannot reach a quorum of members (weight 0: Fault). */
export const REDIS_QUORUM_TRACK = 'redis-quorum';
/** Strict mode (`[agent] etcd`): failing once the lease guard says step down (weight: guard_weight). */
export const ETCD_LEASE_TRACK = 'etcd-lease';
/** serve = "read": failing while this host's Redis is neither an in-sync replica of the master nor the master (Fault). */
export const READ_IN_SYNC_TRACK = 'read-in-sync';
/** serve = "read": failing while this host's Redis is the master (priority 1: any qualifying replica wins). */
export const READ_ON_MASTER_TRACK = 'read-on-master';
/** `redkeep maintenance on`: failing while the host is in maintenance; its weight takes the priority to 1. */
export const MAINTENANCE_TRACK = 'maintenance';
const MAINTENANCE_WEIGHT = -253;

/** Redis role control and hooks, when the instance has them. */
export interface RunnerExtras {
  readonly redis?: RedisSupervisor;
  readonly hooks?: HookRunner;
  readonly guard?: GuardRunner;
  /** The hand-over channel (with Redis role control): designations, notices, our VRRP state. */
  readonly handover?: HandoverChannel;
  /** Strict mode: the etcd lease guard can send the instance to Fault (its etcd-lease track). */
  readonly strict?: boolean;
}

const HOOK_STATE: Partial<Record<VrrpState, HookState>> = { master: 'MASTER', backup: 'BACKUP', fault: 'FAULT', stopped: 'STOP' };

/** Transitions status keeps per instance. */
const RECENT_TRANSITIONS = 5;

export interface SwitchoverResult {
  readonly instance: string;
  readonly newMaster: string | undefined;
  readonly ms: number;
  readonly redis: string;
  readonly note?: string;
}

export class InstanceRunner implements AdvertSink {
  private core: VrrpInstance | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private primary: string | undefined;
  private waitingFor: string | undefined = 'start';
  private lastTransitionWall: string | undefined;
  private garpsSent = 0;
  private linkUp = true;
  private readonly trackState = new Map<string, boolean>();
  /** Number tracks' numbers (file tracks), replayed into a new core. */
  private readonly trackValues = new Map<string, number>();
  private stopping = false;
  private switching = false;
  /** Moves on whenever the VIPs are released: GARP bursts of an older generation stop. */
  private vipGeneration = 0;
  /** When each router's last advert claiming master arrived (monotonic ms). */
  private readonly advertSeen = new Map<string, number>();

  private lastMaster: string | undefined;
  /** The last master this instance followed as a backup. */
  private followedMaster: string | undefined;
  private hookState: HookState | 'INIT' = 'INIT';
  /** The last transitions, oldest first (status). */
  private readonly transitions: Transition[] = [];
  /** serve = "read": the last verdict, for status. */
  readServe: { readonly serving: string; readonly why: string } | undefined;
  /** In maintenance (`redkeep maintenance on`): set before start from the state directory. */
  maintenance = false;
  /** The master the hooks last heard of (REDKEEP_OLD_MASTER of the next transition). */
  private hookMaster: MasterEndpoint | undefined;
  /** Told after each state change (the agent's systemd STATUS line). */
  onStateChange: () => void = () => undefined;
  /**
   * Strict mode: the takeover whose promotion waits for the etcd lease (VRRP made us master, the
   * lease guard does not let our Redis take writes yet), with its hand-over flag.
   */
  private promoteWaiting: { handedOver: boolean } | undefined;
  /** leaseChanged() queued the promotion (promoteWaiting stays set until it runs). */
  private promoteQueued = false;
  /** Counts the transitions to master: a promotion queued in one term never runs in the next. */
  private masterTerm = 0;
  /** Strict mode: the MASTER hooks of a master waiting for the lease, run once it is promoted. */
  private pendingMasterHooks: { readonly ctx: Parameters<HookRunner['transition']>[0]; readonly changed: boolean; readonly moved: boolean } | undefined;

  private current: InstanceSettings;

  constructor(
    settings: InstanceSettings,
    private readonly io: InterfaceIo,
    private readonly vips: VipReconciler,
    private readonly log: Logger,
    private readonly extras: RunnerExtras = {},
  ) {
    this.current = settings;
    // The core decides what a message is worth (a designation from the master it follows, naming
    // us; a notice from the successor it designated); the channel only carries them.
    if (extras.handover) {
      extras.handover.onMessage = (m) => {
        if (!this.core || this.stopping) return;
        if (m.type === 'designate') {
          const before = this.core.counters.designationsRx;
          this.input({ type: 'designated', by: m.from, to: m.to });
          if (this.core.counters.designationsRx > before) this.log.info('designated by the master: takes over at once when it leaves', { event: 'designation', instance: this.settings.name, by: m.from });
          else this.log.warn('designation ignored (not a backup, not naming us, or not from the master we follow)', { event: 'designation', instance: this.settings.name, from: m.from, to: m.to, state: this.core.state });
        } else if (m.by !== this.primary) this.input({ type: 'taken-over', by: m.by });
      };
    }
  }

  get settings(): InstanceSettings {
    return this.current;
  }

  /**
   * A reload's in-place part (see reload-plan.ts): the settings the core was built from are the
   * same, only those read as they are used (the hooks) differ. The core and its state stay.
   */
  updateSettings(next: InstanceSettings): void {
    this.current = next;
  }

  get vrid(): number {
    return this.settings.vrid;
  }

  get family(): 'ipv4' | 'ipv6' {
    return this.settings.family;
  }

  get state(): VrrpState | 'waiting' {
    return this.core?.state ?? 'waiting';
  }

  /** The address our adverts come from, once known. */
  get primaryAddress(): string | undefined {
    return this.primary;
  }

  /** Creates the core once the source address is known, and starts it. */
  start(primaryAddress: string | undefined): void {
    if (this.core) return;
    if (!primaryAddress) {
      const why = `an ${this.settings.family} address on ${this.settings.interface}`;
      if (this.waitingFor !== why) this.log.warn(`instance waits for ${why}`, { instance: this.settings.name });
      this.waitingFor = why;
      return;
    }
    // Members are told to follow our Redis where peer_addresses says it is: an advert source it
    // does not list leaves them nowhere to go. Nothing runs until the file (or the address) is fixed.
    if (this.extras.redis?.hosts.knows(primaryAddress) === false) {
      const why = `an entry for this host's advert source ${primaryAddress} in [instance.redis] peer_addresses (where the members reach this host's Redis)`;
      if (this.waitingFor !== why) this.log.error(`instance waits for ${why}`, { instance: this.settings.name });
      this.waitingFor = why;
      return;
    }
    const s = this.settings;
    this.primary = primaryAddress;
    this.core = new VrrpInstance({
      name: s.name,
      vrid: s.vrid,
      version: s.version,
      family: s.family,
      priority: s.priority,
      advertIntervalCs: s.advertIntervalCs,
      preempt: s.preempt,
      preemptDelayMs: s.preemptDelayMs,
      primaryAddress,
      virtualAddresses: s.virtualAddresses.map((v) => v.address),
      ...(s.authPass !== undefined ? { authPassword: s.authPass } : {}),
      garp: s.garp,
      tracks: [
        ...s.trackInterfaces.map((t) => ({
          name: `${TRACK_INTERFACE_PREFIX}${t.name}`,
          weight: t.weight,
          initiallyOk: this.trackState.get(t.name) ?? true,
        })),
        // The restart-empty guard: failing while our Redis is fenced (weight 0: Fault).
        ...(s.redis && s.serve === 'write' ? [{ name: `${TRACK_PREFIX}${REDIS_SAFETY_TRACK}`, weight: 0, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${REDIS_SAFETY_TRACK}`) ?? true }] : []),
        // A read VIP: Fault unless this host's Redis serves reads; priority 1 on the master (the fallback).
        ...(s.serve === 'read'
          ? [
              { name: `${TRACK_PREFIX}${READ_IN_SYNC_TRACK}`, weight: 0, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${READ_IN_SYNC_TRACK}`) ?? false },
              { name: `${TRACK_PREFIX}${READ_ON_MASTER_TRACK}`, weight: -253, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${READ_ON_MASTER_TRACK}`) ?? true },
            ]
          : []),
        ...(s.redis?.manageRole ? [{ name: `${TRACK_PREFIX}${REDIS_DATA_TRACK}`, weight: s.redis.guardWeight, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${REDIS_DATA_TRACK}`) ?? false }] : []),
        // Strict mode's step-down is Fault (weight 0), not a lower priority: with nopreempt a
        // master whose priority drops stays master, and one that may not write would block a
        // host that may; and when no host may (etcd lost), none is master rather than each in turn.
        ...(this.extras.strict && s.redis ? [{ name: `${TRACK_PREFIX}${ETCD_LEASE_TRACK}`, weight: 0, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${ETCD_LEASE_TRACK}`) ?? true }] : []),
        // No quorum, no master: failing until the first look at the members.
        ...(s.redis?.manageRole ? [{ name: `${TRACK_PREFIX}${REDIS_QUORUM_TRACK}`, weight: 0, initiallyOk: this.trackState.get(`${TRACK_PREFIX}${REDIS_QUORUM_TRACK}`) ?? false }] : []),
        // Maintenance: the lowest priority, so any other member that qualifies is elected first.
        { name: `${TRACK_PREFIX}${MAINTENANCE_TRACK}`, weight: MAINTENANCE_WEIGHT, initiallyOk: !this.maintenance },
        // Health tracks start failed: nothing counts as healthy before a check said so.
        ...s.tracks.map((t) => ({
          name: `${TRACK_PREFIX}${t.name}`,
          weight: t.weight,
          initiallyOk: this.trackState.get(`${TRACK_PREFIX}${t.name}`) ?? false,
        })),
      ],
      ...(s.unicastPeers.length > 0 ? { unicastPeers: s.unicastPeers } : {}),
      ...(s.unicastPeers.length === 0 && s.members !== undefined ? { members: s.members } : {}),
    });
    this.waitingFor = undefined;
    this.log.info('instance starting', { instance: s.name, vrid: s.vrid, priority: s.priority, source: primaryAddress });
    if (!this.linkUp) this.input({ type: 'interface', up: false });
    for (const [name, value] of this.trackValues) this.input({ type: 'track', name, ok: true, value });
    this.input({ type: 'start' });
  }

  /** The instance's own interface: carrier up or down. */
  setLink(up: boolean): void {
    if (this.linkUp === up) return;
    this.linkUp = up;
    if (this.core) this.input({ type: 'interface', up });
  }

  /** A tracked interface changed. */
  setTrackedInterface(name: string, up: boolean): void {
    if (!this.settings.trackInterfaces.some((t) => t.name === name)) return;
    if (this.trackState.get(name) === up) return;
    this.trackState.set(name, up);
    if (this.core) this.input({ type: 'track', name: `${TRACK_INTERFACE_PREFIX}${name}`, ok: up });
  }

  /** A health track changed ([[track]] by name); `value`: a number track's number. */
  setTrack(name: string, ok: boolean, value?: number): void {
    const key = `${TRACK_PREFIX}${name}`;
    if (value !== undefined) {
      if (this.trackValues.get(key) === value) return;
      this.trackValues.set(key, value);
      if (this.core) this.input({ type: 'track', name: key, ok, value });
      return;
    }
    if (this.trackState.get(key) === ok) return;
    this.trackState.set(key, ok);
    if (this.core) this.input({ type: 'track', name: key, ok });
  }

  deliver(r: DecodeResult): void {
    if (!this.core || this.stopping) return;
    if (r.ok && r.ip) {
      const accepted = this.core.counters.advertsRx;
      this.input({ type: 'advert', advert: r.advert, source: r.ip.src });
      // Who claims master (an advert the core accepted, priority above 0): the data guard's facts.
      if (this.core.counters.advertsRx > accepted && r.advert.priority > 0) this.advertSeen.set(r.ip.src, performance.now());
    } else if (!r.ok) this.input({ type: 'advert-dropped', reason: r.reason });
  }

  /**
   * Planned switchover (`redkeep switchover [--to ADDRESS]`): Redis hands over first (writes
   * paused until the target has our offset; aborted, with nothing changed, if it does not catch
   * up), then the core resigns with priority 0 (to `to` alone when given). Resolves once another
   * router is master, saying who and how long it took.
   */
  async switchover(to: string | undefined): Promise<SwitchoverResult> {
    const members = this.settings.members ?? this.settings.unicastPeers;
    const core = this.core;
    const s = this.settings;
    if (!core || core.state !== 'master') {
      const m = this.core?.masterAddressSeen;
      throw new Error(`instance ${s.name} is ${this.state} here, not master${m !== undefined ? ` (the master is ${m}): run the switchover there` : ''}`);
    }
    if (this.switching) throw new Error(`instance ${s.name}: a switchover is already running`);
    if (this.promoteWaiting !== undefined) throw new Error(`instance ${s.name} is master here but its Redis waits for the etcd lease (${this.extras.guard?.leaseRefusal() ?? 'strict mode'}): nothing to hand over`);
    if (to !== undefined) {
      if (to === this.primary) throw new Error(`${to} is this host`);
      if (s.unicastPeers.length > 0 && !s.unicastPeers.includes(to)) throw new Error(`${to} is not one of the unicast peers (${s.unicastPeers.join(', ')})`);
    }
    this.switching = true;
    const started = performance.now();
    let designated: string | undefined;
    try {
      let redisOutcome = 'no redis';
      const redis = this.extras.redis;
      if (redis) {
        const h = await redis.handOver({
          ...(to !== undefined ? { only: to } : {}),
          abortIfBehind: true,
          stillMaster: () => this.masterNow(),
          ...(this.primary !== undefined ? { designate: { vrid: s.vrid, self: this.primary, family: s.family, members } } : {}),
        });
        if (!h.ok) throw new Error(`switchover refused: ${h.detail}`);
        redisOutcome = h.detail;
        designated = h.designated;
      }
      if (this.core?.state !== 'master') throw new Error(`instance ${s.name} stopped being master during the hand-over; redis: ${redisOutcome}`);
      // The priority 0 first, then the log line (a write to stdout): every millisecond counts here.
      this.input({ type: 'resign', ...(to !== undefined ? { to } : {}), ...(designated !== undefined ? { designated } : {}) });
      this.log.info('switchover: resigning', { event: 'switchover', instance: s.name, to: to ?? 'the highest priority backup', redis: redisOutcome });
      const waitMs = (core.masterDownIntervalMs() + 2 * s.advertIntervalCs * 10) + 1000;
      const deadline = performance.now() + waitMs;
      while (performance.now() < deadline) {
        const m = this.core?.masterAddressSeen;
        if (this.core?.state === 'master') throw new Error(`instance ${s.name}: nobody took over within ${waitMs} ms; this host is master again`);
        // Done once the new master is heard and our VIPs are gone (after its notice that it holds them).
        if (m !== undefined && m !== this.primary && (this.core?.status().vipsHeld.length ?? 0) === 0) {
          return { instance: s.name, newMaster: m, ms: Math.round(performance.now() - started), redis: redisOutcome, ...(to !== undefined && m !== to ? { note: `${to} was asked, but ${m} is master (a higher priority with preempt on)` } : {}) };
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      return { instance: s.name, newMaster: undefined, ms: Math.round(performance.now() - started), redis: redisOutcome, note: `no advert from a new master within ${waitMs} ms` };
    } finally {
      this.switching = false;
      this.extras.handover?.forgetSuccessor();
    }
  }

  /**
   * Maintenance on: a master hands over first (a zero-loss switchover; refused, nothing changes,
   * if no replica catches up), then the priority goes to 1 until off. Off: the configured
   * priority again (with preempt, this host takes the master role back as VRRP decides).
   */
  async setMaintenance(on: boolean): Promise<SwitchoverResult | undefined> {
    if (on && this.settings.priority === 255) throw new Error(`instance ${this.settings.name} has priority 255 (the address owner): it is always master and cannot be put in maintenance`);
    let handedOver: SwitchoverResult | undefined;
    // Strict mode, a master whose Redis waits for the lease: nothing to hand over; it resigns.
    const resign = on && !this.maintenance && this.core?.state === 'master' && this.promoteWaiting !== undefined;
    if (on && !this.maintenance && this.core?.state === 'master' && !resign) {
      handedOver = await this.switchover(undefined);
      if (handedOver.newMaster === undefined) throw new Error(`instance ${this.settings.name}: ${handedOver.note ?? 'no new master'}; maintenance not entered`);
    }
    this.maintenance = on;
    const key = `${TRACK_PREFIX}${MAINTENANCE_TRACK}`;
    this.trackState.set(key, !on);
    if (this.core) this.input({ type: 'track', name: key, ok: !on });
    if (resign && this.core?.state === 'master') this.input({ type: 'resign' });
    this.log.info(on ? 'maintenance on: priority 1 until off' : 'maintenance off', { event: 'maintenance', instance: this.settings.name, ...(handedOver ? { handedOverTo: handedOver.newMaster, ms: handedOver.ms } : {}) });
    return handedOver;
  }

  /**
   * Members heard advertising as master (priority above 0) within the last 2.5 advert intervals:
   * every master sends one each interval, so a member that sent none for that long is not one
   * (any more: a router that was master a moment ago proves nothing about its Redis now).
   */
  advertisingMasters(): string[] {
    const core = this.core;
    if (!core) return [];
    const now = performance.now();
    const windowMs = 2.5 * (core.status().masterAdverIntervalCs ?? this.settings.advertIntervalCs) * 10;
    const out: string[] = [];
    for (const [src, at] of this.advertSeen) {
      if (now - at <= windowMs && src !== this.primary) out.push(src);
      else if (now - at > 10 * windowMs) this.advertSeen.delete(src);
    }
    return out;
  }

  /**
   * The failover policy says this master must step down (its Redis was superseded, or made a
   * replica by someone else): resign with priority 0, as a switchover does, without the Redis
   * hand-over (its Redis is not the one to keep).
   */
  stepDown(why: string): void {
    if (this.core?.state !== 'master' || this.switching || this.stopping) return;
    this.log.error('master steps down: its Redis is not the one to keep', { event: 'step-down', instance: this.settings.name, why });
    this.input({ type: 'resign' });
  }

  /** The VIPs announced again now (GARP/NA), if this instance holds them: a partition healed. */
  announce(why: string): void {
    if (this.core?.state !== 'master' || this.stopping) return;
    this.log.info('announcing the VIPs again', { instance: this.settings.name, why });
    this.input({ type: 'announce' });
  }

  /** One shutdown path: priority 0 if master, VIPs released; resolves when done. */
  async stop(): Promise<void> {
    const redis = this.extras.redis;
    // A master whose Redis waits for the etcd lease has nothing to hand over: priority 0 alone.
    if (redis && this.core?.state === 'master' && this.settings.redis?.switchoverOnStop && this.promoteWaiting === undefined) {
      // Hand the data over before the VIP: no acknowledged write may be left behind. A planned
      // switchover first (its successor designated where VRRP's choice can be told, the VIPs
      // kept until it holds them); when that is refused or nobody takes over, the data is handed
      // over all the same (fenced even behind) and the shutdown's priority 0 goes to everyone.
      let outcome: string;
      try {
        const r = await this.switchover(undefined);
        outcome = r.newMaster !== undefined ? `${r.newMaster} is master after ${r.ms} ms; redis: ${r.redis}` : `${r.note ?? 'no new master'}; redis: ${r.redis}`;
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        outcome = this.core?.state === 'master' ? `${why}; ${(await redis.handOver()).detail}` : why;
      }
      this.log.info('switchover on stop', { event: 'switchover', instance: this.settings.name, outcome });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.core && this.core.state !== 'stopped') this.input({ type: 'shutdown' });
    this.stopping = true;
    await this.queue;
    await this.extras.hooks?.idle();
  }

  private input(input: VrrpInput): void {
    const core = this.core;
    if (!core || this.stopping) return;
    // Woken late as master (frozen: SIGSTOP, swap, a VM pause), whatever comes first (the VRRP
    // timer, a track, the quorum): resign before anything else counts, so that the role is never
    // taken back by priority alone (see schedule()).
    if (core.state === 'master' && input.type !== 'resign' && input.type !== 'shutdown' && !this.switching && !this.masterNow()) {
      this.log.warn('woke from a pause as master: resigning first', { event: 'pause', instance: this.settings.name });
      this.extras.guard?.kick();
      this.input({ type: 'resign' });
      if (input.type === 'timeout') return;
    }
    const before = core.state;
    const seenBefore = core.masterAddressSeen;
    const actions = core.handle(input, performance.now());
    if (core.state === 'master' && before !== 'master') this.masterTerm++;
    // Took over from a master we followed: its Redis may still take writes (its agent may be
    // dead), or, fenced by its hand-over, be the first replica ours needs to take writes. Looked
    // at from now on (nothing is done to it before our Redis is master).
    const redis = this.extras.redis;
    // (Strict mode: once the promotion runs, from afterTransition or leaseChanged.)
    if (redis && core.state === 'master' && before === 'backup' && seenBefore !== undefined && this.primary !== undefined && seenBefore !== this.primary && this.extras.strict !== true) {
      redis.fencePeer(seenBefore, this.primary, () => this.masterNow());
    }
    for (const a of actions) {
      // Adverts go out at once, beside the queue: a promotion in progress (a takeover catching up
      // from the previous master) must not silence them, or the backups take over meanwhile.
      if (a.type === 'send-advert') this.sendAdvert(a);
      else this.enqueue(a);
    }
    if (this.primary !== undefined) this.extras.handover?.setState(this.primary, core.state, core.effectivePriority);
    // After redkeep's own actions: the Redis role follows, then the user's hooks.
    const master = core.masterAddressSeen;
    if (core.state !== before || master !== this.lastMaster) {
      this.lastMaster = master;
      const state = core.state;
      const priority = core.effectivePriority;
      this.queue = this.queue.then(() => this.afterTransition(state, master, priority, state !== before));
    }
    this.schedule();
  }

  private async afterTransition(state: VrrpState, master: string | undefined, priority: number, changed: boolean): Promise<void> {
    const { redis, hooks } = this.extras;
    if (state !== 'master') this.promoteWaiting = undefined;
    // Strict mode, a master waiting for the lease: its Redis stays as it is (a replica of the
    // master it followed, watched as before) until promoteLate().
    const waits = state === 'master' && this.promoteWaiting !== undefined;
    // Not awaited: a slow Redis must not hold up the next VRRP action; reconciliation retries.
    void redis?.follow(waits ? 'backup' : state, waits ? undefined : master);
    // Took over from a master we followed: its Redis may still take writes (its agent may be dead).
    if (redis && changed && state === 'master' && !waits && this.followedMaster !== undefined && this.primary !== undefined) {
      redis.fencePeer(this.followedMaster, this.primary, () => this.masterNow());
    }
    if (state !== 'master' && master !== undefined) this.followedMaster = master;
    const hs = HOOK_STATE[state];
    const oldMaster = this.hookMaster;
    const newMaster = this.masterEndpoint(master);
    const moved = newMaster !== undefined && oldMaster !== undefined && (newMaster.ip !== oldMaster.ip || newMaster.port !== oldMaster.port);
    // A master waiting for the lease is not the hooks' master until its MASTER hooks run.
    if (newMaster !== undefined && !waits) this.hookMaster = newMaster;
    if (hooks && (changed || moved) && hs) {
      const ctx = {
        state: hs,
        previous: this.hookState,
        priority,
        vips: this.settings.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`),
        redisAddress: redis?.address,
        oldMaster,
        newMaster,
      };
      // Strict mode: a master waiting for the lease is not master yet for what the hooks steer
      // (its Redis refuses writes, the VIP is down): its MASTER hooks run once it is promoted.
      if (waits) {
        this.pendingMasterHooks = { ctx, changed: changed || this.pendingMasterHooks?.changed === true, moved: moved || this.pendingMasterHooks?.moved === true };
        return;
      }
      // Left master before the promotion: the MASTER hooks never ran, nor run now; a transition
      // back to the state the hooks last saw is no news.
      const dropped = this.pendingMasterHooks !== undefined;
      this.pendingMasterHooks = undefined;
      if (changed && !(dropped && hs === this.hookState)) void hooks.transition(ctx);
      if (moved) void hooks.masterChanged({ ...ctx, oldMaster, newMaster });
      this.hookState = hs;
    }
  }

  /** Strict mode: the MASTER hooks that waited for the promotion. */
  private runPendingMasterHooks(): void {
    const p = this.pendingMasterHooks;
    const hooks = this.extras.hooks;
    this.pendingMasterHooks = undefined;
    if (!p || !hooks) return;
    const ctx = { ...p.ctx, previous: this.hookState, priority: this.core?.effectivePriority ?? p.ctx.priority };
    if (ctx.newMaster !== undefined) this.hookMaster = ctx.newMaster;
    if (p.changed) void hooks.transition(ctx);
    const { oldMaster, newMaster } = ctx;
    if (p.moved && oldMaster !== undefined && newMaster !== undefined) void hooks.masterChanged({ ...ctx, oldMaster, newMaster });
    this.hookState = 'MASTER';
  }

  /**
   * Strict mode (`[agent] etcd`): whether the lease guard keeps our Redis from taking writes now.
   * A VRRP master promotes its Redis only once it may: a master without the lease must not make
   * its Redis the one the others follow (that would discard what the holder acknowledged), and
   * the lease's history rule decides whether it may take the lease at all.
   */
  private waitsForLease(): boolean {
    return this.extras.strict === true && this.extras.guard !== undefined && this.extras.guard.leaseRefusal() !== undefined;
  }

  /**
   * Our Redis promoted for a takeover, as long as this router is still master (in `term`, when
   * given) and, in strict mode, the lease still allows it, at each step of the promotion (a lease
   * lost during a long catch-up fences nobody and promotes nothing).
   */
  private promoteRedis(redis: RedisSupervisor, handedOver: boolean, term: number | undefined): Promise<'master' | 'not-yet' | 'abandon'> {
    const stillMaster = (): boolean => this.core?.state === 'master' && (term === undefined || term === this.masterTerm) && !this.waitsForLease();
    return redis.promote({ handedOver, settleMs: this.settings.advertIntervalCs * 10, stillMaster });
  }

  /** Strict mode: the lease guard's verdict changed; a promotion that waited for the lease runs now if it may. */
  leaseChanged(): void {
    if (this.promoteWaiting === undefined || this.promoteQueued || this.waitsForLease() || this.stopping) return;
    // promoteWaiting stays set until the promotion runs: a transition queued before it still
    // keeps our Redis as it is (a desired master whose Redis is a replica reads as demoted).
    this.promoteQueued = true;
    const term = this.masterTerm;
    this.queue = this.queue
      .then(async () => {
        this.promoteQueued = false;
        const waiting = this.promoteWaiting;
        const redis = this.extras.redis;
        const s = this.settings;
        // Left master meanwhile (cleared; a later term's takeover is its own), or the lease
        // refused again: it waits on.
        if (waiting === undefined || !redis || this.core?.state !== 'master' || term !== this.masterTerm || this.stopping || this.waitsForLease()) return;
        this.promoteWaiting = undefined;
        this.log.info('strict mode: the etcd lease is ours: promoting redis', { event: 'promote', instance: s.name });
        // Took over from a master we followed: looked at from now on, as at a takeover (promote()).
        if (this.followedMaster !== undefined && this.primary !== undefined) redis.fencePeer(this.followedMaster, this.primary, () => this.masterNow());
        const promoted = await this.promoteRedis(redis, waiting.handedOver, term);
        if (this.core?.state !== 'master' || term !== this.masterTerm) return;
        if (promoted === 'abandon') {
          this.input({ type: 'resign', sticky: false });
          return;
        }
        if (promoted === 'not-yet') {
          // Not promoted (the lease refused for a moment, another router taking over, members
          // that must be waited for): no VIP on a Redis that is not master. It waits again, and
          // tries again an advert interval later if the lease allows it by then.
          this.promoteWaiting = waiting;
          this.log.warn('strict mode: redis not promoted yet; the takeover waits and tries again', { event: 'promote', instance: s.name, lease: this.extras.guard?.leaseRefusal() ?? 'held' });
          setTimeout(() => this.leaseChanged(), s.advertIntervalCs * 10).unref();
          return;
        }
        void redis.follow('master', this.core.masterAddressSeen);
        // The VIP now, announced as at becoming master (a resigned master waits for our notice),
        // then the MASTER hooks.
        await this.vips.want(s.name, true);
        await this.execute({ type: 'send-garps', addresses: s.virtualAddresses.map((v) => v.address), count: s.garp.repeat, burst: 'become-master' });
        this.runPendingMasterHooks();
      })
      .catch((e: unknown) => this.log.error('promotion after the lease failed', { event: 'error', instance: this.settings.name, error: e instanceof Error ? e.message : String(e) }));
  }

  /**
   * A master's Redis as hooks name it: where the members reach it (its peer_addresses entry, or
   * the router's address) with the instance's peer_port; without [instance.redis], the router's
   * address with port 0.
   */
  private masterEndpoint(router: string | undefined): MasterEndpoint | undefined {
    if (router === undefined) return undefined;
    const redis = this.extras.redis;
    return redis ? { ip: redis.hosts.hostOf(router), port: this.settings.redis?.peerPort ?? 0 } : { ip: router, port: 0 };
  }

  /**
   * Master, and not just woken from a pause: an agent frozen as master (SIGSTOP, swap) may run
   * other timers before the VRRP one that resigns; none of them may act as master meanwhile.
   */
  masterNow(): boolean {
    const core = this.core;
    if (core?.state !== 'master') return false;
    const deadline = core.nextDeadline();
    return deadline === undefined || performance.now() - deadline <= 2 * this.settings.advertIntervalCs * 10;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const core = this.core;
    if (!core || this.stopping) return;
    const deadline = core.nextDeadline();
    if (deadline === undefined) return;
    const delay = Math.max(0, deadline - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Woken late (the agent was frozen: SIGSTOP, swap, a VM pause): as master, the backups
      // stopped hearing us more than two intervals ago and one may have taken over. Never reclaim
      // the role by priority alone: resign, and let the election (and its catch-up) decide.
      const lateMs = performance.now() - deadline;
      if (core.state === 'master' && lateMs > 2 * this.settings.advertIntervalCs * 10 && !this.switching) {
        this.log.warn('woke from a pause as master: resigning instead of advertising', { event: 'pause', instance: this.settings.name, lateMs: Math.round(lateMs) });
        this.extras.guard?.kick();
        this.input({ type: 'resign' });
        return;
      }
      this.input({ type: 'timeout' });
    }, Math.ceil(delay));
  }

  /** `to`: a switchover's priority 0 for the chosen router alone. Synchronous; failures are counted by the interface. */
  private sendAdvert(a: Extract<VrrpAction, { type: 'send-advert' }>): void {
    this.io.sendAdvert(a.advert, this.primary ?? '', a.to !== undefined ? [a.to] : this.settings.unicastPeers);
  }

  /** Actions run one after another, in the order the core gave them. */
  private enqueue(a: VrrpAction): void {
    this.queue = this.queue.then(() => this.execute(a)).catch((e: unknown) => this.actionFailed(a, e));
  }

  private actionFailed(a: VrrpAction, e: unknown): void {
    this.log.error('action failed', { event: 'error', instance: this.settings.name, action: a.type, error: e instanceof Error ? e.message : String(e) });
  }

  private async execute(a: VrrpAction): Promise<void> {
    const s = this.settings;
    switch (a.type) {
      case 'send-advert':
        this.sendAdvert(a);
        return;
      case 'add-vips': {
        // Clients reaching the VIP must find a writable Redis: promote it before the VIP is up.
        const redis = this.extras.redis;
        if (redis && this.waitsForLease()) {
          // Strict mode without the lease: a host is master (Redis writable, VIP held) only with
          // it. Our Redis stays as it is, and the VIP down, until leaseChanged() promotes it.
          this.promoteWaiting = { handedOver: a.handedOver };
          this.log.warn('strict mode: redis is not promoted, and the VIP not brought up, until this host holds the etcd lease', { event: 'promote', instance: s.name, why: this.extras.guard?.leaseRefusal() });
          return;
        }
        const promoted = redis
          ? await this.promoteRedis(redis, a.handedOver, undefined)
          : 'master';
        // Stepped down while Redis was being promoted (two routers took over at once): no VIPs.
        if (this.core?.state !== 'master') return;
        if (redis && promoted === 'not-yet' && this.waitsForLease()) {
          // Strict mode: the lease was lost during the promotion. It waits for it again.
          this.promoteWaiting = { handedOver: a.handedOver };
          this.log.warn('strict mode: the etcd lease was lost during the promotion; redis and the VIP wait for it again', { event: 'promote', instance: s.name, why: this.extras.guard?.leaseRefusal() });
          return;
        }
        if (promoted === 'abandon') {
          // The takeover must not happen (no quorum now, a member has newer data, or the previous
          // master's writes could not be taken): step back, preempt as configured.
          this.input({ type: 'resign', sticky: false });
          return;
        }
        if (promoted !== 'master') this.log.warn('redis is not master yet; the VIP comes up anyway and role control keeps trying', { event: 'promote', instance: s.name });
        await this.vips.want(s.name, true);
        return;
      }
      case 'remove-vips':
        // The successor we handed over to holds the VIPs (and has announced them): the clients
        // still connected through them here are closed first, while the addresses are ours (a
        // FIN from an address we no longer have never leaves), so that they connect again at
        // once, to the new holder, instead of waiting for their timeout.
        if (a.handedOver) await this.extras.redis?.closeClients(a.addresses);
        this.vipGeneration++;
        await this.vips.want(s.name, false);
        return;
      case 'send-garps': {
        // A master waiting for the etcd lease holds no VIP to announce.
        if (this.core?.state !== 'master' || this.promoteWaiting !== undefined) return;
        // Runs beside the queue: a long burst must never hold up stepping down. It ends when the
        // VIPs are released (the generation moves on) or the instance stops.
        const generation = this.vipGeneration;
        void this.io
          .announce(a.addresses, a.count, s.garp.intervalMs, () => this.stopping || this.vipGeneration !== generation)
          .then((n) => {
            this.garpsSent += n;
          });
        // The first round is out: a resigned master listening on our Redis may release its VIPs.
        if (a.burst === 'become-master' && this.primary !== undefined && this.vips.held(s.name).length > 0) await this.extras.redis?.announceHolds(s.vrid, this.primary);
        return;
      }
      case 'state-changed':
        this.lastTransitionWall = new Date().toISOString();
        this.transitions.push({ at: this.lastTransitionWall, from: a.from, to: a.to, reason: a.reason, detail: a.detail });
        if (this.transitions.length > RECENT_TRANSITIONS) this.transitions.shift();
        this.onStateChange();
        this.log.info(`${a.from} -> ${a.to}`, {
          event: 'transition',
          instance: s.name,
          reason: a.reason,
          ...(a.detail !== undefined ? { detail: a.detail } : {}),
          priority: a.priority,
        });
        return;
      case 'priority-changed':
        this.log.info('effective priority changed', { event: 'priority', instance: s.name, from: a.from, to: a.to });
        return;
      case 'unexpected-input':
        this.log.error('BUG: input makes no sense in this state', { instance: s.name, input: a.input, state: a.state, message: a.message });
        return;
    }
  }

  status(): RunnerStatus {
    const s = this.settings;
    const st = this.core?.status();
    const lt = st?.lastTransition;
    return {
      name: s.name,
      interface: s.interface,
      vrid: s.vrid,
      version: s.version,
      family: s.family,
      state: st?.state ?? 'waiting',
      waitingFor: this.waitingFor,
      basePriority: s.priority,
      effectivePriority: st?.effectivePriority,
      masterAddress: st?.masterAddress,
      masterPriority: st?.masterPriority,
      advertIntervalCs: s.advertIntervalCs,
      masterAdverIntervalCs: st?.masterAdverIntervalCs,
      primaryAddress: this.primary,
      unicastPeers: s.unicastPeers,
      virtualAddresses: s.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`),
      vipsHeld: this.vips.held(s.name),
      lastTransition:
        lt === undefined
          ? undefined
          : {
              at: this.lastTransitionWall ?? '',
              from: lt.from,
              to: lt.to,
              reason: lt.reason,
              detail: lt.detail,
            },
      recentTransitions: [...this.transitions],
      tracks: (st?.tracks ?? []).map((t) => ({ name: t.name, weight: t.weight, ok: t.ok, value: t.value })),
      counters: st ? { ...st.counters, garpsSent: this.garpsSent } : undefined,
      maintenance: this.maintenance,
      serve: s.serve,
      readServe: this.readServe,
      redis: this.extras.redis?.status(),
      guard: this.extras.guard?.status(),
      hooks: this.extras.hooks?.configured ? { runs: this.extras.hooks.runs, failures: this.extras.hooks.failures } : undefined,
    };
  }
}
