// Where a read VIP belongs (an instance with serve = "read"): on the best in-sync replica, and on
// the master only when no replica qualifies. The read instance's VRRP election does the choosing;
// this verdict sets its two tracks on each host:
//   in-sync (weight 0: Fault while failing): this host's Redis is an online replica of the current
//     master within max_lag bytes, or it is the current master;
//   on-master (weight -253: priority 1 while failing): this host's Redis is the master, so any
//     qualifying replica (with preempt) takes the VIP from it.
// It never changes a Redis role. Pure: what was read in, the verdict out.

import type { ReplicationFacts } from './history.js';

export interface ReadServeInput {
  /** This host's Redis, or undefined when it does not answer. */
  readonly facts: ReplicationFacts | undefined;
  /** Whether this host is the write instance's VRRP master. */
  readonly writeMaster: boolean;
  /** The write instance's master as this host hears it (its Redis host, as replicas are told to follow it), when a backup. */
  readonly masterHost: string | undefined;
  readonly masterPort: number;
  /** The master's replication offset as last read (the data guard's INFO), or undefined. */
  readonly masterOffset: number | undefined;
  readonly maxLagBytes: number;
}

export type ReadServeVerdict =
  | { readonly serving: 'replica'; readonly lagBytes: number; readonly why: string }
  | { readonly serving: 'master'; readonly why: string }
  | { readonly serving: 'none'; readonly why: string };

export function readServeVerdict(i: ReadServeInput): ReadServeVerdict {
  const f = i.facts;
  if (!f) return { serving: 'none', why: 'redis does not answer' };
  if (f.role === 'master') {
    return i.writeMaster ? { serving: 'master', why: 'redis is the master: serves reads only while no replica qualifies' } : { serving: 'none', why: 'redis is a master but this host is not the write master' };
  }
  if (f.role !== 'replica') return { serving: 'none', why: `redis role is ${f.role}` };
  if (i.masterHost === undefined) return { serving: 'none', why: 'no current master known' };
  if (f.masterHost !== i.masterHost || f.masterPort !== i.masterPort) return { serving: 'none', why: `redis follows ${f.masterHost ?? '?'}:${f.masterPort ?? '?'}, not the current master ${i.masterHost}:${i.masterPort}` };
  if (!f.masterLinkUp) return { serving: 'none', why: 'replication link down' };
  if (f.syncInProgress) return { serving: 'none', why: 'full sync in progress' };
  if (i.masterOffset === undefined) return { serving: 'none', why: "the master's offset is not known" };
  // A replica's master_repl_offset is what it has processed of the master's stream.
  const lag = Math.max(0, i.masterOffset - f.replOffset);
  if (lag > i.maxLagBytes) return { serving: 'none', why: `${lag} bytes behind the master (max_lag ${i.maxLagBytes})` };
  return { serving: 'replica', lagBytes: lag, why: `in sync with ${i.masterHost}:${i.masterPort}, ${lag} bytes behind` };
}
