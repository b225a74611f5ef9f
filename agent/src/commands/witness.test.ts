import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { RedisLink } from '@redkeep/redis';
import { parseCommand, startWitness } from './witness.js';

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const quiet = { print: () => undefined, error: () => undefined };

async function up(l: RedisLink): Promise<void> {
  for (let i = 0; i < 200 && !l.isUp; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('redkeep witness', () => {
  it('parses RESP arrays, inline commands, and waits for the rest of a request', () => {
    assert.deepEqual(parseCommand(Buffer.from('*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n'))?.argv, ['INFO', 'replication']);
    assert.deepEqual(parseCommand(Buffer.from('PING\r\n'))?.argv, ['PING']);
    assert.equal(parseCommand(Buffer.from('*2\r\n$4\r\nINFO\r\n$11\r\nrepl')), undefined);
    assert.throws(() => parseCommand(Buffer.from('*2\r\n:4\r\n')));
  });

  it('answers a member\'s link (AUTH, PING, INFO) as a Redis that is neither master nor replica', async () => {
    const port = await freePort();
    const stop = await startWitness(`127.0.0.1:${port}`, 's3cret', quiet);
    const l = new RedisLink({ host: '127.0.0.1', port, db: 0, password: 's3cret' }, { connectTimeoutMs: 200, reconnectMs: 50, name: 'redkeep-test' });
    const wrong = new RedisLink({ host: '127.0.0.1', port, db: 0, password: 'nope' }, { connectTimeoutMs: 200, reconnectMs: 50 });
    try {
      await up(l);
      assert.ok(l.isUp);
      await l.ping(500);
      const f = await l.facts(500);
      assert.equal(f.role, 'unknown');
      assert.equal(f.keys, 0);
      assert.ok(f.runId !== undefined);
      await up(wrong);
      assert.equal(wrong.isUp, false, 'a wrong password gets no session');
    } finally {
      l.close();
      wrong.close();
      await stop();
    }
  });
});
