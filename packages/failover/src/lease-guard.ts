// Strict mode: an etcd lease decides who may acknowledge writes. Off unless `[agent] etcd` is set.
// VRRP still elects the master and moves the VIP (keepalived-compatible, unchanged); the lease is
// one more guard on top of the embedded ones (quorum, history, write gate): a host may run a
// writable Redis only while VRRP made it master AND it holds the instance's lease.
// Pure, like the VRRP core: events in (the clock, VRRP state, our Redis' INFO, what etcd answered),
// decisions out (writes allowed or refused, step down, the next etcd request); the shell
// (agent/src/etcd/) talks to etcd and applies the decisions through the existing write gate and
// priority paths. No timers, no sockets, no wall clock.
//
// Keys, under `prefix` (default "/redkeep/"), per VRRP instance:
// - <prefix><instance>/leader, attached to the holder's lease (etcd deletes it when the lease
//   expires or is revoked): JSON { holder: agent name, advert: advert address, redis: "host:port",
//   history: [{ replId, offset }, ...] newest first }. The term is the key's create_revision
//   (etcd-assigned, grows with every acquisition): a fencing token that two holders never share.
// - <prefix><instance>/history, no lease (it must outlive a holder that died): JSON
//   { holder, term, history: [...] }, the same history, written in the acquire transaction and
//   by the holder after renews (only while its leader key is still on its lease). A new holder
//   reads it to check the history rule even after the old lease is gone.
// The history is the chain of Redis replication ids the holders wrote under: entry i was
// promoted from entry i+1 (offsets go on across promotions); bounded to HISTORY_LIMIT entries.
// The offset recorded is what the holder's best replica acknowledged (its own while it has none):
// what a successor can have; the holder's own last bytes may be on no replica yet.
//
// TTL: `lease_ttl`, default the instance's Master_Down_Interval rounded up to whole seconds, at
// least 2 s (etcd's leases have whole-second TTLs and etcd raises shorter ones to its minimum,
// 1.5 election timeouts). The TTL the core uses is the one etcd granted, never the one asked.
//
// Renew: a keep-alive every ttl/3 after the START of the last successful one; a failed or timed-out
// renew is retried after LEASE_RETRY_MS (each request has a timeout the shell enforces). A renew answered
// "lease not found" means etcd expired it: lost at once.
//
// Fence deadline, on this host's monotonic clock only (never etcd's clock, never the wall clock):
// etcd extends a lease by its TTL when it RECEIVES a keep-alive, which is after we sent it, and a
// leader change only ever extends leases. So with S = the local time at which the last successful
// renew (or the acquire) was STARTED, rates of both clocks within 1 ± maxDrift of real time, and
// `applyMs` the time the shell needs to close Redis' write gate:
//     fenceAtMs = S + (1 - maxDrift) * (ttl / (1 + maxDrift) - applyMs)
// is reached, and the gate closed, before etcd can expire the lease. At fenceAtMs writes are
// refused (min-replicas-to-write to REFUSE_ALL, as every guard does) and renewing goes on: a renew
// that succeeds opens the gate again (an etcd leader change that outlasted the margin). Once the
// lease may have expired on etcd (S + ttl * (1 + maxDrift)^2 + applyMs), the instance steps down
// (the shell sends it to Fault, which leaves master whatever the preempt setting; a backup takes
// over and can take the lease now; stepping down earlier would only move to a host that must wait).
// The step-down ends when etcd answers us again (renewed, or the key read). A backup reads the
// keys every ttl/3 too, and stays stepped down while etcd does not answer it (or while its
// data does not cover the history of a free key): otherwise a host cut off from etcd would win
// VRRP back the moment it stepped down, and step down again, in a loop.
// Keep-alives go to every etcd member at once; the first to say the lease lives counts. etcd
// versions before 3.4.28 / 3.5.11 could revoke a lease early when a stale leader woke up (etcd
// issue 15247): strict mode needs a fixed etcd (Debian 12's 3.4.23 is older; the lab uses it).
//
// Acquire (a VRRP master without the lease): read leader and history; if the leader key exists and
// is not ours, wait (writes refused, no step-down: the old holder fences itself before its lease
// ends, and the key disappears with it); our Redis is not promoted meanwhile (the shell waits).
// When it is absent: check the history rule (our Redis'
// INFO covers the newest history entry: same replid at or beyond its offset, or promoted from it
// after all of it, or descending from it through the recorded chain; `coversHistory`, built on
// history.ts' succeeds/divergedBytes/Lineage), then one transaction: "leader key absent (create
// revision 0) and history unchanged (its mod revision as read)" -> grant lease, put leader on it,
// put history. Anything else answered -> read again. Until the transaction succeeded the write
// gate refuses. A history check that fails steps down (a host whose data covers it should win).
//
// Release: a holder that stops being VRRP master refuses writes at once; it revokes the lease only
// after the shell reports the gate closed (a `gate` event), so the next holder never starts while our
// Redis can still acknowledge. Until then it keeps renewing: a Redis that does not answer (frozen
// by SIGSTOP, stalled) cannot be told to refuse, and acknowledges what waits in its sockets when
// it wakes up. The shell reports a Redis that refuses connections (nothing listens) as closed.
// A crashed holder releases nothing: its lease expires after the TTL, so failover after a host
// crash takes max(Master_Down_Interval, the rest of the TTL). A leader key naming this host
// (holder, advert and Redis address alike) on a lease it does not hold is its own leftover: its
// previous run was killed, or an acquire's answer was lost. It is revoked once the shell has
// reported our gate closed since this guard started (the next holder need not wait out the TTL).
//
// Losing etcd (no answer for longer than the TTL), `on_loss`:
// - "fence" (default): no writer without a lease. The holder fences at fenceAtMs, then steps down;
//   nobody writes until etcd answers. Guarantee: at most one host acknowledges writes at any instant
//   (given the drift bound), whatever the partition; availability needs etcd.
// - "keep": the holder keeps writing after its deadline (Redis stays writable, it does not step
//   down), and no other host may start writing without the lease. This CANNOT be made safe if etcd
//   is lost by the holder alone: the lease expires, a host that reaches etcd and wins VRRP acquires
//   it. What protects the data then is what protects it without etcd: VRRP keeps the VIP on the
//   holder while it advertises, and the embedded rules (member quorum, the takeover's catch-up and
//   fence of the old Redis, the history rule) stop a cut-off holder. Guarantee: the embedded one
//   for the current writer, the lease's for every new writer.
// - "embedded": while etcd is lost, the lease guard stands aside and the embedded rules alone
//   decide, for the holder and for a new master alike (writes go on through a failover without
//   etcd); once etcd answers, a master must acquire the lease again (or fence and step down if
//   someone else holds it). Guarantee: the embedded one while etcd is lost.
// A host cannot tell "etcd is down" from "etcd is cut off from me"; each choice is a trade between
// those two cases, stated above, not a detection.


import type { VrrpState } from '@redkeep/vrrp';
import { Lineage, type ReplicationFacts, divergedBytes, succeeds } from './history.js';

/** Entries of replication history kept in the keys (newest first). */
export const HISTORY_LIMIT = 8;
/** etcd's leases have whole-second TTLs, and etcd raises short ones to its minimum. */
export const MIN_LEASE_TTL_MS = 2000;
/** Pause before a failed request is tried again. */
export const LEASE_RETRY_MS = 100;

export type OnLoss = 'fence' | 'keep' | 'embedded';

/** One replication history a holder wrote under: its replid and the offset last recorded. */
export interface HistoryEntry {
  readonly replId: string;
  readonly offset: number;
}

/** The value of <prefix><instance>/leader (on the holder's lease). */
export interface LeaderRecord {
  readonly holder: string;
  readonly advert: string;
  readonly redis: string;
  readonly history: readonly HistoryEntry[];
}

/** Whether a leader record names this host: the same holder, advert and Redis address. */
function isSelf(r: LeaderRecord | undefined, self: LeaseSettings['self']): boolean {
  return r !== undefined && r.holder === self.holder && r.advert === self.advert && r.redis === self.redis;
}

/** The value of <prefix><instance>/history (no lease). */
export interface HistoryRecord {
  readonly holder: string;
  readonly history: readonly HistoryEntry[];
}

export interface LeaseSettings {
  /** The TTL asked for; the one etcd grants is used from then on. */
  readonly ttlMs: number;
  readonly onLoss: OnLoss;
  /** Bound on how far this host's and etcd's clocks run from real time (0.01: 1 %). */
  readonly maxDriftRatio: number;
  /** Time the shell needs to close Redis' write gate once told to. */
  readonly applyMs: number;
  /** Who we are, as written in the leader key. */
  readonly self: { readonly holder: string; readonly advert: string; readonly redis: string };
}

/** The default TTL: Master_Down_Interval in whole seconds, at least etcd's minimum. */
export function defaultLeaseTtlMs(masterDownIntervalMs: number): number {
  return Math.max(MIN_LEASE_TTL_MS, Math.ceil(masterDownIntervalMs / 1000) * 1000);
}

/**
 * The local time by which writes are refused: a lease renewed (or granted) by a request started at
 * `startedMs` lives on etcd until at least startedMs + ttl in real time; both clocks drift.
 */
export function fenceAtMs(startedMs: number, ttlMs: number, maxDriftRatio: number, applyMs: number): number {
  return startedMs + (1 - maxDriftRatio) * (ttlMs / (1 + maxDriftRatio) - applyMs);
}

function historyFacts(replId: string, offset: number, replId2?: string): ReplicationFacts {
  return {
    role: 'master', runId: undefined, replId, replId2, secondReplOffset: undefined, replOffset: offset,
    masterHost: undefined, masterPort: undefined, masterLinkUp: false, syncInProgress: false, keys: 0, replicas: [],
  };
}

export type HistoryCover = { readonly ok: true; readonly why: string } | { readonly ok: false; readonly why: string };

/**
 * The history rule for a new holder: our Redis must have everything the recorded history holds up
 * to its last recorded offset: the same replid at or beyond it, promoted from it after all of it,
 * or descending from it (the recorded chain, or what our agent saw) with offsets at or beyond it.
 */
export function coversHistory(local: ReplicationFacts | undefined, recordedAll: readonly HistoryEntry[], seen?: Lineage): HistoryCover {
  // Entries in front at offset 0 hold no bytes (a fresh Redis that held the lease for a moment,
  // say at start, when two hosts were VRRP master at once): nothing to cover there. Without this
  // no Redis could ever cover them again, and no host could take the lease.
  const skip = recordedAll.findIndex((e) => e.offset > 0);
  const recorded = skip < 0 ? [] : recordedAll.slice(skip);
  const newest = recorded[0];
  if (newest === undefined) return { ok: true, why: 'no history recorded yet' };
  if (local?.replId === undefined) return { ok: false, why: 'our Redis did not answer INFO' };
  if (local.replId === newest.replId) {
    return local.replOffset >= newest.offset
      ? { ok: true, why: 'same history, at or beyond the recorded offset' }
      : { ok: false, why: `same history, but at offset ${local.replOffset}, behind the recorded ${newest.offset}` };
  }
  const last = historyFacts(newest.replId, newest.offset);
  if (succeeds(local, last) && local.secondReplOffset !== undefined) {
    const missing = divergedBytes(local, last);
    return missing === 0 ? { ok: true, why: 'promoted from the recorded history after all of it' } : { ok: false, why: `promoted from the recorded history ${missing} bytes before its recorded end` };
  }
  const chain = new Lineage();
  for (let i = recorded.length - 1; i > 0; i--) {
    const older = recorded[i];
    const newer = recorded[i - 1];
    if (older !== undefined && newer !== undefined) chain.observe(historyFacts(newer.replId, newer.offset, older.replId));
  }
  if (chain.descends(local.replId, newest.replId) || (seen?.descends(local.replId, newest.replId) ?? false)) {
    return local.replOffset >= newest.offset ? { ok: true, why: 'descends from the recorded history, beyond its offset' } : { ok: false, why: `descends from the recorded history but is behind its offset (${local.replOffset} < ${newest.offset})` };
  }
  return { ok: false, why: `unrelated to the recorded history (ours ${local.replId} at ${local.replOffset}, recorded ${newest.replId} at ${newest.offset})` };
}

/**
 * The history a holder records: the newest entry's offset moves on, a new replid goes in front.
 * A master with replicas records the offset its best replica acknowledged, not its own: what a
 * successor can have. Its own last bytes may be on no replica yet (Redis replicates
 * asynchronously); recording them would leave no host that may take the lease after a crash.
 */
export function recordHistory(recorded: readonly HistoryEntry[], local: ReplicationFacts | undefined): readonly HistoryEntry[] {
  if (local?.replId === undefined) return recorded;
  const offset = local.role === 'master' && local.replicas.length > 0 ? Math.min(local.replOffset, Math.max(...local.replicas.map((r) => r.offset))) : local.replOffset;
  const newest = recorded[0];
  if (newest?.replId === local.replId) {
    return offset > newest.offset ? [{ replId: local.replId, offset }, ...recorded.slice(1)] : recorded;
  }
  // A new history with no bytes yet goes in once it has some (coversHistory skips such entries).
  if (offset === 0) return recorded;
  return [{ replId: local.replId, offset }, ...recorded].slice(0, HISTORY_LIMIT);
}

export interface ObservedLeader {
  readonly record: LeaderRecord | undefined;
  readonly leaseId: string;
  /** The leader key's create revision. */
  readonly term: number;
}

export type LeaseEvent =
  | { readonly type: 'vrrp'; readonly state: VrrpState | 'waiting' }
  /** The shell saw the leader key change (an etcd watch): the last read is stale. */
  | { readonly type: 'leader-changed' }
  | { readonly type: 'local'; readonly facts: ReplicationFacts | undefined }
  /** Redis' write gate as the shell last applied it: closed means our Redis acknowledges nothing. */
  | { readonly type: 'gate'; readonly closed: boolean }
  /** The shell is sending request `id` now (just before the call). */
  | { readonly type: 'started'; readonly id: number; readonly nowMs: number }
  | { readonly type: 'done'; readonly id: number; readonly nowMs: number; readonly result: LeaseResult };

export type LeaseResult =
  | { readonly ok: true; readonly kind: 'read'; readonly leader: ObservedLeader | undefined; readonly history: HistoryRecord | undefined; readonly historyRevision: number }
  | { readonly ok: true; readonly kind: 'acquired'; readonly leaseId: string; readonly term: number; readonly ttlMs: number }
  | { readonly ok: true; readonly kind: 'renewed'; readonly ttlMs: number }
  | { readonly ok: true; readonly kind: 'released' }
  /** taken / changed: the acquire transaction's compare failed; lease-not-found: etcd expired it. */
  | { readonly ok: false; readonly reason: 'taken' | 'changed' | 'lease-not-found' | 'error'; readonly detail?: string };

export type LeaseRequest =
  | { readonly type: 'read'; readonly id: number; readonly timeoutMs: number }
  | {
      readonly type: 'acquire'; readonly id: number; readonly timeoutMs: number; readonly ttlMs: number;
      /** The history key's mod revision as read (0: absent); the transaction compares it. */
      readonly historyRevision: number;
      readonly leader: LeaderRecord;
      readonly history: HistoryRecord;
    }
  | {
      readonly type: 'renew'; readonly id: number; readonly timeoutMs: number; readonly leaseId: string;
      /** The history to write (guarded: only while the leader key is on our lease), when it moved on. */
      readonly history: HistoryRecord | undefined;
    }
  | { readonly type: 'release'; readonly id: number; readonly timeoutMs: number; readonly leaseId: string };

export interface LeaseVerdict {
  /** allow: the lease guard does not object (the embedded guards still apply); refuse: the write gate must close. */
  readonly writes: 'allow' | 'refuse';
  /** Step down (the shell: Fault): another host should be master. */
  readonly stepDown: boolean;
  readonly why: string;
}

export interface LeaseStatus {
  readonly held: boolean;
  readonly term: number | undefined;
  readonly ttlMs: number;
  /** Local time the writes stop without a renew (held only). */
  readonly fenceAtMs: number | undefined;
  readonly lastContactMs: number | undefined;
  readonly holder: string | undefined;
  readonly historyCheck: string | undefined;
  readonly counters: LeaseCounters;
}

export interface LeaseCounters {
  acquired: number;
  renewed: number;
  renewFailed: number;
  fenced: number;
  lost: number;
  released: number;
  /** Inputs that make no sense in the state (a done for no request): bugs of the shell. */
  unexpected: number;
}

interface Held {
  readonly leaseId: string;
  readonly term: number;
  ttlMs: number;
  lastRenewStartMs: number;
  written: readonly HistoryEntry[];
}

interface InFlight {
  readonly id: number;
  readonly type: LeaseRequest['type'];
  startedMs: number | undefined;
}

export class LeaseGuard {
  private vrrp: VrrpState | 'waiting' = 'waiting';
  private local: ReplicationFacts | undefined;
  private gateClosed = true;
  /** Whether the shell reported the gate at all (a leftover lease is revoked only on a report). */
  private gateReported = false;
  /** The leader key changed since the last read was sent (the shell's watch). */
  private leaderChanged = false;
  /** The lease of a leader key naming us that we do not hold (a leftover of our previous run). */
  private leftover: string | undefined;
  private held: Held | undefined;
  private inFlight: InFlight | undefined;
  private nextId = 1;
  private retryAtMs = -Infinity;
  private firstMs: number | undefined;
  private lastContactMs: number | undefined;
  /** The last read: undefined until etcd answered one; cleared when acting on it (acquire) so the next decision reads again. */
  private observed: { readonly atMs: number; readonly leader: ObservedLeader | undefined; readonly history: HistoryRecord | undefined; readonly revision: number } | undefined;
  private historyCheck: HistoryCover | undefined;
  /** A lease we gave up (never written under again) whose revoke has not been answered yet. */
  private releasing: { readonly leaseId: string; readonly untilMs: number } | undefined;
  private ttlMs: number;
  /** The renew whose deadline was last missed (the fence counter counts each once). */
  private fencedAfter: number | undefined;
  readonly counters: LeaseCounters = { acquired: 0, renewed: 0, renewFailed: 0, fenced: 0, lost: 0, released: 0, unexpected: 0 };

  constructor(private readonly settings: LeaseSettings, private readonly seen?: Lineage) {
    this.ttlMs = settings.ttlMs;
  }

  handle(e: LeaseEvent): void {
    switch (e.type) {
      case 'vrrp':
        this.vrrp = e.state;
        return;
      case 'local':
        this.local = e.facts;
        return;
      case 'gate':
        this.gateClosed = e.closed;
        this.gateReported = true;
        return;
      case 'leader-changed':
        // Read again at the next request; a read in flight may answer from before the change.
        this.leaderChanged = true;
        return;
      case 'started':
        this.clock(e.nowMs);
        if (this.inFlight?.id !== e.id || this.inFlight.startedMs !== undefined) this.counters.unexpected++;
        else this.inFlight.startedMs = e.nowMs;
        return;
      case 'done':
        this.clock(e.nowMs);
        this.done(e.id, e.nowMs, e.result);
        return;
    }
  }

  private clock(nowMs: number): void {
    this.firstMs ??= nowMs;
  }

  private done(id: number, nowMs: number, r: LeaseResult): void {
    const f = this.inFlight;
    if (f?.id !== id || f.startedMs === undefined) {
      this.counters.unexpected++;
      return;
    }
    this.inFlight = undefined;
    const startedMs = f.startedMs;
    if (!r.ok) {
      if (r.reason !== 'error') this.lastContactMs = nowMs;
      this.retryAtMs = nowMs + LEASE_RETRY_MS;
      if (r.reason === 'lease-not-found' && this.held !== undefined) {
        // etcd expired or revoked it: we hold nothing, whatever our deadline says.
        this.held = undefined;
        this.counters.lost++;
      }
      if (f.type === 'renew' && r.reason === 'error') this.counters.renewFailed++;
      if (f.type === 'release' && r.reason !== 'error') this.releasing = undefined;
      if (f.type === 'acquire') this.observed = undefined;
      return;
    }
    this.lastContactMs = nowMs;
    switch (r.kind) {
      case 'read':
        if (f.type !== 'read') break;
        this.observed = { atMs: nowMs, leader: r.leader, history: r.history, revision: r.historyRevision };
        if (this.held !== undefined && r.leader?.leaseId !== this.held.leaseId) {
          // The key is gone or on someone else's lease: ours is over.
          this.held = undefined;
          this.counters.lost++;
        }
        this.leftover = this.held === undefined && r.leader !== undefined && isSelf(r.leader.record, this.settings.self) ? r.leader.leaseId : undefined;
        return;
      case 'acquired':
        if (f.type !== 'acquire') break;
        this.ttlMs = r.ttlMs;
        this.held = { leaseId: r.leaseId, term: r.term, ttlMs: r.ttlMs, lastRenewStartMs: startedMs, written: this.pendingHistory ?? [] };
        this.observed = undefined;
        this.counters.acquired++;
        return;
      case 'renewed':
        if (f.type !== 'renew' || this.held === undefined) break;
        this.ttlMs = r.ttlMs;
        this.held.ttlMs = r.ttlMs;
        this.held.lastRenewStartMs = startedMs;
        if (this.pendingHistory !== undefined) this.held.written = this.pendingHistory;
        this.counters.renewed++;
        return;
      case 'released':
        if (f.type !== 'release') break;
        this.releasing = undefined;
        this.observed = undefined;
        this.counters.released++;
        return;
    }
    this.counters.unexpected++;
  }

  /** The history sent with the request in flight (acquire or renew). */
  private pendingHistory: readonly HistoryEntry[] | undefined;

  private fenceAt(h: Held): number {
    return fenceAtMs(h.lastRenewStartMs, h.ttlMs, this.settings.maxDriftRatio, this.settings.applyMs);
  }

  /** Whether etcd may still have our lease (a generous bound: fenceAt is the strict one). */
  private leaseMayLive(nowMs: number): boolean {
    return this.held !== undefined && nowMs < this.leaseMayLiveUntil(this.held);
  }

  private leaseMayLiveUntil(h: Held): number {
    return h.lastRenewStartMs + h.ttlMs * (1 + this.settings.maxDriftRatio) ** 2 + this.settings.applyMs;
  }

  /** etcd has not answered for longer than the TTL. */
  private etcdLost(nowMs: number): boolean {
    const since = this.lastContactMs ?? this.firstMs ?? nowMs;
    return nowMs - since > this.ttlMs;
  }

  verdict(nowMs: number): LeaseVerdict {
    this.clock(nowMs);
    const onLoss = this.settings.onLoss;
    const h = this.held;
    const lost = this.etcdLost(nowMs);
    if (this.vrrp !== 'master') {
      // In every state, so that a host that could not hold the lease does not win VRRP only to
      // step down again (and back).
      const why = h ? 'not the VRRP master: the lease is released once writes are refused' : 'not the VRRP master';
      if (lost && onLoss === 'fence') return { writes: 'refuse', stepDown: true, why: `${why}; etcd has not answered for longer than the lease TTL` };
      if (this.historyCheck?.ok === false) return { writes: 'refuse', stepDown: true, why: `${why}; may not take the lease: ${this.historyCheck.why}` };
      return { writes: 'refuse', stepDown: false, why };
    }
    if (h !== undefined && nowMs < this.fenceAt(h)) return { writes: 'allow', stepDown: false, why: `holds the lease (term ${h.term})` };
    if (h !== undefined && this.fencedAfter !== h.lastRenewStartMs) {
      // Counted once per deadline missed (a renew that succeeds later starts a new one).
      this.fencedAfter = h.lastRenewStartMs;
      this.counters.fenced++;
    }
    if (h !== undefined && onLoss !== 'fence') return { writes: 'allow', stepDown: false, why: `lease not renewed in time; on_loss = "${onLoss}": the holder keeps writing` };
    if (lost && onLoss === 'embedded') return { writes: 'allow', stepDown: false, why: 'etcd lost: on_loss = "embedded", the embedded rules decide' };
    if (h !== undefined && this.leaseMayLive(nowMs)) return { writes: 'refuse', stepDown: false, why: `lease (term ${h.term}) not renewed in time: writes refused before etcd can expire it; still renewing` };
    if (h !== undefined) return { writes: 'refuse', stepDown: true, why: `lease (term ${h.term}) not renewed and expired by now: stepping down` };
    if (lost) return { writes: 'refuse', stepDown: true, why: 'etcd has not answered for longer than the lease TTL: no lease, no writes' };
    if (this.historyCheck?.ok === false) return { writes: 'refuse', stepDown: true, why: `may not take the lease: ${this.historyCheck.why}` };
    const other = this.observed?.leader;
    if (other !== undefined) return { writes: 'refuse', stepDown: false, why: `waiting for the lease held by ${other.record?.holder ?? 'an unknown holder'} (term ${other.term}) to end` };
    return { writes: 'refuse', stepDown: false, why: 'acquiring the lease' };
  }

  /** The next etcd request to send, if any (one at a time). */
  request(nowMs: number): LeaseRequest | undefined {
    this.clock(nowMs);
    if (this.inFlight !== undefined || nowMs < this.retryAtMs) return undefined;
    const timeoutMs = Math.max(100, Math.floor(this.ttlMs / 3));
    const h = this.held;
    if (h !== undefined && this.vrrp !== 'master' && !this.leaseMayLive(nowMs)) this.held = undefined;
    if (h !== undefined && this.held !== undefined) {
      // Revoke only once our Redis refuses writes: the next holder may start at once. Until then
      // the lease is renewed below, so that no other host starts writing while ours may still
      // acknowledge (a frozen Redis answers nothing, and takes writes again when it wakes up).
      if (this.vrrp !== 'master' && this.gateClosed) {
        // From now on the lease is not ours to write under, whatever VRRP says next: a master
        // again acquires a new one. A failed revoke is tried again while the lease may live.
        this.held = undefined;
        this.releasing = { leaseId: h.leaseId, untilMs: this.leaseMayLiveUntil(h) };
        return this.send({ type: 'release', id: this.nextId, timeoutMs, leaseId: h.leaseId });
      }
      if (nowMs < h.lastRenewStartMs + h.ttlMs / 3) {
        // Our key changed under us (deleted by hand, our lease revoked early): read it; a key that
        // is gone or on another lease ends ours (done()), and the gate closes. A renew that is
        // due goes first.
        if (!this.leaderChanged) return undefined;
        this.leaderChanged = false;
        return this.send({ type: 'read', id: this.nextId, timeoutMs });
      }
      // Only a master's Redis writes history; one that left master records nothing more.
      const next = this.vrrp === 'master' ? recordHistory(h.written, this.local) : h.written;
      this.pendingHistory = next;
      const history = next === h.written ? undefined : { holder: this.settings.self.holder, history: next };
      return this.send({ type: 'renew', id: this.nextId, timeoutMs, leaseId: h.leaseId, history });
    }
    const left = this.leftover;
    if (left !== undefined && this.held === undefined && this.releasing === undefined && this.gateReported && this.gateClosed) {
      // Our own leftover (a previous run, a lost answer): nothing writes under it here (our gate
      // is closed), so it is revoked rather than left to expire.
      this.leftover = undefined;
      this.releasing = { leaseId: left, untilMs: nowMs + this.ttlMs * (1 + this.settings.maxDriftRatio) ** 2 + this.settings.applyMs };
      return this.send({ type: 'release', id: this.nextId, timeoutMs, leaseId: left });
    }
    const rel = this.releasing;
    if (rel !== undefined) {
      if (nowMs < rel.untilMs) return this.send({ type: 'release', id: this.nextId, timeoutMs, leaseId: rel.leaseId });
      this.releasing = undefined;
    }
    const o = this.observed;
    // The history rule is checked while the key is free (as last read): whether this host could
    // take the lease. A backup checks it too: one that could not steps down, so that it
    // does not win VRRP only to stand aside again.
    this.historyCheck = o !== undefined && o.leader === undefined ? coversHistory(this.local, o.history?.history ?? [], this.seen) : undefined;
    if (this.vrrp === 'master' && o !== undefined && o.leader === undefined && this.historyCheck?.ok === true) {
      // The transaction compares the key's absence and the history's revision: a read that aged changes nothing.
      return this.acquire(o, timeoutMs);
    }
    // Read: the first time, then while the key is someone else's (until it is gone) or our data
    // does not cover the history (until it does); a backup less often (who holds it, whether etcd
    // answers us: a host etcd does not answer stays stepped down).
    const everyMs = this.vrrp === 'master' ? this.readEveryMs() : this.ttlMs / 3;
    if (o !== undefined && !this.leaderChanged && nowMs < o.atMs + everyMs) return undefined;
    this.leaderChanged = false;
    return this.send({ type: 'read', id: this.nextId, timeoutMs });
  }

  private readEveryMs(): number {
    return Math.min(250, this.ttlMs / 3);
  }

  private acquire(o: NonNullable<LeaseGuard['observed']>, timeoutMs: number): LeaseRequest {
    const history = recordHistory(o.history?.history ?? [], this.local);
    this.pendingHistory = history;
    const self = this.settings.self;
    return this.send({
      type: 'acquire', id: this.nextId, timeoutMs, ttlMs: this.settings.ttlMs, historyRevision: o.revision,
      leader: { holder: self.holder, advert: self.advert, redis: self.redis, history },
      history: { holder: self.holder, history },
    });
  }

  private send<R extends LeaseRequest>(r: R): R {
    this.nextId++;
    this.inFlight = { id: r.id, type: r.type, startedMs: undefined };
    return r;
  }

  /** When to call verdict/request again at the latest (a spurious call is harmless). */
  nextDeadlineMs(nowMs: number): number {
    const at: number[] = [this.retryAtMs];
    const h = this.held;
    if (h !== undefined) at.push(this.fenceAt(h), h.lastRenewStartMs + h.ttlMs / 3, this.leaseMayLiveUntil(h));
    if (this.observed !== undefined) at.push(this.observed.atMs + (this.vrrp === 'master' ? this.readEveryMs() : this.ttlMs / 3));
    at.push((this.lastContactMs ?? this.firstMs ?? nowMs) + this.ttlMs + 1);
    const future = at.filter((t) => t > nowMs);
    return future.length > 0 ? Math.min(...future) : nowMs + this.ttlMs / 3;
  }

  /**
   * The fence deputy's deadline (agent/src/etcd/fence-deputy.ts: a second process that closes the
   * gate when this agent cannot): with on_loss "fence", the holder's fence deadline; none while
   * no lease is held (the agent refuses writes itself then) or when on_loss lets the holder write
   * on past the deadline.
   */
  deputyDeadlineMs(): number | undefined {
    if (this.settings.onLoss !== 'fence' || this.held === undefined) return undefined;
    return this.fenceAt(this.held);
  }

  status(nowMs: number): LeaseStatus {
    const h = this.held;
    void nowMs;
    return {
      held: h !== undefined, term: h?.term, ttlMs: this.ttlMs, fenceAtMs: h ? this.fenceAt(h) : undefined,
      lastContactMs: this.lastContactMs, holder: this.observed?.leader?.record?.holder ?? (h ? this.settings.self.holder : undefined),
      historyCheck: this.historyCheck?.why, counters: { ...this.counters },
    };
  }
}
