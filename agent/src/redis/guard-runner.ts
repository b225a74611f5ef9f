// Runs the data guard for one instance: every GUARD_PERIOD_MS it samples the local Redis and the
// peers' Redis at once, asks the DataGuard, and acts on the verdict:
// - the instance's redis-data track (a failing verdict lowers the priority by guard_weight), so
//   that a stale backup does not take over while a better peer exists and an isolated master
//   gives way to the side that kept serving when the partition heals;
// - on an isolated master, writes are refused (CONFIG SET min-replicas-to-write 1) until a
//   replica or a peer is back; the value found before is restored then. Reconciled each period.

import { performance } from 'node:perf_hooks';
import type { RedisFacts } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';
import type { RedisSettings } from '../config/config.js';
import type { Logger } from '../log.js';
import { DataGuard, type DataGuardVerdict, REPLICA_FRESH_S } from './data-guard.js';
import { PeerMonitor } from './peer-monitor.js';
import type { RedisSupervisor } from './supervisor.js';

export const GUARD_PERIOD_MS = 250;
/** The period while a backup waits to be in sync (or for its first look at the peers). */
const FAST_PERIOD_MS = 25;
const SAMPLE_TIMEOUT_MS = 200;
const MIN_REPLICAS = 'min-replicas-to-write';
const MAX_LAG = 'min-replicas-max-lag';

export interface GuardContext {
  /** The VRRP state, the master's address seen (a backup's), and our own primary address. */
  state(): VrrpState | 'waiting';
  masterSeen(): string | undefined;
  self(): string | undefined;
}

export interface GuardStatus {
  readonly ok: boolean;
  readonly why: string;
  readonly writesRefused: boolean;
  readonly peers: readonly string[];
}

export class GuardRunner {
  private readonly guard: DataGuard;
  private readonly peers: PeerMonitor;
  private timer: NodeJS.Timeout | undefined;
  /** Failing until the first look: a host must not preempt before it knows what its peers have. */
  private verdict: DataGuardVerdict = { ok: false, kind: 'stale', why: 'not checked yet', waiting: true };
  private running = false;
  private again = false;
  private stopped = false;
  /** min-replicas-to-write and -max-lag as found before we refused writes; undefined when we did not. */
  private restoreTo: { toWrite: string; maxLag: string } | undefined;
  private lastError: string | undefined;
  /** Whether the local Redis was looked at for values an earlier run left behind. */
  private leftoverChecked = false;
  /** Told when the verdict flips: the instance's redis-data track. */
  onVerdict: (ok: boolean, why: string) => void = () => undefined;

  constructor(
    private readonly instance: string,
    private readonly settings: RedisSettings,
    private readonly redis: RedisSupervisor,
    private readonly ctx: GuardContext,
    unicastPeers: readonly string[],
    private readonly log: Logger,
  ) {
    this.guard = new DataGuard(settings.guard);
    this.peers = new PeerMonitor(redis.link.endpoint, settings.peerPort, instance, () => ctx.self());
    for (const p of unicastPeers) this.peers.learn(p);
  }

  start(): void {
    this.schedule(GUARD_PERIOD_MS);
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
        const waiting = !this.verdict.ok && this.verdict.waiting === true;
        this.schedule(again ? 0 : waiting ? FAST_PERIOD_MS : GUARD_PERIOD_MS);
      });
    }, ms);
  }

  private async tickOnce(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const link = this.redis.link;
      const [local, sampled] = await Promise.all([
        link.isUp ? link.facts(SAMPLE_TIMEOUT_MS).catch(() => undefined) : Promise.resolve(undefined),
        this.peers.sample(SAMPLE_TIMEOUT_MS),
      ]);
      if (this.stopped) return;
      // An address of this host learned from someone's INFO: our own Redis answers there.
      const peers = sampled.filter((p) => {
        const self = local?.runId !== undefined && p.facts?.runId === local.runId;
        if (self) this.peers.forget(p.address);
        return !self;
      });
      this.learn(local, peers.map((p) => p.facts));
      const state = this.ctx.state();
      const following = this.redis.following();
      const v = this.guard.evaluate({ nowMs: performance.now(), state, master: state === 'master' ? undefined : following, local, peers });
      if (v.ok !== this.verdict.ok) {
        if (v.ok) this.log.info('redis data guard: ok', { instance: this.instance, why: v.why });
        else this.log.warn(`redis data guard: ${v.kind}; priority lowered`, { instance: this.instance, why: v.why });
        this.onVerdict(v.ok, v.why);
      }
      this.verdict = v;
      await this.reconcileWrites(!v.ok && v.kind === 'isolated' && local?.role === 'master');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.error('redis data guard failed', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
    } finally {
      this.running = false;
    }
  }

  /** A valid advert's source for this instance: a peer (the master, or anyone preempting). */
  learnPeer(address: string): void {
    if (this.peers.learn(address)) this.log.info('redis data guard watches a new peer', { instance: this.instance, peer: address });
  }

  /** Addresses worth watching: the master seen, and the replicas any Redis lists. */
  private learn(local: RedisFacts | undefined, peerFacts: readonly (RedisFacts | undefined)[]): void {
    const found = [this.ctx.masterSeen(), local?.masterHost, ...[local, ...peerFacts].flatMap((f) => f?.replicas.map((r) => r.ip) ?? [])];
    for (const a of found) if (a !== undefined) this.learnPeer(a);
  }

  /**
   * Refuses writes on an isolated master: min-replicas-to-write 1 with min-replicas-max-lag
   * REPLICA_FRESH_S, so that replicas Redis still lists as online (it notices a dead link only
   * after repl-timeout) but that stopped acknowledging do not count. Restores both values after.
   */
  private async reconcileWrites(refuse: boolean): Promise<void> {
    const link = this.redis.link;
    if (!link.isUp || (!refuse && this.restoreTo === undefined && this.leftoverChecked)) return;
    try {
      const toWrite = configValue(await link.command(SAMPLE_TIMEOUT_MS, 'CONFIG', 'GET', MIN_REPLICAS));
      const maxLag = configValue(await link.command(SAMPLE_TIMEOUT_MS, 'CONFIG', 'GET', MAX_LAG));
      if (!this.leftoverChecked) {
        this.leftoverChecked = true;
        // An earlier agent killed while its master was isolated left its own pair of values
        // behind: take them back to Redis' defaults once this master is not isolated.
        if (this.restoreTo === undefined && toWrite === '1' && maxLag === String(REPLICA_FRESH_S)) {
          this.restoreTo = { toWrite: '0', maxLag: '10' };
          this.log.warn('found writes refused by an earlier redkeep run (min-replicas-to-write 1, min-replicas-max-lag 2): Redis\' defaults come back unless this master is isolated', { instance: this.instance });
          if (!refuse) return await this.reconcileWrites(false);
        }
      }
      if (refuse && (Number(toWrite) < 1 || Number(maxLag) > REPLICA_FRESH_S)) {
        this.restoreTo ??= { toWrite, maxLag };
        await link.command(SAMPLE_TIMEOUT_MS, 'CONFIG', 'SET', MIN_REPLICAS, String(Math.max(1, Number(toWrite))), MAX_LAG, String(Math.min(REPLICA_FRESH_S, Number(maxLag))));
        this.log.error('isolated master: redis refuses writes (min-replicas-to-write) until a replica or a peer is back', { instance: this.instance, why: this.verdict.why });
      } else if (!refuse && this.restoreTo !== undefined) {
        await link.command(SAMPLE_TIMEOUT_MS, 'CONFIG', 'SET', MIN_REPLICAS, this.restoreTo.toWrite, MAX_LAG, this.restoreTo.maxLag);
        this.log.info('isolation over: redis accepts writes again', { instance: this.instance, [MIN_REPLICAS]: this.restoreTo.toWrite, [MAX_LAG]: this.restoreTo.maxLag });
        this.restoreTo = undefined;
      }
      this.lastError = undefined;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.warn('redis data guard cannot set min-replicas-to-write', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
    }
  }

  status(): GuardStatus {
    return { ok: this.verdict.ok, why: this.verdict.why, writesRefused: this.restoreTo !== undefined, peers: this.peers.addresses };
  }

  /** Part of the one shutdown path: writes refused for an isolation are allowed again first. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.peers.close();
    if (this.restoreTo !== undefined) await this.reconcileWrites(false);
  }
}

/** CONFIG GET answers [name, value]. */
function configValue(reply: unknown): string {
  if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  throw new Error(`unexpected CONFIG GET reply: ${JSON.stringify(reply)}`);
}
