// Replication history is the term: VRRP priority decides who holds the VIP, never whose data
// survives. A Redis promoted from a history keeps that history's id as its replid2 (with
// second_repl_offset, where the old history ended), and its offsets go on from there, so INFO
// alone tells succession:
// - same replid: one history; the larger offset has more of it;
// - x.replId2 === y.replId: x was promoted from y's history (x succeeds y);
// - neither: unrelated (another cluster, a Redis promoted twice away, an empty restart).
// Pure: facts in, a verdict out.

/** The replication facts the policy reads (a subset of INFO; @redkeep/redis' RedisFacts has them). */
export interface ReplicationFacts {
  readonly role: 'master' | 'replica' | 'unknown';
  readonly runId: string | undefined;
  readonly replId: string | undefined;
  readonly replId2: string | undefined;
  /** The first offset of the current history (second_repl_offset), when replId2 is set. */
  readonly secondReplOffset: number | undefined;
  readonly replOffset: number;
  readonly masterHost: string | undefined;
  readonly masterPort: number | undefined;
  readonly masterLinkUp: boolean;
  readonly syncInProgress: boolean;
  readonly keys: number;
  readonly replicas: readonly { readonly ip: string; readonly port: number; readonly state: string; readonly offset: number; readonly lagS: number }[];
}

/** Offsets compare only between Redis servers that share a replication history. */
export function sameHistory(a: ReplicationFacts, b: ReplicationFacts): boolean {
  if (a.replId === undefined || b.replId === undefined) return false;
  return a.replId === b.replId || a.replId === b.replId2 || a.replId2 === b.replId;
}

/** x was promoted from y's history (x's replid2 is y's replid): x is y's successor. */
export function succeeds(x: ReplicationFacts, y: ReplicationFacts): boolean {
  return x.replId2 !== undefined && x.replId2 === y.replId;
}

/**
 * What the agent has seen of how histories descend: every INFO with a replid2 says "replid was
 * promoted from replid2". Redis keeps only the last step, so after two promotions nobody's INFO
 * links the newest history to the one two steps back; the agent remembers the steps it saw (the
 * members' and its own INFO), so that an older history is known as older however far back it is.
 * Facts only: an edge is something a Redis reported. Bounded (oldest edges forgotten first).
 */
export class Lineage {
  private readonly parent = new Map<string, string>();

  constructor(private readonly maxEdges = 256) {}

  observe(f: ReplicationFacts | undefined): void {
    if (!f?.replId || !f.replId2 || f.replId === f.replId2 || this.parent.get(f.replId) === f.replId2) return;
    this.parent.delete(f.replId);
    this.parent.set(f.replId, f.replId2);
    if (this.parent.size > this.maxEdges) {
      const oldest = this.parent.keys().next().value;
      if (oldest !== undefined) this.parent.delete(oldest);
    }
  }

  /** Whether history `a` descends from history `b` (b is an ancestor of a, through promotions seen). */
  descends(a: string | undefined, b: string | undefined): boolean {
    if (a === undefined || b === undefined || a === b) return false;
    let x: string | undefined = a;
    for (let i = 0; i < this.maxEdges && x !== undefined; i++) {
      x = this.parent.get(x);
      if (x === b) return true;
    }
    return false;
  }
}

/** x descends from y: directly (x's replid2 is y's replid), or through promotions the lineage saw. */
export function descendsFrom(x: ReplicationFacts, y: ReplicationFacts, lineage?: Lineage): boolean {
  return succeeds(x, y) || (lineage?.descends(x.replId, y.replId) ?? false);
}

/** Bytes of y's history that x, its successor, does not have (y's writes after x was promoted). */
export function divergedBytes(x: ReplicationFacts, y: ReplicationFacts): number {
  if (!succeeds(x, y) || x.secondReplOffset === undefined) return 0;
  return Math.max(0, y.replOffset - (x.secondReplOffset - 1));
}

export type FollowVerdict =
  | { readonly ok: true; readonly why: string; /** Our bytes the target does not have (lost by following it). */ readonly lostBytes: number }
  | {
      readonly ok: false;
      /**
       * not-master: the target's Redis is not a master (yet); older: the target's history is the
       * one ours was promoted from (we are its successor: fence it, do not follow it); behind:
       * same history, fewer bytes; unrelated: no shared history and we hold data.
       */
      readonly kind: 'not-master' | 'older' | 'behind' | 'unrelated';
      readonly why: string;
    };

/**
 * Whether our Redis (`local`) may REPLICAOF `target`, read fresh just before. Never into an older
 * or unrelated history: following a Redis makes ours a copy of it, so it must have our history at
 * or beyond our offset, or descend from it.
 * `ownReplId`: the history our agent created by promoting this Redis as the VRRP master, if the
 * current one is that. A Redis promoted by someone else (REPLICAOF NO ONE by hand) is a copy that
 * drifted, not a successor: it goes back to the history it came from.
 */
export function mayFollow(local: ReplicationFacts, target: ReplicationFacts, ownReplId?: string, lineage?: Lineage): FollowVerdict {
  if (target.role !== 'master') return { ok: false, kind: 'not-master', why: `its Redis is ${target.role === 'replica' ? 'a replica' : 'not answering as a master'}` };
  if (local.replId !== undefined && local.replId === target.replId) {
    if (target.replOffset >= local.replOffset) return { ok: true, why: 'same history, at or beyond our offset', lostBytes: 0 };
    return { ok: false, kind: 'behind', why: `same history, but at offset ${target.replOffset}, behind ours (${local.replOffset})` };
  }
  if (descendsFrom(target, local, lineage)) {
    const lost = divergedBytes(target, local);
    return { ok: true, why: lost > 0 ? `it succeeds our history; our last ${lost} bytes after its promotion are not in it` : 'it succeeds our history', lostBytes: lost };
  }
  if (local.keys === 0) return { ok: true, why: 'our Redis holds no keys: nothing to lose', lostBytes: 0 };
  if (local.replId2 !== undefined && local.replId2 === target.replId2) {
    // Siblings: both promoted from one history (two backups took over at the same moment).
    // Neither is newer; the VRRP master's wins, and ours gives up what it took since then.
    const lost = local.secondReplOffset === undefined ? 0 : Math.max(0, local.replOffset - local.secondReplOffset + 1);
    return { ok: true, why: `both were promoted from one history; the elected master's wins${lost > 0 ? `, our last ${lost} bytes are not in it` : ''}`, lostBytes: lost };
  }
  if (succeeds(local, target) && local.secondReplOffset !== undefined && local.replOffset < local.secondReplOffset && target.replOffset >= local.replOffset) {
    // Ours was promoted from its history and took nothing since (a takeover cut short): its
    // history went on; following it loses nothing.
    return { ok: true, why: 'ours was promoted from its history and took nothing since; it went on', lostBytes: 0 };
  }
  if (descendsFrom(local, target, lineage)) {
    if (local.role !== 'master' || (ownReplId !== undefined && local.replId === ownReplId)) {
      // A replica holds its master's newer history; a master of ours, the elected one.
      return { ok: false, kind: 'older', why: 'its history is the one ours was promoted from: ours is newer' };
    }
    return { ok: true, why: 'our Redis was promoted by someone else from its history: back to it', lostBytes: Math.max(0, local.replOffset - (local.secondReplOffset ?? local.replOffset + 1) + 1) };
  }
  if (target.keys === 0 && local.keys > 0) {
    // No shared history and the target holds nothing: following it would wipe ours, whatever
    // elected it (a takeover by a Redis that came back empty while ours was down, say). Never a
    // wipe: ours keeps its data, fenced, for an operator to look at.
    return { ok: false, kind: 'unrelated', why: `no shared history, and it holds no keys while ours holds ${local.keys}: following it would wipe ours` };
  }
  if (local.role === 'replica' || local.replId !== ownReplId) {
    // Ours is a copy, or a master whose history is not an elected one of ours (it lost its
    // quorum, or someone else promoted it): the elected master's history wins, even behind ours
    // (a cut-off side may have taken more writes than the majority; they are the minority's).
    const lost = Math.max(0, local.replOffset - target.replOffset);
    return { ok: true, why: `no shared history id; ours is ${local.role === 'replica' ? 'a replica' : 'not an elected history'}: the elected master's wins${lost > 0 ? ` (ours is ${lost} bytes ahead)` : ''}`, lostBytes: lost };
  }
  if (target.replOffset >= local.replOffset) {
    // No shared history id, but offsets go on across promotions: a master ahead of ours is its
    // descendant through more than one promotion (a replica cut off while two happened, or a
    // master of ours that froze while the others moved on twice). Only a master the election
    // names is ever a target (and only members are): its side held the quorum, so its writes
    // are the majority's, and what ours took since is at most the minority's.
    return { ok: true, why: `no shared history id, but it is ahead (${target.replOffset} >= ${local.replOffset}): offsets go on across promotions`, lostBytes: 0 };
  }
  return { ok: false, kind: 'unrelated', why: `unrelated history (ours ${local.replId ?? '?'} at ${local.replOffset}, its ${target.replId ?? '?'} at ${target.replOffset})` };
}
