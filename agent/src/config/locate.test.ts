import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPath, lineOf, locateKeys, parseToml } from './locate.js';

describe('locating keys', () => {
  /** Checks the line of each path: lineOf finds a path's own line, or its nearest ancestor's. */
  function expectLines(text: string, expected: Record<string, number>): void {
    const lines = locateKeys(text);
    for (const [path, line] of Object.entries(expected)) assert.equal(lineOf(lines, path), line, path);
  }

  it('finds dotted keys at the top level and inside an array of tables', () => {
    expectLines('agent.name = "a"\n\n[[instance]]\nname = "w"\nredis.address = "127.0.0.1:6379"\nredis."max_lag" = 5\n', {
      'agent.name': 1,
      agent: 1,
      'instance[0].redis.address': 5,
      'instance[0].redis.max_lag': 6,
      // The table is where its first dotted key is.
      'instance[0].redis': 5,
    });
  });

  it('finds quoted keys under the path of the bare key they spell, and address keys in brackets', () => {
    const text = '[[instance]]\n[instance.redis]\n"max_lag" = 5\n\'quorum\' = 2\npeer_addresses = { "192.0.2.11" = "198.51.100.11",\n  "fe80::b" = "198.51.100.12" }\n';
    expectLines(text, { 'instance[0].redis.max_lag': 3, 'instance[0].redis.quorum': 4 });
    expectLines(text, { 'instance[0].redis.peer_addresses["192.0.2.11"]': 5, 'instance[0].redis.peer_addresses["fe80::b"]': 6 });
  });

  it('finds the inline table of an array element, also in an array spread over lines', () => {
    const text = '[[instance]]\ntracks = ["a", { name = "b", weight = 500 }]\nvirtual_addresses = [\n  "192.0.2.50/24",\n  "192.0.2.51/24",\n]\ntrack_interfaces = [\n  { name = "eth1" },\n  { name = "eth2",\n    weight = -20 },\n]\n';
    expectLines(text, { 'instance[0].tracks[1]': 2, 'instance[0].tracks[1].weight': 2, 'instance[0].virtual_addresses[1]': 5 });
    expectLines(text, { 'instance[0].track_interfaces[1]': 9, 'instance[0].track_interfaces[1].weight': 10 });
  });

  it('counts the elements of arrays of tables', () => {
    const text = '[[instance]]\nname = "a"\n[[instance]]\nname = "b"\n[[instance]]\nname = "c"\n[instance.redis]\nmax_lag = 1\n[[track]]\nname = "t"\n';
    expectLines(text, { 'instance[2].name': 6, 'instance[2].redis.max_lag': 8, instance: 1, 'track[0].name': 10 });
  });

  it('names the key and both lines of a key or a table defined twice', () => {
    const cases: [string, number, string, RegExp][] = [
      ['[[instance]]\nvrid = 1\n[[instance]]\nvrid = 2\nvrid = 3\n', 5, 'instance[1].vrid', /first on line 4/],
      ['[agent]\nname = "a"\n\n[agent]\nlog_level = "info"\n', 4, 'agent', /first on line 1/],
      ['[[instance]]\n[instance.redis]\nmax_lag = 1\n[instance.redis]\nquorum = 1\n', 4, 'instance[0].redis', /first on line 2/],
      ['[[instance]]\nredis.address = "x"\n[instance.redis]\n', 3, 'instance[0].redis', /first on line 2/],
      ['[[instance]]\ngarp = { repeat = 1,\n  repeat = 2 }\n', 3, 'instance[0].garp.repeat', /first on line 2/],
      ['[[instance]]\n"max_lag" = 1\nmax_lag = 2\n', 3, 'instance[0].max_lag', /first on line 2/],
    ];
    for (const [text, line, key, first] of cases) {
      const r = parseToml(text);
      assert.ok(!r.ok, text);
      assert.equal(r.problem.line, line, text);
      assert.equal(r.problem.key, key, text);
      assert.match(r.problem.message, /^is defined twice/, text);
      assert.match(r.problem.message, first, text);
    }
  });

  it('names the key of an integer too large for a number, the line of one too large for TOML', () => {
    const r = parseToml('[[instance]]\nname = "w"\nredis.max_lag = 9007199254740993\n');
    assert.ok(!r.ok);
    assert.deepEqual([r.problem.line, r.problem.key], [3, 'instance[0].redis.max_lag']);
    assert.match(r.problem.message, /^not valid TOML: Integer 9007199254740993 cannot be represented/);
    const huge = parseToml('[[instance]]\nname = "w"\nredis.max_lag = 99999999999999999999\n');
    assert.ok(!huge.ok);
    assert.equal(huge.problem.line, 3);
  });

  it('names the line of a syntax error', () => {
    const r = parseToml('[agent]\nname = "a"\nlog_level = = "debug"\n');
    assert.ok(!r.ok);
    assert.equal(r.problem.line, 3);
    assert.match(r.problem.message, /^not valid TOML \(column 13\)/);
  });

  it('writes a key that needs quotes in brackets', () => {
    assert.equal(childPath('', 'agent'), 'agent');
    assert.equal(childPath('agent', 'name'), 'agent.name');
    assert.equal(childPath('x.peer_addresses', '192.0.2.11'), 'x.peer_addresses["192.0.2.11"]');
  });
});
