// A deterministic simulation of a whole redkeep cluster: hosts on one LAN, each with a simulated
// redis-server and an agent made of the real cores (@redkeep/vrrp's VrrpInstance, this package's
// DataGuard, RolePolicy and write gate) inside a small shell that mirrors the agent's own
// (agent/src/daemon/instance-runner.ts, agent/src/redis/guard-runner.ts, supervisor.ts): a serial
// action queue (a promotion holds the adverts behind it), the guard's period, the members'
// polls, the master watch, the takeover's catch-up, the pause check. Clients write through the
// VIP with an ARP cache that only gratuitous ARPs and re-resolution change. Faults: partitions of
// any set, one-way loss, SIGSTOP of Redis or the agent, kill -9 of either, restarts with or
// without data, host crashes, switchovers. A virtual clock, no timers: a seed replays a run.

import { KEEPALIVED_GARP_DEFAULTS, type VrrpAction, type VrrpAdvert, VrrpInstance, type VrrpState, electedBackup, masterDownIntervalMs } from '@redkeep/vrrp';
import { seededRandom } from '@redkeep/vrrp/sim';
import { DataGuard, type PeerView, defaultQuorum } from '../data-guard.js';
import { LeaseGuard, type LeaseRequest, type LeaseVerdict, type OnLoss, defaultLeaseTtlMs } from '../lease-guard.js';
import { type CatchUpOutcome, RolePolicy, type RoleStep } from '../role-policy.js';
import { REFUSE_ALL, originalGate, wantedGate } from '../write-gate.js';
import { type MemberChannels, stateChannel, successorCandidates } from '../handover.js';
import type { ReplicationFacts } from '../history.js';
import { RedisHosts } from '../redis-hosts.js';
import { type EtcdCall, SimEtcd, SimLeaseStore } from './sim-etcd.js';
import { SimRedis } from './sim-redis.js';

export const FENCE = { host: '127.0.0.1', port: 1 } as const;
const REDIS_PORT = 6379;
const VIP = '192.0.2.50';
/** Where etcd is, for the partition model: a place a host may or may not reach, like another host. */
export const ETCD = 'etcd';

/** Strict mode (`[agent] etcd`): an etcd lease on top of the embedded guards. */
export interface StrictOptions {
  readonly onLoss: OnLoss;
  /** lease_ttl; default the agent's (Master_Down_Interval in whole seconds, at least 2 s). */
  readonly ttlMs?: number;
  /** Test-only: false runs without the fence deputy, to show what it prevents. */
  readonly deputy?: boolean;
}

export interface WorldOptions {
  readonly hosts: number;
  readonly seed: number;
  readonly advertIntervalMs?: number;
  readonly preempt?: boolean;
  /** Clients writing through the VIP, each on the LAN; default 2. */
  readonly clients?: number;
  readonly writeEveryMs?: number;
  /** Strict mode; off by default (then nothing of it exists in the world, and runs are as before). */
  readonly strict?: StrictOptions;
}

/** The timings the agent uses at this advert interval (agent/src/config/redis-config.ts). */
export function agentTimings(advertIntervalMs: number): { guardPeriodMs: number; isolationTimeoutMs: number } {
  const guardPeriodMs = Math.min(250, Math.max(50, Math.round(advertIntervalMs / 2)));
  const isolationTimeoutMs = Math.max(200, Math.min(2 * advertIntervalMs, 3 * advertIntervalMs - 2 * guardPeriodMs));
  return { guardPeriodMs, isolationTimeoutMs };
}

/** The agent's constants (supervisor.ts). */
const CATCH_UP_CONNECT_MS = 100;
const CATCH_UP_MAX_MS = 500;
/** How long a takeover waits for our Redis to sync from a member master before catching up from it. */
const CATCH_UP_SYNC_MS = 1500;
const MASTER_WATCH_HEARTBEAT_MS = 500;
const SUPERVISOR_PERIOD_MS = 1000;
const REDIS_TRACK_INTERVAL_MS = 100;
const FULL_SYNC_MS = 60;
const REPL_TICK_MS = 5;
const REPL_ACK_MS = 1000;
/** Redis' repl-timeout: a replication link over a dead path is noticed this late. */
const REPL_TIMEOUT_MS = 60_000;
/** The clients' timeouts (the lab's writer): a SYN nobody answers, a command nobody answers. */
const CLIENT_CONNECT_TIMEOUT_MS = 200;
const CLIENT_COMMAND_TIMEOUT_MS = 500;
/** TCP retransmits an unanswered segment after this (Linux' minimum RTO); the ARP cache may name another host by then. */
const TCP_RTO_MS = 200;
/** A client that got no answer this long resolves the VIP again (ARP). */
const CLIENT_REARP_MS = 1000;
/** After a takeover, how often the previous master's Redis is looked at while our promotion runs, and for how long (supervisor.ts). */
const PEER_AFTER_TAKEOVER_RETRY_MS = 10;
const PEER_AFTER_TAKEOVER_SOON_MS = 3000;
const VRID = 51;
/** The lease guard's settings in the agent (agent.ts startLease). */
const LEASE_MAX_DRIFT = 0.01;
/** The fence deputy fences this much ahead of the deadline (fence-deputy.ts DEPUTY_LEAD_MS). */
const DEPUTY_LEAD_MS = 20;
/** etcd is a network hop away: each way takes this much plus up to ETCD_JITTER_MS. */
const ETCD_LATENCY_MS = 1;
const ETCD_JITTER_MS = 2;

/** The lease timings the agent uses (agent.ts startLease), for the agents and the checker. */
export function leaseTimings(strict: StrictOptions, advertIntervalMs: number, priority: number): { ttlMs: number; applyMs: number; callTimeoutMs: number } {
  const ttlMs = strict.ttlMs ?? defaultLeaseTtlMs(masterDownIntervalMs(3, priority, advertIntervalMs / 10));
  // The data guard's next look closes the gate: a read of INFO and a CONFIG SET.
  const applyMs = Math.max(500, 2 * agentTimings(advertIntervalMs).guardPeriodMs);
  // One etcd call's deadline (openLeaseStore's callTimeoutMs).
  return { ttlMs, applyMs, callTimeoutMs: Math.max(100, Math.floor(ttlMs / 6)) };
}

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

class Heap {
  private readonly a: Timer[] = [];
  get size(): number {
    return this.a.length;
  }
  push(t: Timer): void {
    const a = this.a;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p] as Timer, t)) break;
      a[i] = a[p] as Timer;
      i = p;
    }
    a[i] = t;
  }
  peek(): Timer | undefined {
    return this.a[0];
  }
  pop(): Timer | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mv = last;
        if (l < a.length && less(a[l] as Timer, mv)) {
          m = l;
          mv = a[l] as Timer;
        }
        if (r < a.length && less(a[r] as Timer, mv)) m = r;
        if (m === i) break;
        a[i] = a[m] as Timer;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
function less(x: Timer, y: Timer): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
}

/** The VRRP simulation's seedable generator (mulberry32), so that one seed means one run. */
export { seededRandom };

export interface Ack {
  readonly id: number;
  readonly host: string;
  readonly atMs: number;
  readonly client: number;
}

export interface WorldEvent {
  readonly atMs: number;
  readonly host: string;
  readonly what: string;
}

type Thunk = (done: () => void) => void;

/** One host's agent: the real cores in a shell like the agent's. */
class Agent {
  readonly vrrp: VrrpInstance;
  readonly guard: DataGuard;
  readonly policy: RolePolicy;
  epoch: number;
  /** Frozen (SIGSTOP): what would run now waits until SIGCONT. */
  paused = false;
  private deferred: (() => void)[] = [];
  private queue: Thunk[] = [];
  private queueBusy = false;
  private vrrpTimerSeq = 0;
  private lastMaster: string | undefined;
  private followedMaster: string | undefined;
  private readonly advertSeen = new Map<string, number>();
  private original: { toWrite: number; maxLag: number } | undefined;
  private verdictOk: boolean | undefined;
  private quorumOk: boolean | undefined;
  private redisTrack = { ok: false, run: 0 };
  private watch: { host: string; up: boolean; lastAnswerMs: number; runId: string | undefined } | undefined;
  private switching = false;
  /** During a hand-over of ours: the successor whose Redis we listen on for its "holds" notice. */
  watchingSuccessor: string | undefined;
  /** Previous masters' Redis being looked at after a takeover (fencePeer), and the nudges for when our promotion is done. */
  private readonly fencing = new Set<string>();
  private readonly peerNudges = new Set<() => void>();
  private readonly peerSeen = new Map<string, { lastAnswerMs: number | undefined; redis: PeerView['redis']; facts: ReplicationFacts | undefined; factsAtMs: number }>();
  private guardWaiting = false;
  private reconcileScheduled = false;
  /** Members (this host included) a quorum needs: etcd is one more voter in strict mode unless on_loss is "embedded". */
  readonly quorum: number;
  /** Whether the write gate was last applied closed (guard-runner.ts `refusing`). */
  private gateRefusing = false;
  /** Strict mode: the lease guard and its shell (lease-runner.ts), undefined without it. */
  private readonly lease: { readonly guard: LeaseGuard; readonly store: SimLeaseStore; verdict: LeaseVerdict | undefined; busy: boolean; timerSeq: number; trackOk: boolean } | undefined;

  constructor(
    private readonly w: World,
    readonly host: Host,
    epoch: number,
  ) {
    this.epoch = epoch;
    const { isolationTimeoutMs } = w.timings;
    const members = w.hosts.map((h) => h.address);
    this.vrrp = new VrrpInstance({
      name: host.name,
      vrid: VRID,
      version: 3,
      family: 'ipv4',
      priority: host.priority,
      advertIntervalCs: w.advertIntervalMs / 10,
      preempt: w.preempt,
      preemptDelayMs: 0,
      primaryAddress: host.address,
      virtualAddresses: [VIP],
      garp: KEEPALIVED_GARP_DEFAULTS,
      members,
      tracks: [
        { name: 'redis-safety', weight: 0, initiallyOk: true },
        { name: 'redis-data', weight: -253, initiallyOk: false },
        { name: 'redis-quorum', weight: 0, initiallyOk: false },
        { name: 'redis-alive', weight: 0, initiallyOk: false },
        // Strict mode's step-down (instance-runner.ts: Fault, initially ok).
        ...(w.strict ? [{ name: 'etcd-lease', weight: 0, initiallyOk: true }] : []),
      ],
    });
    const others = members.filter((m) => m !== host.address);
    // Every simulated Redis is at its host's advert address.
    const hosts = new RedisHosts({ members });
    this.quorum = defaultQuorum(others.length + 1);
    this.guard = new DataGuard({ memberTimeoutMs: isolationTimeoutMs, quorum: this.quorum, maxLinkDownMs: 5000, maxLagBytes: 1024 * 1024, fence: FENCE, hosts });
    this.policy = new RolePolicy({ manageRole: true, peerPort: REDIS_PORT, fence: FENCE, catchUpWaitMs: CATCH_UP_MAX_MS + 2 * CATCH_UP_CONNECT_MS, hosts });
    this.policy.selfAddress = host.address;
    for (const o of others) this.peerSeen.set(o, { lastAnswerMs: undefined, redis: 'unknown', facts: undefined, factsAtMs: 0 });
    if (w.strict) {
      const t = leaseTimings(w.strict, w.advertIntervalMs, host.priority);
      const guard = new LeaseGuard(
        { ttlMs: t.ttlMs, onLoss: w.strict.onLoss, maxDriftRatio: LEASE_MAX_DRIFT, applyMs: t.applyMs, self: { holder: host.name, advert: host.address, redis: `${host.address}:${REDIS_PORT}` } },
        this.policy.lineage,
      );
      const call: EtcdCall = (op, answer) => w.etcdCall(this, t.callTimeoutMs, op, answer);
      const store = new SimLeaseStore(call, (ms, fn) => this.later(ms, fn));
      this.lease = { guard, store, verdict: undefined, busy: false, timerSeq: 0, trackOk: true };
    }
  }

  get alive(): boolean {
    return this.host.agent === this && this.epoch === this.host.agentEpoch;
  }

  /** Runs `fn` after `ms` on this agent's clock: late if the agent is frozen, never if it died. */
  later(ms: number, fn: () => void): void {
    const epoch = this.epoch;
    this.w.at(this.w.nowMs + ms, () => {
      if (!this.alive || this.epoch !== epoch) return;
      if (this.paused) this.deferred.push(fn);
      else fn();
    });
  }

  /** A message reaching this agent (an advert): queued in the socket while frozen. */
  receive(fn: () => void): void {
    if (!this.alive) return;
    if (this.paused) this.deferred.push(fn);
    else fn();
  }

  resume(): void {
    this.paused = false;
    const d = this.deferred;
    this.deferred = [];
    for (const fn of d) {
      if (!this.alive || this.paused) {
        if (this.paused) this.deferred.push(fn);
        continue;
      }
      fn();
    }
  }

  start(): void {
    // The VIP reconciler: a VIP an earlier (killed) agent left behind goes until VRRP wants it.
    this.host.vipHeld = false;
    this.input({ type: 'start' });
    this.later(this.w.timings.guardPeriodMs, () => this.guardTick());
    this.later(0, () => this.redisCheck());
    this.later(SUPERVISOR_PERIOD_MS, () => this.supervisorTick());
    if (this.lease) {
      this.lease.guard.handle({ type: 'vrrp', state: this.vrrp.state });
      this.leaseStep();
    }
  }

  // ---- strict mode's lease, as lease-runner.ts and agent.ts startLease run it ----------------

  /**
   * Strict mode: our Redis is promoted only while the lease guard lets it acknowledge writes (the
   * lease held, or on_loss "embedded" standing aside): a VRRP master without the lease keeps its
   * Redis as it is, so it cannot discard what the holder acknowledged, and the history rule
   * decides whether it may take the lease at all. Without strict mode, always.
   */
  private mayPromote(): boolean {
    return this.leaseRefusal() === undefined;
  }

  /** A takeover that waited for the lease: its hand-over flag, for the promotion once the lease is ours. */
  private promoteWaiting: { handedOver: boolean } | undefined;
  /** promoteLate() queued the promotion. */
  private promoteQueued = false;

  /** The watch saw the leader key change (LeaseRunner.start's watchLeader): read again now. */
  leaderChanged(): void {
    const l = this.lease;
    if (!l) return;
    l.guard.handle({ type: 'leader-changed' });
    this.leaseStep();
  }

  /** Why the lease guard refuses writes now (guard-runner.ts leaseRefusal), if it does. */
  private leaseRefusal(): string | undefined {
    const l = this.lease;
    if (!l) return undefined;
    return l.verdict?.writes === 'allow' ? undefined : (l.verdict?.why ?? 'strict mode: no lease yet');
  }

  /** LeaseRunner.step: the verdict (applied on change), the next request, the deputy's deadline, the next call. */
  private leaseStep(): void {
    const l = this.lease;
    if (!l) return;
    const now = this.w.nowMs;
    const v = l.guard.verdict(now);
    const last = l.verdict;
    if (last === undefined || v.writes !== last.writes || v.stepDown !== last.stepDown || v.why !== last.why) {
      l.verdict = v;
      if (last === undefined || v.writes !== last.writes || v.stepDown !== last.stepDown) this.w.note(this.host, `etcd lease: writes ${v.writes}${v.stepDown ? ', steps down' : ''} (${v.why})`);
      if (l.trackOk === v.stepDown) {
        l.trackOk = !v.stepDown;
        this.input({ type: 'track', name: 'etcd-lease', ok: l.trackOk });
      }
      this.guardKick();
      if (v.writes === 'allow' && this.promoteWaiting !== undefined) this.promoteLate();
    }
    if (!l.busy) {
      const r = l.guard.request(now);
      if (r !== undefined) this.leaseSend(r);
    }
    this.w.armDeputy(this.host, l.guard.deputyDeadlineMs());
    const seq = ++l.timerSeq;
    const at = l.guard.nextDeadlineMs(now);
    this.later(Math.max(1, Math.ceil(at - now)), () => {
      if (seq === l.timerSeq) this.leaseStep();
    });
  }

  private leaseSend(r: LeaseRequest): void {
    const l = this.lease;
    if (!l) return;
    l.guard.handle({ type: 'started', id: r.id, nowMs: this.w.nowMs });
    l.busy = true;
    l.store.run(r, (result) => {
      l.guard.handle({ type: 'done', id: r.id, nowMs: this.w.nowMs, result });
      l.busy = false;
      if (result.ok && (result.kind === 'acquired' || result.kind === 'released')) this.w.note(this.host, `etcd: lease ${result.kind}${result.kind === 'acquired' ? ` (term ${result.term})` : ''}`);
      if (!result.ok && result.reason === 'lease-not-found') this.w.note(this.host, 'etcd: lease not found (expired)');
      this.leaseStep();
    });
  }

  // ---- VRRP, as instance-runner.ts runs it -------------------------------------------------

  input(i: Parameters<VrrpInstance['handle']>[0]): void {
    const before = this.vrrp.state;
    const seenBefore = this.vrrp.masterAddressSeen;
    const accepted = this.vrrp.counters.advertsRx;
    const actions = this.vrrp.handle(i, this.w.nowMs);
    // Took over from a master we followed: its Redis is looked at from now on (instance-runner.ts).
    // (Strict mode: once the promotion runs, from afterTransition or promoteLate.)
    if (this.vrrp.state === 'master' && before === 'backup' && seenBefore !== undefined && seenBefore !== this.host.address && this.lease === undefined) this.fencePeer(seenBefore);
    if (i.type === 'advert' && this.vrrp.counters.advertsRx > accepted && i.advert.priority > 0) this.advertSeen.set(i.source, this.w.nowMs);
    // Adverts go out at once, beside the queue: a promotion in progress must not silence them.
    for (const a of actions) {
      if (a.type === 'send-advert') this.w.sendAdvert(this.host, a.advert, a.to);
      else this.enqueue((done) => this.execute(a, done));
    }
    const master = this.vrrp.masterAddressSeen;
    if (this.vrrp.state !== before || master !== this.lastMaster) {
      this.lastMaster = master;
      const state = this.vrrp.state;
      const changed = state !== before;
      this.enqueue((done) => {
        this.afterTransition(state, master, changed);
        done();
      });
    }
    this.scheduleVrrp();
  }

  private scheduleVrrp(): void {
    const seq = ++this.vrrpTimerSeq;
    const deadline = this.vrrp.nextDeadline();
    if (deadline === undefined) return;
    this.later(Math.max(0, deadline - this.w.nowMs), () => {
      if (seq !== this.vrrpTimerSeq) return;
      const lateMs = this.w.nowMs - deadline;
      if (this.vrrp.state === 'master' && lateMs > 2 * this.w.advertIntervalMs && !this.switching) {
        this.w.note(this.host, `woke from a pause as master (${lateMs} ms late): resigns`);
        this.guardKick();
        this.input({ type: 'resign' });
        return;
      }
      this.input({ type: 'timeout' });
    });
  }

  private enqueue(t: Thunk): void {
    this.queue.push(t);
    if (!this.queueBusy) this.drain();
  }

  private drain(): void {
    const t = this.queue.shift();
    if (!t) {
      this.queueBusy = false;
      return;
    }
    this.queueBusy = true;
    const epoch = this.epoch;
    let finished = false;
    t(() => {
      if (finished) return;
      finished = true;
      if (!this.alive || this.epoch !== epoch) return;
      if (this.paused) this.deferred.push(() => this.drain());
      else this.drain();
    });
  }

  private execute(a: VrrpAction, done: () => void): void {
    switch (a.type) {
      case 'send-advert':
        this.w.sendAdvert(this.host, a.advert, a.to);
        return done();
      case 'add-vips':
        this.promote(a.handedOver, (result) => {
          if (this.vrrp.state !== 'master') return done();
          if (result === 'abandon') {
            this.input({ type: 'resign', sticky: false });
            return done();
          }
          // Strict mode without the lease: no VIP either, until promoteLate() (also when the lease
          // was lost during the promotion).
          if (result === 'waits') return done();
          if (result === 'not-yet' && !this.mayPromote()) {
            this.promoteWaiting = { handedOver: a.handedOver };
            return done();
          }
          if (result !== 'master') this.w.note(this.host, 'redis not master yet; the VIP comes up anyway');
          this.host.vipHeld = true;
          done();
        });
        return;
      case 'remove-vips':
        // CLIENT KILL LADDR, before the addresses go (a FIN from an address given away never
        // leaves): once the successor holds them, clients connected here connect again at once.
        if (a.handedOver) this.w.closeClients(this.host);
        this.host.vipHeld = false;
        this.watchingSuccessor = undefined;
        return done();
      case 'send-garps':
        if (this.vrrp.state === 'master') this.w.garps(this.host, a.count);
        // The first round is out: a resigned master listening on our Redis may release its VIPs.
        if (a.burst === 'become-master' && this.vrrp.state === 'master' && this.host.vipHeld) this.w.announceHolds(this.host);
        return done();
      case 'state-changed':
        this.w.note(this.host, `${a.from} -> ${a.to} (${a.reason})`);
        // agent.ts onStateChange: the lease runner hears the state (and decides again), the guard looks.
        if (this.lease) {
          this.lease.guard.handle({ type: 'vrrp', state: this.vrrp.state });
          this.later(0, () => this.leaseStep());
        }
        this.guardKick();
        return done();
      default:
        return done();
    }
  }

  private afterTransition(state: VrrpState, master: string | undefined, changed: boolean): void {
    if (state !== 'master') this.promoteWaiting = undefined;
    // A master waiting for the lease keeps its Redis as it is (no master known: the role stays).
    const waits = state === 'master' && this.promoteWaiting !== undefined;
    if (this.policy.vrrp(waits ? 'backup' : state, waits ? undefined : master)) {
      this.setWatch(this.policy.following()?.host);
      this.kickReconcile();
    }
    if (changed && state === 'master' && !waits && this.followedMaster !== undefined) this.fencePeer(this.followedMaster);
    if (state !== 'master' && master !== undefined) this.followedMaster = master;
  }

  /** Master, and not just woken from a pause (instance-runner.ts masterNow). */
  masterNow(): boolean {
    if (this.vrrp.state !== 'master') return false;
    const deadline = this.vrrp.nextDeadline();
    return deadline === undefined || this.w.nowMs - deadline <= 2 * this.w.advertIntervalMs;
  }

  advertisingMasters(): string[] {
    const windowMs = 2.5 * this.w.advertIntervalMs;
    const out: string[] = [];
    for (const [src, at] of this.advertSeen) if (this.w.nowMs - at <= windowMs && src !== this.host.address) out.push(src);
    return out;
  }

  stepDown(): void {
    if (this.vrrp.state !== 'master' || this.switching) return;
    this.input({ type: 'resign' });
  }

  // ---- the Redis health track (redis-ping, 100 ms, fall 2 rise 2) ---------------------------

  private redisCheck(): void {
    const r = this.host.redis;
    const ok = r.answering;
    if (ok !== this.redisTrack.ok) {
      this.redisTrack.run++;
      if (this.redisTrack.run >= 2) {
        this.redisTrack = { ok, run: 0 };
        this.input({ type: 'track', name: 'redis-alive', ok });
      }
    } else this.redisTrack.run = 0;
    this.later(REDIS_TRACK_INTERVAL_MS, () => this.redisCheck());
  }

  /** The connection to our Redis dropped (it was killed): the track fails at once. */
  localRedisDied(): void {
    if (!this.alive) return;
    this.receive(() => {
      this.policy.localDown();
      if (this.redisTrack.ok) {
        this.redisTrack = { ok: false, run: 0 };
        this.input({ type: 'track', name: 'redis-alive', ok: false });
      }
    });
  }

  // ---- the data guard, as guard-runner.ts runs it ------------------------------------------

  guardKick(): void {
    this.later(0, () => this.guardTick(false));
  }

  private guardTick(scheduleNext = true): void {
    const w = this.w;
    const r = this.host.redis;
    this.pollPeers();
    const local = r.answering ? r.facts(w.nowMs) : undefined;
    this.policy.observe(local);
    for (const p of this.peerSeen.values()) if (p.factsAtMs === w.nowMs) this.policy.observe(p.facts);
    const state = this.vrrp.state;
    const following = this.policy.following();
    const v = this.guard.evaluate({
      nowMs: w.nowMs,
      state,
      master: state === 'master' ? undefined : following,
      local,
      peers: [...this.peerSeen].map(([address, p]) => ({ address, lastAnswerMs: p.lastAnswerMs, redis: p.redis, facts: w.nowMs - p.factsAtMs <= 500 ? p.facts : undefined })),
      advertisingMasters: this.advertisingMasters(),
      fencedByUs: this.policy.fencedByUs(),
      promotedByUs: this.policy.promotedByUs(),
      self: this.host.address,
      lineage: this.policy.lineage,
    });
    if (v.ok !== this.verdictOk) {
      this.verdictOk = v.ok;
      this.input({ type: 'track', name: 'redis-data', ok: v.ok });
    }
    if (v.quorum.ok !== this.quorumOk) {
      this.quorumOk = v.quorum.ok;
      if (!v.quorum.ok) w.note(this.host, `no quorum: ${v.quorum.why}`);
      this.input({ type: 'track', name: 'redis-quorum', ok: v.quorum.ok });
    }
    this.guardWaiting = v.waiting;
    if (v.supersededBy !== undefined || v.kind === 'superseded') {
      if (this.policy.supersede(v.supersededBy, w.nowMs)) {
        w.note(this.host, `superseded by ${v.supersededBy ?? '?'}`);
        this.kickReconcile();
      }
    }
    if (!v.quorum.ok && local?.role === 'master') this.policy.disown();
    // Writes first (refused at once), then the resign; strict mode's lease refuses on a replica too.
    const leaseWhy = this.leaseRefusal();
    if (local && r.answering) {
      if (this.original === undefined) this.original = originalGate({ toWrite: r.minReplicasToWrite, maxLag: r.minReplicasMaxLagS }).gate;
      const refuse = (local.role === 'master' && v.writes === 'refuse') || leaseWhy !== undefined;
      const want = wantedGate({ original: this.original, refuse, quorumNeeded: this.quorum, witnesses: 0 });
      r.minReplicasToWrite = want.toWrite;
      r.minReplicasMaxLagS = want.maxLag;
      this.gateRefusing = refuse;
    }
    if (this.lease) {
      // guard-runner.ts onLook: our INFO, and whether our Redis acknowledges nothing now.
      this.lease.guard.handle({ type: 'local', facts: local });
      // Closed also when nothing listens on the port (the Redis process is gone: a refused
      // connection); a frozen Redis accepts connections and answers nothing: not closed.
      this.lease.guard.handle({ type: 'gate', closed: (local === undefined && !r.alive) || (local !== undefined && (local.role === 'replica' || this.gateRefusing)) });
      this.leaseStep();
    }
    if (v.backInReach.length > 0) {
      w.note(this.host, `members back in reach (${v.backInReach.join(', ')}): the VIP is announced again`);
      this.input({ type: 'announce' });
    }
    if (v.stepDown) this.stepDown();
    if (scheduleNext) this.later(this.guardWaiting ? Math.min(25, w.timings.guardPeriodMs) : w.timings.guardPeriodMs, () => this.guardTick());
  }

  /** The peer monitor: each member's INFO, or a TCP answer, as of now. */
  private pollPeers(): void {
    const w = this.w;
    for (const [address, p] of this.peerSeen) {
      const peer = w.hostAt(address);
      if (!peer || !w.twoWay(this.host, peer)) continue;
      p.lastAnswerMs = w.nowMs;
      if (peer.redis.answering) {
        p.redis = 'up';
        p.facts = peer.redis.facts(w.nowMs);
        p.factsAtMs = w.nowMs;
      } else if (!peer.redis.alive) {
        p.redis = 'down';
        p.facts = undefined;
        p.factsAtMs = 0;
      }
      // A frozen Redis: its kernel accepts, nothing answers; the host counts, its INFO is old.
    }
  }

  // ---- role control, as supervisor.ts runs it -----------------------------------------------

  kickReconcile(): void {
    if (this.reconcileScheduled) return;
    this.reconcileScheduled = true;
    this.later(1, () => {
      this.reconcileScheduled = false;
      this.reconcile();
    });
  }

  private supervisorTick(): void {
    this.reconcile();
    this.later(SUPERVISOR_PERIOD_MS, () => this.supervisorTick());
  }

  private reconcile(): void {
    const w = this.w;
    const r = this.host.redis;
    if (!r.answering) return;
    let steps = this.policy.reconcile({ nowMs: w.nowMs, local: r.facts(w.nowMs) });
    const read = steps.find((s) => s.type === 'read-target');
    if (read?.type === 'read-target') {
      const t = w.hostAt(read.host);
      const target = t && this.watch?.host === read.host && this.watch.up && w.twoWay(this.host, t) && t.redis.answering ? t.redis.facts(w.nowMs) : 'unreachable';
      steps = this.policy.reconcile({ nowMs: w.nowMs, local: r.facts(w.nowMs), target });
    }
    for (const s of steps) this.apply(s);
  }

  private apply(s: RoleStep): void {
    const w = this.w;
    const r = this.host.redis;
    switch (s.type) {
      case 'promote':
        r.promote();
        w.note(this.host, `REPLICAOF NO ONE (${s.why})`);
        this.policy.promotedTo(r.facts(w.nowMs));
        return;
      case 'follow':
        w.replicaOf(this.host.redis, s.host, s.port);
        this.policy.followed();
        w.note(this.host, `REPLICAOF ${s.host} (${s.what}: ${s.why}${s.lostBytes > 0 ? `, loses ${s.lostBytes}` : ''})`);
        return;
      case 'fence':
        w.replicaOf(r, FENCE.host, FENCE.port);
        return;
      case 'fence-target': {
        const t = w.hostAt(s.host);
        if (t && w.twoWay(this.host, t) && t.redis.answering) {
          w.replicaOf(t.redis, this.host.address, REDIS_PORT);
          w.note(this.host, `fenced ${s.host}: ${s.why}`);
        }
        return;
      }
      case 'resign':
        w.note(this.host, `resigns: ${s.why}`);
        this.stepDown();
        return;
      case 'safety':
        this.input({ type: 'track', name: 'redis-safety', ok: s.ok });
        return;
      case 'look-again':
        this.later(s.inMs, () => this.kickReconcile());
        return;
      case 'log':
      case 'read-target':
        return;
    }
  }

  /** The master watch: a heartbeat to the followed master's Redis. */
  private setWatch(host: string | undefined): void {
    if (host === undefined) {
      this.watch = undefined;
      return;
    }
    if (this.watch?.host === host) return;
    const watch = { host, up: false, lastAnswerMs: this.w.nowMs, runId: undefined as string | undefined };
    this.watch = watch;
    const beat = (): void => {
      if (this.watch !== watch) return;
      const t = this.w.hostAt(host);
      const answers = t !== undefined && this.w.twoWay(this.host, t) && t.redis.answering;
      if (answers && t) {
        if (watch.up && watch.runId !== undefined && t.redis.runId !== watch.runId) {
          watch.up = false; // restarted: the old connection was closed
          this.lost(watch.host);
        }
        if (!watch.up) {
          watch.up = true;
          watch.runId = t.redis.runId;
          if (this.policy.targetUp(host, REDIS_PORT, t.redis.runId)) this.kickReconcile();
        }
        watch.lastAnswerMs = this.w.nowMs;
      } else if (t && !t.redis.alive && watch.up && t.alive && this.w.twoWay(this.host, t)) {
        watch.up = false; // refused: its Redis died
        this.lost(watch.host);
      } else if (watch.up && this.w.nowMs - watch.lastAnswerMs >= MASTER_WATCH_HEARTBEAT_MS) {
        watch.up = false;
        this.lost(watch.host);
      }
      this.later(100, beat);
    };
    beat();
  }

  private lost(host: string): void {
    const steps = this.policy.targetDown(host, REDIS_PORT, this.w.nowMs);
    if (steps.length === 0) return;
    this.w.replicaOf(this.host.redis, FENCE.host, FENCE.port);
    this.guardKick();
    this.kickReconcile();
  }

  /** promote(): the plan, the catch-up from a live master, the settle wait, REPLICAOF NO ONE. */
  private promote(handedOver: boolean, then: (result: 'master' | 'not-yet' | 'abandon' | 'waits') => void): void {
    if (!this.mayPromote()) {
      this.promoteWaiting = { handedOver };
      this.w.note(this.host, 'promotion (and the VIP) waits for the lease');
      this.later(0, () => then('waits'));
      return;
    }
    this.promoteWaiting = undefined;
    // The fresh read of the members takes a moment (a round trip on the LAN).
    this.later(1, () => this.promoteRead(handedOver, then, 0));
  }

  /** The lease came after VRRP made us master: the promotion that waited for it, in the action queue. */
  private promoteLate(): void {
    if (this.promoteWaiting === undefined || this.promoteQueued) return;
    // promoteWaiting stays set until the promotion runs (instance-runner.ts leaseChanged).
    this.promoteQueued = true;
    this.enqueue((done) => {
      this.promoteQueued = false;
      const waiting = this.promoteWaiting;
      if (waiting === undefined || this.vrrp.state !== 'master' || !this.mayPromote()) return done();
      this.promoteWaiting = undefined;
      if (this.followedMaster !== undefined) this.fencePeer(this.followedMaster);
      this.promote(waiting.handedOver, (result) => {
        if (this.vrrp.state !== 'master' || result === 'waits') return done();
        if (result === 'not-yet' && !this.mayPromote()) {
          this.promoteWaiting = waiting;
          return done();
        }
        if (result === 'abandon') {
          this.input({ type: 'resign', sticky: false });
          return done();
        }
        if (this.policy.vrrp('master', this.vrrp.masterAddressSeen)) this.kickReconcile();
        // The VIP comes up now, announced as at becoming master (a resigned master waits for that).
        this.host.vipHeld = true;
        this.w.garps(this.host, KEEPALIVED_GARP_DEFAULTS.repeat);
        this.w.announceHolds(this.host);
        done();
      });
    });
  }

  private promoteRead(handedOver: boolean, then: (result: 'master' | 'not-yet' | 'abandon') => void, round: number): void {
    const w = this.w;
    const r = this.host.redis;
    // Another router won the election meanwhile (its advert came during the read), or the lease
    // was lost again (instance-runner.ts stillMaster): nothing to do.
    if (this.vrrp.state !== 'master' || !this.mayPromote()) return then('not-yet');
    // Read fresh: a member counts when its host answers; its Redis' INFO when that answers too.
    // (A frozen Redis: its kernel still accepts the connection, so its host answers, without INFO.)
    const members = w.hosts.filter((h) => h !== this.host && w.twoWay(this.host, h)).map((h) => ({ address: h.address, facts: h.redis.answering ? h.redis.facts(w.nowMs) : undefined }));
    const silent = w.hosts
      .filter((h) => h !== this.host && !members.some((m) => m.address === h.address))
      .map((h) => {
        const seen = this.peerSeen.get(h.address);
        return { address: h.address, silentForMs: seen?.lastAnswerMs === undefined ? undefined : w.nowMs - seen.lastAnswerMs, wasMaster: seen?.facts?.role === 'master' };
      });
    const plan = this.policy.promote(r.answering ? r.facts(w.nowMs) : undefined, {
      answered: members,
      quorum: this.quorum,
      maxLagBytes: 1024 * 1024,
      advertising: this.advertisingMasters(),
      silent,
      isolationBoundMs: w.timings.isolationTimeoutMs + w.timings.guardPeriodMs,
    });
    if (plan.type === 'refuse') return then('not-yet');
    if (plan.type === 'wait') {
      w.note(this.host, `takeover waits ${plan.ms} ms: ${plan.why}`);
      if (round >= 3) return then('not-yet');
      return this.later(plan.ms, () => this.promoteRead(handedOver, then, round + 1));
    }
    if (plan.type === 'no-quorum' || plan.type === 'behind') {
      this.policy.abandoned();
      w.note(this.host, `takeover abandoned: ${plan.why}`);
      return then('abandon');
    }
    const finish = (outcome: CatchUpOutcome | undefined): void => {
      if (outcome === 'lost-election') return then('not-yet');
      if ((outcome === 'behind' || outcome === 'not-synced') && plan.type === 'catch-up') {
        this.policy.abandoned({ host: plan.host, port: plan.port });
        this.setWatch(plan.host);
        w.note(this.host, `takeover abandoned: ${outcome} ${plan.host}`);
        return then('abandon');
      }
      if (RolePolicy.mustSettle(outcome, handedOver) && round < 3) {
        // Another router is taking over at the same moment: let VRRP pick one, then look again.
        return this.later(w.advertIntervalMs, () => {
          if (this.vrrp.state !== 'master' || !this.mayPromote()) return then('not-yet');
          this.promoteRead(handedOver, then, round + 1);
        });
      }
      if (!this.masterNow() || !this.mayPromote()) return then('not-yet');
      // Any other member master is fenced right before ours becomes one.
      for (const a of plan.fence) {
        const m = w.hostAt(a);
        if (m && w.twoWay(this.host, m) && m.redis.answering && m.redis.role === 'master') {
          w.replicaOf(m.redis, FENCE.host, FENCE.port);
          w.note(this.host, `fenced ${a} before promoting`);
        }
      }
      this.policy.promoted(outcome, handedOver);
      this.setWatch(undefined);
      this.reconcile();
      for (const nudge of this.peerNudges) nudge();
      then(r.answering && r.role === 'master' ? 'master' : 'not-yet');
    };
    if (plan.type !== 'catch-up') return finish(undefined);
    const old = w.hostAt(plan.host);
    const reachable = (): boolean => old !== undefined && w.twoWay(this.host, old) && old.redis.answering;
    const start = w.nowMs;
    if (!old) return finish('unreachable');
    if (!reachable()) {
      // Connecting for at most CATCH_UP_CONNECT_MS, as catchUpFrom does.
      const connect = (): void => {
        if (reachable()) return this.later(1, () => this.catchUpFrom(old, plan, start, finish));
        if (w.nowMs - start >= CATCH_UP_CONNECT_MS) return finish('unreachable');
        this.later(2, connect);
      };
      return connect();
    }
    this.catchUpFrom(old, plan, start, finish);
  }

  private catchUpFrom(old: Host, plan: { host: string; port: number; follow: boolean; why: string; fromReplica?: true }, start: number, done: (o: CatchUpOutcome) => void): void {
    const w = this.w;
    const finish = (o: CatchUpOutcome): void => {
      this.policy.catchUpEnded();
      done(o);
    };
    const r = this.host.redis;
    const reachable = (): boolean => w.twoWay(this.host, old) && old.redis.answering;
    if (plan.fromReplica) {
      // Its extra bytes only: follow it, wait for its offset (it stands still: no master feeds it).
      const target = old.redis.offset;
      this.policy.catchUpFollows();
      w.replicaOf(r, old.address, REDIS_PORT);
      w.note(this.host, `takeover: ${plan.why}; takes its last bytes first`);
      const wait = (): void => {
        if (reachable() && old.redis.role === 'master') return finish('already-fenced'); // promoted meanwhile
        if (r.masterHost === old.address && inSyncAt(r, old.redis, target)) return finish('caught-up');
        if (w.nowMs - start >= CATCH_UP_SYNC_MS || !reachable()) return finish('not-synced');
        this.later(2, wait);
      };
      return this.later(1, wait);
    }
    if (old.redis.role !== 'master') return this.later(1, () => finish('already-fenced'));
    const drain = (): void => {
      const drainStart = w.nowMs;
      old.redis.pauseWritesUntilMs = w.nowMs + CATCH_UP_MAX_MS + 3000;
      const target = old.redis.offset;
      const poll = (): void => {
        // Someone else fenced it meanwhile (another router taking over at the same moment).
        if (reachable() && old.redis.role !== 'master') return finish('already-fenced');
        const caught = r.masterHost === old.address && inSyncAt(r, old.redis, target);
        if (caught || w.nowMs - drainStart >= CATCH_UP_MAX_MS) {
          if (!this.masterNow() || !this.mayPromote()) {
            // Another router won meanwhile (its advert answered ours), or the lease was lost
            // (supervisor.ts: stillMaster): leave its Redis alone.
            old.redis.pauseWritesUntilMs = 0;
            return finish('lost-election');
          }
          if (reachable()) {
            if (caught) w.replicaOf(old.redis, FENCE.host, FENCE.port);
            old.redis.pauseWritesUntilMs = 0;
          }
          w.note(this.host, `took over from ${plan.host}: ${caught ? 'caught up' : 'behind'}`);
          return finish(caught ? 'caught-up' : 'behind');
        }
        this.later(2, poll);
      };
      this.later(1, poll);
    };
    if (!plan.follow) return drain();
    // Ours first follows it and syncs (writes still flow there), then the usual catch-up.
    this.policy.catchUpFollows();
    w.replicaOf(r, old.address, REDIS_PORT);
    w.note(this.host, `takeover: ${plan.why}; follows ${plan.host} first`);
    const synced = (): void => {
      if (reachable() && old.redis.role !== 'master') return finish('already-fenced');
      if (r.answering && r.linkUp && r.syncUntilMs === undefined && r.masterHost === old.address && r.replId === old.redis.replId) return drain();
      if (w.nowMs - start >= CATCH_UP_SYNC_MS || !reachable()) return finish('not-synced');
      this.later(5, synced);
    };
    this.later(1, synced);
  }

  /**
   * After a takeover: the previous master's Redis, once ours is master (looked at every 10 ms
   * while our promotion runs, and the moment it is done), is fenced if still a master (its
   * agent died), or follows ours where the history rule allows (fenced by its hand-over).
   */
  private fencePeer(peer: string): void {
    if (this.fencing.has(peer) || peer === this.host.address) return;
    this.fencing.add(peer);
    const start = this.w.nowMs;
    const soon = (): number => (this.w.nowMs - start < PEER_AFTER_TAKEOVER_SOON_MS ? PEER_AFTER_TAKEOVER_RETRY_MS : 1000);
    let seq = 0;
    const schedule = (ms: number): void => {
      const mine = ++seq;
      this.later(ms, () => {
        if (mine === seq) tick();
      });
    };
    const done = (): void => {
      this.fencing.delete(peer);
      this.peerNudges.delete(nudge);
      seq++;
    };
    const nudge = (): void => schedule(0);
    const tick = (): void => {
      if (!this.masterNow()) return done();
      const p = this.w.hostAt(peer);
      const r = this.host.redis;
      if (!(p && this.w.twoWay(this.host, p) && p.redis.answering && r.answering)) return schedule(soon());
      if (r.role !== 'master') return schedule(soon());
      const what = this.policy.peerAfterTakeover(p.redis.facts(this.w.nowMs), r.facts(this.w.nowMs));
      if (what === 'follow-us') this.w.replicaOf(p.redis, this.host.address, REDIS_PORT);
      if (what === 'fence') this.w.replicaOf(p.redis, FENCE.host, FENCE.port);
      if (what !== 'none') this.w.note(this.host, `previous master ${peer}: ${what}`);
      done();
    };
    this.peerNudges.add(nudge);
    // The connection comes up (or the watch we had is reused) a moment later.
    schedule(1);
  }

  /**
   * A planned switchover (instance-runner.ts, supervisor.ts handOver): pause writes, wait for
   * the replicas (`to` alone when given), fence ours, designate the successor (`to`, else the
   * Backup VRRP would elect, when every member says where it stands) if its agent listens,
   * resign (priority 0 to `to` alone when given).
   */
  switchover(to?: string): void {
    if (this.vrrp.state !== 'master' || this.switching) return;
    const w = this.w;
    const r = this.host.redis;
    if (!r.answering || r.role !== 'master') return;
    this.switching = true;
    const start = w.nowMs;
    // Online replicas, and members that follow ours but are still connecting; only those the
    // agent can reach (a cut-off replica stays listed until repl-timeout; it is not waited for).
    const reachable = (h: Host | undefined): h is Host => h !== undefined && h !== this.host && w.twoWay(this.host, h) && h.redis.answering;
    const following = to !== undefined ? [] : w.hosts.filter((h) => h.redis.role === 'replica' && h.redis.masterHost === this.host.address).map((h) => h.address);
    const listed = [...r.replicas.keys()].filter((a) => to === undefined || a === to);
    const online = [...new Set([...listed, ...following])].filter((a) => reachable(w.hostAt(a)));
    if (online.length === 0) {
      w.note(this.host, `switchover refused: no replica reachable${to !== undefined ? ` (asked for ${to})` : ''}`);
      this.switching = false;
      return;
    }
    // Who takes over (read before writes pause), and a subscription on its Redis for its notice.
    let successor = to;
    if (successor === undefined) {
      const members: MemberChannels[] = w.hosts
        .filter((h) => h !== this.host)
        .map((h) => {
          if (!(w.twoWay(this.host, h) && h.redis.answering)) return { address: h.address, channels: undefined };
          const a = h.agent;
          // A subscription lives while its agent's connection does (a frozen agent's too).
          return { address: h.address, channels: a?.alive ? [stateChannel(VRID, h.address, a.vrrp.state, a.vrrp.effectivePriority)] : [] };
        });
      const c = successorCandidates(VRID, members);
      successor = c.ok ? electedBackup('ipv4', c.candidates) : undefined;
      if (!c.ok) w.note(this.host, `switchover: no successor designated (${c.why})`);
    }
    if (successor !== undefined && !online.includes(successor)) successor = undefined;
    this.watchingSuccessor = successor;
    r.pauseWritesUntilMs = w.nowMs + 5000;
    const target = r.offset;
    const poll = (): void => {
      const caught = online.every((h) => {
        const x = w.hostAt(h);
        return x !== undefined && w.twoWay(this.host, x) && inSyncAt(x.redis, r, target);
      });
      if (caught || w.nowMs - start >= 2000) {
        r.pauseWritesUntilMs = 0;
        if (!caught || !this.masterNow()) {
          w.note(this.host, 'switchover aborted: replicas behind');
          this.switching = false;
          this.watchingSuccessor = undefined;
          return;
        }
        this.policy.handedOver(w.nowMs);
        w.replicaOf(r, FENCE.host, FENCE.port);
        // PUBLISH on the successor's Redis: its agent, subscribed there, gets the designation.
        const s = successor !== undefined ? w.hostAt(successor) : undefined;
        const designated = s !== undefined && w.designate(this.host, s) ? s.address : undefined;
        if (designated === undefined) this.watchingSuccessor = undefined;
        w.note(this.host, `switchover: fenced, resigning${to !== undefined ? ` to ${to}` : ''}${designated !== undefined ? `, ${designated} designated` : ''}`);
        this.switching = false;
        this.input({ type: 'resign', ...(to !== undefined ? { to } : {}), ...(designated !== undefined ? { designated } : {}) });
        return;
      }
      this.later(2, poll);
    };
    this.later(1, poll);
  }
}

/** A replica has `target` of its master's history: streaming from it, not in a full sync, same history. */
function inSyncAt(replica: SimRedis, master: SimRedis, target: number): boolean {
  return replica.answering && replica.linkUp && replica.syncUntilMs === undefined && replica.replId === master.replId && replica.offset >= target;
}

export class Host {
  agent: Agent | undefined;
  agentEpoch = 0;
  vipHeld = false;
  /** Powered on (a host crash turns everything off). */
  up = true;
  readonly redis: SimRedis;
  /**
   * Strict mode's fence deputy (fence-deputy.ts), a process of its own: the deadline the agent
   * last sent (the agent's side, FenceDeputy.armedAt), whether its timer runs (the child's side),
   * and a fence it could not deliver yet (our Redis frozen or down: it goes when Redis answers).
   */
  deputy = { sentAtMs: undefined as number | undefined, armed: false, seq: 0, pending: false };

  constructor(
    readonly name: string,
    readonly address: string,
    readonly priority: number,
    newId: () => string,
  ) {
    this.redis = new SimRedis(address, REDIS_PORT, newId);
  }

  get alive(): boolean {
    return this.up;
  }
}

interface Client {
  readonly index: number;
  arp: string | undefined;
  lastOkMs: number;
  lastTryMs: number;
  /** The host its TCP connection to the VIP ended up on, if connected. */
  conn: string | undefined;
  /** Waiting for a timeout (a SYN or a command nobody answers) until then. */
  blockedUntilMs: number;
  /** Since when its connection's host no longer has the VIP, while the client's packets still go there. */
  silentSinceMs: number | undefined;
}

export class World {
  nowMs = 0;
  readonly hosts: Host[];
  readonly advertIntervalMs: number;
  readonly preempt: boolean;
  readonly timings: { guardPeriodMs: number; isolationTimeoutMs: number };
  readonly acks: Ack[] = [];
  readonly events: WorldEvent[] = [];
  readonly clients: Client[];
  readonly random: () => number;
  /** Which side of a partition each host (and client) is on; all 0 when healed. */
  readonly side = new Map<string, number>();
  /** Hosts whose outgoing packets are dropped (one-way loss). */
  readonly mutedOut = new Set<string>();
  readonly byAddress = new Map<string, Host>();
  private readonly heap = new Heap();
  private seq = 0;
  private writeId = 0;
  private ids = 0;
  private readonly writeEveryMs: number;
  /** Bugs the simulation itself found (an impossible replication state): fail the run. */
  readonly simBugs: string[] = [];
  keepNotes = false;
  /** Told of every acknowledged write as it happens. */
  onAck: (a: Ack) => void = () => undefined;
  /** Strict mode, and its etcd; undefined without it. */
  readonly strict: StrictOptions | undefined;
  readonly etcd: SimEtcd | undefined;
  /** Members (each host included) a quorum needs, as the agents count them. */
  readonly quorum: number;
  /** Hosts cut off etcd alone (both ways), and etcd unreachable from everyone. */
  readonly etcdCut = new Set<string>();
  etcdDown = false;

  constructor(opts: WorldOptions) {
    this.random = seededRandom(opts.seed);
    this.advertIntervalMs = opts.advertIntervalMs ?? 100;
    this.preempt = opts.preempt ?? true;
    this.timings = agentTimings(this.advertIntervalMs);
    this.writeEveryMs = opts.writeEveryMs ?? 10;
    this.strict = opts.strict;
    this.quorum = defaultQuorum(opts.hosts);
    if (opts.strict) {
      const etcd = new SimEtcd();
      this.etcd = etcd;
      this.side.set(ETCD, 0);
      etcd.onLeaseEnd = (id, why, keys) => {
        if (this.keepNotes && keys.length > 0) this.events.push({ atMs: this.nowMs, host: ETCD, what: `lease ${id} ${why}: the leader key is gone` });
      };
      // The agents' watch on the leader key (lease-store.ts watchLeader): a hop later, where etcd reaches.
      etcd.onLeaderChange = () => {
        for (const h of this.hosts) {
          const a = h.agent;
          if (!a || !h.up || !this.reaches(ETCD, h.address)) continue;
          this.at(this.nowMs + ETCD_LATENCY_MS + this.random() * ETCD_JITTER_MS, () => {
            if (h.up && h.agent === a && this.reaches(ETCD, h.address)) a.receive(() => a.leaderChanged());
          });
        }
      };
    } else this.etcd = undefined;
    const newId = (): string => `id${++this.ids}`;
    const priorities = [150, 120, 110, 100, 90, 80, 70];
    this.hosts = [];
    for (let i = 0; i < opts.hosts; i++) {
      const h = new Host(`h${i + 1}`, `192.0.2.${11 + i}`, priorities[i] ?? 50, newId);
      this.hosts.push(h);
      this.byAddress.set(h.address, h);
      this.side.set(h.address, 0);
      // The recommended redis.conf: a replica of nothing until the agent says otherwise.
      h.redis.replicaOf(FENCE.host, FENCE.port);
    }
    this.clients = [];
    for (let c = 0; c < (opts.clients ?? 2); c++) {
      this.clients.push({ index: c, arp: undefined, lastOkMs: 0, lastTryMs: 0, conn: undefined, blockedUntilMs: 0, silentSinceMs: undefined });
      this.side.set(`client${c}`, 0);
    }
  }

  hostAt(address: string): Host | undefined {
    return this.byAddress.get(address);
  }

  at(atMs: number, fn: () => void): void {
    this.heap.push({ atMs, seq: this.seq++, fn });
  }

  note(h: Host, what: string): void {
    if (this.keepNotes) this.events.push({ atMs: this.nowMs, host: h.name, what });
  }

  /** One packet from a to b gets through (both powered, same side, a not muted; etcd up and not cut from the host). */
  reaches(a: string, b: string): boolean {
    if (a === ETCD || b === ETCD) {
      if (this.etcdDown || this.etcdCut.has(a === ETCD ? b : a)) return false;
    }
    if (!this.split && this.mutedOut.size === 0) return true;
    if (this.mutedOut.has(a)) return false;
    return this.side.get(a) === this.side.get(b);
  }

  /** Whether some side is not 0 (a partition is in force). */
  private split = false;

  twoWay(a: Host, b: Host): boolean {
    return a.up && b.up && this.reaches(a.address, b.address) && this.reaches(b.address, a.address);
  }

  /** Starts every host's agent and the clients, and the replication machinery. */
  start(): void {
    for (const h of this.hosts) this.startAgent(h, this.random() * 50);
    this.at(0, () => this.replTick());
    for (const c of this.clients) this.at(this.random() * this.writeEveryMs, () => this.clientWrite(c));
  }

  startAgent(h: Host, delayMs = 0): void {
    this.at(this.nowMs + delayMs, () => {
      if (!h.up || (h.agent && h.agent.alive)) return;
      h.agentEpoch++;
      const a = new Agent(this, h, h.agentEpoch);
      h.agent = a;
      a.start();
    });
  }

  killAgent(h: Host): void {
    h.agentEpoch++;
    h.agent = undefined;
    // The deputy's IPC channel closes: armed, it fences at once; either way it exits (a new agent starts a new one).
    if (h.deputy.armed) this.deputyFence(h, 'agent gone');
    this.deputyGone(h);
  }

  // ---- strict mode: etcd and the fence deputy ----------------------------------------------

  /**
   * One call from an agent to etcd: `op` runs on etcd when the request arrives, the answer comes
   * back a hop later; a path cut either way loses it, and the agent's client gives up after the
   * call timeout (its own timer: frozen with the agent).
   */
  etcdCall<T>(agent: Agent, timeoutMs: number, op: (etcd: SimEtcd, nowMs: number) => T, answer: (result: T | undefined) => void): void {
    const etcd = this.etcd;
    const from = agent.host;
    let settled = false;
    const settle = (r: T | undefined): void => {
      if (settled) return;
      settled = true;
      answer(r);
    };
    agent.later(timeoutMs, () => settle(undefined));
    if (!etcd || !from.up || !this.reaches(from.address, ETCD)) return;
    this.at(this.nowMs + ETCD_LATENCY_MS + this.random() * ETCD_JITTER_MS, () => {
      const result = op(etcd, this.nowMs);
      if (!this.reaches(ETCD, from.address)) return;
      this.at(this.nowMs + ETCD_LATENCY_MS + this.random() * ETCD_JITTER_MS, () => {
        if (from.up && this.reaches(ETCD, from.address)) agent.receive(() => settle(result));
      });
    });
  }

  /** FenceDeputy.arm: the agent sends the fence deadline when it changes; the deputy fences DEPUTY_LEAD_MS early. */
  armDeputy(h: Host, atMs: number | undefined): void {
    if (this.strict?.onLoss !== 'fence' || this.strict.deputy === false) return;
    const d = h.deputy;
    if (d.sentAtMs === atMs) return;
    d.sentAtMs = atMs;
    const seq = ++d.seq;
    d.armed = atMs !== undefined;
    if (atMs === undefined) return;
    // Its own timer: a frozen agent does not hold it up; a host crash ends it.
    this.at(Math.max(this.nowMs, atMs - DEPUTY_LEAD_MS), () => {
      if (seq !== d.seq || !h.up) return;
      d.armed = false;
      this.deputyFence(h, 'deadline');
    });
  }

  /** CONFIG SET min-replicas-to-write REFUSE_ALL on the host's Redis (when it answers: a frozen one takes it when it wakes). */
  private deputyFence(h: Host, why: string): void {
    h.deputy.armed = false;
    if (!h.redis.answering) {
      h.deputy.pending = true;
      return;
    }
    h.redis.minReplicasToWrite = REFUSE_ALL;
    h.deputy.pending = false;
    this.note(h, `fence deputy closed the write gate (${why})`);
  }

  private deputyGone(h: Host): void {
    h.deputy.seq++;
    h.deputy.armed = false;
    h.deputy.sentAtMs = undefined;
  }

  run(untilMs: number): void {
    for (;;) {
      const t = this.heap.peek();
      if (!t || t.atMs > untilMs) break;
      this.heap.pop();
      this.nowMs = Math.max(this.nowMs, t.atMs);
      t.fn();
    }
    this.nowMs = untilMs;
  }

  // ---- the LAN ------------------------------------------------------------------------------

  sendAdvert(from: Host, advert: VrrpAdvert, to?: string): void {
    for (const h of this.hosts) {
      if (h === from || (to !== undefined && h.address !== to)) continue;
      if (!from.up || !h.up || !this.reaches(from.address, h.address)) continue;
      this.at(this.nowMs + 0.2 + this.random() * 0.6, () => {
        if (!h.up) return;
        h.agent?.receive(() => h.agent?.input({ type: 'advert', advert, source: from.address }));
      });
    }
  }

  garps(from: Host, count: number): void {
    for (let i = 0; i < count; i++) {
      this.at(this.nowMs + i * 1, () => {
        if (!from.up || !from.vipHeld) return;
        for (const c of this.clients) if (this.reaches(from.address, `client${c.index}`)) c.arp = from.address;
      });
    }
  }

  replicaOf(r: SimRedis, host: string, port: number): void {
    if (!r.answering) return;
    const old = r.role === 'replica' ? r.masterHost : undefined;
    r.replicaOf(host, port);
    if (old !== undefined) this.hostAt(old)?.redis.replicas.delete(r.host);
    // Its replicas were disconnected; they reconnect on their next try.
    for (const h of this.hosts) if (h.redis.masterHost === r.host && h.redis.linkUp) h.redis.linkUp = false;
  }

  /** Replication for every Redis: connect, full sync, stream, acknowledgements. */
  private replTick(): void {
    const now = this.nowMs;
    for (const h of this.hosts) {
      const r = h.redis;
      if (!h.up || !r.answering || r.role !== 'replica' || r.masterHost === undefined) continue;
      const src = this.hostAt(r.masterHost);
      if (!src) continue; // the fence: nothing listens there
      const path = this.twoWay(h, src) && src.redis.answering;
      if (!r.linkUp) {
        if (!path) continue;
        if (src.redis.role === 'replica' && !src.redis.linkUp) continue; // a replica not synced serves no PSYNC
        const was = r.data.slice();
        const how = r.connect(src.redis, now, FULL_SYNC_MS);
        if (how === 'partial') {
          if (r.base !== src.redis.base) this.simBugs.push(`${h.name} partial resync from ${src.name} across histories of different origins`);
          for (let i = 0; i < was.length; i++) if (was[i] !== src.redis.data[i]) {
            this.simBugs.push(`${h.name} partial resync from ${src.name} with diverged data at ${i}`);
            break;
          }
        }
        continue;
      }
      // Link up: a dead path is noticed only at repl-timeout; a dead process at once.
      if (!src.redis.alive && src.up && this.twoWay(h, src)) {
        r.linkUp = false;
        continue;
      }
      if (!path) continue;
      if (r.syncUntilMs !== undefined) {
        if (now >= r.syncUntilMs) r.finishFullSync(src.redis);
        continue;
      }
      if (r.replId !== src.redis.replId) {
        // Its master's history moved on (it was promoted, or resynced): reconnect and PSYNC.
        r.linkUp = false;
        continue;
      }
      r.pull(src.redis);
      const seen = src.redis.replicas.get(h.address);
      if (seen) {
        if (now - seen.lastAckMs >= REPL_ACK_MS) {
          seen.lastAckMs = now;
          seen.offset = r.offset;
        }
      } else src.redis.replicas.set(h.address, { offset: r.offset, lastAckMs: now });
    }
    // A master drops a replica that went silent for repl-timeout.
    for (const h of this.hosts) for (const [ip, s] of h.redis.replicas) if (now - s.lastAckMs > REPL_TIMEOUT_MS) h.redis.replicas.delete(ip);
    this.at(now + REPL_TICK_MS, () => this.replTick());
  }

  // ---- clients ------------------------------------------------------------------------------

  /**
   * A client writing through the VIP over one connection, as the lab's writer does: it connects
   * to whoever its ARP cache names for the VIP (a host without the address drops the SYN: the
   * connect times out); on a connection whose host gave the address away, its packets go where
   * the ARP cache says: to the new holder, which resets it, or to the old host, which drops them
   * (TCP tries again after its RTO, until the command times out); a READONLY answer makes it
   * connect again; no answer at all (a frozen Redis, a path lost), the command times out.
   */
  private clientWrite(c: Client): void {
    const me = `client${c.index}`;
    const now = this.nowMs;
    this.at(now + this.writeEveryMs, () => this.clientWrite(c));
    if (c.arp === undefined || now - c.lastOkMs > CLIENT_REARP_MS) {
      if (now - c.lastTryMs > CLIENT_REARP_MS || c.arp === undefined) {
        // Who has the VIP? A cached entry is probed first by unicast (Linux' NUD probe, to the
        // MAC the last gratuitous ARP named): its host answers while it holds the address. Else
        // a broadcast: every holder that hears it answers; the last answer wins.
        const answers = (h: Host): boolean => h.up && h.vipHeld && this.reaches(me, h.address) && this.reaches(h.address, me);
        const cached = c.arp !== undefined ? this.hostAt(c.arp) : undefined;
        if (cached === undefined || !answers(cached)) {
          const holders = this.hosts.filter(answers);
          if (holders.length > 0) c.arp = holders[Math.floor(this.random() * holders.length)]?.address;
        }
        c.lastTryMs = now;
      }
    }
    if (now < c.blockedUntilMs) return;
    const holds = (h: Host | undefined): h is Host => h !== undefined && h.up && h.vipHeld;
    if (c.conn !== undefined) {
      const h = this.hostAt(c.conn);
      if (!holds(h)) {
        // The address moved: the packets reach the new holder, which resets the connection, or
        // (the ARP cache still names the old host) nobody: TCP retries after its RTO, until the
        // command times out.
        const elsewhere = c.arp !== c.conn && holds(c.arp !== undefined ? this.hostAt(c.arp) : undefined) && this.reaches(me, c.arp ?? '') && this.reaches(c.arp ?? '', me);
        c.silentSinceMs ??= now;
        if (!elsewhere && now - c.silentSinceMs < CLIENT_COMMAND_TIMEOUT_MS) {
          c.blockedUntilMs = Math.min(now + TCP_RTO_MS, c.silentSinceMs + CLIENT_COMMAND_TIMEOUT_MS);
          return;
        }
        c.conn = undefined;
      }
    }
    c.silentSinceMs = undefined;
    if (c.conn === undefined) {
      const h = c.arp !== undefined ? this.hostAt(c.arp) : undefined;
      if (!holds(h) || !this.reaches(me, h.address) || !this.reaches(h.address, me)) {
        c.blockedUntilMs = now + CLIENT_CONNECT_TIMEOUT_MS;
        return;
      }
      c.conn = h.address;
    }
    const h = this.hostAt(c.conn);
    const id = ++this.writeId;
    const res = h && this.reaches(me, h.address) ? h.redis.write(id, now) : 'down';
    if (res === 'down' || !h || !this.reaches(h.address, me)) {
      // No answer (a frozen Redis, a path lost either way): the command times out, then the
      // client connects again.
      c.conn = undefined;
      c.blockedUntilMs = now + CLIENT_COMMAND_TIMEOUT_MS;
      return;
    }
    if (res === 'ok') {
      const ack = { id, host: h.address, atMs: now, client: c.index };
      this.acks.push(ack);
      this.onAck(ack);
      c.lastOkMs = now;
    }
    // A failover-aware client connects again on READONLY (the VIP moved on).
    if (res === 'readonly') c.conn = undefined;
  }

  /** CLIENT KILL LADDR on a host that gave its VIP away: its clients (those it reaches) connect again at once. */
  closeClients(h: Host): void {
    for (const c of this.clients) {
      if (c.conn === h.address && this.reaches(h.address, `client${c.index}`)) {
        c.conn = undefined;
        c.blockedUntilMs = Math.min(c.blockedUntilMs, this.nowMs);
      }
    }
  }

  /**
   * PUBLISH designate FROM TO on the successor's Redis: whether its agent got it (it listens on
   * its own Redis while it runs; a frozen agent gets it when it wakes).
   */
  designate(from: Host, to: Host): boolean {
    if (!this.twoWay(from, to) || !to.redis.answering) return false;
    const a = to.agent;
    if (!a?.alive) return false;
    this.at(this.nowMs + 0.3, () => a.receive(() => a.input({ type: 'designated', by: from.address, to: to.address })));
    return true;
  }

  /** PUBLISH holds BY on the new master's Redis: a resigned master listening there is told. */
  announceHolds(by: Host): void {
    if (!by.redis.answering) return;
    for (const h of this.hosts) {
      const a = h.agent;
      if (h === by || !a?.alive || a.watchingSuccessor !== by.address || !this.twoWay(h, by)) continue;
      this.at(this.nowMs + 0.3, () => a.receive(() => a.input({ type: 'taken-over', by: by.address })));
    }
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Sides: each listed group is one side; everyone else (and the clients, unless placed) side 0. */
  partition(groups: readonly (readonly string[])[], clientSides: readonly number[] = []): void {
    for (const k of this.side.keys()) this.side.set(k, 0);
    groups.forEach((g, i) => {
      for (const a of g) this.side.set(a, i + 1);
    });
    clientSides.forEach((s, i) => this.side.set(`client${i}`, s));
    this.split = groups.some((g) => g.length > 0) || clientSides.some((x) => x !== 0);
  }

  heal(): void {
    for (const k of this.side.keys()) this.side.set(k, 0);
    this.split = false;
    this.mutedOut.clear();
  }

  pauseRedis(h: Host, paused: boolean): void {
    if (h.redis.alive) h.redis.paused = paused;
    // The deputy's CONFIG SET waited in the socket: it is the first command Redis runs.
    if (!paused && h.deputy.pending) this.deputyFence(h, 'sent while Redis was frozen');
  }

  pauseAgent(h: Host, paused: boolean): void {
    const a = h.agent;
    if (!a) return;
    if (paused) a.paused = true;
    else a.resume();
  }

  killRedis(h: Host): void {
    h.redis.kill();
    for (const x of this.hosts) x.redis.replicas.delete(h.address);
    h.agent?.localRedisDied();
  }

  restartRedis(h: Host, keepData: boolean, asMaster: boolean): void {
    if (!h.up) return;
    if (h.redis.alive) this.killRedis(h);
    h.redis.restart(keepData, asMaster, FENCE);
    // A deputy that could not fence connects again and does (before any client: it keeps retrying every 200 ms; clients wait for the VIP).
    if (h.deputy.pending) this.deputyFence(h, 'sent once Redis was back');
    // The agent's connection to it comes back (RedisLink reconnects every 100 ms) and looks at once.
    const a = h.agent;
    if (a?.alive) a.later(100, () => a.kickReconcile());
  }

  crashHost(h: Host): void {
    // Everything stops at once: the deputy fences nothing (Redis is gone with it).
    this.deputyGone(h);
    h.deputy.pending = false;
    this.killRedis(h);
    this.killAgent(h);
    h.vipHeld = false;
    h.up = false;
  }

  bootHost(h: Host, keepData: boolean): void {
    if (h.up) return;
    h.up = true;
    h.redis.restart(keepData, false, FENCE);
    this.startAgent(h, 100);
  }

  /**
   * `redkeep switchover` on the master, with `choice.to` (undefined: without --to), else half the
   * time with --to another host at random: a frozen agent takes the command when it wakes.
   */
  switchover(choice?: { readonly to: string | undefined }): void {
    const others = (h: Host): Host[] => this.hosts.filter((x) => x !== h);
    for (const h of this.hosts) {
      const a = h.agent;
      if (!a?.alive || a.vrrp.state !== 'master') continue;
      let to = choice?.to;
      if (!choice) {
        const pick = this.random();
        to = pick < 0.5 ? others(h)[Math.floor(pick * 2 * others(h).length)]?.address : undefined;
      }
      a.receive(() => a.switchover(to));
    }
  }

  // ---- what the checker reads ---------------------------------------------------------------

  /**
   * Whether host h could reach a quorum of the members (itself included) at this instant: a
   * majority, or in strict mode with etcd voting (on_loss "fence" or "keep") one less; with
   * "fence", etcd itself too (no writer without the lease).
   */
  hasMajority(h: Host): boolean {
    if (!h.up) return false;
    let n = 0;
    for (const x of this.hosts) if (x === h || this.twoWay(h, x)) n++;
    if (n < this.quorum) return false;
    return this.strict?.onLoss !== 'fence' || this.reachesEtcd(h);
  }

  /** Whether h and etcd reach each other now. */
  reachesEtcd(h: Host): boolean {
    return this.reaches(h.address, ETCD) && this.reaches(ETCD, h.address);
  }

  /**
   * Whether a master on h's side could start acknowledging writes now: a quorum, and in strict
   * mode with on_loss "keep" etcd too (the holder writes on without it; no new writer starts without the lease).
   */
  mayStartWriting(h: Host): boolean {
    return this.hasMajority(h) && (this.strict?.onLoss !== 'keep' || this.reachesEtcd(h));
  }

  vrrpState(h: Host): VrrpState | 'down' {
    return h.agent?.alive ? h.agent.vrrp.state : 'down';
  }
}
