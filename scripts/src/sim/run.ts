// The simulated cluster's command: replays one fault schedule by seed with its event log, or runs
// many and prints a summary (the same property checks as packages/failover's sim.test).
//   node scripts/dist/sim/run.js --seed S [--hosts 3|5]          one schedule, with its events
//   node scripts/dist/sim/run.js --runs N [--seed FIRST] [--hosts 3|5]
// Strict mode (an etcd lease, with etcd faults in the schedule): --strict fence|keep|embedded,
// with --ttl MS for the lease TTL and --no-deputy to leave the fence deputy out.

import { parseArgs } from 'node:util';
import { type StrictOptions, describeRun, generateSchedule, runSchedule } from '@redkeep/failover/sim';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '0' },
    hosts: { type: 'string', default: '3' },
    from: { type: 'string', default: '0' },
    strict: { type: 'string' },
    ttl: { type: 'string' },
    'no-deputy': { type: 'boolean', default: false },
  },
});

const hosts = Number(values.hosts);
const seed = Number(values.seed);
const runs = Number(values.runs);
if (![3, 5].includes(hosts) && !(hosts >= 2 && hosts <= 7)) throw new Error(`--hosts must be 2..7, not ${values.hosts}`);
const onLoss = values.strict;
if (onLoss !== undefined && onLoss !== 'fence' && onLoss !== 'keep' && onLoss !== 'embedded') throw new Error(`--strict must be fence, keep or embedded, not ${onLoss}`);
if ((values.ttl !== undefined || values['no-deputy']) && onLoss === undefined) throw new Error('--ttl and --no-deputy need --strict');
const strict: StrictOptions | undefined =
  onLoss === undefined ? undefined : { onLoss, ...(values.ttl !== undefined ? { ttlMs: Number(values.ttl) } : {}), ...(values['no-deputy'] ? { deputy: false } : {}) };
const schedule = (s: number): ReturnType<typeof generateSchedule> => generateSchedule(s, hosts, strict ? { strict } : {});

if (runs === 0) {
  const r = runSchedule(schedule(seed), { notes: true });
  console.log(describeRun(r));
  const from = Number(values.from);
  for (const e of r.events) if (e.atMs >= from) console.log(`${e.atMs.toFixed(1).padStart(9)} ms  ${e.host}  ${e.what}`);
  process.exitCode = r.violations.length > 0 ? 1 : 0;
} else {
  const start = performance.now();
  let failing = 0;
  for (let s = seed; s < seed + runs; s++) {
    const r = runSchedule(schedule(s));
    if (r.violations.length > 0) {
      failing++;
      console.log(describeRun(r));
    }
  }
  console.log(`${runs} schedules at ${hosts} members${strict ? ` (strict, on_loss ${strict.onLoss})` : ''} from seed ${seed}: ${failing} failing, ${((performance.now() - start) / runs).toFixed(1)} ms each`);
  process.exitCode = failing > 0 ? 1 : 0;
}
