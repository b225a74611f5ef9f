// The chaos lab's command: named and random fault schedules against real agents, real
// redis-server and a writing client in the namespace lab, redkeep and keepalived (with the usual
// scripts) side by side. Prints a table; --seed reproduces a random schedule.
//   node scripts/dist/chaos/run.js [--named] [--runs N] [--seed S] [--hosts 3|5]
//     [--impl redkeep,keepalived,redkeep-strict] [--interval 100ms] [--max-fault 8000] [--json]
//     [--only NAME,...]   only these schedules (e.g. --only crash-aof, "seed 4")
// Named schedules add crash-aof (the master host crashes, its Redis reboots from appendonly).
// redkeep-strict: redkeep with `[agent] etcd` and a 3-member etcd cluster; its schedules add the
// etcd faults (etcd-cut, etcd-leader), which the other agents skip (n/a).

import { parseArgs } from 'node:util';
import { type ChaosResult, runChaos } from './chaos.js';
import { FAULT_KINDS, NAMED_ONLY_KINDS, STRICT_FAULT_KINDS, type Schedule, describeSchedule, namedSchedules, randomSchedule } from './schedule.js';

const { values } = parseArgs({
  options: {
    named: { type: 'boolean', default: false },
    runs: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    hosts: { type: 'string', default: '3' },
    impl: { type: 'string', default: 'redkeep,keepalived' },
    interval: { type: 'string', default: '100ms' },
    'max-fault': { type: 'string', default: '8000' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});

const hosts = Number(values.hosts);
const runs = Number(values.runs);
const seed = Number(values.seed);
const impls = values.impl.split(',').map((x) => x.trim()) as ChaosResult['impl'][];
const hostNames = Array.from({ length: hosts }, (_, i) => `h${i + 1}`);
// With strict mode among the agents, schedules draw from its etcd faults too (the others skip them).
const kinds = impls.includes('redkeep-strict') ? STRICT_FAULT_KINDS : FAULT_KINDS;
const schedules: Schedule[] = [
  ...(values.named || runs === 0 ? namedSchedules([...kinds, ...NAMED_ONLY_KINDS]) : []),
  ...Array.from({ length: runs }, (_, k) => randomSchedule(seed + k, hostNames, Number(values['max-fault']), kinds)),
].filter((s) => values.only === undefined || values.only.split(',').includes(s.name));

const results: ChaosResult[] = [];
for (const s of schedules) {
  process.stderr.write(`${s.name}: ${describeSchedule(s)}\n`);
  for (const impl of impls) {
    if (impl !== 'redkeep-strict' && s.faults.some((f) => f.kind.startsWith('etcd-'))) continue;
    try {
      const r = await runChaos(s, { impl, hosts, advertInterval: values.interval }, (l) => process.stderr.write(`${l}\n`));
      results.push(r);
      process.stderr.write(`  ${impl}: ${r.acked} acked, ${r.lost} lost (${r.unexplained} unexplained), gap ${r.longestGapMs} ms, two masters ${r.twoMastersMs} ms, end ${r.end}\n`);
    } catch (e) {
      process.stderr.write(`  ${impl}: failed to run: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
    }
  }
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const cell = (r: ChaosResult | undefined): string =>
    r ? `${r.lost} (${r.unexplained}) / ${r.longestGapMs} / ${r.twoMastersMs} / ${r.end === 'ok' ? 'ok' : 'NOT SETTLED'}` : 'n/a';
  process.stdout.write(`\n${hosts} hosts, ${values.interval} adverts; each cell: lost (unexplained) / longest write gap ms / two masters ms / end\n\n`);
  process.stdout.write(`| schedule | ${impls.join(' | ')} |\n|---|${impls.map(() => '---').join('|')}|\n`);
  for (const s of schedules) {
    process.stdout.write(`| ${s.name}: ${describeSchedule(s)} | ${impls.map((i) => cell(results.find((r) => r.schedule === s.name && r.impl === i))).join(' | ')} |\n`);
  }
}
