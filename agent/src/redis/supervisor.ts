// The local Redis of one instance: its role follows the VRRP state, reconciled (not fired once).
// Master -> REPLICAOF NO ONE; Backup and Fault -> REPLICAOF the master's Redis (the address its
// adverts come from, port from config). Drift (someone ran REPLICAOF, Redis restarted as master)
// is corrected on the next pass. Failures are logged once per change of condition.

import { readFileSync } from 'node:fs';
import { type RedisFacts, RedisLink } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';
import type { RedisSettings } from '../config/config.js';
import type { Logger } from '../log.js';

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
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  changes = 0;

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
    this.link.on('down', (why) => this.log.warn('redis connection lost', { instance, redis: this.address, why }));
  }

  get address(): string {
    return `${this.settings.host}:${this.settings.port}`;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      void this.kick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.periodMs);
      });
    };
    this.timer = setTimeout(tick, this.periodMs);
  }

  /** The VRRP state changed, or the master seen changed: what should our Redis be now? */
  follow(state: VrrpState, masterAddress: string | undefined): Promise<void> {
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
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reconcileOnce();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.link.isUp) return;
    try {
      this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
      const d = this.desired;
      const f = this.facts;
      if (d?.role === 'master' && f.role !== 'master') {
        await this.link.replicaOf(undefined, undefined, COMMAND_TIMEOUT_MS);
        this.changes++;
        this.log.info('redis promoted: REPLICAOF NO ONE', { instance: this.instance });
        this.facts = await this.link.facts(COMMAND_TIMEOUT_MS);
      } else if (d?.role === 'replica' && (f.role !== 'replica' || f.masterHost !== d.host || f.masterPort !== d.port)) {
        await this.link.replicaOf(d.host, d.port, COMMAND_TIMEOUT_MS);
        this.changes++;
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

  /** Makes our Redis writable before the VIP comes up; resolves whether it is master. */
  async promote(): Promise<boolean> {
    if (!this.settings.manageRole) return true;
    this.desired = { role: 'master' };
    await this.kick();
    return this.facts?.role === 'master';
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
      desired: this.settings.manageRole ? describe(this.desired) : 'not managed',
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.link.close();
  }
}
