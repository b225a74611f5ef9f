// A simulated redis-server, enough of one for the failover policy: a replication history
// (master_replid, master_replid2, second_repl_offset, offsets), asynchronous replication with
// acknowledgements once a second, partial and full resync by Redis' own PSYNC rule, chained
// replicas, min-replicas-to-write / min-replicas-max-lag, CLIENT PAUSE WRITE, and the process
// faults (SIGSTOP, kill -9, restart with or without its data). Its data is the list of write ids
// it applied, in order: one write is one byte of the replication stream, so the offset is the
// list's length from where its history began (`base`: a Redis restarted from its appendonly file
// keeps its data under a new replication id at offset 0, as Redis 7.0 does; a full sync takes the
// source's base with its data). Pure: the world calls it with the time; it never schedules
// anything itself.

import type { ReplicationFacts } from '../history.js';

export type SimRedisRole = 'master' | 'replica';

interface ReplicaSeen {
  offset: number;
  lastAckMs: number;
}

export class SimRedis {
  alive = true;
  paused = false;
  runId: string;
  replId: string;
  replId2: string | undefined;
  secondReplOffset: number | undefined;
  data: number[] = [];
  /** The offset is base + data.length (negative after a restart that kept data). */
  base = 0;
  role: SimRedisRole = 'replica';
  masterHost: string | undefined;
  masterPort: number | undefined;
  /** The replication link: down, or up (streaming) from `linkSinceMs`. */
  linkUp = false;
  /** A full sync in progress until then. */
  syncUntilMs: number | undefined;
  /** As this Redis lists its replicas: by host. */
  readonly replicas = new Map<string, ReplicaSeen>();
  minReplicasToWrite = 0;
  minReplicasMaxLagS = 10;
  pauseWritesUntilMs = 0;
  /** Full syncs this Redis took (its data replaced). */
  fullSyncs = 0;
  private ids = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly newId: () => string,
  ) {
    this.runId = newId();
    this.replId = newId();
  }

  get offset(): number {
    return this.base + this.data.length;
  }

  /** Whether it answers commands now. */
  get answering(): boolean {
    return this.alive && !this.paused;
  }

  facts(nowMs: number): ReplicationFacts {
    return {
      role: this.role,
      runId: this.runId,
      replId: this.replId,
      replId2: this.replId2,
      secondReplOffset: this.replId2 !== undefined ? this.secondReplOffset : undefined,
      replOffset: this.offset,
      masterHost: this.role === 'replica' ? this.masterHost : undefined,
      masterPort: this.role === 'replica' ? this.masterPort : undefined,
      masterLinkUp: this.role === 'replica' && this.linkUp && this.syncUntilMs === undefined,
      syncInProgress: this.syncUntilMs !== undefined,
      keys: this.data.length,
      replicas: [...this.replicas].map(([ip, r]) => ({ ip, port: this.port, state: 'online', offset: r.offset, lagS: Math.floor((nowMs - r.lastAckMs) / 1000) })),
    };
  }

  /** REPLICAOF NO ONE: a new history, promoted from the current one. */
  promote(): void {
    if (this.role === 'master') return;
    this.role = 'master';
    this.masterHost = this.masterPort = undefined;
    this.linkUp = false;
    this.syncUntilMs = undefined;
    this.replId2 = this.replId;
    this.secondReplOffset = this.offset + 1;
    this.replId = this.newId();
  }

  /** REPLICAOF host port. */
  replicaOf(host: string, port: number): void {
    if (this.role === 'replica' && this.masterHost === host && this.masterPort === port) return;
    this.role = 'replica';
    this.masterHost = host;
    this.masterPort = port;
    this.linkUp = false;
    this.syncUntilMs = undefined;
    // Redis drops its own replicas' links when it changes master; they reconnect and PSYNC.
    this.replicas.clear();
  }

  /**
   * A write from a client: applied and acknowledged, or refused (and why). Only a master that
   * answers, is not paused for writes, and has enough fresh replicas takes it.
   */
  write(id: number, nowMs: number): 'ok' | 'readonly' | 'noreplicas' | 'paused' | 'down' {
    if (!this.answering) return 'down';
    if (nowMs < this.pauseWritesUntilMs) return 'paused';
    if (this.role !== 'master') return 'readonly';
    if (this.minReplicasToWrite > 0) {
      let good = 0;
      for (const r of this.replicas.values()) if (Math.floor((nowMs - r.lastAckMs) / 1000) <= this.minReplicasMaxLagS) good++;
      if (good < this.minReplicasToWrite) return 'noreplicas';
    }
    this.data.push(id);
    return 'ok';
  }

  /**
   * PSYNC from `source` (its master, already reachable both ways): partial when our history is
   * the source's (same replid, or its replid2 up to where that history ended), else a full sync
   * that replaces our data once `syncMs` have passed. Returns which.
   */
  connect(source: SimRedis, nowMs: number, syncMs: number): 'partial' | 'full' {
    this.linkUp = true;
    const partial =
      (this.replId === source.replId && this.offset <= source.offset) ||
      (source.replId2 !== undefined && this.replId === source.replId2 && this.offset + 1 <= (source.secondReplOffset ?? 0));
    source.replicas.set(this.host, { offset: this.offset, lastAckMs: nowMs });
    if (partial) {
      this.adopt(source);
      return 'partial';
    }
    this.syncUntilMs = nowMs + syncMs;
    return 'full';
  }

  /** The full sync's data arrives: ours is replaced by the source's. */
  finishFullSync(source: SimRedis): void {
    this.syncUntilMs = undefined;
    this.data = source.data.slice();
    this.base = source.base;
    this.replId = source.replId;
    this.replId2 = undefined;
    this.secondReplOffset = undefined;
    this.fullSyncs++;
  }

  /** After a partial sync, or when the source's history id moved on (it was promoted). */
  adopt(source: SimRedis): void {
    if (this.replId !== source.replId) {
      this.replId2 = this.replId;
      this.secondReplOffset = source.replId2 === this.replId ? source.secondReplOffset : this.offset + 1;
      this.replId = source.replId;
    }
  }

  /** The stream: whatever the source has beyond our offset (our data is a prefix of its own). */
  pull(source: SimRedis): void {
    if (source.data.length > this.data.length) for (let i = this.data.length; i < source.data.length; i++) this.data.push(source.data[i] as number);
  }

  /** kill -9 (or a host crash): gone, with everything in memory. */
  kill(): void {
    this.alive = false;
    this.paused = false;
    this.linkUp = false;
    this.syncUntilMs = undefined;
    this.replicas.clear();
    this.pauseWritesUntilMs = 0;
  }

  /**
   * Started again: a new run_id and a new history id; with its data (AOF) or empty. It starts
   * as the recommended redis.conf has it, a replica of nothing (REPLICAOF 127.0.0.1 1), or, as a
   * default redis.conf does, as a master.
   */
  restart(keepData: boolean, asMaster: boolean, fence: { host: string; port: number }): void {
    this.alive = true;
    this.paused = false;
    this.runId = this.newId();
    this.replId = this.newId();
    this.replId2 = undefined;
    this.secondReplOffset = undefined;
    if (!keepData) this.data = [];
    // Redis 7.0 restarted from its appendonly file: its data, a new replication id, offset 0.
    this.base = -this.data.length;
    this.role = asMaster ? 'master' : 'replica';
    this.masterHost = asMaster ? undefined : fence.host;
    this.masterPort = asMaster ? undefined : fence.port;
    this.linkUp = false;
    this.syncUntilMs = undefined;
    this.replicas.clear();
    this.minReplicasToWrite = 0;
    this.minReplicasMaxLagS = 10;
    this.ids++;
  }
}
