// Benchmark (not a test): the data-safety scenarios on the namespace lab (three hosts with real
// redis-server and redkeep, a client writing through the VIP every 5 ms), with 100 ms and with
// 1 s adverts. Prints per scenario: longest write gap, acknowledged writes lost, time to a
// single master (fault -> exactly one reachable Redis master, the final one, for good).
//
//   node scripts/dist/bench/failover.js [--interval 100ms,1s] [--only NAME[,NAME]] [--runs N] [--json]

import { type FailoverMeasure, SCENARIOS, measureFailover } from '../lab/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const intervals = (arg('interval') ?? '100ms,1s').split(',');
const only = arg('only')?.split(',');
const runs = Number(arg('runs') ?? 1);
const json = process.argv.includes('--json');

const unknown = (only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);

const results: FailoverMeasure[] = [];
const pad = (s: string | number, n: number): string => String(s).padStart(n);
if (!json) {
  process.stdout.write(`${'scenario'.padEnd(20)}${pad('adverts', 8)}${pad('acked', 8)}${pad('lost', 6)}${pad('longest gap ms', 16)}${pad('single master ms', 18)}\n`);
}
for (const interval of intervals) {
  for (const s of SCENARIOS.filter((x) => only === undefined || only.includes(x.name))) {
    for (let i = 0; i < runs; i++) {
      const m = await measureFailover(s, { advertInterval: interval });
      results.push(m);
      if (!json) {
        process.stdout.write(
          `${m.scenario.padEnd(20)}${pad(m.advertInterval, 8)}${pad(m.acked, 8)}${pad(m.lost.length, 6)}${pad(m.longestWriteGapMs, 16)}${pad(Number.isNaN(m.timeToSingleMasterMs) ? '-' : m.timeToSingleMasterMs, 18)}\n`,
        );
      }
    }
  }
}
if (json) process.stdout.write(`${JSON.stringify(results.map((m) => ({ ...m, lost: m.lost.length })), null, 2)}\n`);
