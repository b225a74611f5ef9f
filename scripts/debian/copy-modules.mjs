// Copies the run-time closure of the agent's external packages (those its bundle loads from
// node_modules: see agent/bundle.mjs) into one flat node_modules for the Debian package.
// usage: node copy-modules.mjs <agent dir> <target node_modules> <package>...
// Each package is resolved as Node would from the agent (pnpm's symbolic links followed), then
// its dependencies and optional dependencies from where it really lies. A second version of a
// package already placed goes into its dependant's own node_modules. Tests, docs and type
// declarations are left out; licence files stay.
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const [agentDir, target, ...roots] = process.argv.slice(2);
if (!agentDir || !target || roots.length === 0) {
  console.error('usage: node copy-modules.mjs <agent dir> <target node_modules> <package>...');
  process.exit(2);
}

/** Finds <name>/package.json in the node_modules directories above `from`, as require does. */
function locate(name, from) {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name, 'package.json');
    if (existsSync(p)) return realpathSync(dirname(p));
    if (dirname(d) === d) return undefined;
  }
}

const SKIP = /(^|\/)(node_modules|test|tests|__tests__|docs?|examples?|\.github)(\/|$)|\.(d\.ts|d\.mts|d\.cts|map|md|ts)$/;
const placed = new Map(); // installed dir -> version
let copied = 0;

function place(name, from, into) {
  const src = locate(name, from);
  if (!src) throw new Error(`cannot find ${name} (needed from ${from})`);
  const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  let dest = join(target, name);
  if (placed.has(dest) && placed.get(dest) !== pkg.version) dest = join(into, 'node_modules', name);
  if (placed.get(dest) === pkg.version) return;
  placed.set(dest, pkg.version);
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(src, dest, {
    recursive: true,
    dereference: true,
    filter: (s) => {
      const rel = s.slice(src.length + 1);
      if (rel === '') return true;
      if (/^licen[sc]e|^notice/i.test(basename(rel))) return true;
      return !SKIP.test(rel) || rel === 'package.json';
    },
  });
  copied++;
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.optionalDependencies ?? {}) };
  for (const dep of Object.keys(deps)) {
    if (!locate(dep, src)) {
      if (pkg.optionalDependencies?.[dep] !== undefined) continue;
      throw new Error(`${name} needs ${dep}, which is not installed`);
    }
    place(dep, src, dest);
  }
}

for (const r of roots) place(r, realpathSync(agentDir), target);
console.log(`copy-modules: ${copied} packages into ${target}`);
