// One connection to a Redis server (ioredis), for checks and role control. Commands fail fast
// while disconnected (no offline queue) and each has its own timeout; the connection retries
// every `reconnectMs`. Credentials are passed to ioredis only: never logged, never in argv.

import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { type RedisFacts, parseInfo, redisFacts } from './info.js';

export interface RedisTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly serverName?: string;
  readonly verify: boolean;
}

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  /** Secret: read from a file or the environment by the caller, never logged. */
  readonly password?: string;
  readonly tls?: RedisTls;
  readonly db: number;
}

/** ioredis' options for one connection: no offline queue, no retries of a command, a fixed reconnect delay. */
export function clientOptions(endpoint: RedisEndpoint, opts: { connectTimeoutMs: number; reconnectMs: number; name?: string }): RedisOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    connectTimeout: opts.connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => opts.reconnectMs,
    lazyConnect: false,
    connectionName: opts.name ?? 'redkeep',
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
    ...(endpoint.tls ? { tls: tlsConnectOptions(endpoint.tls) } : {}),
  };
}

/** node:tls' connect options for a Redis TLS setting (ioredis' `tls`, and the fence deputy's socket). */
export function tlsConnectOptions(tls: RedisTls): { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean } {
  return {
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(tls.key !== undefined ? { key: tls.key } : {}),
    ...(tls.serverName !== undefined ? { servername: tls.serverName } : {}),
    rejectUnauthorized: tls.verify,
  };
}

export class RedisCommandError extends Error {
  override readonly name = 'RedisCommandError';
  readonly code: 'ERR_REDIS_TIMEOUT' | 'ERR_REDIS_DOWN' | 'ERR_REDIS_REPLY';
  constructor(code: RedisCommandError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface RedisLinkEvents {
  up: [];
  down: [reason: string];
}

const require = createRequire(import.meta.url);
let redisClass: typeof Redis | undefined;

/**
 * ioredis, loaded by the first link (or at start by an agent with Redis): an agent without Redis
 * (VRRP only) never pays its memory. Through require (it is CommonJS), synchronously, so a link
 * has its client from the start.
 */
export function loadRedis(): typeof Redis {
  redisClass ??= (require('ioredis') as typeof import('ioredis')).Redis;
  return redisClass;
}


export class RedisLink extends EventEmitter<RedisLinkEvents> {
  private readonly client: Redis;
  private connected = false;

  private heartbeat: NodeJS.Timeout | undefined;
  private pinging = false;

  /**
   * `heartbeatMs`: PING this often while connected; no answer within `heartbeatMs` and the
   * connection is dropped ('down') and made again. A dead path (a partition, a frozen server)
   * otherwise looks connected until TCP gives up, minutes later.
   */
  constructor(
    readonly endpoint: RedisEndpoint,
    opts: { connectTimeoutMs: number; reconnectMs: number; name?: string; heartbeatMs?: number },
  ) {
    super();
    const RedisClient = loadRedis();
    this.client = new RedisClient(clientOptions(endpoint, opts));
    this.client.on('ready', () => {
      this.connected = true;
      this.emit('up');
    });
    this.client.on('close', () => {
      if (!this.connected) return;
      this.connected = false;
      this.emit('down', 'connection closed');
    });
    // Errors also surface on the commands that hit them; the event must be handled to not crash.
    this.client.on('error', () => undefined);
    const hb = opts.heartbeatMs;
    if (hb !== undefined && hb > 0) {
      this.heartbeat = setInterval(() => {
        if (!this.connected || this.pinging) return;
        this.pinging = true;
        this.ping(hb)
          .catch((e: unknown) => {
            if (!(e instanceof RedisCommandError && e.code === 'ERR_REDIS_TIMEOUT') || !this.connected) return;
            // Down now: closing a connection to a silent peer waits for it to answer.
            this.connected = false;
            this.emit('down', `no answer to PING within ${hb} ms`);
            this.client.disconnect(true);
          })
          .finally(() => {
            this.pinging = false;
          });
      }, hb);
      this.heartbeat.unref();
    }
  }

  get isUp(): boolean {
    return this.connected;
  }

  private async call<T>(what: string, timeoutMs: number, fn: (client: Redis) => Promise<T>): Promise<T> {
    const client = this.client;
    if (!this.connected) throw new RedisCommandError('ERR_REDIS_DOWN', `${what}: not connected`);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisCommandError('ERR_REDIS_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      if (e instanceof RedisCommandError) throw e;
      throw new RedisCommandError('ERR_REDIS_REPLY', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    const r = await this.call('PING', timeoutMs, (c) => c.ping());
    if (r !== 'PONG') throw new RedisCommandError('ERR_REDIS_REPLY', `PING answered ${r}`);
  }

  async facts(timeoutMs: number): Promise<RedisFacts> {
    // The default sections (server, replication, keyspace, ...), not command statistics.
    const text = await this.call('INFO', timeoutMs, (c) => c.info());
    return redisFacts(parseInfo(text));
  }

  /** REPLICAOF host port, or REPLICAOF NO ONE when host is undefined. */
  async replicaOf(host: string | undefined, port: number | undefined, timeoutMs: number): Promise<void> {
    await this.call(`REPLICAOF ${host ?? 'NO ONE'}`, timeoutMs, (c) =>
      host === undefined ? c.call('REPLICAOF', 'NO', 'ONE') : c.call('REPLICAOF', host, String(port ?? 6379)),
    );
  }

  /** Any command, for the few the agent needs beyond these (CLIENT PAUSE, CONFIG SET, ...). */
  async command(timeoutMs: number, name: string, ...args: string[]): Promise<unknown> {
    return await this.call(name, timeoutMs, (c) => c.call(name, ...args));
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.client.disconnect(false);
    this.removeAllListeners();
  }
}
