import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATUS } from './metrics/status-fixture.js';
import { STATUS_SCHEMA, statusJson, withNulls } from './status-json.js';

describe('status as JSON', () => {
  it('turns every undefined into null, in objects and arrays at any depth, and copies the rest', () => {
    const input = { a: undefined, b: { c: undefined, d: [1, undefined, { e: undefined }] }, f: 'x', g: null, h: false };
    const out = withNulls(input);
    assert.deepEqual(out, { a: null, b: { c: null, d: [1, null, { e: null }] }, f: 'x', g: null, h: false });
    assert.equal(JSON.stringify(out), '{"a":null,"b":{"c":null,"d":[1,null,{"e":null}]},"f":"x","g":null,"h":false}');
    assert.deepEqual(input.b.d, [1, undefined, { e: undefined }], 'the input is left alone');
  });

  it('puts the schema version first and keeps every key of the status', () => {
    const json = statusJson(STATUS);
    assert.equal(STATUS_SCHEMA, 1);
    assert.equal(Object.keys(json)[0], 'schema');
    assert.equal(json.schema, 1);
    const back = JSON.parse(JSON.stringify(json)) as typeof json;
    assert.deepEqual(back, json, 'nothing is lost through JSON');
    assert.equal(back.instances[0]?.redis?.masterHost, null);
    assert.equal(back.instances[0]?.guard?.quorum?.needed, 2);
  });
});
