// The local Redis of one instance: its role follows the VRRP state, reconciled (not fired once).
// Master -> REPLICAOF NO ONE; Backup and Fault -> REPLICAOF the master's Redis (the address its
// adverts come from, port from config). Drift (someone ran REPLICAOF, Redis restarted as master)
// is corrected on the next pass. Failures are logged once per change of condition.

import { readFileSync } from 'node:fs';
import { type RedisFacts, RedisLink } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';
import type { RedisSettings } from '../config/config.js';
import type { Logger } from '../log.js';
import { ReconcileLoop } from '../daemon/reconcile-loop.js';

/**
 * Where a fenced Redis replicates from: nothing listens there, so its link stays down and it
 * answers NOMASTERLINK to any replica's SYNC. A replica can never full-sync (and be wiped) from it.
 */
export const FENCE_HOST = '127.0.0.1';
export const FENCE_PORT = 1;

export type DesiredRole = { readonly role: 'master' } | { readonly role: 'replica'; readonly host: string; readonly port: number };

export interface RedisStatus {
  readonly address: string;
  readonly up: boolean;
  readonly role: string | undefined;
  readonly masterHost: string | undefined;
  readonly masterLinkUp: boolean | undefined;
  readonly offset: number | undefined;
  readonly desired: string;
  readonly lastError: string | undefined;
}

const COMMAND_TIMEOUT_MS = 1000;

/** Reads the Redis password from its file or environment variable (never from the config text). */
export function redisPassword(s: RedisSettings): string | undefined {
  if (s.passwordFile !== undefined) return readFileSync(s.passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (s.passwordEnv !== undefined) {
    const v = process.env[s.passwordEnv];
    if (v === undefined) throw new Error(`environment variable ${s.passwordEnv} (redis password_env) is not set`);
    return v;
  }
  return undefined;
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
  /** Told when fencing starts (false) and ends (true): the instance's redis-safety track. */
  onSafety: (ok: boolean, why: string) => void = () => undefined;
  /** The VRRP state as last followed, to know whether a restart happened on the master. */
  private state: VrrpState = 'initialize';

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
    this.log.info('redis role wanted', { instance: this.instance, role: describe(d) });
    return this.kick();
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
        await this.link.replicaOf(undefined, undefined, COMMAND_TIMEOUT_MS);
        this.log.info('redis promoted: REPLICAOF NO ONE', { instance: this.instance });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
      } else if (d?.role === 'replica' && (f.role !== 'replica' || f.masterHost !== d.host || f.masterPort !== d.port)) {
        await this.link.replicaOf(d.host, d.port, COMMAND_TIMEOUT_MS);
        this.log.info('redis follows the master: REPLICAOF', { instance: this.instance, master: `${d.host}:${d.port}` });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
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
   * Restart-empty guard: a Redis that comes back with another run_id (restarted) or without the
   * data it had, on the master, is fenced at once, before any replica can full-sync from it; the
   * instance is told (redis-safety fails, so it leaves the VIP to a peer that has the data).
   * Resolves true when it fenced.
   */
  private async guardRestart(f: RedisFacts): Promise<boolean> {
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

  /** Makes our Redis writable before the VIP comes up; resolves whether it is master. */
  async promote(): Promise<boolean> {
    if (!this.settings.manageRole) return true;
    if (this.fencedSince !== undefined) return false;
    this.desired = { role: 'master' };
    await this.kick();
    return this.facts?.role === 'master';
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
   * Planned hand-over before this master stops (switchover_on_stop): pause writes, wait until
   * every online replica has our replication offset, then fence our Redis (a read-only replica
   * of nothing) and unpause, so clients get errors instead of writes that would be lost. The
   * VIP then moves with priority 0 and the new master's agent points our Redis at its own.
   * Resolves what happened, for the log.
   */
  async handOver(maxWaitMs = 2000): Promise<string> {
    if (!this.settings.manageRole || !this.link.isUp) return 'skipped: redis not reachable';
    const pauseMs = maxWaitMs + 3000;
    let links: RedisLink[] = [];
    try {
      // Connect to the replicas first (not while writes are paused): their own offset is current,
      // while the master learns it only from their acknowledgements, once a second.
      const before = await this.link.facts(COMMAND_TIMEOUT_MS);
      const online = before.replicas.filter((r) => r.state === 'online');
      links = online.map(
        (r) => new RedisLink({ ...this.link.endpoint, host: r.ip, port: r.port }, { connectTimeoutMs: 200, reconnectMs: 20, name: `redkeep-${this.instance}-handover` }),
      );
      const connectStart = Date.now();
      while (links.some((l) => !l.isUp) && Date.now() - connectStart < 500) await new Promise((r) => setTimeout(r, 2));
      const connectedIn = Date.now() - connectStart;
      await this.link.command(COMMAND_TIMEOUT_MS, 'CLIENT', 'PAUSE', String(pauseMs), 'WRITE');
      const start = Date.now();
      const target = (await this.link.facts(COMMAND_TIMEOUT_MS)).replOffset;
      let caughtUp = false;
      while (links.length > 0 && Date.now() - start < maxWaitMs) {
        const offsets = await Promise.all(links.map((l) => (l.isUp ? l.facts(200).then((x) => Math.max(x.replicaOffset ?? -1, x.replOffset), () => -1) : Promise.resolve(-1))));
        this.log.debug('switchover: replica offsets', { instance: this.instance, target, offsets, connectedIn, ms: Date.now() - start });
        if (offsets.every((o) => o >= target)) {
          caughtUp = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      this.fencedSince = new Date().toISOString();
      this.desired = undefined;
      await this.link.replicaOf(FENCE_HOST, FENCE_PORT, COMMAND_TIMEOUT_MS);
      await this.link.command(COMMAND_TIMEOUT_MS, 'CLIENT', 'UNPAUSE');
      return caughtUp
        ? `${links.length} replicas caught up to offset ${target} in ${Date.now() - start} ms; redis fenced`
        : `replicas did not all reach offset ${target} within ${maxWaitMs} ms; redis fenced anyway`;
    } catch (e) {
      return `failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      for (const l of links) l.close();
    }
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
      desired: this.fencedSince !== undefined ? `fenced since ${this.fencedSince}` : this.settings.manageRole ? describe(this.desired) : 'not managed',
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    this.loop.stop();
    this.link.close();
  }
}
