// What this host's Redis should be, and the one next step to get it there: facts in (the VRRP
// state and the master followed, our Redis' INFO, the followed master's INFO read fresh, the
// connection to it lost or back, the clock), decisions out (promote, follow, fence, fence a stale
// target, resign, look again). The shell (agent/src/redis/supervisor.ts) samples and applies, one
// step per pass, and asks again: reconciled, never fired once.
//
// Every flag that remembers "what happened" is state here, named, with the rule that clears it:
// - fence: our Redis was fenced by us (a restart or an empty comeback on the master; a planned
//   hand-over). Cleared when it has resynced from an elected master (or, for a hand-over nobody
//   took, when VRRP elects us again).
// - suspect: the connection to the followed master's Redis dropped. Our Redis is fenced until it
//   is back with the same run_id (a blip), or another master is followed.
// - superseded: a member's Redis succeeds our history (the data guard said so). Never promoted
//   again by drift correction; cleared by the next election of this host.
// - ownReplId: the history this agent created by promoting our Redis as the elected master; a
//   master of it never follows the history it came from. Cleared by following anyone, by being
//   superseded, and by losing the quorum (disown).
// - promoting: set by an election (promote), cleared once our Redis is master; the one path that
//   may turn a replica into the master.
// - waitingFor: since when we wait for a new master that is still catching up from ours.
// - catchingUp: a takeover's catch-up has our Redis follow a member (to take its last writes);
//   the takeover owns our Redis' role meanwhile: a lost connection to the master followed before
//   the election fences nothing, drift correction does nothing. Set and cleared by the catch-up.

import type { VrrpState } from '@redkeep/vrrp';
import { Lineage, type ReplicationFacts, descendsFrom, mayFollow } from './history.js';
import { type RedisHosts, sameRedisHost } from './redis-hosts.js';

/** A replica's `host` is where the master's Redis is reached (RedisHosts.hostOf its member), as REPLICAOF takes it. */
export type DesiredRole = { readonly role: 'master' } | { readonly role: 'replica'; readonly host: string; readonly port: number };

export interface RolePolicySettings {
  /** manage_role: off means the user's hooks own the role; the policy then never acts. */
  readonly manageRole: boolean;
  /** The port members' Redis listen on. */
  readonly peerPort: number;
  /** Where each member's Redis is reached, and which member an address from INFO is (configured members only). */
  readonly hosts: RedisHosts;
  /** Where a fenced Redis replicates from (nothing listens there). */
  readonly fence: { readonly host: string; readonly port: number };
  /** How long a new master may still be catching up from ours before ours follows it anyway. */
  readonly catchUpWaitMs: number;
}

/** The members as read fresh for a promotion, and how many (this host included) it needs. */
export interface MembersNow {
  /** The members (witnesses too) that answered just now, with their Redis' INFO. */
  readonly answered: readonly MemberFacts[];
  readonly quorum: number;
  /** How far a member's Redis of our own history may be ahead of ours (the data guard's max_lag). */
  readonly maxLagBytes: number;
  /** Members heard advertising as VRRP master lately (the election's current holder, if any). */
  readonly advertising?: readonly string[];
  /** Members that did not answer now: out of reach; how long since they last answered, whether their Redis was master then. */
  readonly silent?: readonly SilentMember[];
  /**
   * How long a master cut off from its quorum may still acknowledge writes (isolation_timeout
   * plus one guard period): a master silent for less than this may still be taking writes.
   */
  readonly isolationBoundMs?: number;
}

export interface SilentMember {
  readonly address: string;
  /** Since it last answered; undefined: never. */
  readonly silentForMs: number | undefined;
  /** Its Redis was master when it last answered. */
  readonly wasMaster: boolean;
}

export type RoleLogLevel = 'info' | 'warn' | 'error';

/**
 * One step for the shell. `log` steps come with the others and are only said once per change.
 * A `host` and `port` are a Redis' (RedisHosts.hostOf a member's), ready for REPLICAOF or a connection.
 */
export type RoleStep =
  | { readonly type: 'promote'; readonly why: string }
  | { readonly type: 'follow'; readonly host: string; readonly port: number; readonly what: string; readonly why: string; readonly lostBytes: number }
  | { readonly type: 'fence'; readonly why: string }
  /** Make the stale master at host:port a replica of ours (we are the newer history). */
  | { readonly type: 'fence-target'; readonly host: string; readonly port: number; readonly why: string }
  /** The followed master's Redis must be read fresh first: call reconcile again with it. */
  | { readonly type: 'read-target'; readonly host: string; readonly port: number }
  | { readonly type: 'resign'; readonly why: string }
  /** The instance's redis-safety track. */
  | { readonly type: 'safety'; readonly ok: boolean; readonly why: string }
  | { readonly type: 'look-again'; readonly inMs: number; readonly why: string }
  | { readonly type: 'log'; readonly level: RoleLogLevel; readonly message: string; readonly fields?: Readonly<Record<string, string | number>> };

export interface ReconcileInput {
  readonly nowMs: number;
  /** Our Redis' INFO, just read. */
  readonly local: ReplicationFacts;
  /**
   * The followed master's Redis, read fresh for this pass when a `read-target` step asked for it:
   * its INFO, or 'unreachable'. Undefined when not read.
   */
  readonly target?: ReplicationFacts | 'unreachable';
}

/** What promote() wants the shell to do before our Redis becomes writable. */
export type PromotePlan =
  /** Our Redis may not be master: a restart on the master fenced it. */
  | { readonly type: 'refuse'; readonly why: string }
  /** Fewer members than a quorum answered just now: no promotion (the takeover is abandoned). */
  | { readonly type: 'no-quorum'; readonly why: string }
  /**
   * A member that may still be a master taking writes went silent only just now (a partition's
   * first moments, not a crash noticed while the down timer ran): wait until it must have
   * stopped (it lost its quorum: its writes are refused and stay so), then plan again.
   */
  | { readonly type: 'wait'; readonly ms: number; readonly why: string }
  /** A member's Redis has data ours lacks and cannot be caught up from (a replica): it should be master, not ours. */
  | { readonly type: 'behind'; readonly host: string; readonly why: string }
  /**
   * Take the last writes of a live master, and fence it, first. `follow`: our Redis does not
   * replicate from it yet (a member's Redis is master with data ours lacks): REPLICAOF it and
   * wait until in sync before the catch-up.
   */
  | {
      readonly type: 'catch-up';
      /** The Redis to take from (RedisHosts.hostOf `member`). */
      readonly host: string;
      readonly member: string;
      readonly port: number;
      readonly follow: boolean;
      readonly why: string;
      readonly fence: readonly string[];
      /** The source is a replica (the master is gone): only its extra bytes are taken; it is neither paused nor fenced. */
      readonly fromReplica?: true;
    }
  /**
   * `fence`: members (advert addresses) whose Redis is master too (none of them has data ours
   * lacks): fenced right before ours is promoted, so that no two masters take writes while VRRP
   * settles.
   */
  | { readonly type: 'promote'; readonly fence: readonly string[] };

/**
 * How a takeover's catch-up from the previous master ended. `behind` and `not-synced`: our Redis
 * did not get its writes in time, and nothing was fenced: the takeover is abandoned (resign).
 */
export type CatchUpOutcome = 'caught-up' | 'behind' | 'not-synced' | 'unreachable' | 'already-fenced' | 'failed'
  /** Another router won the election during the catch-up: nothing was fenced, no promotion. */
  | 'lost-election';

/** A member as read fresh for a promotion: it answered; its Redis' INFO when that answered too. */
export interface MemberFacts {
  readonly address: string;
  readonly facts: ReplicationFacts | undefined;
}

export function describeRole(d: DesiredRole | undefined): string {
  if (!d) return 'unchanged';
  return d.role === 'master' ? 'master' : `replica of ${d.host}:${d.port}`;
}

/** How long after a master is first found not followable yet (still promoting) it is looked at often. */
export const FRESH_MASTER_MS = 1000;

export class RolePolicy {
  private vrrpState: VrrpState = 'initialize';
  private desiredRole: DesiredRole | undefined;
  private fence: { sinceMs: number; kind: 'restart' | 'handover' } | undefined;
  private suspect: { host: string; port: number; runId: string | undefined; sinceMs: number } | undefined;
  private superseded: { by: string | undefined; sinceMs: number } | undefined;
  private ownReplId: string | undefined;
  private promoting = false;
  private waitingFor: { key: string; sinceMs: number } | undefined;
  /** The master our Redis does not follow yet, and since when: a new one is looked at often at first. */
  private refusing: { key: string; sinceMs: number } | undefined;
  private catchingUp = false;
  /** The followed master's run_id, read when the connection to it came up. */
  private targetRunId: string | undefined;
  /** Restart guard: the run_id and whether it held data, last seen connected. */
  private lastRunId: string | undefined;
  private hadData = false;
  private wasDown = false;
  private downOnMaster = false;
  /** The last refusal or demotion said (said once per change). */
  private said: string | undefined;

  /** This host's address as members list their master (set once known). */
  selfAddress: string | undefined;
  /** How the histories seen descend (every INFO the shell reads goes through observe()). */
  readonly lineage = new Lineage();

  /** An INFO the shell read (ours or a member's): its history step is remembered. */
  observe(f: ReplicationFacts | undefined): void {
    this.lineage.observe(f);
  }

  constructor(private readonly settings: RolePolicySettings) {}

  /**
   * After a takeover, the previous master's Redis (its agent may be dead): a master still taking
   * writes is fenced, and made a replica of ours only where the history rule allows it (it would
   * lose nothing that a majority acknowledged); a Redis already fenced, or following another
   * member (a router that held the role a moment before us made it its replica), follows ours on
   * the same terms. Never a blind REPLICAOF: that full-syncs it and replaces its data.
   */
  peerAfterTakeover(peer: ReplicationFacts, ours: ReplicationFacts): 'none' | 'fence' | 'follow-us' {
    const fence = this.settings.fence;
    const fenced = peer.role === 'replica' && peer.masterHost === fence.host && peer.masterPort === fence.port;
    const elsewhere = peer.role === 'replica' && !fenced && this.selfAddress !== undefined && !this.settings.hosts.isAt(peer.masterHost, this.selfAddress);
    if (peer.role !== 'master' && !fenced && !elsewhere) return 'none';
    // Its history counts as an elected one: it never goes back to the history it came from.
    if (ours.role === 'master' && mayFollow(peer, ours, peer.replId, this.lineage).ok) return 'follow-us';
    return peer.role === 'master' ? 'fence' : 'none';
  }

  get desired(): DesiredRole | undefined {
    return this.desiredRole;
  }

  /** The VRRP state changed, or the master seen: what should our Redis be? Returns whether the wish changed. */
  vrrp(state: VrrpState, masterAddress: string | undefined): boolean {
    this.vrrpState = state;
    if (!this.settings.manageRole) return false;
    let d: DesiredRole | undefined;
    if (state === 'master') d = { role: 'master' };
    else if ((state === 'backup' || state === 'fault') && masterAddress !== undefined) d = { role: 'replica', host: this.settings.hosts.hostOf(masterAddress), port: this.settings.peerPort };
    else d = this.desiredRole; // no master known yet: leave the role as it is
    if (describeRole(d) === describeRole(this.desiredRole)) return false;
    this.desiredRole = d;
    this.waitingFor = undefined; // a new master: its catch-up wait starts now
    this.watching(d?.role === 'replica' ? d : undefined);
    return true;
  }

  /** The master whose Redis the shell keeps a connection to (the watch), if any. */
  following(): { host: string; port: number } | undefined {
    const d = this.desiredRole;
    return d?.role === 'replica' ? { host: d.host, port: d.port } : undefined;
  }

  private watching(m: { host: string; port: number } | undefined): void {
    this.targetRunId = undefined;
    const s = this.suspect;
    if (s && (!m || s.host !== m.host || s.port !== m.port)) this.suspect = undefined;
  }

  /** The connection to our Redis dropped. */
  localDown(): void {
    this.wasDown = true;
    this.downOnMaster = this.vrrpState === 'master' || this.desiredRole?.role === 'master';
  }

  /** The watch connected to the followed master's Redis and read it. Returns whether our Redis may follow again. */
  targetUp(host: string, port: number, runId: string | undefined): boolean {
    const d = this.following();
    if (!d || d.host !== host || d.port !== port) return false;
    const s = this.suspect;
    if (s && s.host === host && s.port === port) {
      if (s.runId !== undefined && runId === s.runId) {
        this.suspect = undefined;
        return true;
      }
      return false; // restarted: stay fenced until another master is followed
    }
    this.targetRunId = runId;
    return false;
  }

  /** The watch lost the followed master's Redis: our Redis is fenced until it is back unchanged. */
  targetDown(host: string, port: number, nowMs: number): RoleStep[] {
    const d = this.following();
    if (!this.settings.manageRole || !d || d.host !== host || d.port !== port) return [];
    // A takeover is catching up from another member: its own loop notices a lost source.
    if (this.catchingUp) return [];
    if (this.suspect?.host === host && this.suspect.port === port) return [];
    this.suspect = { host, port, runId: this.targetRunId, sinceMs: nowMs };
    return [{ type: 'fence', why: `lost the connection to the master's Redis ${host}:${port}: fenced until it is back unchanged or a new master is elected` }];
  }

  /** A member's Redis succeeds ours (the data guard): never promoted again by drift correction. */
  supersede(by: string | undefined, nowMs: number): boolean {
    if (!this.settings.manageRole || this.superseded !== undefined) return false;
    this.superseded = { by, sinceMs: nowMs };
    this.ownReplId = undefined;
    if (this.desiredRole?.role === 'master') this.desiredRole = undefined;
    return true;
  }

  /** Our Redis, master, lost its quorum: its history is not an elected one any more. */
  disown(): boolean {
    if (this.ownReplId === undefined) return false;
    this.ownReplId = undefined;
    return true;
  }

  /** A planned hand-over is fencing our Redis (its data is intact: it may serve again if nobody takes it). */
  handedOver(nowMs: number): void {
    this.fence = { sinceMs: nowMs, kind: 'handover' };
    this.desiredRole = undefined;
  }

  /**
   * VRRP elected us: what must happen before our Redis takes writes. `members`: the members
   * that answer, read fresh (undefined: no quorum rule, no member read). A Redis that is master among them with data ours lacks, in a
   * history ours may follow (a successor, ahead in ours, or ours holds nothing), has writes that
   * a promotion of ours would lose: ours first follows it and catches up, or does not promote.
   */
  promote(local: ReplicationFacts | undefined, members?: MembersNow): PromotePlan {
    if (!this.settings.manageRole) return { type: 'promote', fence: [] };
    this.observe(local);
    for (const m of members?.answered ?? []) this.observe(m.facts);
    this.superseded = undefined;
    if (this.fence !== undefined) {
      if (this.fence.kind !== 'handover') return { type: 'refuse', why: 'redis was fenced after a restart on the master' };
      this.fence = undefined; // a hand-over nobody took: ours is the newest data there is
    }
    const fence = this.settings.fence;
    const masters = (members?.answered ?? []).filter((m) => m.facts?.role === 'master').map((m) => m.address);
    // A host promotes only with a majority reachable now: Master_Down_Timer can run out in the
    // first moments of a partition, before the quorum's timeout notices it.
    if (members && members.answered.length + 1 < members.quorum) {
      return { type: 'no-quorum', why: `only ${members.answered.length + 1} of the ${members.quorum} members a promotion needs answered` };
    }
    if (local === undefined) return { type: 'promote', fence: masters };
    const answered = members?.answered ?? [];
    const hosts = this.settings.hosts;
    // The member our Redis replicates from (INFO's master_host, a configured member's Redis or nobody).
    const sourceMember = local.role === 'replica' && local.masterLinkUp ? hosts.memberAt(local.masterHost) : undefined;
    const bound = members?.isolationBoundMs ?? 0;
    for (const x of members?.silent ?? []) {
      if (!(x.wasMaster || x.address === sourceMember) || x.silentForMs === undefined || x.silentForMs >= bound) continue;
      return { type: 'wait', ms: Math.ceil(bound - x.silentForMs), why: `${x.address} may still be a master taking writes: silent for ${Math.round(x.silentForMs)} ms only (it stops within ${bound} ms)` };
    }
    // A member master whose data ours may take without losing any of its own (same history at or
    // beyond ours, a successor, or ours is empty): its writes are taken and it is fenced by the
    // catch-up (writes paused, then fenced), never fenced blindly.
    // A successor counts even where ours has bytes it lacks (those are a cut-off side's); of two
    // candidates, one that descends from the other is the newer.
    const candidates = answered.filter((m): m is { address: string; facts: ReplicationFacts } => {
      const t = m.facts;
      if (t?.role !== 'master') return false;
      const v = mayFollow(local, t, this.ownReplId, this.lineage);
      return v.ok && (v.lostBytes === 0 || descendsFrom(t, local, this.lineage) || (members?.advertising ?? []).includes(m.address));
    });
    // The master VRRP elected (it advertises, with a quorum: its writes are the majority's) wins
    // over one that does not (a cut-off side's, which may hold more bytes than the majority's).
    const advertising = members?.advertising ?? [];
    const elected = candidates.filter((m) => advertising.includes(m.address));
    const pool = elected.length > 0 ? elected : candidates.filter((m) => m.facts.replOffset >= 0);
    let best: MemberFacts | undefined;
    for (const m of pool) {
      if (pool.some((o) => o !== m && descendsFrom(o.facts, m.facts, this.lineage))) continue;
      if (!best?.facts || m.facts.replOffset > best.facts.replOffset) best = m;
    }
    const catchUp = (member: string, port: number, follow: boolean, why: string): PromotePlan => ({ type: 'catch-up', host: hosts.hostOf(member), member, port, follow, why, fence: masters.filter((a) => a !== member) });
    const source = local.masterHost !== fence.host && sourceMember !== this.selfAddress ? sourceMember : undefined;
    if (source !== undefined) {
      if (best?.address === source) return catchUp(source, local.masterPort ?? this.settings.peerPort, false, 'our Redis replicates from it');
      // Ours follows the member master first when its own source is out of reach or a replica
      // (two hops away); a source that did not answer and no other master: try it (a crashed
      // host costs the connect timeout).
      if (best?.facts) return catchUp(best.address, this.settings.peerPort, true, `its Redis is master in a history ours may take (offset ${best.facts.replOffset}, ours ${local.replOffset})`);
      // A member known to be out of reach (a crashed master: its silence was noticed while the
      // down timer ran) is not waited for: promote at once.
      if (!answered.some((m) => m.address === source) && !(members?.silent ?? []).some((x) => x.address === source)) {
        return catchUp(source, local.masterPort ?? this.settings.peerPort, false, 'our Redis replicates from it');
      }
    } else if (best?.facts) {
      return catchUp(best.address, this.settings.peerPort, true, `its Redis is master in a history ours may take (offset ${best.facts.replOffset}, ours ${local.replOffset})`);
    }
    // No master to take writes from (it crashed or froze): a member replica of our history
    // ahead of ours holds the last writes the master streamed; ours takes them from it first (a
    // partial resync of a few bytes), so the most complete copy survives the election.
    let ahead: { address: string; facts: ReplicationFacts } | undefined;
    for (const m of answered) {
      const t = m.facts;
      if (t?.role !== 'replica' || hosts.isAt(t.masterHost, this.selfAddress) || t.replId === undefined || t.replId !== local.replId) continue;
      if (t.replOffset > local.replOffset && (!ahead || t.replOffset > ahead.facts.replOffset)) ahead = { address: m.address, facts: t };
    }
    if (ahead) {
      // A replica serves PSYNC only while its own master link is up (NOMASTERLINK otherwise):
      // one whose master is gone cannot hand its last bytes on; it should take over, not ours.
      if (!ahead.facts.masterLinkUp) {
        return { type: 'behind', host: ahead.address, why: `${ahead.address}'s Redis, a replica of our history, is ahead of ours (offset ${ahead.facts.replOffset}, ours ${local.replOffset}) and cannot pass its last bytes on (its master link is down)` };
      }
      return { type: 'catch-up', host: hosts.hostOf(ahead.address), member: ahead.address, port: this.settings.peerPort, follow: true, fromReplica: true, why: `its Redis, a replica of our history, is ahead of ours (offset ${ahead.facts.replOffset}, ours ${local.replOffset})`, fence: masters };
    }
    // Offsets go on across promotions: a member's Redis ahead of ours in another history (the
    // majority's, while ours was cut off) holds writes a promotion of ours would lose. Within our
    // own history a replica a little ahead is Redis' asynchronous window (max_lag bounds it).
    for (const m of members?.answered ?? []) {
      const t = m.facts;
      if (!t || (t.role === 'replica' && hosts.isAt(t.masterHost, this.selfAddress))) continue;
      // An older history (ours descends from it) ahead in offset holds a cut-off minority's writes.
      if (descendsFrom(local, t, this.lineage)) continue;
      // A successor of ours (elected while ours was cut off) is the newer history, whatever the
      // offsets say: a cut-off side may have taken more writes than the majority.
      if (descendsFrom(t, local, this.lineage)) {
        return { type: 'behind', host: m.address, why: `${m.address}'s Redis holds a history promoted from ours: it is the newer one` };
      }
      const slack = t.replId !== undefined && t.replId === local.replId ? members?.maxLagBytes ?? 0 : 0;
      if (t.replOffset > local.replOffset + slack) {
        return { type: 'behind', host: m.address, why: `${m.address}'s Redis is ahead of ours (offset ${t.replOffset}, ours ${local.replOffset}${slack > 0 ? `, by more than ${slack}` : ''}) in a history ours cannot catch up from` };
      }
    }
    return { type: 'promote', fence: masters };
  }

  /**
   * The takeover is abandoned (no quorum, or the catch-up could not take the previous master's
   * writes in time): no promotion; ours follows that master, when there is one.
   */
  abandoned(master?: { host: string; port: number }): void {
    this.promoting = false;
    if (master === undefined) return;
    this.desiredRole = { role: 'replica', host: master.host, port: master.port };
    this.waitingFor = undefined;
    this.watching(this.desiredRole);
  }

  /**
   * Whether a catch-up's outcome means waiting for VRRP to settle and planning again: the
   * source was found fenced by someone else (not by a hand-over), so another router may be
   * taking over at the same moment.
   */
  static mustSettle(outcome: CatchUpOutcome | undefined, handedOver: boolean): boolean {
    return outcome === 'already-fenced' && !handedOver;
  }

  /**
   * The catch-up before promoting ended (or there was none): our Redis becomes the master.
   * Returns mustSettle() for that outcome. (behind / not-synced go to abandoned() instead.)
   */
  promoted(outcome: CatchUpOutcome | undefined, handedOver: boolean): boolean {
    this.desiredRole = { role: 'master' };
    this.promoting = true;
    this.said = undefined;
    this.watching(undefined);
    return RolePolicy.mustSettle(outcome, handedOver);
  }

  /** Our Redis' fence was set by this agent (restart, hand-over, lost master). */
  fencedByUs(): boolean {
    return this.fence !== undefined || this.suspect !== undefined;
  }

  /** This agent's promotion of our Redis in the current master term is done. */
  promotedByUs(): boolean {
    return this.desiredRole?.role === 'master' && !this.promoting && this.ownReplId !== undefined;
  }

  /** For status: what our Redis should be, and why not when fenced. */
  describe(): { desired: string; fencedSinceMs?: number; fenceWhy?: string } {
    if (this.fence !== undefined) return { desired: 'fenced', fencedSinceMs: this.fence.sinceMs, fenceWhy: this.fence.kind === 'handover' ? 'a planned hand-over' : 'a restart on the master' };
    if (this.suspect !== undefined) return { desired: 'fenced', fencedSinceMs: this.suspect.sinceMs, fenceWhy: "the master's Redis went away" };
    return { desired: this.settings.manageRole ? describeRole(this.desiredRole) : 'not managed' };
  }

  /** The one next step for our Redis, given its INFO just read (and the target's, when asked for). */
  reconcile(i: ReconcileInput): RoleStep[] {
    if (!this.settings.manageRole) return [];
    const f = i.local;
    this.observe(f);
    if (i.target !== undefined && i.target !== 'unreachable') this.observe(i.target);
    const restart = this.guardRestart(f, i.nowMs);
    if (restart) return restart;
    if (this.catchingUp) return [];
    const d = this.desiredRole;
    const fence = this.settings.fence;
    const atFence = f.role === 'replica' && f.masterHost === fence.host && f.masterPort === fence.port;
    const follows = (t: { host: string; port: number }): boolean => f.role === 'replica' && sameRedisHost(f.masterHost, t.host) && f.masterPort === t.port;

    if (this.fence !== undefined) {
      // Fenced: never promote; follow an elected master once one is known, and lift the fence
      // only when our Redis has resynced from it.
      if (d?.role === 'replica') {
        if (!follows(d)) return this.gateFollow(i, d, 'fenced redis resyncs from the master');
        if (f.masterLinkUp && !f.syncInProgress) {
          this.fence = undefined;
          return [
            { type: 'log', level: 'info', message: 'redis resynced from the master; fence lifted' },
            { type: 'safety', ok: true, why: 'resynced from the master' },
          ];
        }
        // The fence is lifted (and the instance back from Fault) as soon as the sync is done.
        return [{ type: 'look-again', inMs: 50, why: 'waiting for the resync' }];
      }
      return atFence ? [] : [{ type: 'fence', why: 'fenced: not at the fence address' }];
    }
    if (d?.role === 'master' && f.role !== 'master') {
      if (!this.promoting && f.role === 'replica' && f.masterHost !== undefined) {
        // Was master, now a replica, and not by our hand: a member took over while this agent
        // was frozen, or an operator. Never undone by drift correction: resign, and let a new
        // election (and its catch-up) decide.
        const key = `demoted:${f.masterHost}`;
        if (this.said === key) return [];
        this.said = key;
        return [{ type: 'resign', why: `redis was made a replica of ${f.masterHost}:${f.masterPort ?? ''} by someone else while we are master` }];
      }
      return [{ type: 'promote', why: 'elected master' }];
    }
    if (d?.role === 'master' && f.role === 'master') {
      this.promoting = false;
      this.ownReplId ??= f.replId;
      return [];
    }
    if (d?.role === 'replica' && this.suspect !== undefined && this.suspect.host === d.host && this.suspect.port === d.port) {
      return atFence ? [] : [{ type: 'fence', why: "the master's Redis went away" }];
    }
    if (d?.role === 'replica' && !follows(d)) {
      if (f.role === 'master') {
        // We were master and a router took over (preempted us): its Redis may still replicate
        // from ours, about to take our last writes, fence ours and promote. Pointing ours at it
        // now would turn the stream round and lose those writes: look again shortly (bounded).
        const key = `${d.host}:${d.port}`;
        if (this.waitingFor?.key !== key) this.waitingFor = { key, sinceMs: i.nowMs };
        if (i.nowMs - this.waitingFor.sinceMs <= this.settings.catchUpWaitMs) {
          if (i.target === undefined) return [{ type: 'read-target', host: d.host, port: d.port }];
          if (i.target === 'unreachable' || (i.target.role === 'replica' && i.target.masterHost !== undefined && i.target.masterHost !== fence.host)) {
            return [{ type: 'look-again', inMs: 20, why: 'the new master is still catching up from ours' }];
          }
        }
      }
      return this.gateFollow(i, d, 'redis follows the master');
    }
    return [];
  }

  /** Our Redis follows `d` (REPLICAOF), or, when REPLICAOF was done, notes it. */
  followed(): void {
    this.ownReplId = undefined;
  }

  /**
   * A takeover's catch-up makes our Redis follow a member (REPLICAOF) to take its last writes;
   * until catchUpEnded(), the takeover alone decides our Redis' role.
   */
  catchUpFollows(): void {
    this.ownReplId = undefined;
    this.catchingUp = true;
  }

  catchUpEnded(): void {
    this.catchingUp = false;
  }

  /**
   * Replication history decides: before our Redis follows `d`, its Redis is read fresh, and
   * followed only if it has our history at or beyond our offset, or descends from it (mayFollow).
   * A master of ours that is newer than the target stays master and fences the target.
   */
  private gateFollow(i: ReconcileInput, d: { host: string; port: number }, why: string): RoleStep[] {
    const key = `${d.host}:${d.port}`;
    if (i.target === undefined) return [{ type: 'read-target', host: d.host, port: d.port }];
    const refuse = (level: RoleLogLevel, text: string, kind: string, extra: RoleStep[] = []): RoleStep[] => {
      const k = `${key} ${kind}`;
      const out: RoleStep[] = [];
      if (this.said !== k) out.push({ type: 'log', level, message: `redis does not follow ${key}: ${text}`, fields: { master: key } });
      this.said = k;
      if (this.refusing?.key !== key) this.refusing = { key, sinceMs: i.nowMs };
      // A master elected just now is promoting its Redis (a few ms after its first advert), and
      // its master (min-replicas-to-write) waits for ours: look often at first, then calmly.
      const fresh = i.nowMs - this.refusing.sinceMs < FRESH_MASTER_MS;
      const inMs = i.target === 'unreachable' ? (fresh ? 5 : 20) : fresh ? 10 : 100;
      return [...extra, ...out, { type: 'look-again', inMs, why: text }];
    };
    if (i.target === 'unreachable') return refuse('info', 'its Redis has not been read yet', 'unread');
    const v = mayFollow(i.local, i.target, this.ownReplId, this.lineage);
    if (v.ok) {
      this.said = undefined;
      this.refusing = undefined;
      // Look again soon: a fenced Redis is lifted (and the instance back from Fault) once in sync.
      return [
        { type: 'follow', host: d.host, port: d.port, what: why, why: v.why, lostBytes: v.lostBytes },
        { type: 'look-again', inMs: 50, why: 'following a new master' },
      ];
    }
    if (v.kind === 'older' && i.local.role === 'master') {
      // We are the newer side: make the stale master a replica of ours (once per refusal).
      const first = this.said !== `${key} ${v.kind}`;
      return refuse('warn', v.why, v.kind, first ? [{ type: 'fence-target', host: d.host, port: d.port, why: 'its Redis is older than ours' }] : []);
    }
    return refuse(v.kind === 'not-master' ? 'info' : 'warn', v.why, v.kind);
  }

  /**
   * Restart-empty guard: our Redis back with another run_id (restarted) or without the data it
   * had, on the master, is fenced at once, before any replica can full-sync from it; the
   * redis-safety track fails so that the VIP goes to a member that has the data.
   */
  private guardRestart(f: ReplicationFacts, nowMs: number): RoleStep[] | undefined {
    const restarted = this.lastRunId !== undefined && f.runId !== undefined && f.runId !== this.lastRunId;
    const emptied = this.wasDown && this.hadData && f.keys === 0 && f.replOffset === 0;
    this.wasDown = false;
    const onMaster = this.downOnMaster || this.vrrpState === 'master';
    this.downOnMaster = false;
    this.lastRunId = f.runId;
    if (!(restarted || emptied) || !onMaster || this.fence !== undefined) {
      if (this.fence === undefined) this.hadData = f.keys > 0 || f.replOffset > 0;
      return undefined;
    }
    const why = restarted ? 'restarted (run_id changed)' : 'came back empty';
    this.fence = { sinceMs: nowMs, kind: 'restart' };
    if (this.desiredRole?.role === 'master') this.desiredRole = undefined;
    return [
      { type: 'log', level: 'error', message: `redis ${why} on the master: fenced so that no replica can sync from it`, fields: { fence: `REPLICAOF ${this.settings.fence.host} ${this.settings.fence.port}` } },
      { type: 'safety', ok: false, why: `redis ${why}` },
      { type: 'fence', why: `redis ${why} on the master` },
    ];
  }

  /** After REPLICAOF NO ONE: the history our election created. */
  promotedTo(local: ReplicationFacts): void {
    this.ownReplId = local.role === 'master' ? local.replId : undefined;
    this.promoting = false;
  }
}
