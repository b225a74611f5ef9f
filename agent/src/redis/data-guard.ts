// Whether this host's Redis data is fit to be (or stay) the master, beyond what VRRP knows.
// Pure: facts in, a verdict out, the clock passed in. The shell (guard-runner.ts) samples the
// local Redis and the peers' Redis, and turns a failing verdict into a lowered priority (the
// instance's redis-data track) and, on an isolated master, refused writes.
//
// - Isolation (on a master): no replica acknowledging and no peer reachable for longer than
//   `isolationTimeoutMs`. VRRP backups send no adverts, so liveness comes from Redis (online
//   replicas with a fresh acknowledgement) and from the peers' Redis answering over TCP. Once
//   isolated, it stays so until a replica acknowledges again or the host steps down: a peer
//   answering again is not enough (the other side may have a master of its own by then, which
//   must win when the partition heals).
// - Staleness (on a backup): not yet in sync with the master it follows (the one VRRP names, or
//   else a reachable peer whose Redis is master), its replication link down for longer than
//   `maxLinkDownMs`, or its offset more than `maxLagBytes` behind a reachable replica that shares
//   its replication history. At start it is stale until the peers it knows have been read once
//   (at most PEERS_READ_GRACE_MS), so that a host coming back with old data never preempts.

import type { RedisFacts } from '@redkeep/redis';
import type { VrrpState } from '@redkeep/vrrp';

export interface DataGuardSettings {
  /** 0 turns the isolation guard off. */
  readonly isolationTimeoutMs: number;
  /** 0 turns the link-down bound off. */
  readonly maxLinkDownMs: number;
  /** 0 turns the offset comparison off. */
  readonly maxLagBytes: number;
}

export interface PeerView {
  readonly address: string;
  /** Answered over TCP lately (INFO, or at least a refused connection: the host is up). */
  readonly reachable: boolean;
  /** Its Redis: answered INFO, refused the connection (down), or not known. */
  readonly redis?: 'up' | 'down' | 'unknown';
  /** Its INFO, when its Redis answered. */
  readonly facts: RedisFacts | undefined;
}

export interface DataGuardInput {
  readonly nowMs: number;
  readonly state: VrrpState | 'waiting';
  /** The master's Redis this host follows as a backup, if one is known. */
  readonly master: { readonly host: string; readonly port: number } | undefined;
  /** Our Redis' INFO; undefined when it did not answer. */
  readonly local: RedisFacts | undefined;
  /** Every peer known so far (configured, or learned from adverts and INFO), never this host. */
  readonly peers: readonly PeerView[];
}

export type DataGuardVerdict =
  | { readonly ok: true; readonly why: string }
  | {
      readonly ok: false;
      readonly kind: 'isolated' | 'stale';
      readonly why: string;
      /** Stale only until a sync (or a first read of the peers) completes: worth looking again soon. */
      readonly waiting?: true;
    };

/** A replica whose last acknowledgement is older than this no longer counts as connected (Redis acks every second). */
export const REPLICA_FRESH_S = 2;
/** The offset comparison must fail this many samples in a row (samples are not taken at one instant). */
export const LAG_SAMPLES = 2;
/** At start, how long a backup waits for the peers it knows to be read before trusting that none is master. */
export const PEERS_READ_GRACE_MS = 2000;

/** Offsets compare only between Redis servers that share a replication history. */
export function sameHistory(a: RedisFacts, b: RedisFacts): boolean {
  if (a.replId === undefined || b.replId === undefined) return false;
  return a.replId === b.replId || a.replId === b.replId2 || a.replId2 === b.replId;
}

export class DataGuard {
  private startMs: number | undefined;
  /** Master side: when a replica or a peer was last seen; set once isolated until healed. */
  private lastContactMs: number | undefined;
  private isolated = false;
  /** Backup side: the master followed, whether we were in sync with it once, and when last. */
  private following: string | undefined;
  private synced = false;
  private syncedRunId: string | undefined;
  private lastInSyncMs = 0;
  private lagFailures = 0;

  constructor(private readonly settings: DataGuardSettings) {}

  evaluate(i: DataGuardInput): DataGuardVerdict {
    this.startMs ??= i.nowMs;
    if (i.state === 'master') {
      this.following = undefined;
      this.lagFailures = 0;
      return this.isolation(i);
    }
    this.lastContactMs = undefined;
    this.isolated = false;
    return this.staleness(i);
  }

  private isolation(i: DataGuardInput): DataGuardVerdict {
    const s = this.settings;
    if (s.isolationTimeoutMs <= 0) return { ok: true, why: 'isolation guard off' };
    const local = i.local;
    if (!local || local.role !== 'master') {
      this.lastContactMs = i.nowMs;
      this.isolated = false;
      return { ok: true, why: 'redis is not master' };
    }
    this.lastContactMs ??= i.nowMs;
    const replicas = local.replicas.filter((r) => r.state === 'online' && r.lagS <= REPLICA_FRESH_S).length;
    const reachable = i.peers.filter((p) => p.reachable).map((p) => p.address);
    if (this.isolated) {
      // Healed only by a replica following us again, or by stepping down (see evaluate).
      if (replicas === 0) return { ok: false, kind: 'isolated', why: `isolated; no replica acknowledging yet (peers reachable: ${reachable.join(', ') || 'none'})` };
      this.isolated = false;
    }
    if (replicas > 0 || reachable.length > 0 || i.peers.length === 0) {
      this.lastContactMs = i.nowMs;
      return {
        ok: true,
        why: i.peers.length === 0 && replicas === 0 ? 'no peer known (standalone)' : `${replicas} replicas acknowledging, peers reachable: ${reachable.join(', ') || 'none'}`,
      };
    }
    const silentMs = i.nowMs - this.lastContactMs;
    if (silentMs > s.isolationTimeoutMs) {
      this.isolated = true;
      return { ok: false, kind: 'isolated', why: `no replica acknowledging and no peer reachable for ${Math.round(silentMs)} ms` };
    }
    return { ok: true, why: `no replica or peer for ${Math.round(silentMs)} ms (isolated after ${s.isolationTimeoutMs} ms)` };
  }

  private staleness(i: DataGuardInput): DataGuardVerdict {
    const s = this.settings;
    const local = i.local;
    // The master to be in sync with: VRRP's, else a peer whose Redis is master (with preempt on,
    // a higher priority backup discards a lower master's adverts and never learns it from VRRP).
    const peerMaster = i.peers.find((p) => p.reachable && p.facts?.role === 'master');
    const m = i.master ?? (peerMaster ? { host: peerMaster.address, port: 0 } : undefined);
    if (!m) {
      const unread = i.peers.filter((p) => p.reachable && !p.facts && p.redis !== 'down').map((p) => p.address);
      if (unread.length > 0 && i.nowMs - (this.startMs ?? i.nowMs) < PEERS_READ_GRACE_MS) {
        return { ok: false, kind: 'stale', why: `peers not read yet: ${unread.join(', ')}`, waiting: true };
      }
      return { ok: true, why: 'no master known' };
    }
    const key = i.master ? `${m.host}:${m.port}` : `${m.host} (its Redis is master)`;
    if (key !== this.following) {
      this.following = key;
      this.synced = false;
      this.lagFailures = 0;
    }
    // Is the master's Redis still there? Only then can "not yet in sync with it" be fixed by
    // waiting; once it is gone, the replicas' (frozen) offsets decide who has the most data.
    const mp = i.peers.find((p) => p.address === m.host);
    const masterAlive: 'yes' | 'no' | 'unknown' = peerMaster && !i.master
      ? 'yes'
      : !mp
        ? 'unknown'
        : mp.facts
          ? mp.facts.role === 'master' ? 'yes' : 'no'
          : !mp.reachable || mp.redis === 'down' ? 'no' : 'unknown';
    if (!local) return this.synced || masterAlive === 'no' ? { ok: true, why: 'redis not answering' } : { ok: false, kind: 'stale', why: `not yet in sync with ${key}`, waiting: true };
    // A restarted Redis (new run_id) has to prove itself again.
    if (this.synced && local.runId !== this.syncedRunId) this.synced = false;
    if (local.syncInProgress) {
      this.synced = false;
      return { ok: false, kind: 'stale', why: `full resync from ${key} in progress`, waiting: true };
    }
    const inSync = local.role === 'replica' && local.masterHost === m.host && (i.master === undefined || local.masterPort === m.port) && local.masterLinkUp;
    if (inSync) {
      this.synced = true;
      this.syncedRunId = local.runId;
      this.lastInSyncMs = i.nowMs;
    }
    if (!this.synced && masterAlive !== 'no') return { ok: false, kind: 'stale', why: `not yet in sync with ${key}`, waiting: true };
    const downMs = i.nowMs - this.lastInSyncMs;
    if (this.synced && s.maxLinkDownMs > 0 && downMs > s.maxLinkDownMs) {
      return { ok: false, kind: 'stale', why: `replication from ${key} down for ${Math.round(downMs)} ms` };
    }
    if (s.maxLagBytes > 0) {
      // Among replicas only: the master is always ahead by what is in flight. With the master
      // gone the offsets stand still: any byte behind counts, at the first sample.
      const bound = masterAlive === 'no' ? 0 : s.maxLagBytes;
      const samples = masterAlive === 'no' ? 1 : LAG_SAMPLES;
      let best: PeerView | undefined;
      for (const p of i.peers) {
        if (!p.reachable || p.facts?.role !== 'replica' || !sameHistory(local, p.facts)) continue;
        if (!best?.facts || p.facts.replOffset > best.facts.replOffset) best = p;
      }
      const behind = best?.facts ? best.facts.replOffset - local.replOffset : 0;
      if (best && behind > bound) {
        this.lagFailures++;
        if (this.lagFailures >= samples) {
          return { ok: false, kind: 'stale', why: `offset ${local.replOffset} is ${behind} bytes behind ${best.address}${masterAlive === 'no' ? ` (the master ${key} is gone)` : ''}` };
        }
      } else this.lagFailures = 0;
    }
    if (!this.synced) return { ok: true, why: `the master ${key} is gone; no replica is ahead of this one` };
    return { ok: true, why: inSync ? `in sync with ${key}` : `replication from ${key} down for ${Math.round(downMs)} ms` };
  }
}
