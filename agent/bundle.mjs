// Bundles the CLI and daemon (tsc's output under dist/) into one CommonJS file, dist/redkeep.cjs,
// which bin/redkeep.js loads. One file, loaded without Node's ES module loader, keeps the daemon's
// memory down (about 5 MB less RSS than the same code as ES modules, see the README's Performance
// section). Native addons and ioredis stay outside: they are loaded from their packages at run
// time (ioredis only by an agent with Redis, etcd3 only by one with `[agent] etcd`).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Loaded from node_modules at run time (ioredis and etcd3 only when used); the package ships them. */
const EXTERNAL = JSON.parse(readFileSync(join(here, 'bundle-external.json'), 'utf8')).packages;
await build({
  entryPoints: [join(here, 'dist', 'cli.js')],
  outfile: join(here, 'dist', 'redkeep.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: [...EXTERNAL.flatMap((p) => [p, `${p}/*`]), '*.node'],
  minifyWhitespace: true,
  minifySyntax: true,
  // Modules that find files next to themselves get the bundle's own location.
  define: { 'import.meta.url': '__redkeepBundleUrl' },
  banner: { js: "const __redkeepBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
