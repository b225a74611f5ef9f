// Whether this host's Redis may take writes, must step down, or is fit to be master: facts in
// (VRRP state, our Redis' INFO, the configured members' INFO with when each last answered, who is
// heard advertising as master, the clock), a verdict out. The shell (agent/src/redis/guard-runner.ts)
// samples and applies: the instance's redis-quorum track (Fault while no quorum), its redis-data
// track (priority lowered), Redis' write gate (min-replicas-to-write) and a resign.
//
// - Quorum (members vote): a member counts while it answered within `memberTimeoutMs` (its Redis
//   answered INFO, or its host refused the connection: it is up, its Redis down). Fewer than
//   `quorum` (this host included) means no quorum: the instance goes to Fault (a minority never
//   promotes), and a Redis that is master refuses writes at once. The timeout is shorter than the
//   others' Master_Down_Interval, so an isolated master stops acknowledging before a successor exists.
// - Isolation latch: once a master has lost its quorum, writes stay refused until one of its
//   replicas acknowledges it again (nobody else was elected meanwhile) or it is no longer master.
// - Superseded (rule of replication history): a master whose Redis finds a member's Redis master
//   that succeeds its history while that member advertises as master, or whose Redis was turned
//   into a replica by someone else (a member, or a fence it did not set), steps down: writes
//   refused at once, resign, priority lowered until it has resynced as a replica.
// - Staleness (on a backup): not yet in sync with the master it follows, its link down for longer
//   than `maxLinkDownMs`, or its offset more than `maxLagBytes` behind a reachable replica of the
//   same history. At start it is stale until the members have been read once.

import type { VrrpState } from '@redkeep/vrrp';
import { type Lineage, type ReplicationFacts, descendsFrom, sameHistory } from './history.js';
import { type RedisHosts, sameRedisHost } from './redis-hosts.js';

export interface DataGuardSettings {
  /** A member silent for longer than this is unreachable; 0 turns quorum and isolation off. */
  readonly memberTimeoutMs: number;
  /** Members (this host included) that must be reachable; 1 for a single host. */
  readonly quorum: number;
  /** 0 turns the link-down bound off. */
  readonly maxLinkDownMs: number;
  /** 0 turns the offset comparison off. */
  readonly maxLagBytes: number;
  /** Where a fenced Redis replicates from (nothing listens there). */
  readonly fence: { readonly host: string; readonly port: number };
  /** Where each member's Redis is reached: INFO names Redis addresses, the peers are members. */
  readonly hosts: RedisHosts;
}

export interface PeerView {
  /** A configured member, never this host. */
  readonly address: string;
  /** When it last answered (INFO, or a refused connection), on the caller's monotonic clock. */
  readonly lastAnswerMs: number | undefined;
  /** Its Redis: answered INFO, refused the connection (down), or not known. */
  readonly redis: 'up' | 'down' | 'unknown';
  /** Its last INFO, when its Redis answered it. */
  readonly facts: ReplicationFacts | undefined;
}

export interface DataGuardInput {
  readonly nowMs: number;
  readonly state: VrrpState | 'waiting';
  /** The master's Redis this host follows as a backup (its host as REPLICAOF takes it), if one is known. */
  readonly master: { readonly host: string; readonly port: number } | undefined;
  /** Our Redis' INFO; undefined when it did not answer. */
  readonly local: ReplicationFacts | undefined;
  readonly peers: readonly PeerView[];
  /** Members heard advertising as VRRP master lately (adverts with a priority above 0). */
  readonly advertisingMasters: readonly string[];
  /** Our Redis' fence (REPLICAOF the fence address) was set by this agent. */
  readonly fencedByUs: boolean;
  /**
   * This agent made our Redis master in the current VRRP master term (its promotion is done): a
   * replica role seen before that is the takeover still catching up, not someone's doing.
   */
  readonly promotedByUs: boolean;
  /** This host's own advert address (its Redis is where RedisHosts says, as the master lists its replicas). */
  readonly self?: string;
  /** How the histories seen descend (a successor two promotions on is still one). */
  readonly lineage?: Lineage;
}

export type DataGuardKind = 'isolated' | 'stale' | 'superseded';

export interface DataGuardVerdict {
  /** The redis-data track: false lowers the priority. */
  readonly ok: boolean;
  readonly kind: DataGuardKind | undefined;
  readonly why: string;
  /** Stale only until a sync (or a first read of the members) completes: worth looking again soon. */
  readonly waiting: boolean;
  /** The redis-quorum track: false sends the instance to Fault. */
  readonly quorum: { readonly ok: boolean; readonly reachable: number; readonly needed: number; readonly why: string };
  /** Whether Redis, when it is master, may acknowledge writes. */
  readonly writes: 'allow' | 'refuse';
  /** The master must resign now (its Redis was superseded). */
  readonly stepDown: boolean;
  /** The member that superseded us, when known. */
  readonly supersededBy: string | undefined;
  /**
   * Master side: members out of reach at the last look and reachable now (a partition healed).
   * Hosts that were cut off with them may still have another holder's MAC for the VIP: announce
   * it again (a GARP/NA burst).
   */
  readonly backInReach: readonly string[];
}

/**
 * The members that must be reachable when `quorum` is not set, out of `voters` (this host, the
 * other members, the witnesses): a majority. Strict mode does not count etcd as a voter: the
 * lease decides who may acknowledge writes, not which side may promote its Redis, and a side that
 * promotes without the lease would make the lease holder's Redis follow its own when the
 * partition heals (the simulation's strict mode found it: two hosts, seed 5).
 */
export function defaultQuorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** A replica whose last acknowledgement is older than this no longer counts as connected (Redis acks every second). */
export const REPLICA_FRESH_S = 2;
/** The offset comparison must fail this many samples in a row (samples are not taken at one instant). */
export const LAG_SAMPLES = 2;
/** At start, how long a backup waits for the members to be read before trusting that none is master. */
export const PEERS_READ_GRACE_MS = 2000;

export class DataGuard {
  private startMs: number | undefined;
  /** Master side: set once quorum was lost, until a replica acknowledges again or we leave master. */
  private isolated = false;
  /** Set when superseded; cleared once our Redis has resynced as a replica. */
  private superseded: { by: string | undefined; why: string } | undefined;
  /** Backup side: the master followed, whether we were in sync with it once, and when last. */
  private following: string | undefined;
  private synced = false;
  /** Not in sync yet, linked and acknowledged: our offset then (streaming shows as it moving on). */
  private streamFrom: { readonly runId: string | undefined; readonly replId: string | undefined; readonly offset: number } | undefined;
  private syncedRunId: string | undefined;
  private lastInSyncMs = 0;
  private lagFailures = 0;
  private last: { ok: boolean; kind: DataGuardKind | undefined; why: string } = { ok: false, kind: 'stale', why: 'not checked yet' };
  /** Master side: the members reachable at the last look (undefined until the first look as master). */
  private inReach: Set<string> | undefined;

  constructor(private readonly settings: DataGuardSettings) {}

  evaluate(i: DataGuardInput): DataGuardVerdict {
    this.startMs ??= i.nowMs;
    const quorum = this.quorum(i);
    const backInReach = this.backInReach(i);
    this.checkSuperseded(i);
    let data: { ok: boolean; kind: DataGuardKind | undefined; why: string; waiting?: boolean };
    if (this.superseded) {
      data = { ok: false, kind: 'superseded', why: this.superseded.why };
    } else if (i.state === 'master') {
      this.following = undefined;
      this.lagFailures = 0;
      data = this.isolation(i, quorum.ok);
    } else {
      this.isolated = false;
      data = this.staleness(i);
    }
    this.last = data;
    const local = i.local;
    const allow = i.state === 'master' && quorum.ok && !this.isolated && this.superseded === undefined;
    return {
      ok: data.ok,
      kind: data.kind,
      why: data.why,
      waiting: data.waiting === true,
      quorum,
      // A Redis that is not master refuses writes by itself; an unanswered one keeps the last gate.
      writes: local && local.role !== 'master' ? 'allow' : allow ? 'allow' : 'refuse',
      stepDown: this.superseded !== undefined && i.state === 'master',
      supersededBy: this.superseded?.by,
      backInReach,
    };
  }

  /** Members whose host answered within member_timeout (1 s when the quorum rule is off). */
  private reachable(i: DataGuardInput): DataGuardInput['peers'] {
    const timeoutMs = this.settings.memberTimeoutMs > 0 ? this.settings.memberTimeoutMs : 1000;
    return i.peers.filter((p) => p.lastAnswerMs !== undefined && i.nowMs - p.lastAnswerMs <= timeoutMs);
  }

  private backInReach(i: DataGuardInput): string[] {
    if (i.state !== 'master') {
      this.inReach = undefined;
      return [];
    }
    const now = new Set(this.reachable(i).map((p) => p.address));
    // The first look as master has nothing to compare with (becoming master announced the VIP).
    const back = this.inReach === undefined ? [] : [...now].filter((a) => !this.inReach?.has(a));
    this.inReach = now;
    return back;
  }

  private quorum(i: DataGuardInput): DataGuardVerdict['quorum'] {
    const s = this.settings;
    const needed = s.quorum;
    const reachable = this.reachable(i);
    const n = reachable.length + 1;
    if (s.memberTimeoutMs <= 0 || needed <= 1) return { ok: true, reachable: n, needed, why: s.memberTimeoutMs <= 0 ? 'quorum off' : 'a single member is a quorum' };
    const names = reachable.map((p) => p.address).join(', ') || 'none';
    if (n >= needed) return { ok: true, reachable: n, needed, why: `${n} of ${i.peers.length + 1} members reachable (${needed} needed): this host and ${names}` };
    return { ok: false, reachable: n, needed, why: `only ${n} of ${i.peers.length + 1} members reachable (${needed} needed; answering: ${names})` };
  }

  /**
   * Replication history decides, not priority: a member's Redis master that succeeds ours and
   * advertises as VRRP master, or our Redis made a replica by someone else while we are master.
   */
  private checkSuperseded(i: DataGuardInput): void {
    const local = i.local;
    if (!local) return;
    const fence = this.settings.fence;
    if (this.superseded) {
      // Over once our Redis has resynced as a replica of a real master.
      const resynced = local.role === 'replica' && local.masterHost !== fence.host && local.masterLinkUp && !local.syncInProgress;
      if (resynced) this.superseded = undefined;
      return;
    }
    if (local.role === 'master') {
      for (const p of i.peers) {
        if (p.facts?.role === 'master' && descendsFrom(p.facts, local, i.lineage) && i.advertisingMasters.includes(p.address)) {
          this.superseded = { by: p.address, why: `${p.address} is master with a Redis that succeeds ours (promoted from our history)` };
          return;
        }
      }
      return;
    }
    if (i.state !== 'master' || local.role !== 'replica' || !i.promotedByUs) return;
    if (local.masterHost === fence.host && local.masterPort === fence.port) {
      if (!i.fencedByUs) this.superseded = { by: undefined, why: 'our Redis was fenced by a peer taking over while we were master' };
      return;
    }
    const m = i.peers.find((p) => this.settings.hosts.isAt(local.masterHost, p.address));
    if (m?.facts?.role === 'master') this.superseded = { by: m.address, why: `our Redis was made a replica of ${m.address}, a member whose Redis is master` };
  }

  private isolation(i: DataGuardInput, quorumOk: boolean): { ok: boolean; kind: DataGuardKind | undefined; why: string } {
    const local = i.local;
    if (this.settings.memberTimeoutMs <= 0) return { ok: true, kind: undefined, why: 'isolation guard off' };
    // One unanswered INFO is no news: keep the last verdict.
    if (!local) return this.last.kind === 'isolated' ? this.last : { ok: true, kind: undefined, why: 'redis not answering' };
    if (local.role !== 'master') {
      this.isolated = false;
      return { ok: true, kind: undefined, why: 'redis is not master' };
    }
    const acking = local.replicas.filter((r) => r.state === 'online' && r.lagS <= REPLICA_FRESH_S);
    if (!quorumOk) {
      this.isolated = true;
      return { ok: false, kind: 'isolated', why: 'no quorum of members reachable' };
    }
    if (this.isolated) {
      // Healed only by a replica following us again (nobody else was elected) while no other
      // member advertises as master, or by stepping down.
      const rival = i.advertisingMasters.length > 0;
      if (acking.length === 0 || rival) {
        return { ok: false, kind: 'isolated', why: `was isolated; ${rival ? `${i.advertisingMasters.join(', ')} advertises as master` : 'no replica acknowledging yet'}` };
      }
      this.isolated = false;
    }
    return { ok: true, kind: undefined, why: `${acking.length} replicas acknowledging; quorum reachable` };
  }

  private staleness(i: DataGuardInput): { ok: boolean; kind: DataGuardKind | undefined; why: string; waiting?: boolean } {
    const s = this.settings;
    const local = i.local;
    const answered = (p: PeerView): boolean => p.lastAnswerMs !== undefined && i.nowMs - p.lastAnswerMs <= Math.max(s.memberTimeoutMs, 1000);
    // The master to be in sync with: VRRP's, else a member whose Redis is master (with preempt on,
    // a higher priority backup discards a lower master's adverts and never learns it from VRRP).
    const peerMaster = i.peers.find((p) => answered(p) && p.facts?.role === 'master');
    const hosts = this.settings.hosts;
    const m = i.master ?? (peerMaster ? { host: hosts.hostOf(peerMaster.address), port: 0 } : undefined);
    if (!m) {
      const unread = i.peers.filter((p) => answered(p) && p.facts === undefined && p.redis !== 'down').map((p) => p.address);
      if (unread.length > 0 && i.nowMs - (this.startMs ?? i.nowMs) < PEERS_READ_GRACE_MS) {
        return { ok: false, kind: 'stale', why: `members not read yet: ${unread.join(', ')}`, waiting: true };
      }
      return { ok: true, kind: undefined, why: 'no master known' };
    }
    const key = i.master ? `${m.host}:${m.port}` : `${m.host} (its Redis is master)`;
    if (key !== this.following) {
      this.following = key;
      this.synced = false;
      this.lagFailures = 0;
    }
    // Is the master's Redis still there? Only then can "not yet in sync with it" be fixed by
    // waiting; once it is gone, the replicas' (frozen) offsets decide who has the most data.
    const mp = i.peers.find((p) => hosts.isAt(m.host, p.address));
    const masterAlive: 'yes' | 'no' | 'unknown' =
      peerMaster && !i.master
        ? 'yes'
        : !mp
          ? 'unknown'
          : mp.facts && answered(mp)
            ? mp.facts.role === 'master'
              ? 'yes'
              : 'no'
            : !answered(mp) || mp.redis === 'down'
              ? 'no'
              : 'unknown';
    if (!local) {
      return this.synced || masterAlive === 'no'
        ? { ok: true, kind: undefined, why: 'redis not answering' }
        : { ok: false, kind: 'stale', why: `not yet in sync with ${key}`, waiting: true };
    }
    // A restarted Redis (new run_id) has to prove itself again.
    if (this.synced && local.runId !== this.syncedRunId) this.synced = false;
    if (local.syncInProgress) {
      this.synced = false;
      return { ok: false, kind: 'stale', why: `full resync from ${key} in progress`, waiting: true };
    }
    // Right after a full sync the master streams to a replica only once it has its first
    // acknowledgement (up to a second later): until then writes live on the master alone. Where
    // the master lists us, we are in sync only once it has that acknowledgement.
    const listed = i.self !== undefined && mp?.facts && answered(mp) ? mp.facts.replicas.find((r) => hosts.isAt(r.ip, i.self)) : undefined;
    // A master that has streamed nothing yet (a new, idle history: offset 0 until its first
    // PING to the replicas, 10 s later) has nothing ours could lack.
    const acked = listed === undefined || (listed.state === 'online' && (listed.offset > 0 || mp?.facts?.replOffset === 0));
    const linked = local.role === 'replica' && sameRedisHost(local.masterHost, m.host) && (i.master === undefined || local.masterPort === m.port) && local.masterLinkUp && acked;
    // Our first acknowledgement can reach the master before it is ready for it (the full sync's
    // transfer not yet reaped): it then waits for the next one, up to a second, and streams
    // nothing meanwhile although it lists us online and acknowledged. So, where the master lists
    // us, until in sync our offset must also be seen moving on, or at the master's.
    if (!linked || this.synced) this.streamFrom = undefined;
    else if (this.streamFrom === undefined || this.streamFrom.runId !== local.runId || this.streamFrom.replId !== local.replId || local.replOffset < this.streamFrom.offset) {
      this.streamFrom = { runId: local.runId, replId: local.replId, offset: local.replOffset };
    }
    const masterOffset = listed !== undefined && mp?.facts ? mp.facts.replOffset : undefined;
    const streaming = this.synced || masterOffset === undefined || (this.streamFrom !== undefined && local.replOffset > this.streamFrom.offset) || local.replOffset >= masterOffset;
    const inSync = linked && streaming;
    if (linked && !inSync && masterAlive !== 'no') return { ok: false, kind: 'stale', why: `not yet in sync with ${key}: no stream from it yet (offset ${local.replOffset})`, waiting: true };
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
        if (!answered(p) || p.facts?.role !== 'replica' || !sameHistory(local, p.facts)) continue;
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
    if (!this.synced) return { ok: true, kind: undefined, why: `the master ${key} is gone; no replica is ahead of this one` };
    return { ok: true, kind: undefined, why: inSync ? `in sync with ${key}` : `replication from ${key} down for ${Math.round(downMs)} ms` };
  }
}
