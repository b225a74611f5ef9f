import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ARGS, ProtocolError, RequestParser, array, bulk, bulks, encode, error, fields, int, map, push, simple, splitInline } from './resp.js';

const req = (...args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);

describe('RESP requests', () => {
  it('parses multibulk requests split at every byte', () => {
    const bytes = Buffer.concat([req('SENTINEL', 'get-master-addr-by-name', 'redis-write'), req('PING'), req('ECHO', 'a\r\nb é')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = new RequestParser();
      const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      assert.deepEqual(got, [['SENTINEL', 'get-master-addr-by-name', 'redis-write'], ['PING'], ['ECHO', 'a\r\nb é']], `cut at ${cut}`);
    }
  });

  it('parses inline commands with quotes, and skips empty lines', () => {
    const p = new RequestParser();
    assert.deepEqual(p.push(Buffer.from('\r\nsentinel  masters\r\nauth "a b" \'c\'\nPING')), [['sentinel', 'masters'], ['auth', 'a b', 'c']]);
    assert.deepEqual(p.push(Buffer.from('\r\n')), [['PING']]);
    assert.deepEqual(splitInline('  x\ty  '), ['x', 'y']);
  });

  it('refuses malformed and oversized requests with a protocol error', () => {
    const bad = ['*x\r\n', '*2\r\n+OK\r\n', '*1\r\n$3\r\nabcd\r\n', `*${MAX_ARGS + 1}\r\n`, '*1\r\n$99999999\r\n', '*1\r\n$-1\r\n', 'set "a\r\n', `*1\r\n$${'9'.repeat(40)}`];
    for (const b of bad) assert.throws(() => new RequestParser().push(Buffer.from(b)), ProtocolError, JSON.stringify(b));
    assert.throws(() => new RequestParser().push(Buffer.alloc(70 * 1024, 0x61)), ProtocolError);
  });

  it('survives random bytes: either requests, waiting, or a protocol error', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = Buffer.concat([req('SENTINEL', 'masters'), req('SUBSCRIBE', '+switch-master')]);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        for (const r of new RequestParser().push(b)) assert.ok(Array.isArray(r) && r.every((x) => typeof x === 'string'));
      } catch (e) {
        assert.ok(e instanceof ProtocolError, String(e));
      }
    }
  });
});

describe('RESP replies', () => {
  it('encodes RESP2', () => {
    assert.equal(encode(simple('OK'), 2), '+OK\r\n');
    assert.equal(encode(error('ERR x\r\ny'), 2), '-ERR x  y\r\n');
    assert.equal(encode(int(3), 2), ':3\r\n');
    assert.equal(encode(bulk('é'), 2), '$2\r\né\r\n');
    assert.equal(encode(bulk(null), 2), '$-1\r\n');
    assert.equal(encode(array(null), 2), '*-1\r\n');
    assert.equal(encode(bulks(['a', 'b']), 2), '*2\r\n$1\r\na\r\n$1\r\nb\r\n');
    assert.equal(encode(fields([['ip', '192.0.2.1']]), 2), '*2\r\n$2\r\nip\r\n$9\r\n192.0.2.1\r\n');
    assert.equal(encode(push([bulk('message')]), 2), '*1\r\n$7\r\nmessage\r\n');
  });

  it('encodes RESP3 maps, nulls and pushes', () => {
    assert.equal(encode(map([['proto', int(3)]]), 3), '%1\r\n$5\r\nproto\r\n:3\r\n');
    assert.equal(encode(bulk(null), 3), '_\r\n');
    assert.equal(encode(array(null), 3), '_\r\n');
    assert.equal(encode(push([bulk('message')]), 3), '>1\r\n$7\r\nmessage\r\n');
  });
});
