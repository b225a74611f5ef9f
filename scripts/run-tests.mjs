// Runs every compiled test file (*.test.js under a dist/ directory) with node's test runner.
// Usage: node scripts/run-tests.mjs [--only-pure] [extra node --test flags]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['agent', 'packages', 'scripts', 'test'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js') && p.includes(`${join('', 'dist', '')}`)) out.push(p);
  }
  return out;
}

// --only-pure: leave out the namespace tests (test/dist/ns: root, network namespaces, real
// redis-server and keepalived); what remains needs no privilege and touches nothing on the host.
const onlyPure = process.argv.includes('--only-pure');
const nsDir = `${join(root, 'test', 'dist', 'ns')}${sep}`;
const files = roots
  .flatMap((r) => walk(join(root, r), []))
  .filter((f) => !onlyPure || !f.startsWith(nsDir))
  .sort();
if (files.length === 0) {
  console.error('no compiled tests found: run `pnpm build` first');
  process.exit(1);
}
const args = ['--test', '--test-timeout=900000', ...process.argv.slice(2).filter((a) => a !== '--only-pure'), ...files.map((f) => relative(root, f))];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
