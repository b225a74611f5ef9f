// One subscriber connection to a Redis server (pub/sub): the channels wanted are reconciled with
// the server's on every (re)connect and every change, messages come as events. Subscriptions
// live as long as the connection: when this process dies, Redis forgets them at once, so a
// subscription doubles as "this subscriber is alive" for anyone who lists the channels.

import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { type RedisEndpoint, clientOptions, loadRedis } from './link.js';

export interface RedisSubscriberEvents {
  message: [channel: string, message: string];
  /** Every wanted channel is subscribed on the server (after a connect or a change). */
  subscribed: [];
  /** A SUBSCRIBE or UNSUBSCRIBE failed; retried at the next connect or change. */
  failed: [error: Error];
}

export class RedisSubscriber extends EventEmitter<RedisSubscriberEvents> {
  private readonly client: Redis;
  private readonly wanted = new Set<string>();
  /** Subscribed on the server, as far as we know (cleared when the connection drops). */
  private readonly active = new Set<string>();
  private connected = false;
  private syncing: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(endpoint: RedisEndpoint, opts: { connectTimeoutMs: number; reconnectMs: number; name?: string }) {
    super();
    const RedisClient = loadRedis();
    this.client = new RedisClient({ ...clientOptions(endpoint, opts), autoResubscribe: false });
    this.client.on('ready', () => {
      this.connected = true;
      this.active.clear();
      void this.sync();
    });
    this.client.on('close', () => {
      this.connected = false;
      this.active.clear();
    });
    this.client.on('error', () => undefined);
    this.client.on('message', (channel: string, message: string) => this.emit('message', channel, message));
  }

  get isUp(): boolean {
    return this.connected;
  }

  /** Whether every wanted channel is subscribed on the server now. */
  get inSync(): boolean {
    return this.connected && this.wanted.size === this.active.size && [...this.wanted].every((c) => this.active.has(c));
  }

  /** The channels to be subscribed to (others are unsubscribed); applied now or at the next connect. */
  want(channels: Iterable<string>): Promise<void> {
    this.wanted.clear();
    for (const c of channels) this.wanted.add(c);
    return this.sync();
  }

  private sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        if (!this.connected || this.closed) break;
        const add = [...this.wanted].filter((c) => !this.active.has(c));
        const drop = [...this.active].filter((c) => !this.wanted.has(c));
        try {
          if (drop.length > 0) {
            await this.client.unsubscribe(...drop);
            for (const c of drop) this.active.delete(c);
          }
          if (add.length > 0) {
            await this.client.subscribe(...add);
            for (const c of add) this.active.add(c);
          }
          if (this.inSync) this.emit('subscribed');
        } catch (e) {
          this.emit('failed', e instanceof Error ? e : new Error(String(e)));
          break;
        }
      } while (this.again);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  close(): void {
    this.closed = true;
    this.client.disconnect(false);
    this.removeAllListeners();
  }
}
