// Redis' own write gate (min-replicas-to-write / min-replicas-max-lag), as the policy wants it.
// While this host may acknowledge writes, Redis keeps min-replicas-to-write at the replicas a
// quorum needs (members minus this host minus witnesses, which have no Redis) with a max lag of
// REPLICA_FRESH_S, so it refuses writes by itself when its replicas go silent, even while the
// agent is frozen. When the policy refuses writes, min-replicas-to-write goes to REFUSE_ALL.
// Pure: the values found at start and the verdict in, the values wanted out.

import { REPLICA_FRESH_S } from './data-guard.js';

export interface WriteGate {
  readonly toWrite: number;
  readonly maxLag: number;
}

/** min-replicas-to-write while writes are refused: more replicas than any cluster has. */
export const REFUSE_ALL = 10000;
/** Redis' own defaults, to come back to when an earlier agent left REFUSE_ALL behind. */
export const REDIS_GATE_DEFAULTS: WriteGate = { toWrite: 0, maxLag: 10 };

export interface WriteGateInput {
  /** The values found at start (the operator's). */
  readonly original: WriteGate;
  /** The policy refuses writes (no quorum, superseded, not the VRRP master while Redis is master). */
  readonly refuse: boolean;
  /** Members (this host included) a quorum needs; 0 when quorum is off. */
  readonly quorumNeeded: number;
  readonly witnesses: number;
}

export function wantedGate(i: WriteGateInput): WriteGate {
  const need = i.quorumNeeded > 0 ? Math.max(0, i.quorumNeeded - 1 - i.witnesses) : 0;
  const open = need <= 0 ? i.original : { toWrite: Math.max(i.original.toWrite, need), maxLag: Math.min(i.original.maxLag, REPLICA_FRESH_S) };
  return i.refuse ? { toWrite: REFUSE_ALL, maxLag: open.maxLag } : open;
}

/** The values to keep as "found at start": an earlier agent's refusal left behind is not the operator's. */
export function originalGate(found: WriteGate): { gate: WriteGate; leftover: boolean } {
  return found.toWrite >= REFUSE_ALL ? { gate: REDIS_GATE_DEFAULTS, leftover: true } : { gate: found, leftover: false };
}
