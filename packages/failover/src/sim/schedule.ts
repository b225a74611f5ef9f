// Fault schedules for the simulated cluster, generated from a seed: partitions of any set of
// hosts (the clients on either side), one-way loss, flaps, SIGSTOP of Redis or of the agent,
// kill -9 of either (Redis restarted with its data, or empty), host crashes, and a switchover in
// the middle of another fault. In strict mode also: one host cut off etcd alone, etcd unreachable
// from everyone, and partitions that put etcd on either side. A schedule is data: it prints, and
// the same seed makes the same one (a schedule without strict mode draws exactly what it did before).

import { type StrictOptions, seededRandom } from './world.js';

export type FaultKind =
  | 'partition'
  | 'one-way'
  | 'flap'
  | 'pause-redis'
  | 'pause-agent'
  | 'kill-redis'
  | 'restart-empty'
  | 'kill-agent'
  | 'crash'
  /** Strict mode only: the target host cut off etcd (both ways), nothing else. */
  | 'etcd-cut'
  /** Strict mode only: etcd unreachable from every host. */
  | 'etcd-down';

export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'one-way', 'flap', 'pause-redis', 'pause-agent', 'kill-redis', 'restart-empty', 'kill-agent', 'crash'];
/** The faults of a strict-mode schedule. */
export const STRICT_FAULT_KINDS: readonly FaultKind[] = [...FAULT_KINDS, 'etcd-cut', 'etcd-down'];

export interface Fault {
  readonly kind: FaultKind;
  readonly atMs: number;
  readonly durationMs: number;
  /** Which hosts (indexes); 'master' means the VIP holder when the fault starts. */
  readonly target: 'master' | readonly number[];
  /** partition: which side each client is on (0: with the rest, 1: with the target set). */
  readonly clientSides: readonly number[];
  /** partition and flap in strict mode: which side etcd is on (0: with the rest, 1: with the target set). */
  readonly etcdSide: number;
  /** restart-empty / kill-redis: it comes back as a master (a default redis.conf) instead of fenced. */
  readonly asMaster: boolean;
  /** crash: the host boots with its data (AOF) or without. */
  readonly keepData: boolean;
  /** flap: cuts and gaps. */
  readonly flaps: readonly { readonly cutMs: number; readonly gapMs: number }[];
  /** A switchover this long after the fault starts (mid-fault), if any. */
  readonly switchoverAfterMs: number | undefined;
}

export interface Schedule {
  readonly seed: number;
  readonly hosts: number;
  readonly preempt: boolean;
  /** Strict mode (an etcd lease), or undefined. */
  readonly strict?: StrictOptions;
  readonly faults: readonly Fault[];
  /** When the last fault has ended: everything healed and running. */
  readonly lastFaultEndMs: number;
  /** When the run ends and the end state is checked. */
  readonly endMs: number;
}

export const SETTLE_MS = 6000;

export function generateSchedule(seed: number, hosts: number, o: { kinds?: readonly FaultKind[]; maxFaultMs?: number; strict?: StrictOptions } = {}): Schedule {
  const rnd = seededRandom(seed * 7919 + hosts);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const kinds = o.kinds ?? (o.strict ? STRICT_FAULT_KINDS : FAULT_KINDS);
  const maxFaultMs = o.maxFaultMs ?? 5000;
  const n = 1 + Math.floor(rnd() * 3);
  const faults: Fault[] = [];
  let t = 2500 + rnd() * 1500; // elected and in sync first
  for (let i = 0; i < n; i++) {
    const kind = pick(kinds);
    const durationMs = Math.round(300 + rnd() * (maxFaultMs - 300));
    let target: Fault['target'];
    if (kind === 'partition') {
      // Any proper, non-empty set of hosts; the master's side or not, at random.
      const size = 1 + Math.floor(rnd() * (hosts - 1));
      const all = [...Array(hosts).keys()];
      const set: number[] = [];
      while (set.length < size) {
        const x = pick(all.filter((y) => !set.includes(y)));
        set.push(x);
      }
      target = rnd() < 0.5 ? 'master' : set;
    } else target = rnd() < 0.7 ? 'master' : [Math.floor(rnd() * hosts)];
    const flaps: { cutMs: number; gapMs: number }[] = [];
    if (kind === 'flap') for (let k = 2 + Math.floor(rnd() * 4); k > 0; k--) flaps.push({ cutMs: Math.round(100 + rnd() * 700), gapMs: Math.round(100 + rnd() * 700) });
    const flapMs = flaps.reduce((s, f) => s + f.cutMs + f.gapMs, 0);
    const d = kind === 'flap' ? flapMs : durationMs;
    faults.push({
      kind,
      atMs: Math.round(t),
      durationMs: d,
      target,
      clientSides: [rnd() < 0.3 ? 1 : 0, rnd() < 0.5 ? 1 : 0],
      asMaster: rnd() < 0.3,
      keepData: rnd() < 0.5,
      flaps,
      switchoverAfterMs: rnd() < 0.15 ? Math.round(rnd() * d) : undefined,
      // Drawn last, and only in strict mode: the schedules without it stay what they were.
      etcdSide: o.strict && (kind === 'partition' || kind === 'flap') ? (rnd() < 0.5 ? 1 : 0) : 0,
    });
    t += d + rnd() * 2500;
  }
  const last = faults[faults.length - 1];
  const lastFaultEndMs = last ? last.atMs + last.durationMs : 0;
  return { seed, hosts, preempt: rnd() < 0.5, ...(o.strict ? { strict: o.strict } : {}), faults, lastFaultEndMs, endMs: lastFaultEndMs + SETTLE_MS };
}

export function describeSchedule(s: Schedule): string {
  const f = s.faults.map((x) => {
    const who = x.target === 'master' ? 'master' : x.target.map((i) => `h${i + 1}`).join('+');
    const extra = [
      x.kind === 'partition' ? `clients ${x.clientSides.join('/')}` : '',
      s.strict && (x.kind === 'partition' || x.kind === 'flap') ? `etcd with ${x.etcdSide === 1 ? 'them' : 'the rest'}` : '',
      x.kind === 'restart-empty' || x.kind === 'kill-redis' ? (x.asMaster ? 'back as master' : 'back fenced') : '',
      x.kind === 'crash' ? (x.keepData ? 'boots with data' : 'boots empty') : '',
      x.switchoverAfterMs !== undefined ? `switchover at +${x.switchoverAfterMs} ms` : '',
    ].filter((e) => e !== '');
    return `${x.atMs} ms ${x.kind} ${who} for ${x.durationMs} ms${extra.length ? ` (${extra.join(', ')})` : ''}`;
  });
  const strict = s.strict ? `, strict (on_loss ${s.strict.onLoss}${s.strict.ttlMs !== undefined ? `, ttl ${s.strict.ttlMs} ms` : ''}${s.strict.deputy === false ? ', no deputy' : ''})` : '';
  return `seed ${s.seed}, ${s.hosts} hosts, preempt ${s.preempt ? 'on' : 'off'}${strict}: ${f.join('; ')}`;
}
