// Builds the addon with node-gyp when it is missing or older than its sources. Uses the Node
// headers installed under /usr when present (node-gyp cannot download them on every machine).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'Release', 'afpacket.node');
const sources = [join(here, 'native', 'afpacket.c'), join(here, 'binding.gyp')];
const fresh = existsSync(out) && sources.every((s) => statSync(s).mtimeMs <= statSync(out).mtimeMs);
if (!fresh) {
  const args = ['rebuild'];
  if (existsSync('/usr/include/node/node.h')) args.push('--nodedir=/usr');
  const gyp = join(here, 'node_modules', '.bin', 'node-gyp');
  const r = spawnSync(gyp, args, { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`afpacket: node-gyp ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}
