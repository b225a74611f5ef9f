import { readFileSync } from 'node:fs';

/**
 * The version in agent/package.json, the one place it is written. Read at run time, relative to
 * this module: `../package.json` from dist/version.js and from the bundle dist/redkeep.cjs alike
 * (bundle.mjs gives the bundle its own `import.meta.url`), so a version bump needs no rebuild step.
 */
export const REDKEEP_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
