// The simulated cluster's command: replays one fault schedule by seed with its event log, or runs
// many and prints a summary (the same property checks as packages/failover's sim.test).
//   node scripts/dist/sim/run.js --seed S [--hosts 3|5]          one schedule, with its events
//   node scripts/dist/sim/run.js --runs N [--seed FIRST] [--hosts 3|5]

import { parseArgs } from 'node:util';
import { describeRun, generateSchedule, runSchedule } from '@redkeep/failover/sim';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '0' },
    hosts: { type: 'string', default: '3' },
    from: { type: 'string', default: '0' },
  },
});

const hosts = Number(values.hosts);
const seed = Number(values.seed);
const runs = Number(values.runs);
if (![3, 5].includes(hosts) && !(hosts >= 2 && hosts <= 7)) throw new Error(`--hosts must be 2..7, not ${values.hosts}`);

if (runs === 0) {
  const r = runSchedule(generateSchedule(seed, hosts), { notes: true });
  console.log(describeRun(r));
  const from = Number(values.from);
  for (const e of r.events) if (e.atMs >= from) console.log(`${e.atMs.toFixed(1).padStart(9)} ms  ${e.host}  ${e.what}`);
  process.exitCode = r.violations.length > 0 ? 1 : 0;
} else {
  const start = performance.now();
  let failing = 0;
  for (let s = seed; s < seed + runs; s++) {
    const r = runSchedule(generateSchedule(s, hosts));
    if (r.violations.length > 0) {
      failing++;
      console.log(describeRun(r));
    }
  }
  console.log(`${runs} schedules at ${hosts} members from seed ${seed}: ${failing} failing, ${((performance.now() - start) / runs).toFixed(1)} ms each`);
  process.exitCode = failing > 0 ? 1 : 0;
}
