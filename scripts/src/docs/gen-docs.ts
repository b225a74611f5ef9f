// Writes the man pages and the bash completion, and the README's configuration tables, from the
// built tree (no network):
//   node scripts/dist/docs/gen-docs.js --out DIR         DIR/redkeep.8, redkeep.toml.5, redkeep.bash-completion
//   node scripts/dist/docs/gen-docs.js --readme README.md  rewrites the tables between the markers

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bashCompletion, redkeepManPage, redkeepTomlManPage } from './pages.js';
import { withConfigReference } from './readme.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, readme: { type: 'string' } }, strict: true });
if (values.out === undefined && values.readme === undefined) {
  process.stderr.write('usage: node scripts/dist/docs/gen-docs.js [--out DIR] [--readme README.md]\n');
  process.exit(2);
}
if (values.out !== undefined) {
  mkdirSync(values.out, { recursive: true });
  const files: [string, string][] = [
    ['redkeep.8', await redkeepManPage()],
    ['redkeep.toml.5', redkeepTomlManPage()],
    ['redkeep.bash-completion', await bashCompletion()],
  ];
  for (const [name, text] of files) {
    writeFileSync(join(values.out, name), text);
    process.stdout.write(`${join(values.out, name)}\n`);
  }
}
if (values.readme !== undefined) {
  const before = readFileSync(values.readme, 'utf8');
  const after = withConfigReference(before);
  if (after !== before) writeFileSync(values.readme, after);
  process.stdout.write(`${values.readme}: ${after === before ? 'unchanged' : 'configuration tables rewritten'}\n`);
}
