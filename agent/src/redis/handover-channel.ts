// The agent's end of the hand-over channel (@redkeep/failover's handover.ts): a subscriber on our
// own Redis for designations and for the channel that names our VRRP state and priority, and,
// during a hand-over of ours, a subscriber on the successor's Redis for its "holds" notice.
// Messages are handed to the instance runner, whose VRRP core decides what they are worth.

import { type HandoverMessage, handoverChannel, parseHandoverMessage, stateChannel } from '@redkeep/failover';
import { type RedisEndpoint, RedisSubscriber } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';
import type { Logger } from '../log.js';

export class HandoverChannel {
  private readonly local: RedisSubscriber;
  private state: string | undefined;
  private beacon: string | undefined;
  private successor: { host: string; sub: RedisSubscriber } | undefined;
  private lastError: string | undefined;
  /** A message of ours arrived: `from` says on which Redis ('local', or the successor's address). */
  onMessage: (m: HandoverMessage, from: string) => void = () => undefined;

  constructor(
    private readonly instance: string,
    private readonly vrid: number,
    private readonly endpoint: RedisEndpoint,
    private readonly peerPort: number,
    private readonly log: Logger,
  ) {
    this.local = this.subscriber(endpoint, 'local');
    void this.local.want(this.channels());
  }

  private subscriber(endpoint: RedisEndpoint, from: string): RedisSubscriber {
    const sub = new RedisSubscriber(endpoint, { connectTimeoutMs: 1000, reconnectMs: from === 'local' ? 100 : 20, name: `redkeep-${this.instance}-handover` });
    const channel = handoverChannel(this.vrid);
    sub.on('message', (c, text) => {
      if (c !== channel) return;
      const m = parseHandoverMessage(text);
      // Designations are for us on our own Redis; a successor's Redis carries its notice (and
      // the designation we published there ourselves).
      if (m && (from === 'local' || m.type === 'holds')) this.onMessage(m, from);
    });
    sub.on('failed', (e) => {
      if (e.message !== this.lastError) this.log.warn('hand-over channel: cannot subscribe', { instance: this.instance, redis: `${endpoint.host}:${endpoint.port}`, error: e.message, will: 'retry' });
      this.lastError = e.message;
    });
    sub.on('subscribed', () => {
      this.lastError = undefined;
    });
    return sub;
  }

  private channels(): string[] {
    return [handoverChannel(this.vrid), ...(this.state !== undefined ? [this.state] : []), ...(this.beacon !== undefined ? [this.beacon] : [])];
  }

  /** What this agent says of the instance to the others' `status --cluster` (a channel name, see cluster/beacon.ts). */
  setBeacon(channel: string): void {
    if (channel === this.beacon) return;
    this.beacon = channel;
    void this.local.want(this.channels());
  }

  /** Our VRRP state and effective priority, as a channel others list (PUBSUB CHANNELS) to choose a successor. */
  setState(address: string, state: VrrpState, priority: number): void {
    const name = stateChannel(this.vrid, address, state, priority);
    if (name === this.state) return;
    this.state = name;
    void this.local.want(this.channels());
  }

  /**
   * Listens on the successor's Redis (`host`: where it is reached, RedisHosts.hostOf the
   * successor) until forgetSuccessor(), for its "holds" notice. Resolves
   * whether the subscription is in place within `timeoutMs` (before we designate it: its notice
   * must not come before we listen).
   */
  async watchSuccessor(host: string, timeoutMs: number): Promise<boolean> {
    this.forgetSuccessor();
    const sub = this.subscriber({ ...this.endpoint, host, port: this.peerPort }, host);
    this.successor = { host, sub };
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      sub.once('subscribed', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    void sub.want([handoverChannel(this.vrid)]);
    return await ready;
  }

  forgetSuccessor(): void {
    this.successor?.sub.close();
    this.successor = undefined;
  }

  close(): void {
    this.forgetSuccessor();
    this.local.close();
  }
}
