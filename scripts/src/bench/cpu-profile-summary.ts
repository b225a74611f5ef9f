// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function, by file and by
// package, from the samples and their time deltas.
//
//   node scripts/dist/bench/cpu-profile-summary.js FILE.cpuprofile [--top 25] [--from S]
//
// --from S counts only the samples taken S seconds or more after the profile started (leaves
// start-up out, for the steady state).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, from: { type: 'string', default: '0' } } });
const file = positionals[0];
if (file === undefined) throw new Error('usage: cpu-profile-summary FILE.cpuprofile [--top 25] [--from S]');
const top = Number(values.top);
const fromUs = Number(values.from) * 1e6;

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A file's name for humans: repository-relative, node: built-ins as they are. */
function shortUrl(url: string): string {
  if (url === '') return '(native / vm)';
  let p = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (p.startsWith(repoRoot)) p = p.slice(repoRoot.length);
  // pnpm's store path: keep the package's own path only.
  p = p.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'node_modules/');
  return p;
}

/** The package a file belongs to. */
function packageOf(url: string): string {
  const p = shortUrl(url);
  if (p === '(native / vm)') return '(native)';
  if (p.startsWith('node:')) return 'node built-ins (node:*)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
  if (nm) return `dependency ${nm[1] ?? ''}`;
  const ws = /^(packages\/[^/]+|agent|scripts)\//.exec(p);
  if (ws) return ws[1] ?? p;
  return p;
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
// samples[i] ran for timeDeltas[i + 1] (the delta before the next sample); the last one's length is unknown.
let atUs = 0;
let counted = 0;
let firstUs: number | undefined;
for (let i = 0; i < profile.samples.length; i++) {
  atUs += profile.timeDeltas[i] ?? 0;
  if (atUs < fromUs) continue;
  firstUs ??= atUs;
  counted++;
  const id = profile.samples[i] ?? 0;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}

const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const fn = `${functionName || '(anonymous)'}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  // V8's pseudo-frames ((idle), (program), (garbage collector)) stay apart from native functions.
  const special = url === '' && /^\(.*\)$/.test(functionName) ? functionName : undefined;
  const f = special ?? shortUrl(url);
  const pkg = special ?? packageOf(url);
  byFile.set(f, (byFile.get(f) ?? 0) + us);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
}
const idleUs = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
const busyUs = totalUs - idleUs;

function table(title: string, m: Map<string, number>, limit: number): void {
  console.log(`\n${title}`);
  console.log('    ms   % busy  % all');
  const rows = [...m].sort((a, b) => b[1] - a[1]).slice(0, limit);
  for (const [k, us] of rows) {
    const busy = k.startsWith('(idle)') ? '     -' : `${((100 * us) / busyUs).toFixed(1).padStart(6)}`;
    console.log(`${(us / 1000).toFixed(0).padStart(6)}  ${busy}  ${((100 * us) / totalUs).toFixed(1).padStart(5)}  ${k}`);
  }
}

console.log(`${file}`);
console.log(
  `profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, ${profile.samples.length} samples` +
    `${fromUs > 0 ? `, of which ${counted} from ${((firstUs ?? 0) / 1e6).toFixed(1)} s on` : ''}; ` +
    `sampled ${(totalUs / 1000).toFixed(0)} ms, idle ${(idleUs / 1000).toFixed(0)} ms, busy ${(busyUs / 1000).toFixed(0)} ms ` +
    `(${((100 * busyUs) / totalUs).toFixed(1)} % of the main thread)`,
);
table(`top ${top} functions by self time (% busy excludes (idle))`, byFunction, top);
table('by file', byFile, top);
table('by package', byPackage, top);
