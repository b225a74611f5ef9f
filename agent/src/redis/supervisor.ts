// The local Redis of one instance: its role follows the VRRP state, reconciled (not fired once).
// Master -> REPLICAOF NO ONE; Backup and Fault -> REPLICAOF the master's Redis (the address its
// adverts come from, port from config). Drift (someone ran REPLICAOF, Redis restarted as master)
// is corrected on the next pass. Failures are logged once per change of condition.

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { mayFollow } from '@redkeep/failover';
import { type RedisFacts, RedisLink } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';
import type { RedisSettings } from '../config/config.js';
import type { Logger } from '../log.js';
import { markSecretVariable } from '../child-env.js';
import { ReconcileLoop } from '../daemon/reconcile-loop.js';

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
}

export type HandOverResult = { readonly ok: boolean; readonly detail: string };

export type DesiredRole = { readonly role: 'master' } | { readonly role: 'replica'; readonly host: string; readonly port: number };

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
/** The master watch PINGs this often; no answer this long and the master's Redis counts as gone. */
const MASTER_WATCH_HEARTBEAT_MS = 500;
const ALREADY_FENCED = 'not a master any more: already fenced';

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
  o: { timeoutMs: number; maxWaitMs: number; offsets: () => Promise<number[]>; fenceIfBehind: boolean; beforeFence?: () => void },
): Promise<DrainOutcome> {
  const start = performance.now();
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
    const fenced = caughtUp || o.fenceIfBehind;
    if (fenced) {
      o.beforeFence?.();
      await source.replicaOf(FENCE_HOST, FENCE_PORT, o.timeoutMs);
    }
    return { caughtUp, target, at: offsets.join(', '), ms: Math.round(performance.now() - start), fenced };
  } finally {
    await source.command(o.timeoutMs, 'CLIENT', 'UNPAUSE').catch(() => undefined);
  }
}

function describe(d: DesiredRole | undefined): string {
  if (!d) return 'unchanged';
  return d.role === 'master' ? 'master' : `replica of ${d.host}:${d.port}`;
}

export class RedisSupervisor {
  readonly link: RedisLink;
  private desired: DesiredRole | undefined;
  private facts: RedisFacts | undefined;
  private lastError: string | undefined;
  private readonly loop = new ReconcileLoop(() => this.reconcileOnce());
  private stopped = false;
  /** Last run_id and data seen while connected, to notice a restart (or an empty comeback). */
  private lastRunId: string | undefined;
  private hadData = false;
  private wasDown = false;
  private downOnMaster = false;
  private readonly fencing = new Set<string>();
  /** Set when a restart on the master was fenced; cleared once resynced from a real master. */
  private fencedSince: string | undefined;
  /** Why: a restart on the master (never promote it), or a planned hand-over (data intact). */
  private fenceKind: 'restart' | 'handover' = 'restart';
  /**
   * A connection to the master's Redis while ours replicates from it. When that connection
   * drops (its Redis died or restarted), ours is fenced at once: a restarted, empty master must
   * never be full-synced from (that wipes the replica). It follows again once that Redis is back
   * with the same run_id (a blip), or once another master is elected.
   */
  private masterWatch: { link: RedisLink; host: string; port: number; runId: string | undefined } | undefined;
  /** Since when we wait for a new master to catch up from ours before following it. */
  private waitingFor: { key: string; sinceMs: number } | undefined;
  private suspect: { host: string; port: number; runId: string | undefined; since: string } | undefined;
  /** Told the moment the connection to the master's Redis drops (the data guard looks again at once). */
  onMasterLost: () => void = () => undefined;
  /** Our own address as the members see it (the advert source). */
  self: () => string | undefined = () => undefined;
  /** Told when our Redis, master by our hand, was made a replica by someone else: resign. */
  onDemoted: (why: string) => void = () => undefined;
  /** Told when fencing starts (false) and ends (true): the instance's redis-safety track. */
  onSafety: (ok: boolean, why: string) => void = () => undefined;
  /**
   * The replication history this agent created by promoting our Redis as the VRRP master: a
   * master of that history is the newer side and never follows the history it came from.
   */
  private ownReplId: string | undefined;
  /** Superseded by a member (the policy said so): never promoted again until VRRP elects us anew. */
  private superseded: { by: string | undefined; since: string } | undefined;
  /** Set by promote() (VRRP elected us): the one path that may turn a replica into the master. */
  private promoting = false;
  /** Why the last REPLICAOF target was refused (logged once per reason). */
  private refusedTarget: string | undefined;
  /** The VRRP state as last followed, to know whether a restart happened on the master. */
  private state: VrrpState = 'initialize';
  private handOverQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly instance: string,
    private readonly settings: RedisSettings,
    password: string | undefined,
    private readonly log: Logger,
    private readonly periodMs = 1000,
  ) {
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
      this.wasDown = true;
      // Remember now: the lost connection sends the instance to Fault right after this.
      this.downOnMaster = this.state === 'master' || this.desired?.role === 'master';
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
    this.state = state;
    if (!this.settings.manageRole) return Promise.resolve();
    let d: DesiredRole | undefined;
    if (state === 'master') d = { role: 'master' };
    else if ((state === 'backup' || state === 'fault') && masterAddress !== undefined) {
      d = { role: 'replica', host: masterAddress, port: this.settings.peerPort };
    } else d = this.desired; // no master known yet: leave the role as it is
    if (describe(d) === describe(this.desired)) return Promise.resolve();
    this.desired = d;
    this.waitingFor = undefined; // a new master: its catch-up wait starts now, not at an older one
    this.watchMaster(d?.role === 'replica' ? d : undefined);
    this.log.info('redis role wanted', { instance: this.instance, role: describe(d) });
    return this.kick();
  }

  /** Whether this agent's promotion of our Redis (VRRP master) is done. */
  promotedByUs(): boolean {
    return this.desired?.role === 'master' && !this.promoting && this.ownReplId !== undefined;
  }

  /** Whether our Redis' fence (if it has one) was set by this agent (a restart, a hand-over, a lost master). */
  fencedByUs(): boolean {
    return this.fencedSince !== undefined || this.suspect !== undefined;
  }

  /**
   * The policy found our Redis superseded: a member's Redis succeeds our history, or someone else
   * fenced ours while we were master. It is never promoted again by drift correction; it follows
   * the successor (when known) once VRRP names it, and only a new election (promote) lifts this.
   */
  supersede(by: string | undefined): void {
    if (!this.settings.manageRole) return;
    if (this.superseded === undefined) {
      this.superseded = { by, since: new Date().toISOString() };
      this.ownReplId = undefined;
      this.log.error('redis superseded: a member has a newer history; this Redis stops being master and follows it', { instance: this.instance, ...(by !== undefined ? { successor: by } : {}) });
      if (this.desired?.role === 'master') this.desired = undefined;
      void this.kick();
    }
  }

  /**
   * Our Redis, master, lost its quorum: its history is no longer an elected one (what it took
   * alone is the minority's), so it may follow a quorum's master even without a shared id.
   */
  disown(why: string): void {
    if (this.ownReplId === undefined) return;
    this.ownReplId = undefined;
    this.log.warn('redis history no longer an elected one', { instance: this.instance, why });
  }

  /** The master's Redis ours should replicate from, if any (a backup's). */
  following(): { host: string; port: number } | undefined {
    const d = this.desired;
    return d?.role === 'replica' ? { host: d.host, port: d.port } : undefined;
  }

  /** Runs a reconciliation now (or right after the one in progress). */
  kick(): Promise<void> {
    return this.loop.kick();
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.link.isUp) return;
    try {
      this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
      if (await this.guardRestart(this.facts)) return;
      const d = this.desired;
      const f = this.facts;
      if (this.fencedSince !== undefined) {
        // Fenced: never promote; follow a real master once one is known, and lift the fence only
        // when this Redis has resynced from it.
        if (d?.role === 'replica') {
          if (f.masterHost !== d.host || f.masterPort !== d.port) {
            if (!(await this.historyAllows(f, d))) return;
            await this.link.replicaOf(d.host, d.port, COMMAND_TIMEOUT_MS);
            this.log.info('fenced redis resyncs from the master', { instance: this.instance, master: `${d.host}:${d.port}` });
          } else if (f.masterLinkUp && !f.syncInProgress) {
            this.log.info('redis resynced from the master; fence lifted', { instance: this.instance, since: this.fencedSince });
            this.fencedSince = undefined;
            this.onSafety(true, 'resynced from the master');
          }
        } else if (f.role !== 'replica' || f.masterHost !== FENCE_HOST || f.masterPort !== FENCE_PORT) {
          await this.fence();
        }
      } else if (d?.role === 'master' && f.role !== 'master') {
        if (!this.promoting && f.role === 'replica' && f.masterHost !== undefined) {
          // Was master, now a replica, and not by our hand: someone (a member taking over while
          // this agent was frozen, or an operator) made it so. Never undo that by drift
          // correction: resign, and let a new election (and its catch-up) decide.
          const why = `redis was made a replica of ${f.masterHost}:${f.masterPort ?? ''} by someone else while we are master`;
          if (this.refusedTarget !== `demoted:${f.masterHost}`) {
            this.log.warn(`${why}: not promoted again; resigning`, { instance: this.instance });
            this.onDemoted(why);
          }
          this.refusedTarget = `demoted:${f.masterHost}`;
          return;
        }
        await this.link.replicaOf(undefined, undefined, COMMAND_TIMEOUT_MS);
        this.log.info('redis promoted: REPLICAOF NO ONE', { instance: this.instance });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
        this.ownReplId = this.facts.role === 'master' ? this.facts.replId : undefined;
        this.promoting = false;
      } else if (d?.role === 'master' && f.role === 'master') {
        this.promoting = false;
        this.ownReplId ??= f.replId;
      } else if (d?.role === 'replica' && this.suspect !== undefined && this.suspect.host === d.host && this.suspect.port === d.port) {
        if (f.role !== 'replica' || f.masterHost !== FENCE_HOST || f.masterPort !== FENCE_PORT) await this.fence();
      } else if (d?.role === 'replica' && f.role === 'master' && (await this.newMasterCatchingUp(d))) {
        // We were master and a router took over (preempted us): its Redis still replicates from
        // ours and is about to take our last writes, fence ours and promote. Pointing ours at it
        // now would turn the stream round and lose those writes; look again shortly.
        setTimeout(() => void this.kick(), 20);
      } else if (d?.role === 'replica' && (f.role !== 'replica' || f.masterHost !== d.host || f.masterPort !== d.port)) {
        if (!(await this.historyAllows(f, d))) return;
        await this.link.replicaOf(d.host, d.port, COMMAND_TIMEOUT_MS);
        this.log.info('redis follows the master: REPLICAOF', { instance: this.instance, master: `${d.host}:${d.port}` });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
        this.ownReplId = undefined;
      }
      if (this.lastError !== undefined) {
        this.log.info('redis role control works again', { instance: this.instance });
        this.lastError = undefined;
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.warn('redis role control failed', { instance: this.instance, error: msg, will: 'retry' });
      this.lastError = msg;
    }
  }

  /**
   * Replication history decides: before our Redis follows `d`, read `d`'s Redis fresh and follow
   * it only if it has our history at or beyond our offset, or descends from it (see mayFollow).
   * A master of ours that is newer than the target keeps being master and fences the target (it
   * is the stale side: its agent then finds itself superseded and steps down). Resolves whether
   * to go on with REPLICAOF; otherwise looks again shortly.
   */
  private async historyAllows(f: RedisFacts, d: { host: string; port: number }): Promise<boolean> {
    const w = this.masterWatch;
    const target = w && w.host === d.host && w.port === d.port && w.link.isUp ? await w.link.facts(CATCH_UP_CONNECT_MS * 2).catch(() => undefined) : undefined;
    const key = `${d.host}:${d.port}`;
    const refuse = (why: string, level: 'info' | 'warn', kind: string = why): false => {
      if (this.refusedTarget !== `${key} ${kind}`) this.log[level](`redis does not follow ${key}: ${why}`, { instance: this.instance, master: key });
      this.refusedTarget = `${key} ${kind}`;
      setTimeout(() => void this.kick(), target ? 100 : 20);
      return false;
    };
    if (!target) return refuse('its Redis has not been read yet', 'info');
    const v = mayFollow(f, target, this.ownReplId);
    if (v.ok) {
      if (v.lostBytes > 0) this.log.warn(`redis follows ${key}: ${v.why}`, { instance: this.instance, lostBytes: v.lostBytes });
      this.refusedTarget = undefined;
      return true;
    }
    if (v.kind === 'not-master') return refuse(v.why, 'info', v.kind);
    if (v.kind === 'older' && f.role === 'master') {
      // We are the newer side: make the stale master a replica of ours.
      if (this.refusedTarget !== `${key} ${v.kind}`) {
        await w?.link.replicaOf(this.self() ?? this.settings.host, this.settings.port, COMMAND_TIMEOUT_MS).then(
          () => this.log.warn(`fenced ${key}: its Redis is older than ours and now replicates from ours`, { instance: this.instance }),
          (e: unknown) => this.log.warn(`cannot fence ${key} yet`, { instance: this.instance, error: e instanceof Error ? e.message : String(e), will: 'retry' }),
        );
      }
      return refuse(v.why, 'warn', v.kind);
    }
    return refuse(v.why, 'warn', v.kind);
  }

  /**
   * Restart-empty guard: a Redis that comes back with another run_id (restarted) or without the
   * data it had, on the master, is fenced at once, before any replica can full-sync from it; the
   * instance is told (redis-safety fails, so it leaves the VIP to a peer that has the data).
   * Resolves true when it fenced.
   */
  private async guardRestart(f: RedisFacts): Promise<boolean> {
    // Without role control the user's hooks own the role: a fence nobody lifts would stay for good.
    if (!this.settings.manageRole) return false;
    const restarted = this.lastRunId !== undefined && f.runId !== undefined && f.runId !== this.lastRunId;
    const emptied = this.wasDown && this.hadData && f.keys === 0 && f.replOffset === 0;
    this.wasDown = false;
    const onMaster = this.downOnMaster || this.state === 'master';
    this.downOnMaster = false;
    this.lastRunId = f.runId;
    if (!(restarted || emptied) || !onMaster || this.fencedSince !== undefined) {
      if (this.fencedSince === undefined) this.hadData = f.keys > 0 || f.replOffset > 0;
      return false;
    }
    const why = restarted ? 'restarted (run_id changed)' : 'came back empty';
    this.fencedSince = new Date().toISOString();
    this.fenceKind = 'restart';
    // Never promote while fenced; a master already known stays the one to resync from.
    if (this.desired?.role === 'master') this.desired = undefined;
    this.log.error(`redis ${why} on the master: fenced so that no replica can sync from it`, {
      instance: this.instance,
      fence: `REPLICAOF ${FENCE_HOST} ${FENCE_PORT}`,
    });
    this.onSafety(false, `redis ${why}`);
    await this.fence();
    return true;
  }

  private async fence(): Promise<void> {
    try {
      await this.link.replicaOf(FENCE_HOST, FENCE_PORT, COMMAND_TIMEOUT_MS);
    } catch (e) {
      this.log.error('cannot fence redis yet', { instance: this.instance, error: e instanceof Error ? e.message : String(e), will: 'retry' });
    }
  }

  /**
   * Makes our Redis writable before the VIP comes up; resolves whether it is master.
   * `handedOver`: the previous master resigned (priority 0), so its Redis is fenced on purpose.
   * Otherwise a previous master's Redis found already fenced means another router is taking
   * over at the same moment (two Master_Down_Timers a few ms apart): wait `settleMs` for VRRP to
   * pick one before promoting, and do not promote if `stillMaster()` says we lost.
   */
  async promote(opts: { handedOver?: boolean; settleMs?: number; stillMaster?: () => boolean } = {}): Promise<boolean> {
    if (!this.settings.manageRole) return true;
    if (this.superseded !== undefined) {
      this.log.info('elected again after being superseded: redis may be promoted', { instance: this.instance, since: this.superseded.since });
      this.superseded = undefined;
    }
    if (this.fencedSince !== undefined) {
      // Fenced by a hand-over nobody took: its data is the newest there is, so it may serve again.
      if (this.fenceKind !== 'handover') return false;
      this.log.info('hand-over not taken: redis is master again', { instance: this.instance, fencedSince: this.fencedSince });
      this.fencedSince = undefined;
    }
    // Our Redis still replicates from a live master (its agent was killed, or we preempt it):
    // take its last writes before ours becomes writable, and fence it, so that no write it
    // acknowledged is lost and clients still connected to it cannot write there any more.
    const f = this.link.isUp ? await this.link.facts(COMMAND_TIMEOUT_MS).catch(() => undefined) : undefined;
    if (f?.role === 'replica' && f.masterLinkUp && f.masterHost !== undefined && f.masterHost !== FENCE_HOST) {
      const outcome = await this.catchUpFrom(f.masterHost, f.masterPort ?? this.settings.peerPort);
      this.log.info('took over from a live master', { instance: this.instance, master: `${f.masterHost}:${f.masterPort ?? ''}`, outcome });
      if (outcome === ALREADY_FENCED && !opts.handedOver && opts.settleMs !== undefined) {
        await sleep(opts.settleMs);
        if (opts.stillMaster && !opts.stillMaster()) return false;
      }
    }
    this.desired = { role: 'master' };
    this.promoting = true;
    this.refusedTarget = undefined;
    this.watchMaster(undefined);
    await this.kick();
    return this.facts?.role === 'master';
  }

  /**
   * Before promoting: pause writes on the master we replicate from, wait until our Redis has
   * its offset, fence it (a replica of nothing), unpause. Bounded: an unreachable master (a
   * crashed host) costs at most CATCH_UP_CONNECT_MS; a slow one CATCH_UP_MAX_MS.
   */
  private async catchUpFrom(host: string, port: number): Promise<string> {
    const link = new RedisLink(
      { ...this.link.endpoint, host, port },
      { connectTimeoutMs: CATCH_UP_CONNECT_MS, reconnectMs: 1000, name: `redkeep-${this.instance}-takeover` },
    );
    const start = performance.now();
    const took = (): number => Math.round(performance.now() - start);
    try {
      while (!link.isUp && performance.now() - start < CATCH_UP_CONNECT_MS) await sleep(2);
      if (!link.isUp) return `not reachable within ${CATCH_UP_CONNECT_MS} ms: promoted without it`;
      // Fenced already (a hand-over, or another router taking over too): leave it alone.
      if ((await link.facts(CATCH_UP_CONNECT_MS)).role !== 'master') return ALREADY_FENCED;
      const d = await drainAndFence(link, {
        timeoutMs: CATCH_UP_CONNECT_MS,
        maxWaitMs: Math.max(0, CATCH_UP_MAX_MS - took()),
        fenceIfBehind: true,
        offsets: async () => {
          const mine = await this.link.facts(COMMAND_TIMEOUT_MS);
          return [mine.replicaOffset ?? mine.replOffset];
        },
      });
      return d.caughtUp ? `caught up to offset ${d.target} in ${took()} ms; it is fenced` : `at offset ${d.at} of ${d.target} after ${took()} ms; it is fenced`;
    } catch (e) {
      return `failed after ${took()} ms (${e instanceof Error ? e.message : String(e)}): promoted without it`;
    } finally {
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
    const link = new RedisLink(
      { ...this.link.endpoint, host: peer, port: this.settings.peerPort },
      { connectTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMs: 500, name: `redkeep-${this.instance}-fence` },
    );
    this.fencing.add(peer);
    let lastError: string | undefined;
    const done = (): void => {
      link.close();
      this.fencing.delete(peer);
    };
    const tick = async (): Promise<void> => {
      if (this.stopped || !isMaster()) return done();
      try {
        const f = await link.facts(COMMAND_TIMEOUT_MS);
        // A master, or a Redis its stopping agent fenced: point it at ours.
        if (f.role === 'master' || (f.masterHost === FENCE_HOST && f.masterPort === FENCE_PORT)) {
          await link.replicaOf(self, this.settings.port, COMMAND_TIMEOUT_MS);
          this.log.warn('fenced the previous master\'s Redis: it now replicates from ours', { instance: this.instance, peer: `${peer}:${this.settings.peerPort}` });
        }
        return done();
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (msg !== lastError) this.log.info('cannot reach the previous master\'s Redis yet', { instance: this.instance, peer, error: msg, will: 'retry' });
        lastError = msg;
      }
      setTimeout(() => void tick(), 1000);
    };
    setTimeout(() => void tick(), 200);
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
    let links: RedisLink[] = [];
    try {
      // Connect to the replicas first (not while writes are paused): their own offset is current,
      // while the master learns it only from their acknowledgements, once a second.
      const before = await this.link.facts(COMMAND_TIMEOUT_MS);
      const online = before.replicas.filter((r) => r.state === 'online' && (opts.only === undefined || r.ip === opts.only));
      if (opts.only !== undefined && online.length === 0) {
        return { ok: false, detail: `${opts.only} is not an online replica of this Redis (replicas: ${before.replicas.map((r) => `${r.ip}:${r.port} ${r.state}`).join(', ') || 'none'})` };
      }
      links = online.map(
        (r) => new RedisLink({ ...this.link.endpoint, host: r.ip, port: r.port }, { connectTimeoutMs: 200, reconnectMs: 20, name: `redkeep-${this.instance}-handover` }),
      );
      const connectStart = performance.now();
      while (links.some((l) => !l.isUp) && performance.now() - connectStart < 500) await sleep(2);
      const d = await drainAndFence(this.link, {
        timeoutMs: COMMAND_TIMEOUT_MS,
        maxWaitMs,
        fenceIfBehind: !opts.abortIfBehind,
        offsets: () => Promise.all(links.map((l) => (l.isUp ? l.facts(200).then((x) => Math.max(x.replicaOffset ?? -1, x.replOffset), () => -1) : Promise.resolve(-1)))),
        beforeFence: () => {
          this.fencedSince = new Date().toISOString();
          this.fenceKind = 'handover';
          this.desired = undefined;
        },
      });
      if (!d.fenced) return { ok: false, detail: `replicas did not reach offset ${d.target} within ${maxWaitMs} ms (at ${d.at}); writes resumed here, nothing changed` };
      return d.caughtUp
        ? { ok: true, detail: `${links.length} replicas caught up to offset ${d.target} in ${d.ms} ms; redis fenced` }
        : { ok: true, detail: `replicas did not all reach offset ${d.target} within ${maxWaitMs} ms; redis fenced anyway` };
    } catch (e) {
      return { ok: false, detail: `failed: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      for (const l of links) l.close();
    }
  }

  /** Whether the new master's Redis is still a replica of a real master (catching up), for a bounded time. */
  private async newMasterCatchingUp(d: { host: string; port: number }): Promise<boolean> {
    const key = `${d.host}:${d.port}`;
    if (this.waitingFor?.key !== key) this.waitingFor = { key, sinceMs: performance.now() };
    if (performance.now() - this.waitingFor.sinceMs > CATCH_UP_MAX_MS + 2 * CATCH_UP_CONNECT_MS) return false;
    const w = this.masterWatch;
    if (!w || w.host !== d.host || w.port !== d.port) return false;
    if (!w.link.isUp) return true; // just connecting: ask again in a moment (bounded above)
    try {
      const f = await w.link.facts(CATCH_UP_CONNECT_MS);
      return f.role === 'replica' && f.masterHost !== undefined && f.masterHost !== FENCE_HOST;
    } catch {
      return false;
    }
  }

  private watchMaster(m: { host: string; port: number } | undefined): void {
    const w = this.masterWatch;
    if (w && m && w.host === m.host && w.port === m.port) return;
    if (w) {
      w.link.close();
      this.masterWatch = undefined;
    }
    // Another master (or none): whatever we suspected of the old one no longer matters.
    if (this.suspect && (!m || this.suspect.host !== m.host || this.suspect.port !== m.port)) {
      this.log.info('a new master is known: redis may follow again', { instance: this.instance, suspected: `${this.suspect.host}:${this.suspect.port}` });
      this.suspect = undefined;
    }
    if (!m || this.stopped || !this.settings.manageRole) return;
    const link = new RedisLink(
      { ...this.link.endpoint, host: m.host, port: m.port },
      { connectTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMs: 100, name: `redkeep-${this.instance}-master-watch`, heartbeatMs: MASTER_WATCH_HEARTBEAT_MS },
    );
    const watch = { link, host: m.host, port: m.port, runId: undefined as string | undefined };
    this.masterWatch = watch;
    link.on('up', () => {
      void link.facts(COMMAND_TIMEOUT_MS).then(
        (f) => {
          if (this.masterWatch !== watch) return;
          const sus = this.suspect;
          if (sus && sus.host === watch.host && sus.port === watch.port) {
            if (sus.runId !== undefined && f.runId === sus.runId) {
              this.log.info('the master\'s Redis is back, not restarted: redis follows it again', { instance: this.instance, master: `${watch.host}:${watch.port}` });
              this.suspect = undefined;
              void this.kick();
            }
            return; // restarted: stay fenced until another master is elected
          }
          watch.runId = f.runId;
        },
        () => undefined,
      );
    });
    link.on('down', () => {
      if (this.masterWatch !== watch || this.stopped) return;
      this.suspect = { host: watch.host, port: watch.port, runId: watch.runId, since: new Date().toISOString() };
      this.log.warn('lost the connection to the master\'s Redis: redis is fenced until it is back unchanged or a new master is elected', {
        instance: this.instance,
        master: `${watch.host}:${watch.port}`,
      });
      this.onMasterLost();
      void this.fence().then(() => this.kick());
    });
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
      desired:
        this.fencedSince !== undefined
          ? `fenced since ${this.fencedSince}`
          : this.suspect !== undefined
            ? `fenced since ${this.suspect.since}: the master's Redis went away`
            : this.settings.manageRole
              ? describe(this.desired)
              : 'not managed',
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    this.watchMaster(undefined);
    this.loop.stop();
    this.link.close();
  }
}
