// The etcd side of strict mode: the lease guard's requests (read, acquire, renew, release; see
// packages/failover/src/lease-guard.ts for the keys and the rules) carried out with the etcd3
// client. etcd3 (and gRPC under it) is loaded with a dynamic import only when `[agent] etcd` is
// set: an agent without strict mode never loads it (the bundle keeps it external, like ioredis).
// No decisions here: every answer goes back to the core as data.

import { readFileSync } from 'node:fs';
import type { HistoryRecord, LeaderRecord, LeaseRequest, LeaseResult, ObservedLeader } from '@redkeep/failover';
import type { EtcdSettings } from '../config/config.js';

type Etcd3Module = typeof import('etcd3');
type Etcd3 = InstanceType<Etcd3Module['Etcd3']>;

export interface LeaseStore {
  /** Carries out one request; never throws (a failure is `{ ok: false }`), never waits past `timeoutMs`. */
  run(r: LeaseRequest): Promise<LeaseResult>;
  /**
   * Tells `changed` whenever the leader key is written or deleted (an etcd watch): the last read
   * is stale, read again now rather than at the next period. Best effort: a watch that is down
   * tells nothing, and the reads go on at their own pace.
   */
  watchLeader?(changed: () => void): void;
  close(): void;
}

export function leaseKeys(prefix: string, instance: string): { readonly leader: string; readonly history: string } {
  return { leader: `${prefix}${instance}/leader`, history: `${prefix}${instance}/history` };
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function parse<T>(v: Buffer | undefined): T | undefined {
  if (v === undefined || v.length === 0) return undefined;
  try {
    return JSON.parse(v.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The connection options, secrets read from their files now (never logged, never in argv). */
function clientOptions(s: EtcdSettings, callTimeoutMs: number): NonNullable<ConstructorParameters<Etcd3Module['Etcd3']>[0]> {
  const credentials = s.tls && {
    rootCertificate: s.tls.caFile !== undefined ? readFileSync(s.tls.caFile) : Buffer.alloc(0),
    ...(s.tls.keyFile !== undefined ? { privateKey: readFileSync(s.tls.keyFile) } : {}),
    ...(s.tls.certFile !== undefined ? { certChain: readFileSync(s.tls.certFile) } : {}),
  };
  const auth = s.username !== undefined && s.passwordFile !== undefined ? { username: s.username, password: readFileSync(s.passwordFile, 'utf8').replace(/\r?\n$/, '') } : undefined;
  return {
    hosts: [...s.endpoints],
    dialTimeout: callTimeoutMs,
    // A member cut off (or without a quorum) does not answer: each call gives up after this, and
    // the next one goes to another member (etcd3 picks one at random per call and retries
    // elsewhere). gRPC takes its deadline as a date; it decides nothing here (the lease deadline
    // is the core's, on the monotonic clock).
    defaultCallOptions: () => ({ deadline: new Date(Date.now() + callTimeoutMs) }),
    ...(credentials ? { credentials } : {}),
    ...(auth ? { auth } : {}),
  };
}

/**
 * Opens the client for one instance's keys. Loads etcd3 on first use. `callTimeoutMs`: how long
 * one call to one member may take (a fraction of the renew period).
 */
export async function openLeaseStore(s: EtcdSettings, instance: string, callTimeoutMs = 300): Promise<LeaseStore> {
  const { Etcd3 } = (await import('etcd3')) as Etcd3Module;
  const options = clientOptions(s, callTimeoutMs);
  const client = new Etcd3(options);
  // Keep-alives go to every member at once, each through a client of its own: a member cut off or
  // a leader being replaced costs nothing while another answers.
  const members = s.endpoints.length > 1 ? s.endpoints.map((e) => new Etcd3({ ...options, hosts: [e] })) : [client];
  // The watch is a stream that lives as long as the agent: a client of its own, without the
  // calls' deadline (etcd3 moves it to another member when its connection fails).
  const { defaultCallOptions: _, ...watchOptions } = options;
  return new Etcd3LeaseStore(client, members, leaseKeys(s.prefix, instance), () => new Etcd3(watchOptions));
}

/**
 * The first keep-alive answer with a TTL above 0 (the lease lives); 0 when no member had one and
 * some member said the lease is gone; the first error when every member failed.
 */
export function firstAlive(answers: readonly Promise<number>[]): Promise<number> {
  return new Promise((resolve, reject) => {
    let left = answers.length;
    let gone = false;
    let error: unknown;
    const settle = (): void => {
      if (--left > 0) return;
      if (gone) resolve(0);
      else reject(error ?? new Error('no etcd member to ask'));
    };
    if (left === 0) settle();
    for (const a of answers) {
      a.then(
        (ttl) => {
          if (ttl > 0) resolve(ttl);
          else gone = true;
          settle();
        },
        (e: unknown) => {
          error ??= e;
          settle();
        },
      );
    }
  });
}

class Etcd3LeaseStore implements LeaseStore {
  /** A history write after a renew is out. */
  private historyInFlight = false;
  private watch: { readonly client: Etcd3; readonly watcher: ReturnType<ReturnType<Etcd3['watch']>['watcher']> } | undefined;
  private closed = false;
  /** Before the watch is made again after etcd cancelled it: doubled each time, up to 30 s. */
  private watchRetryMs = 1000;

  constructor(
    private readonly client: Etcd3,
    private readonly members: readonly Etcd3[],
    private readonly keys: { readonly leader: string; readonly history: string },
    private readonly watchClient: () => Etcd3,
  ) {}

  watchLeader(changed: () => void): void {
    if (this.closed || this.watch !== undefined) return;
    const client = this.watchClient();
    // watcher() (not create(), which resolves only once connected): the listeners are on before
    // anything can be emitted, an 'error' among them (an emitter's unheard 'error' throws).
    const watcher = client.watch().key(this.keys.leader).watcher();
    watcher.on('put', () => changed());
    watcher.on('delete', () => changed());
    // etcd cancelled the watch (a compaction past where it resumes, a permission): etcd3 drops it.
    // A new one a second later, then less often (the reads go on meanwhile).
    watcher.on('error', () => {
      if (this.watch?.watcher !== watcher) return;
      this.watch = undefined;
      closeWatch(client, watcher);
      setTimeout(() => this.watchLeader(changed), this.watchRetryMs).unref();
      this.watchRetryMs = Math.min(30_000, this.watchRetryMs * 2);
    });
    // (Re)connected: what happened meanwhile was not seen. The backoff starts over.
    watcher.on('connected', () => {
      this.watchRetryMs = 1000;
      changed();
    });
    this.watch = { client, watcher };
  }

  run(r: LeaseRequest): Promise<LeaseResult> {
    let timer: NodeJS.Timeout | undefined;
    let abandoned = false;
    const timeout = new Promise<LeaseResult>((resolve) => {
      timer = setTimeout(() => {
        abandoned = true;
        resolve({ ok: false, reason: 'error', detail: `no answer within ${r.timeoutMs} ms` });
      }, r.timeoutMs);
    });
    const work = this.carry(r, () => abandoned).catch((e: unknown): LeaseResult => ({ ok: false, reason: 'error', detail: message(e) }));
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async carry(r: LeaseRequest, abandoned: () => boolean): Promise<LeaseResult> {
    switch (r.type) {
      case 'read':
        return this.read();
      case 'acquire':
        return this.acquire(r, abandoned);
      case 'renew':
        return this.renew(r.leaseId, r.history);
      case 'release':
        await this.revoke(r.leaseId);
        return { ok: true, kind: 'released' };
    }
  }

  private async read(): Promise<LeaseResult> {
    const [leader, history] = await Promise.all([this.client.get(this.keys.leader).exec(), this.client.get(this.keys.history).exec()]);
    const lk = leader.kvs[0];
    const hk = history.kvs[0];
    const observed: ObservedLeader | undefined = lk && { record: parse<LeaderRecord>(lk.value), leaseId: String(lk.lease), term: Number(lk.create_revision) };
    return { ok: true, kind: 'read', leader: observed, history: parse<HistoryRecord>(hk?.value), historyRevision: hk ? Number(hk.mod_revision) : 0 };
  }

  private async acquire(r: Extract<LeaseRequest, { type: 'acquire' }>, abandoned: () => boolean): Promise<LeaseResult> {
    const granted = await this.client.leaseClient.leaseGrant({ TTL: Math.ceil(r.ttlMs / 1000) });
    const leaseId = String(granted.ID);
    const txn = await this.client
      .if(this.keys.leader, 'Create', '==', 0)
      .and(this.keys.history, 'Mod', '==', r.historyRevision)
      .then(this.client.put(this.keys.leader).value(JSON.stringify(r.leader)).lease(leaseId), this.client.put(this.keys.history).value(JSON.stringify(r.history)))
      .commit();
    if (!txn.succeeded || abandoned()) {
      // Not ours after all (or given up on): the lease must not linger holding nothing, or a key
      // nobody renews.
      void this.revoke(leaseId).catch(() => undefined);
      return { ok: false, reason: txn.succeeded ? 'error' : 'taken', detail: txn.succeeded ? 'acquired after the request was given up; revoked' : 'the key is held, or the history changed since it was read' };
    }
    return { ok: true, kind: 'acquired', leaseId, term: Number(txn.header.revision), ttlMs: Number(granted.TTL) * 1000 };
  }

  private async renew(leaseId: string, history: HistoryRecord | undefined): Promise<LeaseResult> {
    const ttlS = await firstAlive(this.members.map((m) => keepAliveOnce(m, leaseId)));
    if (!(ttlS > 0)) return { ok: false, reason: 'lease-not-found', detail: `etcd no longer has lease ${leaseId}` };
    if (history !== undefined && !this.historyInFlight) {
      // Only while the leader key is still on our lease: a holder that lost it writes nothing.
      // Not awaited: the keep-alive has succeeded, and a member that does not answer the write
      // (crashed, its client connection not yet given up) must not hold up the renew past its
      // timeout, which would fence a holder whose lease lives. One write at a time, so that they
      // land in order; one skipped meanwhile is made good by the next renew's.
      this.historyInFlight = true;
      this.client
        .if(this.keys.leader, 'Lease', '==', leaseId)
        .then(this.client.put(this.keys.history).value(JSON.stringify(history)))
        .commit()
        .catch(() => undefined)
        .finally(() => {
          this.historyInFlight = false;
        });
    }
    return { ok: true, kind: 'renewed', ttlMs: ttlS * 1000 };
  }

  private async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (e) {
      // Already gone: what a release wants.
      if (!(e instanceof Error && e.name === 'EtcdLeaseInvalidError') && !/lease not found/i.test(message(e))) throw e;
    }
  }

  close(): void {
    this.closed = true;
    const w = this.watch;
    this.watch = undefined;
    if (w !== undefined) closeWatch(w.client, w.watcher);
    this.client.close();
    for (const m of this.members) if (m !== this.client) m.close();
  }
}

/** Cancels a watch and closes its client; a cancel that hangs (a dead connection) waits 1 s at most. */
function closeWatch(client: Etcd3, watcher: { cancel(): Promise<void> }): void {
  void Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]).finally(() => client.close());
}

/** One keep-alive on a stream of its own: the TTL etcd answered (0: the lease is gone). */
async function keepAliveOnce(client: Etcd3, leaseId: string): Promise<number> {
  const stream = await client.leaseClient.leaseKeepAlive();
  try {
    return await new Promise<number>((resolve, reject) => {
      stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
      stream.on('error', reject);
      stream.write({ ID: leaseId });
    });
  } finally {
    stream.end();
  }
}
