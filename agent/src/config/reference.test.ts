import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCEPTED_KEYS, type ConfigTable } from './config.js';
import { CONFIG_SECTIONS } from './reference.js';

describe('configuration reference', () => {
  it('documents every table the loader reads, once', () => {
    const documented = CONFIG_SECTIONS.map((s) => s.table);
    assert.deepEqual([...documented].sort(), Object.keys(ACCEPTED_KEYS).filter((t) => t !== '').sort());
  });

  it('documents exactly the keys the loader accepts, per table', () => {
    for (const [table, accepted] of Object.entries(ACCEPTED_KEYS) as [ConfigTable, readonly string[]][]) {
      // The top level's keys are the tables without a dot: [agent], [[instance]], [[track]].
      const documented = table === '' ? CONFIG_SECTIONS.filter((s) => !s.table.includes('.')).map((s) => s.table) : (CONFIG_SECTIONS.find((s) => s.table === table)?.keys.map((k) => k.key) ?? []);
      assert.deepEqual([...documented].sort(), [...accepted].sort(), `keys of ${table || 'the top level'}`);
      assert.equal(new Set(documented).size, documented.length, `a key of ${table || 'the top level'} documented twice`);
    }
  });

  it('gives every key a type, a default and a meaning', () => {
    for (const s of CONFIG_SECTIONS) for (const k of s.keys) for (const f of ['type', 'default', 'meaning'] as const) assert.ok(k[f].trim().length > 0, `${s.table}.${k.key}: ${f}`);
  });
});
