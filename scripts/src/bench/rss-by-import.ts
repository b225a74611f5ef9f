// Where redkeep's resident memory goes before it does anything: one fresh node process imports
// the agent's dependencies and modules one after the other (cumulatively, in the order the
// agent's own imports pull them in) and prints RSS, V8 heap and external memory after each, with
// a garbage collection first when node runs with --expose-gc.
//
//   node --expose-gc scripts/dist/bench/rss-by-import.js

import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
/** Resolves a dependency as the workspace package that depends on it does. */
function from(pkgDir: string, name: string): string {
  return pathToFileURL(createRequire(`${root}${pkgDir}/package.json`).resolve(name)).href;
}
function file(rel: string): string {
  return pathToFileURL(`${root}${rel}`).href;
}

// In the order the daemon (`redkeep run`) loads them; then what only other commands or a Redis
// link load (yargs for the CLI, ioredis with the first Redis link).
const steps: [string, string][] = [
  ['toml', from('agent', 'toml')],
  ['@redkeep/vrrp', from('agent', '@redkeep/vrrp')],
  ['@redkeep/wire', from('agent', '@redkeep/wire')],
  ['@redkeep/pcap', from('agent', '@redkeep/pcap')],
  ['@redkeep/afpacket (native)', from('agent', '@redkeep/afpacket')],
  ['@redkeep/host', from('agent', '@redkeep/host')],
  ['@redkeep/redis', from('agent', '@redkeep/redis')],
  ['@redkeep/failover', from('agent', '@redkeep/failover')],
  ['agent dist/commands/run.js (the daemon)', file('agent/dist/commands/run.js')],
  ['ioredis (the first Redis link)', from('packages/redis', 'ioredis')],
  ['yargs (every command but run)', from('agent', 'yargs')],
  ['agent dist/index.js (every command)', file('agent/dist/index.js')],
];

const gc = (globalThis as { gc?: () => void }).gc;
function mb(n: number): string {
  return (n / 1024 / 1024).toFixed(1).padStart(7);
}
let prevRss = 0;
function report(what: string): void {
  gc?.();
  const m = process.memoryUsage();
  const d = (m.rss - prevRss) / 1024 / 1024;
  const delta = prevRss === 0 ? '' : `${d >= 0 ? '+' : '-'}${Math.abs(d).toFixed(1)}`;
  console.log(`${mb(m.rss)} ${delta.padStart(7)}  ${mb(m.heapUsed)} ${mb(m.heapTotal)} ${mb(m.external)}  ${what}`);
  prevRss = m.rss;
}

console.log(`node ${process.version}${gc ? ', gc before each reading' : ' (run with --expose-gc for steadier numbers)'}`);
console.log('    RSS   delta  heapUsed heapTotal external (MB)');
report('node, nothing imported');
for (const [name, url] of steps) {
  await import(url);
  report(name);
}
