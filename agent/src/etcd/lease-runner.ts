// The shell of strict mode for one instance: feeds the lease guard (packages/failover's
// LeaseGuard) the monotonic clock, VRRP state, our Redis' INFO and the write gate as applied, sends
// its etcd requests one at a time through a LeaseStore, and hands each change of its verdict to
// the caller (which applies it through the write gate and the priority, as the data guard's).
// Calls back at the core's next deadline; a spurious call is harmless.

import { performance } from 'node:perf_hooks';
import type { LeaseEvent, LeaseGuard, LeaseRequest, LeaseResult, LeaseVerdict } from '@redkeep/failover';
import type { LeaseStore } from './lease-store.js';

export interface LeaseRunnerOptions {
  /** Every change of the verdict (and the first one). */
  readonly onVerdict: (v: LeaseVerdict) => void;
  /** Every request answered, for logs and tests. */
  readonly onResult?: (r: LeaseRequest, result: LeaseResult) => void;
  readonly now?: () => number;
  /** After every step: the fence deputy's deadline (LeaseGuard.deputyDeadlineMs), on the same clock as `now`. */
  readonly onDeadline?: (atMs: number | undefined, nowMs: number) => void;
}

export class LeaseRunner {
  private timer: NodeJS.Timeout | undefined;
  private last: LeaseVerdict | undefined;
  private stopped = false;
  private busy: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    readonly guard: LeaseGuard,
    private readonly store: LeaseStore,
    private readonly opts: LeaseRunnerOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Facts in (VRRP state, our Redis' INFO, the gate as applied); decides again at once. */
  handle(e: Extract<LeaseEvent, { type: 'vrrp' | 'local' | 'gate' }>): void {
    this.guard.handle(e);
    this.step();
  }

  get verdict(): LeaseVerdict | undefined {
    return this.last;
  }

  start(): void {
    // The leader key changed (another holder released it, say): read again at once.
    this.store.watchLeader?.(() => {
      if (this.stopped) return;
      this.guard.handle({ type: 'leader-changed' });
      this.step();
    });
    this.step();
  }

  private step(): void {
    if (this.stopped) return;
    const now = this.now();
    const v = this.guard.verdict(now);
    if (this.last === undefined || v.writes !== this.last.writes || v.stepDown !== this.last.stepDown || v.why !== this.last.why) {
      this.last = v;
      this.opts.onVerdict(v);
    }
    if (this.busy === undefined) {
      const r = this.guard.request(now);
      if (r !== undefined) this.busy = this.send(r);
    }
    this.opts.onDeadline?.(this.guard.deputyDeadlineMs(), this.now());
    clearTimeout(this.timer);
    const at = this.guard.nextDeadlineMs(this.now());
    this.timer = setTimeout(() => this.step(), Math.max(1, Math.ceil(at - this.now())));
  }

  private async send(r: LeaseRequest): Promise<void> {
    this.guard.handle({ type: 'started', id: r.id, nowMs: this.now() });
    const result = await this.store.run(r);
    this.guard.handle({ type: 'done', id: r.id, nowMs: this.now(), result });
    this.busy = undefined;
    this.opts.onResult?.(r, result);
    this.step();
  }

  /**
   * Part of the shutdown path, after the instance left master: a lease still held is revoked if
   * the write gate was last reported closed (else it runs out by its TTL), so that the next holder
   * need not wait. Bounded by one request's timeout.
   */
  async stop(): Promise<void> {
    this.guard.handle({ type: 'vrrp', state: 'stopped' });
    await this.busy;
    const r = this.guard.request(this.now());
    if (r?.type === 'release') await this.send(r).catch(() => undefined);
    this.stopped = true;
    clearTimeout(this.timer);
    this.store.close();
  }
}
