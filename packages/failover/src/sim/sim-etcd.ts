// A simulated etcd for strict mode: one logical, linearizable store (no raft members: what the
// lease guard relies on is etcd's answer, not how etcd reached it), with leases and revisions:
// - a lease is granted with a TTL in whole seconds; a keep-alive extends its expiry to the time
//   etcd RECEIVES it plus the TTL; a revoke or the expiry deletes the keys attached to it;
// - every write moves the store's revision on; a key keeps its create and mod revisions;
// - the operations are those agent/src/etcd/lease-store.ts makes (two gets, a grant, the acquire
//   transaction, a keep-alive, the guarded history put, a revoke).
// Pure, like SimRedis: the world calls it with the time at which a request arrives; expiry is
// applied lazily before every operation, which is what any client can observe.
// SimLeaseStore is the agent's side (lease-store.ts' Etcd3LeaseStore): one LeaseRequest carried out
// as the calls the real store makes, each through the world's network, each given up after the
// client's call timeout, and the whole request after its own timeout.

import type { HistoryRecord, LeaderRecord, LeaseRequest, LeaseResult, ObservedLeader } from '../lease-guard.js';

interface Key {
  readonly value: unknown;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly lease: string | undefined;
}

interface Lease {
  readonly ttlMs: number;
  expiresAtMs: number;
}

/** The keys of the one simulated instance (lease-store.ts' leaseKeys with the default prefix). */
export const SIM_LEASE_KEYS = { leader: '/redkeep/sim/leader', history: '/redkeep/sim/history' } as const;

export class SimEtcd {
  revision = 1;
  private readonly keys = new Map<string, Key>();
  private readonly leases = new Map<string, Lease>();
  private nextLease = 0x1000;
  /** Leases that expired (for the story of a run). */
  expired = 0;
  /** Told when a lease expires or is revoked, with the keys it took along. */
  onLeaseEnd: (leaseId: string, why: 'expired' | 'revoked', keys: readonly string[]) => void = () => undefined;
  /** Told when the leader key is put or deleted: what the agents' watch on it sees (lease-store.ts). */
  onLeaderChange: () => void = () => undefined;

  private expire(nowMs: number): void {
    for (const [id, l] of this.leases) {
      if (l.expiresAtMs > nowMs) continue;
      this.expired++;
      this.end(id, 'expired');
    }
  }

  private end(id: string, why: 'expired' | 'revoked'): void {
    this.leases.delete(id);
    const gone: string[] = [];
    for (const [k, v] of this.keys) if (v.lease === id) gone.push(k);
    if (gone.length > 0) this.revision++;
    for (const k of gone) this.keys.delete(k);
    this.onLeaseEnd(id, why, gone);
    if (gone.includes(SIM_LEASE_KEYS.leader)) this.onLeaderChange();
  }

  private put(key: string, value: unknown, lease: string | undefined): void {
    const old = this.keys.get(key);
    this.keys.set(key, { value, createRevision: old?.createRevision ?? this.revision, modRevision: this.revision, lease });
  }

  get(nowMs: number, key: string): Key | undefined {
    this.expire(nowMs);
    return this.keys.get(key);
  }

  /** LeaseGrant: etcd's TTLs are whole seconds. */
  grant(nowMs: number, ttlMs: number): { readonly leaseId: string; readonly ttlMs: number } {
    this.expire(nowMs);
    const granted = Math.max(1, Math.ceil(ttlMs / 1000)) * 1000;
    const leaseId = (this.nextLease++).toString(16);
    this.leases.set(leaseId, { ttlMs: granted, expiresAtMs: nowMs + granted });
    return { leaseId, ttlMs: granted };
  }

  /** LeaseKeepAlive: the TTL answered, 0 when the lease is gone. */
  keepAlive(nowMs: number, leaseId: string): number {
    this.expire(nowMs);
    const l = this.leases.get(leaseId);
    if (!l) return 0;
    l.expiresAtMs = nowMs + l.ttlMs;
    return l.ttlMs;
  }

  /** LeaseRevoke: an unknown lease is an error (lease not found); the store takes it as done. */
  revoke(nowMs: number, leaseId: string): boolean {
    this.expire(nowMs);
    if (!this.leases.has(leaseId)) return false;
    this.end(leaseId, 'revoked');
    return true;
  }

  /**
   * The acquire transaction: if leader's create revision is 0 (absent) and history's mod revision
   * is the one read, put leader on the lease and history; the revision it committed at, or
   * undefined when the compare failed. A put on a lease that no longer exists fails the whole
   * transaction (etcd answers "requested lease not found").
   */
  acquireTxn(nowMs: number, leaseId: string, historyRevision: number, leader: LeaderRecord, history: HistoryRecord): { readonly succeeded: boolean; readonly revision: number } | 'lease-not-found' {
    this.expire(nowMs);
    const l = this.keys.get(SIM_LEASE_KEYS.leader);
    const h = this.keys.get(SIM_LEASE_KEYS.history);
    if (l !== undefined || (h?.modRevision ?? 0) !== historyRevision) return { succeeded: false, revision: this.revision };
    if (!this.leases.has(leaseId)) return 'lease-not-found';
    this.revision++;
    this.put(SIM_LEASE_KEYS.leader, leader, leaseId);
    this.put(SIM_LEASE_KEYS.history, history, undefined);
    this.onLeaderChange();
    return { succeeded: true, revision: this.revision };
  }

  /** The history put after a renew, only while the leader key is on that lease. */
  putHistoryIfLeader(nowMs: number, leaseId: string, history: HistoryRecord): boolean {
    this.expire(nowMs);
    if (this.keys.get(SIM_LEASE_KEYS.leader)?.lease !== leaseId) return false;
    this.revision++;
    this.put(SIM_LEASE_KEYS.history, history, undefined);
    return true;
  }

  /** Who holds the leader key now (for the story and the tests). */
  holder(nowMs: number): { readonly holder: string; readonly term: number; readonly leaseId: string } | undefined {
    const k = this.get(nowMs, SIM_LEASE_KEYS.leader);
    if (k === undefined || k.lease === undefined) return undefined;
    return { holder: (k.value as LeaderRecord).holder, term: k.createRevision, leaseId: k.lease };
  }
}

/**
 * One call to etcd over the world's network: `op` runs on etcd when the request arrives (if it
 * does), and `answer` gets its result when the answer arrives, or undefined when the client gave
 * up (nothing came back within the call timeout). Both on the calling agent's clock.
 */
export type EtcdCall = <T>(op: (etcd: SimEtcd, nowMs: number) => T, answer: (result: T | undefined) => void) => void;

/**
 * The agent's lease store (lease-store.ts): the calls each request makes, one after another where
 * the real store awaits them. The read's two gets are one call here (one round trip).
 */
export class SimLeaseStore {
  /** A history write after a renew is out (one at a time, as lease-store.ts). */
  private historyInFlight = false;

  constructor(
    private readonly call: EtcdCall,
    /** The whole request's timeout (the store's race): the agent's timer. */
    private readonly after: (ms: number, fn: () => void) => void,
  ) {}

  run(r: LeaseRequest, done: (result: LeaseResult) => void): void {
    let settled = false;
    let abandoned = false;
    const finish = (res: LeaseResult): void => {
      if (settled) return;
      settled = true;
      done(res);
    };
    this.after(r.timeoutMs, () => {
      abandoned = true;
      finish({ ok: false, reason: 'error', detail: `no answer within ${r.timeoutMs} ms` });
    });
    const failed = (what: string): void => finish({ ok: false, reason: 'error', detail: `${what}: deadline exceeded` });
    switch (r.type) {
      case 'read':
        return this.call(
          (e, now) => {
            const lk = e.get(now, SIM_LEASE_KEYS.leader);
            const hk = e.get(now, SIM_LEASE_KEYS.history);
            const leader: ObservedLeader | undefined = lk && { record: lk.value as LeaderRecord, leaseId: lk.lease ?? '0', term: lk.createRevision };
            return { ok: true, kind: 'read', leader, history: hk?.value as HistoryRecord | undefined, historyRevision: hk?.modRevision ?? 0 } as const;
          },
          (res) => (res === undefined ? failed('get') : finish(res)),
        );
      case 'acquire':
        return this.call(
          (e, now) => e.grant(now, r.ttlMs),
          (granted) => {
            if (granted === undefined) return failed('lease grant');
            this.call(
              (e, now) => e.acquireTxn(now, granted.leaseId, r.historyRevision, r.leader, r.history),
              (txn) => {
                if (txn === undefined) return failed('txn');
                if (txn === 'lease-not-found') return finish({ ok: false, reason: 'error', detail: 'requested lease not found' });
                if (!txn.succeeded || abandoned) {
                  // Not ours after all (or given up on): revoked, not left to linger.
                  this.call((e, now) => e.revoke(now, granted.leaseId), () => undefined);
                  return finish(txn.succeeded ? { ok: false, reason: 'error', detail: 'acquired after the request was given up; revoked' } : { ok: false, reason: 'taken', detail: 'the key is held, or the history changed since it was read' });
                }
                finish({ ok: true, kind: 'acquired', leaseId: granted.leaseId, term: txn.revision, ttlMs: granted.ttlMs });
              },
            );
          },
        );
      case 'renew': {
        const history = r.history;
        return this.call(
          (e, now) => e.keepAlive(now, r.leaseId),
          (ttlMs) => {
            if (ttlMs === undefined) return failed('keep-alive');
            if (!(ttlMs > 0)) return finish({ ok: false, reason: 'lease-not-found', detail: `etcd no longer has lease ${r.leaseId}` });
            if (history !== undefined && !this.historyInFlight) {
              // Not awaited, as in lease-store.ts.
              this.historyInFlight = true;
              this.call(
                (e, now) => e.putHistoryIfLeader(now, r.leaseId, history),
                () => {
                  this.historyInFlight = false;
                },
              );
            }
            finish({ ok: true, kind: 'renewed', ttlMs });
          },
        );
      }
      case 'release':
        // A lease already gone is what a release wants.
        return this.call(
          (e, now) => e.revoke(now, r.leaseId),
          (res) => (res === undefined ? failed('lease revoke') : finish({ ok: true, kind: 'released' })),
        );
    }
  }
}
