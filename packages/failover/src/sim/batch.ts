// Many generated schedules at once, for the property tests (sim.test.ts, sim-strict.test.ts): each
// batch runs on worker threads (batch-worker.ts), one per core up to four, and comes back as one
// summary. A failure names its seed; the first few are described in full.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describeRun, runSchedule } from './check.js';
import { generateSchedule } from './schedule.js';
import type { StrictOptions } from './world.js';

export interface Job {
  readonly hosts: number;
  readonly seeds: readonly number[];
  readonly strict?: StrictOptions;
}

export interface Summary {
  schedules: number;
  acked: number;
  lostAsync: number;
  lostMinority: number;
  /** Writes lost beyond the asynchronous window that the checker does not excuse. */
  lostMajority: number;
  /** With on_loss "fence": writes a cut-off side acknowledged that are lost beyond the window. */
  lostCutOff: number;
  minorityAckMsMax: number;
  dualMasterMsMax: number;
  resumeGapMsMax: number;
  recoveries: number[];
  failures: string[];
  /** Failing seeds by the kind of violation (its text without numbers, shortened). */
  kinds: Record<string, number[]>;
}

export function runJob(job: Job): Summary {
  const out: Summary = { schedules: 0, acked: 0, lostAsync: 0, lostMinority: 0, lostMajority: 0, lostCutOff: 0, minorityAckMsMax: 0, dualMasterMsMax: 0, resumeGapMsMax: 0, recoveries: [], failures: [], kinds: {} };
  for (const seed of job.seeds) {
    const r = runSchedule(generateSchedule(seed, job.hosts, job.strict ? { strict: job.strict } : {}));
    out.schedules++;
    out.acked += r.acked;
    out.lostAsync += r.lostAsync;
    out.lostMinority += r.lostMinority;
    out.lostMajority += r.lostMajority;
    out.lostCutOff += r.lostCutOff;
    out.minorityAckMsMax = Math.max(out.minorityAckMsMax, r.minorityAckMs);
    out.dualMasterMsMax = Math.max(out.dualMasterMsMax, r.dualMasterMs);
    out.resumeGapMsMax = Math.max(out.resumeGapMsMax, r.resumeGapMs);
    if (r.recoveryMs !== undefined) out.recoveries.push(r.recoveryMs);
    if (r.violations.length > 0 && out.failures.length < 5) out.failures.push(describeRun(r));
    else if (r.violations.length > 0) out.failures.push(`seed ${seed}`);
    for (const v of r.violations) (out.kinds[violationKind(v)] ??= []).push(seed);
  }
  return out;
}

/** A violation's kind: its words without the numbers and the examples. */
export function violationKind(v: string): string {
  return v.replace(/\(.*$/, '').replace(/[0-9][0-9.]*/g, 'N').trim();
}

function merge(a: Summary, b: Summary): Summary {
  const kinds: Record<string, number[]> = { ...a.kinds };
  for (const [k, seeds] of Object.entries(b.kinds)) kinds[k] = [...(kinds[k] ?? []), ...seeds].sort((x, y) => x - y);
  return {
    schedules: a.schedules + b.schedules,
    acked: a.acked + b.acked,
    lostAsync: a.lostAsync + b.lostAsync,
    lostMinority: a.lostMinority + b.lostMinority,
    lostMajority: a.lostMajority + b.lostMajority,
    lostCutOff: a.lostCutOff + b.lostCutOff,
    minorityAckMsMax: Math.max(a.minorityAckMsMax, b.minorityAckMsMax),
    dualMasterMsMax: Math.max(a.dualMasterMsMax, b.dualMasterMsMax),
    resumeGapMsMax: Math.max(a.resumeGapMsMax, b.resumeGapMsMax),
    recoveries: [...a.recoveries, ...b.recoveries],
    failures: [...a.failures, ...b.failures],
    kinds,
  };
}

/** `count` schedules from `firstSeed` on, spread over the workers. */
export async function runParallel(hosts: number, count: number, firstSeed: number, strict?: StrictOptions): Promise<Summary> {
  const workers = Math.max(1, Math.min(4, availableParallelism()));
  const seeds = Array.from({ length: count }, (_, i) => firstSeed + i);
  const parts = Array.from({ length: workers }, (_, w) => seeds.filter((_, i) => i % workers === w));
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise<Summary>((resolve, reject) => {
          const w = new Worker(new URL('./batch-worker.js', import.meta.url), { workerData: { hosts, seeds: part, ...(strict ? { strict } : {}) } satisfies Job });
          w.once('message', (m: Summary) => resolve(m));
          w.once('error', reject);
        }),
    ),
  );
  return results.reduce(merge);
}

export function report(hosts: number, s: Summary): string {
  const r = [...s.recoveries].sort((a, b) => a - b);
  const q = (p: number): number => r[Math.min(r.length - 1, Math.floor(p * r.length))] ?? 0;
  return `${hosts} members: ${s.schedules} schedules, ${s.acked} writes acknowledged; lost: ${s.lostAsync} in the asynchronous window, ${s.lostMinority} a minority acknowledged; a minority acknowledged for at most ${s.minorityAckMsMax} ms; two masters for at most ${s.dualMasterMsMax} ms; a client with the majority waited at most ${s.resumeGapMsMax} ms for a write after a fault began or ended; recovery after the last fault p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${r[r.length - 1] ?? 0} ms`;
}
