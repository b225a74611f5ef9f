import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { REDKEEP_VERSION } from '../version.js';

describe('version', () => {
  it('is the one agent/package.json names (status, redkeep_build_info, the Sentinel endpoint)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(REDKEEP_VERSION, pkg.version);
  });
});
