// Runs one fault schedule on the simulated cluster and checks what redkeep promises:
// - no write acknowledged by a side holding a majority of the members is lost (beyond Redis'
//   asynchronous window: a write acknowledged within ASYNC_WINDOW_MS before a fault hit its host);
// - a side without a majority acknowledges writes for at most the stated bound after it lost it
//   (isolation_timeout plus one guard period; Redis' own backstop, about 3 s, while the agent
//   there is frozen or dead);
// - two Redis masters never acknowledge writes at the same time for longer than that bound;
// - a client that can reach a side holding a majority writes again within RESUME_BOUND_MS of
//   any fault beginning or ending (and of its own previous write);
// - after the last fault, one master holds the VIP, every other Redis follows it, and the
//   clients write again, within RECOVERY_BOUND_MS.
// In strict mode (an etcd lease) with on_loss "fence", what the lease promises instead:
// - two Redis never acknowledge writes at the same instant (no allowance at all: the holder
//   fences before its lease can expire, the deputy when its agent cannot);
// - no write a side with the quorum and etcd acknowledged is lost beyond the asynchronous window;
// - a host without a quorum or without etcd acknowledges for at most the longer of the isolation
//   bound and the lease's fence deadline (no backstop allowance: the deputy fences a frozen
//   agent's Redis); what it acknowledged then may be lost (lostCutOff, reported, as a minority's
//   writes are without strict mode: the lease stops a second writer, not the partition's window).
// With "keep" and "embedded" the embedded checks apply. Recovery and resume bounds grow by what
// the lease legitimately adds (strictBounds), and by the longest Redis pause (a holder keeps its
// lease until its frozen Redis wakes up and refuses).

import { masterDownIntervalMs } from '@redkeep/vrrp';
import { fenceAtMs } from '../lease-guard.js';
import { type Fault, type Schedule, describeSchedule } from './schedule.js';
import { ETCD, FENCE, type Host, type StrictOptions, World, type WorldEvent, leaseTimings } from './world.js';

/** Redis replicates asynchronously: what a master acknowledged this shortly before a fault may be lost. */
export const ASYNC_WINDOW_MS = 20;
/** Redis' own backstop (min-replicas-max-lag 2 s, acknowledgements once a second) plus slack. */
export const BACKSTOP_BOUND_MS = 3200;
/** After the last fault: one master with the VIP, the others following it, writes flowing. */
export const RECOVERY_BOUND_MS = 5000;
/** A client on a side holding a majority writes again this soon after any fault begins or ends. */
export const RESUME_BOUND_MS = 1000;
/** Acknowledgements of one host closer than this belong to one stretch of it acknowledging (the clients write every 10 ms). */
const ACK_STRETCH_GAP_MS = 50;

/**
 * What strict mode legitimately adds to the bounds, at the agents' lease timings (no clock drift
 * in the simulation, but the core's drift margin is applied as configured):
 * - fenceSpanMs: a holder cut off etcd refuses writes this long after it started its last renew
 *   (fenceAtMs), which is at most this long after it lost etcd;
 * - extraMs, added to the recovery and resume bounds: a holder that crashed, or was cut off etcd,
 *   keeps its lease until etcd expires it (up to the TTL after its last renew); its agent steps
 *   down only once the lease may have expired (TTL * (1 + drift)^2 + applyMs after that renew);
 *   only then can VRRP move (a Master_Down_Interval when the holder is gone) and the next master
 *   take the lease (a read every 250 ms, and a round trip). So extraMs is that step-down time plus
 *   a Master_Down_Interval plus one read period.
 */
export function strictBounds(strict: StrictOptions, advertIntervalMs: number, priority: number): { fenceSpanMs: number; extraMs: number; ttlMs: number } {
  const t = leaseTimings(strict, advertIntervalMs, priority);
  // etcd grants whole seconds.
  const ttlMs = Math.max(1, Math.ceil(t.ttlMs / 1000)) * 1000;
  const drift = 0.01;
  const fenceSpanMs = fenceAtMs(0, ttlMs, drift, t.applyMs);
  const stepDownMs = ttlMs * (1 + drift) ** 2 + t.applyMs;
  const extraMs = Math.ceil(stepDownMs + masterDownIntervalMs(3, priority, advertIntervalMs / 10) + 250);
  return { fenceSpanMs, extraMs, ttlMs };
}

export interface RunResult {
  readonly schedule: Schedule;
  readonly acked: number;
  /** Lost writes a majority side acknowledged, beyond the asynchronous window. */
  readonly lostMajority: number;
  /** Lost writes within the asynchronous window of a fault. */
  readonly lostAsync: number;
  /** Lost writes a minority side acknowledged (within its bound). */
  readonly lostMinority: number;
  /** With on_loss "fence": lost writes a side without the quorum or etcd acknowledged, beyond the asynchronous window (a violation there). */
  readonly lostCutOff: number;
  /** Writes a side without a majority acknowledged, and the longest it kept doing so (ms). */
  readonly minorityAcks: number;
  readonly minorityAckMs: number;
  /** The longest time two Redis masters both acknowledged writes. */
  readonly dualMasterMs: number;
  /** From the last fault's end until one master holds the VIP with writes flowing and all others follow. */
  readonly recoveryMs: number | undefined;
  /** The longest time without any acknowledged write after the last fault ended (from its end). */
  readonly writeGapAfterMs: number;
  /** The longest time without any acknowledged write over the whole run (after the first one). */
  readonly writeGapMs: number;
  /**
   * The longest a client that could reach a majority side waited for its next acknowledged write,
   * counted from its previous one or from the last fault event (a fault beginning or ending),
   * whichever came later; and when.
   */
  readonly resumeGapMs: number;
  readonly resumeGapAt: string;
  readonly violations: readonly string[];
  readonly events: readonly WorldEvent[];
}

interface HostTrack {
  minoritySince: number | undefined;
  /** Since when its agent was frozen or dead, while it is. */
  agentDownSince: number | undefined;
  onsets: number[];
}

export function runSchedule(s: Schedule, o: { notes?: boolean; isolationBoundMs?: number; resumeBoundMs?: number; /** For the checker's own tests: change the world before it is judged. */ tamper?: (w: World) => void; /** For debugging: called every `everyMs`. */ probe?: { everyMs: number; fn: (w: World) => void } } = {}): RunResult {
  const w = new World({ hosts: s.hosts, seed: s.seed, preempt: s.preempt, ...(s.strict ? { strict: s.strict } : {}) });
  w.keepNotes = o.notes === true;
  const fenceMode = s.strict?.onLoss === 'fence';
  // The lowest priority: the longest Master_Down_Interval.
  const sb = s.strict ? strictBounds(s.strict, w.advertIntervalMs, Math.min(...w.hosts.map((h) => h.priority))) : undefined;
  const isolation = w.timings.isolationTimeoutMs + w.timings.guardPeriodMs;
  const bound = o.isolationBoundMs ?? (fenceMode && sb ? Math.max(isolation, sb.fenceSpanMs) : isolation) + ASYNC_WINDOW_MS;
  const recoveryBound = RECOVERY_BOUND_MS + (sb?.extraMs ?? 0);
  const track = new Map<string, HostTrack>(w.hosts.map((h) => [h.address, { minoritySince: undefined, agentDownSince: undefined, onsets: [] }]));
  const minorityAckMs = { n: 0, max: 0 };
  const violations: string[] = [];
  let agentBackstopUsed = false;

  const topology = (): void => {
    for (const h of w.hosts) {
      const t = track.get(h.address) as HostTrack;
      const maj = w.hasMajority(h);
      if (!maj && t.minoritySince === undefined) t.minoritySince = w.nowMs;
      if (maj) t.minoritySince = undefined;
      const agentUp = h.agent !== undefined && h.agent.alive && !h.agent.paused;
      if (!agentUp && t.agentDownSince === undefined) t.agentDownSince = w.nowMs;
      if (agentUp) t.agentDownSince = undefined;
    }
  };
  const onset = (hs: readonly Host[]): void => {
    for (const h of hs) track.get(h.address)?.onsets.push(w.nowMs);
  };
  // Fault events and, after each, which clients could reach a host with a majority (one where a
  // master could start writing: with on_loss "keep", a side without etcd only keeps a holder it has).
  const marks: { atMs: number; reach: boolean[] }[] = [];
  const clientReach = (): boolean[] =>
    w.clients.map((c) => {
      const me = `client${c.index}`;
      return w.hosts.some((h) => w.mayStartWriting(h) && w.reaches(me, h.address) && w.reaches(h.address, me));
    });
  const act = (atMs: number, fn: () => void): void => {
    w.at(atMs, () => {
      fn();
      topology();
      marks.push({ atMs: w.nowMs, reach: clientReach() });
    });
  };
  const sideOf = (hit: readonly Host[], f: Fault): string[] => [...hit.map((h) => h.address), ...(s.strict && f.etcdSide === 1 ? [ETCD] : [])];
  const resolve = (f: Fault): Host[] => {
    if (f.target !== 'master') return f.target.map((i) => w.hosts[i] as Host);
    const m = w.hosts.find((h) => h.up && h.vipHeld) ?? w.hosts.find((h) => w.vrrpState(h) === 'master');
    return [m ?? (w.hosts[0] as Host)];
  };

  for (const f of s.faults) {
    let hit: Host[] = [];
    const end = f.atMs + f.durationMs;
    switch (f.kind) {
      case 'partition':
        act(f.atMs, () => {
          hit = resolve(f);
          // The target set against the rest; the clients (and etcd) where the schedule puts them.
          onset(w.hosts);
          w.partition([sideOf(hit, f)], f.clientSides);
        });
        act(end, () => {
          onset(w.hosts);
          w.heal();
        });
        break;
      case 'one-way':
        act(f.atMs, () => {
          hit = resolve(f);
          onset(hit);
          for (const h of hit) w.mutedOut.add(h.address);
        });
        act(end, () => w.heal());
        break;
      case 'flap': {
        let t = f.atMs;
        act(t, () => {
          hit = resolve(f);
        });
        for (const fl of f.flaps) {
          act(t, () => {
            onset(w.hosts);
            w.partition([sideOf(hit, f)], f.clientSides);
          });
          act(t + fl.cutMs, () => {
            onset(w.hosts);
            w.heal();
          });
          t += fl.cutMs + fl.gapMs;
        }
        break;
      }
      case 'pause-redis':
        act(f.atMs, () => {
          hit = resolve(f);
          onset(hit);
          for (const h of hit) w.pauseRedis(h, true);
        });
        act(end, () => {
          for (const h of hit) w.pauseRedis(h, false);
        });
        break;
      case 'pause-agent':
        act(f.atMs, () => {
          hit = resolve(f);
          for (const h of hit) w.pauseAgent(h, true);
        });
        act(end, () => {
          for (const h of hit) w.pauseAgent(h, false);
        });
        break;
      case 'kill-redis':
      case 'restart-empty':
        act(f.atMs, () => {
          hit = resolve(f);
          onset(hit);
          for (const h of hit) w.killRedis(h);
        });
        act(end, () => {
          for (const h of hit) w.restartRedis(h, f.kind === 'kill-redis', f.asMaster);
        });
        break;
      case 'kill-agent':
        act(f.atMs, () => {
          hit = resolve(f);
          for (const h of hit) w.killAgent(h);
        });
        act(end, () => {
          for (const h of hit) w.startAgent(h);
        });
        break;
      case 'etcd-cut':
        // Replication and VRRP go on: no onset (nothing acknowledged is cut from the replicas).
        act(f.atMs, () => {
          hit = resolve(f);
          for (const h of hit) w.etcdCut.add(h.address);
        });
        act(end, () => {
          for (const h of hit) w.etcdCut.delete(h.address);
        });
        break;
      case 'etcd-down':
        act(f.atMs, () => {
          w.etcdDown = true;
        });
        act(end, () => {
          w.etcdDown = false;
        });
        break;
      case 'crash':
        act(f.atMs, () => {
          hit = resolve(f);
          onset(hit);
          for (const h of hit) w.crashHost(h);
        });
        act(end, () => {
          for (const h of hit) w.bootHost(h, f.keepData);
        });
        break;
    }
    if (f.switchoverAfterMs !== undefined) act(f.atMs + f.switchoverAfterMs, () => w.switchover());
  }

  // Sample the end state every 10 ms after the last fault: when did it last become good?
  let goodSince: number | undefined;
  const sample = (): void => {
    const ok = endStateProblem(w) === undefined;
    if (ok && goodSince === undefined) goodSince = w.nowMs;
    if (!ok) goodSince = undefined;
    if (w.nowMs + 10 <= s.endMs) w.at(w.nowMs + 10, sample);
  };
  w.at(s.lastFaultEndMs, sample);

  // Minority acknowledgements are judged as they happen (the topology at that instant).
  const minorityAcks = new Set<number>();
  w.onAck = (a) => {
    const t = track.get(a.host) as HostTrack;
    if (t.minoritySince === undefined) return;
    const since = w.nowMs - t.minoritySince;
    minorityAcks.add(a.id);
    minorityAckMs.n++;
    minorityAckMs.max = Math.max(minorityAckMs.max, since);
    // With on_loss "fence" the deputy fences a frozen or dead agent's Redis: no backstop allowance.
    const agentDown = !fenceMode && t.agentDownSince !== undefined && t.agentDownSince <= t.minoritySince + bound;
    if (agentDown) agentBackstopUsed = true;
    const limit = agentDown ? BACKSTOP_BOUND_MS : bound;
    if (since > limit) violations.push(`${a.host} acknowledged write ${a.id} at ${a.atMs} ms, ${Math.round(since)} ms after losing its majority (bound ${limit} ms)`);
  };
  // The topology changes with every fault (act() looks at once); agents start and stop between.
  const look = (): void => {
    topology();
    if (w.nowMs + 50 <= s.endMs) w.at(w.nowMs + 50, look);
  };
  w.at(0, look);
  const probe = o.probe;
  if (probe) {
    const tick = (): void => {
      probe.fn(w);
      if (w.nowMs + probe.everyMs <= s.endMs) w.at(w.nowMs + probe.everyMs, tick);
    };
    w.at(0, tick);
  }
  w.start();
  w.run(s.endMs);
  o.tamper?.(w);
  for (const b of w.simBugs) violations.push(`simulation: ${b}`);

  // Which acknowledged writes the final master lacks.
  const problem = endStateProblem(w);
  if (problem !== undefined) violations.push(`end state: ${problem}`);
  const master = w.hosts.find((h) => h.up && h.vipHeld && h.redis.role === 'master');
  const have = new Set(master?.redis.data ?? []);
  let lostMajority = 0;
  let lostAsync = 0;
  let lostMinority = 0;
  let lostCutOff = 0;
  const examples: string[] = [];
  const cutOffExamples: string[] = [];
  for (const a of w.acks) {
    if (!master || have.has(a.id)) continue;
    const t = track.get(a.host) as HostTrack;
    const inWindow = t.onsets.some((x) => x >= a.atMs && x - a.atMs <= ASYNC_WINDOW_MS);
    // A cut-off side's writes within its bound (checked below) are the partition's asynchronous
    // window, in strict mode as without it: the lease stops a second writer, it does not make a
    // master cut off its replicas replicate. They are counted apart in strict mode (lostCutOff).
    if (minorityAcks.has(a.id) && fenceMode && !inWindow) {
      lostCutOff++;
      if (cutOffExamples.length < 3) cutOffExamples.push(`write ${a.id} acknowledged by ${a.host} at ${a.atMs} ms`);
    } else if (minorityAcks.has(a.id)) lostMinority++;
    else if (inWindow) lostAsync++;
    else {
      lostMajority++;
      if (examples.length < 3) examples.push(`write ${a.id} acknowledged by ${a.host} at ${a.atMs} ms`);
    }
  }
  if (lostMajority > 0) violations.push(`${lostMajority} writes a majority side acknowledged are lost (${examples.join('; ')})`);

  const dual = fenceMode ? overlapMs(w) : dualMasterMs(w);
  const dualLimit = fenceMode ? 0 : agentBackstopUsed ? BACKSTOP_BOUND_MS : bound;
  if (dual > dualLimit) violations.push(`two Redis masters acknowledged writes at the same time for ${dual} ms (bound ${dualLimit} ms${fenceMode ? `: ${overlapStory(w)}` : ''})`);
  let writeGapAfterMs = 0;
  let prevAck = s.lastFaultEndMs;
  for (const a of w.acks) {
    if (a.atMs < s.lastFaultEndMs) continue;
    writeGapAfterMs = Math.max(writeGapAfterMs, a.atMs - prevAck);
    prevAck = a.atMs;
  }
  writeGapAfterMs = Math.round(Math.max(writeGapAfterMs, s.endMs - prevAck));
  let writeGapMs = 0;
  for (let k = 1; k < w.acks.length; k++) writeGapMs = Math.max(writeGapMs, (w.acks[k]?.atMs ?? 0) - (w.acks[k - 1]?.atMs ?? 0));
  writeGapMs = Math.round(writeGapMs);
  const resume = resumeGap(w, marks, s.endMs);
  // In strict mode a holder whose Redis is frozen keeps its lease until that Redis wakes up and
  // refuses (a frozen Redis acknowledges what waits in its sockets when it wakes): no other host
  // may write meanwhile. The bound grows by the longest Redis pause of the schedule.
  const longestPause = s.strict ? Math.max(0, ...s.faults.filter((f) => f.kind === 'pause-redis').map((f) => f.durationMs)) : 0;
  const resumeBound = o.resumeBoundMs ?? RESUME_BOUND_MS + (sb?.extraMs ?? 0) + longestPause;
  if (resume.ms > resumeBound) violations.push(`client ${resume.client} on a majority side wrote nothing for ${resume.ms} ms (${resume.at}; bound ${resumeBound} ms)`);
  const recoveryMs = goodSince === undefined ? undefined : Math.max(0, goodSince - s.lastFaultEndMs);
  if (recoveryMs === undefined || recoveryMs > recoveryBound) violations.push(`no single master with writes flowing within ${recoveryBound} ms of the last fault (${recoveryMs ?? 'never'})`);
  return {
    schedule: s,
    acked: w.acks.length,
    lostMajority,
    lostAsync,
    lostMinority,
    lostCutOff,
    minorityAcks: minorityAckMs.n,
    minorityAckMs: Math.round(minorityAckMs.max),
    dualMasterMs: dual,
    recoveryMs,
    writeGapAfterMs,
    writeGapMs,
    resumeGapMs: resume.ms,
    resumeGapAt: resume.at,
    violations,
    events: w.events,
  };
}

/**
 * Per client: the longest wait for an acknowledged write while it could reach a majority side,
 * counted from its previous write or the last fault event, whichever is later.
 */
function resumeGap(w: World, marks: readonly { atMs: number; reach: boolean[] }[], endMs: number): { ms: number; client: number; at: string } {
  let best = { ms: 0, client: 0, at: '' };
  for (const c of w.clients) {
    const acks = w.acks.filter((a) => a.client === c.index).map((a) => a.atMs);
    if (acks.length === 0) continue;
    // Walk the client's writes and the fault events in time order, from its first write.
    let from = acks[0] as number;
    let reach = true;
    let k = 0;
    const consider = (toMs: number, what: string): void => {
      const gap = Math.round(toMs - from);
      if (reach && gap > best.ms) best = { ms: gap, client: c.index, at: `from ${Math.round(from)} ms to ${what}` };
    };
    for (const t of [...acks.slice(1), endMs]) {
      for (; k < marks.length && (marks[k] as { atMs: number }).atMs <= t; k++) {
        const m = marks[k] as { atMs: number; reach: boolean[] };
        if (m.atMs < from) {
          reach = m.reach[c.index] ?? true;
          continue;
        }
        consider(m.atMs, `a fault event at ${Math.round(m.atMs)} ms`);
        from = m.atMs;
        reach = m.reach[c.index] ?? true;
      }
      consider(t, t === endMs ? 'the end of the run' : `its next write at ${Math.round(t)} ms`);
      from = t;
    }
  }
  return best;
}

/** Why the cluster is not (yet) in its good end state, or undefined. */
export function endStateProblem(w: World): string | undefined {
  const holders = w.hosts.filter((h) => h.up && h.vipHeld);
  if (holders.length !== 1) return `${holders.length} hosts hold the VIP`;
  const m = holders[0] as Host;
  if (w.vrrpState(m) !== 'master') return `${m.name} holds the VIP but is ${w.vrrpState(m)}`;
  if (m.redis.role !== 'master' || !m.redis.answering) return `${m.name} holds the VIP but its Redis is not a master`;
  for (const h of w.hosts) {
    if (h === m || !h.up) continue;
    const r = h.redis;
    if (!r.answering) return `${h.name}'s Redis is not running`;
    if (r.role !== 'replica' || r.masterHost !== m.address || !r.linkUp || r.syncUntilMs !== undefined) {
      return `${h.name}'s Redis does not follow ${m.name} (${r.role}${r.role === 'replica' ? ` of ${r.masterHost === FENCE.host ? 'the fence' : r.masterHost}` : ''})`;
    }
  }
  for (const c of w.clients) if (w.nowMs - c.lastOkMs > 200) return `client ${c.index} has not written for ${Math.round(w.nowMs - c.lastOkMs)} ms`;
  return undefined;
}

/** The longest stretch during which two different hosts both acknowledged writes (20 ms buckets). */
function dualMasterMs(w: World): number {
  const bucketMs = 20;
  const by = new Map<number, Set<string>>();
  for (const a of w.acks) {
    const b = Math.floor(a.atMs / bucketMs);
    let s = by.get(b);
    if (!s) by.set(b, (s = new Set()));
    s.add(a.host);
  }
  let best = 0;
  let run = 0;
  let prev: number | undefined;
  for (const b of [...by.keys()].sort((x, y) => x - y)) {
    const dual = (by.get(b)?.size ?? 0) > 1;
    if (dual && prev !== undefined && b === prev + 1 && run > 0) run++;
    else run = dual ? 1 : 0;
    best = Math.max(best, run);
    prev = b;
  }
  return best * bucketMs;
}

/**
 * Strict mode's measure: stretches of each host acknowledging (acknowledgements less than
 * ACK_STRETCH_GAP_MS apart), and the longest time two hosts' stretches overlap; 1 ms at least
 * when one host acknowledged between two acknowledgements of another's stretch.
 */
function ackStretches(w: World): Map<string, [number, number][]> {
  const by = new Map<string, [number, number][]>();
  for (const a of w.acks) {
    let xs = by.get(a.host);
    if (!xs) by.set(a.host, (xs = []));
    const last = xs[xs.length - 1];
    if (last && a.atMs - last[1] <= ACK_STRETCH_GAP_MS) last[1] = a.atMs;
    else xs.push([a.atMs, a.atMs]);
  }
  return by;
}

function overlaps(w: World): { ms: number; a: string; b: string; from: number; to: number }[] {
  const by = [...ackStretches(w)];
  const out: { ms: number; a: string; b: string; from: number; to: number }[] = [];
  for (let i = 0; i < by.length; i++) {
    for (let j = i + 1; j < by.length; j++) {
      const [ha, xs] = by[i] as [string, [number, number][]];
      const [hb, ys] = by[j] as [string, [number, number][]];
      for (const x of xs) {
        for (const y of ys) {
          const from = Math.max(x[0], y[0]);
          const to = Math.min(x[1], y[1]);
          if (from <= to) out.push({ ms: Math.max(1, Math.ceil(to - from)), a: ha, b: hb, from, to });
        }
      }
    }
  }
  return out;
}

function overlapMs(w: World): number {
  return Math.max(0, ...overlaps(w).map((o) => o.ms));
}

function overlapStory(w: World): string {
  const o = overlaps(w).sort((x, y) => y.ms - x.ms)[0];
  return o ? `${o.a} and ${o.b} from ${o.from.toFixed(1)} to ${o.to.toFixed(1)} ms` : '';
}

export function describeRun(r: RunResult): string {
  const head = `${describeSchedule(r.schedule)}\n  acked ${r.acked}, lost: majority ${r.lostMajority}, async ${r.lostAsync}, minority ${r.lostMinority}${r.lostCutOff > 0 ? `, cut off ${r.lostCutOff}` : ''}; minority acks ${r.minorityAcks} (longest ${r.minorityAckMs} ms after losing the majority); two masters ${r.dualMasterMs} ms; recovery ${r.recoveryMs ?? 'never'} ms; longest write gap ${r.writeGapMs} ms, after the last fault ${r.writeGapAfterMs} ms; on a majority side ${r.resumeGapMs} ms (${r.resumeGapAt})`;
  return r.violations.length ? `${head}\n  VIOLATIONS:\n    ${r.violations.join('\n    ')}` : head;
}
