// Fault schedules for the chaos lab: named ones, and random ones drawn from a seed (the same seed
// gives the same schedule). A fault hits a host (most often the master of the moment) at a time
// after the start and lasts a while; every fault is over when the schedule ends.

import { seededRandom } from '@redkeep/vrrp/sim';

export type FaultKind =
  | 'partition' // the host's bridge port blocked, carrier up
  | 'one-way' // the host receives everything, sends nothing (nftables)
  | 'flap' // partitioned for 0.4 s, back for 0.6 s, repeated
  | 'pause-redis' // SIGSTOP of redis-server
  | 'pause-agent' // SIGSTOP of the failover agent
  | 'kill-agent' // kill -9 of the agent, started again at the end of the fault
  | 'restart-empty' // redis-server killed and started at once, empty
  | 'crash' // the host: link cut, agent and Redis killed; it reboots (empty Redis) at the end
  | 'crash-aof' // as crash, but every Redis of the cluster runs with appendonly (examples/redis.conf): it reboots with its data
  | 'etcd-cut' // strict mode: the host cut off the etcd members alone (its replicas and the VIP's network still reach it)
  | 'etcd-leader'; // strict mode: the etcd leader crashes (SIGKILL) and starts again at the end

export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'one-way', 'flap', 'pause-redis', 'pause-agent', 'kill-agent', 'restart-empty', 'crash'];
/** Named schedules only (random ones draw from FAULT_KINDS, so that every earlier seed keeps its schedule). */
export const NAMED_ONLY_KINDS: readonly FaultKind[] = ['crash-aof'];
/** Strict mode's schedules draw from these too (FAULT_KINDS alone keep every earlier seed's schedule). */
export const STRICT_FAULT_KINDS: readonly FaultKind[] = [...FAULT_KINDS, 'etcd-cut', 'etcd-leader'];

export interface Fault {
  readonly kind: FaultKind;
  /** A host name, or 'master': whoever holds the VIP when the fault starts. */
  readonly target: string;
  /** ms after the schedule starts. */
  readonly atMs: number;
  readonly durationMs: number;
}

export interface Schedule {
  readonly name: string;
  readonly faults: readonly Fault[];
}

/** One named schedule per fault kind, each on the master, 3 s long. */
export function namedSchedules(kinds: readonly FaultKind[] = FAULT_KINDS): Schedule[] {
  return kinds.map((kind) => ({ name: kind, faults: [{ kind, target: 'master', atMs: 0, durationMs: kind === 'flap' ? 4000 : 3000 }] }));
}

/**
 * A random schedule: one to three faults, on the master or any host, starting within the first
 * 3 s, lasting 0.5 s to `maxFaultMs`. Faults on one host do not overlap.
 */
export function randomSchedule(seed: number, hosts: readonly string[], maxFaultMs = 8000, kinds: readonly FaultKind[] = FAULT_KINDS): Schedule {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const n = 1 + Math.floor(rnd() * 3);
  const faults: Fault[] = [];
  const busyUntil = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const kind = pick(kinds);
    const target = rnd() < 0.6 ? 'master' : pick(hosts);
    const atMs = Math.round(rnd() * 3000);
    const durationMs = Math.round(500 + rnd() * (maxFaultMs - 500));
    if ((busyUntil.get(target) ?? -1) > atMs) continue;
    busyUntil.set(target, atMs + durationMs);
    faults.push({ kind, target, atMs, durationMs });
  }
  return { name: `seed ${seed}`, faults: faults.sort((a, b) => a.atMs - b.atMs) };
}

export function describeSchedule(s: Schedule): string {
  return s.faults.map((f) => `${f.kind}(${f.target}) at ${f.atMs} ms for ${f.durationMs} ms`).join('; ');
}
