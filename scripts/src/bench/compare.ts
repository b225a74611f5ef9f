// Benchmark (not a test): the same failovers with redkeep and with keepalived as its users set it
// up for Redis (a `redis-cli ping` check every second, notify scripts running REPLICAOF), side by
// side on the namespace lab: three hosts (h1..h3, priorities 110/120/130, h3 master) with real
// redis-server, a client writing SET w:N through the VIP every 5 ms. Each run is a fresh cluster.
// Scenarios: host-crash (h3's link cut, its agent and Redis killed), redis-crash (h3's Redis
// killed, stays down), switchover (redkeep: `redkeep switchover --to h2`; keepalived: SIGTERM of
// h3's keepalived, which resigns with priority 0).
//
// Per run: the client's longest write gap, acknowledged writes missing on the final master, and
// from the fault: the time until the new master (h2) holds the VIP and its Redis takes writes
// ("VIP writable" = max(VIP up, Redis master): the kernel's address event on h2, `ip -ts
// monitor address`, and the first time the role probe in the client namespace saw h2's Redis as
// a master taking writes), set against h2's Master_Down_Interval (RFC 5798 §6.1), and a
// breakdown: the adverts h2 captured (tcpdump), the VIP's address event, the Redis role changes,
// and for a redkeep host crash the agents' logs. The harness does not poll the lab while the
// takeover runs (its `ip netns exec` polls would take CPU from the agents). Prints numbers and
// the goals beside them; asserts nothing.
//
//   node scripts/dist/bench/compare.js [--interval 100ms,1s] [--timeout 50] [--runs 2]
//     [--impl redkeep,keepalived] [--only host-crash,redis-crash,switchover] [--json] [--logs DIR]
//
// --timeout: the client's connect and command timeout (ms); --logs: every run's agent and Redis
// logs go to DIR.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { masterDownIntervalMs } from '@redkeep/vrrp';
import { type FailoverMeasure, type RedisCluster, SCENARIOS, type TakeoverTimes, measureFailover } from '../lab/index.js';

type Impl = 'redkeep' | 'keepalived';
const SCENARIO_NAMES = ['host-crash', 'redis-crash', 'switchover'] as const;
type ScenarioName = (typeof SCENARIO_NAMES)[number];
const IMPLS: readonly Impl[] = ['redkeep', 'keepalived'];

const { values } = parseArgs({
  options: {
    interval: { type: 'string', default: '100ms,1s' },
    timeout: { type: 'string', default: '50' },
    runs: { type: 'string', default: '2' },
    impl: { type: 'string', default: IMPLS.join(',') },
    only: { type: 'string', default: SCENARIO_NAMES.join(',') },
    json: { type: 'boolean', default: false },
    logs: { type: 'string' },
  },
});

const list = (text: string): string[] => text.split(',').map((x) => x.trim()).filter(Boolean);
const intervals = list(values.interval);
const timeoutMs = Number(values.timeout);
const runs = Number(values.runs);
const impls = list(values.impl) as Impl[];
const only = list(values.only) as ScenarioName[];
for (const i of intervals) intervalMs(i);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout ${values.timeout}: a whole number of ms above 0`);
if (!Number.isInteger(runs) || runs <= 0) throw new Error(`--runs ${values.runs}: a whole number above 0`);
for (const i of impls) if (!IMPLS.includes(i)) throw new Error(`--impl ${i}: one of ${IMPLS.join(', ')}`);
for (const n of only) if (!SCENARIO_NAMES.includes(n)) throw new Error(`--only ${n}: one of ${SCENARIO_NAMES.join(', ')}`);
if (values.logs !== undefined) mkdirSync(values.logs, { recursive: true });

/** "100ms" or "1s" in ms. */
function intervalMs(text: string): number {
  const m = /^(\d+)(ms|s)$/.exec(text);
  if (!m) throw new Error(`--interval ${text}: e.g. 100ms or 1s`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (ms % 10 !== 0 || ms < 10 || ms > 40_950) throw new Error(`--interval ${text}: whole centiseconds, 10 ms to 40.95 s`);
  return ms;
}

/** Master_Down_Interval of a backup of `priority` hearing `interval` adverts (VRRPv3, RFC 5798 §6.1). */
function mdiMs(interval: string, priority: number): number {
  return masterDownIntervalMs(3, priority, intervalMs(interval) / 10);
}

interface Run {
  readonly interval: string;
  readonly scenario: ScenarioName;
  readonly impl: Impl;
  readonly run: number;
  readonly clientTimeoutMs: number;
  /** Set when the run could not be measured. */
  readonly failed?: string;
  readonly acked?: number;
  readonly lost?: number;
  readonly longestWriteGapMs?: number;
  /** The acknowledgements around the longest gap, ms from the fault. */
  readonly longestWriteGapAtMs?: readonly [number, number];
  readonly timeToSingleMasterMs?: number;
  readonly takeover?: TakeoverTimes;
  /** Master_Down_Interval of the takeover host as configured. */
  readonly masterDownIntervalMs?: number;
  /** redkeep: every agent's log lines from the fault to just after h2's VIP was writable, "+ms host line". */
  readonly takeoverLog?: readonly string[];
}

/** A redkeep log line's wall-clock time (ISO, ms). keepalived's console stamps have whole seconds only: not used. */
function lineTimeMs(line: string): number | undefined {
  const iso = /^(?:\[[^\]]*\] )?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) /.exec(line);
  return iso ? Date.parse(iso[1] ?? '') : undefined;
}

/** Every agent's log lines from the fault until just after the VIP was writable, "+ms host message", in time order. */
function takeoverLog(c: RedisCluster, m: FailoverMeasure): string[] {
  const t = m.takeover;
  if (!t) return [];
  const until = m.faultAtMs + (Number.isFinite(t.vipWritableMs) ? t.vipWritableMs : 10_000) + 20;
  const lines: { at: number; text: string }[] = [];
  for (const host of c.hostNames) {
    for (const line of c.agentLog(host).split('\n')) {
      const at = lineTimeMs(line);
      if (at === undefined || at < m.faultAtMs - 20 || at > until) continue;
      const text = line.replace(/^(?:\[[^\]]*\] )?\S+ /, '').replace(/ agent=\S+ instance=\S+/, '');
      lines.push({ at, text: `${fmt(at - m.faultAtMs, true)} ${host} ${text}` });
    }
  }
  return lines.sort((a, b) => a.at - b.at).map((x) => x.text).slice(0, 40);
}

async function measureOne(interval: string, scenario: ScenarioName, impl: Impl, run: number): Promise<Run> {
  const s = SCENARIOS.find((x) => x.name === scenario);
  if (!s) throw new Error(`no scenario ${scenario}`);
  const base = { interval, scenario, impl, run, clientTimeoutMs: timeoutMs };
  let log: string[] = [];
  let logs = '';
  try {
    // The harness keeps still while the takeover runs (its polls of the lab take CPU the agents
    // need on a small machine): a keepalived Redis check is once a second, a host crash takes MDI.
    const quietMs = 1000 + 2 * mdiMs(interval, 120);
    const m = await measureFailover(s, { advertInterval: interval, impl, clientTimeoutMs: timeoutMs, watchTakeover: true, quietMs }, async (c, m) => {
      log = takeoverLog(c, m);
      logs = c.logs();
    });
    return {
      ...base,
      acked: m.acked,
      lost: m.lost.length,
      longestWriteGapMs: m.longestWriteGapMs,
      longestWriteGapAtMs: m.longestWriteGapAtMs,
      timeToSingleMasterMs: m.timeToSingleMasterMs,
      ...(m.takeover ? { takeover: m.takeover, masterDownIntervalMs: mdiMs(interval, m.takeover.priority) } : {}),
      takeoverLog: log,
    };
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    logs = text;
    return { ...base, failed: text.split('\n')[0] ?? 'failed' };
  } finally {
    if (values.logs !== undefined) writeFileSync(join(values.logs, `${interval}-${scenario}-${impl}-${run}.log`), logs);
  }
}

function fmt(x: number | undefined, signed = false): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  const r = Math.round(x);
  return signed && r > 0 ? `+${r}` : String(r);
}

function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const results: Run[] = [];
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
progress(`compare: intervals ${intervals.join(', ')}; ${only.join(', ')}; ${impls.join(' and ')}; ${runs} run(s) each; client timeout ${timeoutMs} ms`);
for (const interval of intervals) {
  for (const scenario of only) {
    // Impls alternate run by run, so that whatever else loads the machine weighs on both alike.
    for (let run = 1; run <= runs; run++) {
      for (const impl of impls) {
        const started = Date.now();
        const r = await measureOne(interval, scenario, impl, run);
        results.push(r);
        const t = r.takeover;
        progress(
          `${interval} ${scenario} ${impl} #${run} (${((Date.now() - started) / 1000).toFixed(0)} s): ${
            r.failed !== undefined
              ? `failed: ${r.failed}`
              : `gap ${r.longestWriteGapMs} ms, lost ${r.lost} of ${r.acked}, VIP writable ${fmt(t?.vipWritableMs)} ms (VIP up ${fmt(t?.vipUpMs)}, Redis master ${fmt(t?.roleMasterMs)})`
          }`,
        );
      }
    }
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  process.exit(0);
}

const GOALS: Record<ScenarioName, string> = {
  'host-crash': 'ratio <= 0.9; VIP writable <= MDI + 15 ms',
  'redis-crash': 'ratio <= 0.7',
  switchover: 'redkeep gap <= 50 ms and 0 lost',
};

function cells(interval: string, scenario: ScenarioName, impl: Impl): Run[] {
  return results.filter((r) => r.interval === interval && r.scenario === scenario && r.impl === impl);
}
const ok = (rs: readonly Run[]): Run[] => rs.filter((r) => r.failed === undefined);
function each(rs: readonly Run[], pick: (r: Run) => number | undefined, signed = false): string {
  if (rs.length === 0) return 'n/a';
  return rs.map((r) => (r.failed !== undefined ? `failed: ${r.failed.slice(0, 60)}` : fmt(pick(r), signed))).join(', ');
}
function ratio(interval: string, scenario: ScenarioName): number {
  const a = median(ok(cells(interval, scenario, 'redkeep')).map((r) => r.longestWriteGapMs ?? Number.NaN));
  const b = median(ok(cells(interval, scenario, 'keepalived')).map((r) => r.longestWriteGapMs ?? Number.NaN));
  return a / b;
}
const writableOverMdi = (r: Run): number => (r.takeover?.vipWritableMs ?? Number.NaN) - (r.masterDownIntervalMs ?? Number.NaN);
const fromAdvertOverMdi = (r: Run): number => writableOverMdi(r) - (r.takeover?.lastAdvertMs ?? Number.NaN);

/** The goal and whether the medians meet it. */
function verdict(interval: string, scenario: ScenarioName): string {
  const rk = ok(cells(interval, scenario, 'redkeep'));
  const yes = (b: boolean | undefined): string => (b === undefined ? 'n/a' : b ? 'met' : 'NOT met');
  const q = ratio(interval, scenario);
  const ratioMet = Number.isFinite(q) ? q <= (scenario === 'host-crash' ? 0.9 : 0.7) : undefined;
  switch (scenario) {
    case 'host-crash': {
      const w = median(rk.map(writableOverMdi));
      return `${GOALS[scenario]}: ratio ${yes(ratioMet)}, VIP writable ${yes(Number.isFinite(w) ? w <= 15 : undefined)} (median ${fmt(w, true)} ms over MDI)`;
    }
    case 'redis-crash':
      return `${GOALS[scenario]}: ${yes(ratioMet)}`;
    case 'switchover': {
      if (rk.length === 0) return `${GOALS[scenario]}: n/a`;
      return `${GOALS[scenario]}: ${yes(rk.every((r) => (r.longestWriteGapMs ?? Infinity) <= 50 && r.lost === 0))} (every run)`;
    }
  }
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => `| ${r.map((x, i) => x.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const out: string[] = [];
for (const interval of intervals) {
  const mdi = mdiMs(interval, 120);
  const skew = mdi - 3 * intervalMs(interval);
  out.push(
    '',
    `## ${interval} adverts: ${runs} run(s) per cell, client timeout ${timeoutMs} ms (connect and command), writes every 5 ms`,
    `Master_Down_Interval (MDI) of h2 (priority 120) = 3 x ${intervalMs(interval)} ms + Skew_Time ${skew.toFixed(3)} ms = ${mdi.toFixed(3)} ms`,
    '',
    'longest write gap (ms, each run), ratio = redkeep median / keepalived median; acknowledged writes lost (each run)',
    '',
  );
  out.push(
    table(
      ['scenario', 'redkeep gap', 'keepalived gap', 'ratio', 'redkeep lost', 'keepalived lost', 'goal'],
      only.map((s) => [
        s,
        each(cells(interval, s, 'redkeep'), (r) => r.longestWriteGapMs),
        each(cells(interval, s, 'keepalived'), (r) => r.longestWriteGapMs),
        Number.isFinite(ratio(interval, s)) ? ratio(interval, s).toFixed(2) : '-',
        each(cells(interval, s, 'redkeep'), (r) => r.lost),
        each(cells(interval, s, 'keepalived'), (r) => r.lost),
        verdict(interval, s),
      ]),
    ),
    '',
    [
      'fault -> VIP writable on h2 (ms, each run): max(VIP up on h2, h2\'s Redis a master taking writes); for host-crash also VIP writable - MDI,',
      'from the fault (taken just before the link cut, which takes a few ms) and from h3\'s last advert (the MDI runs from there)',
    ].join('\n'),
    '',
  );
  out.push(
    table(
      ['scenario', 'redkeep', 'keepalived', 'redkeep - MDI', 'keepalived - MDI', 'redkeep - MDI (last advert)', 'keepalived - MDI (last advert)'],
      only.map((s) => {
        const rk = cells(interval, s, 'redkeep');
        const ka = cells(interval, s, 'keepalived');
        const crash = s === 'host-crash';
        return [
          s,
          each(rk, (r) => r.takeover?.vipWritableMs),
          each(ka, (r) => r.takeover?.vipWritableMs),
          crash ? each(rk, writableOverMdi, true) : '',
          crash ? each(ka, writableOverMdi, true) : '',
          crash ? each(rk, fromAdvertOverMdi, true) : '',
          crash ? each(ka, fromAdvertOverMdi, true) : '',
        ];
      }),
    ),
    '',
    [
      'each run, ms from the fault, as h2 and the client namespace saw it: h3\'s last advert before h2\'s first; h3\'s first priority 0 after the fault; h2\'s first advert;',
      'the VIP added on h2; h2\'s Redis a master (taking writes or refusing them: min-replicas-to-write unmet); h2\'s Redis a master taking writes;',
      'the one Redis master (time to single master); the longest write gap, from the last acknowledgement before it to the first after;',
      'the client\'s first acknowledgement after it - VIP writable (the client\'s own part: reconnecting, or waiting for a connection to a silent host to close)',
    ].join('\n'),
    '',
  );
  const dash = (n: number): string[] => Array.from({ length: n }, () => '');
  out.push(
    table(
      ['scenario', 'impl', 'run', 'h3 last advert', 'h3 prio 0', 'h2 advert', 'VIP up', 'Redis promoted', 'Redis writable', 'single master', 'write gap', 'client after writable'],
      only.flatMap((s) =>
        impls.flatMap((impl) =>
          cells(interval, s, impl).map((r) => {
            const t = r.takeover;
            if (r.failed !== undefined) return [s, impl, String(r.run), `failed: ${r.failed.slice(0, 100)}`, ...dash(8)];
            const g = r.longestWriteGapAtMs;
            return [
              s,
              impl,
              String(r.run),
              fmt(t?.lastAdvertMs, true),
              fmt(t?.priorityZeroMs, true),
              fmt(t?.firstAdvertMs, true),
              fmt(t?.vipUpMs, true),
              fmt(t?.rolePromotedMs, true),
              fmt(t?.roleMasterMs, true),
              fmt(r.timeToSingleMasterMs, true),
              g ? `${fmt(g[0], true)} .. ${fmt(g[1], true)}` : '-',
              fmt((g?.[1] ?? Number.NaN) - (t?.vipWritableMs ?? Number.NaN), true),
            ];
          }),
        ),
      ),
    ),
  );
  const crashes = only.includes('host-crash') ? impls.flatMap((impl) => ok(cells(interval, 'host-crash', impl))) : [];
  for (const r of crashes.filter((x) => x.impl === 'redkeep')) {
    out.push('', `host-crash redkeep #${r.run}: the agents' logs, ms from the fault, until h2's VIP was writable`);
    out.push(...(r.takeoverLog?.length ? r.takeoverLog.map((l) => `  ${l}`) : ['  (no lines in the window)']));
  }
}
process.stdout.write(`${out.join('\n')}\n`);
