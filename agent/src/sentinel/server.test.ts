import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Logger } from '../log.js';
import type { MasterView } from './model.js';
import { MAX_PENDING_BYTES, SentinelServer, globToRegExp } from './server.js';

const view: MasterView = {
  name: 'redis-write',
  master: { ip: '192.0.2.13', port: 6379, runId: undefined },
  lastMaster: { ip: '192.0.2.13', port: 6379 },
  replicas: [],
  sentinels: [],
  quorum: 2,
  downAfterMs: 340,
  configEpoch: 0,
};

/** A raw RESP client: send a request, read until `bytes` of reply arrived or the server closes. */
class Raw {
  private buf = '';
  closed = false;
  constructor(readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (this.buf += d));
    sock.on('close', () => (this.closed = true));
  }
  static open(path: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new Raw(s)));
      s.once('error', reject);
    });
  }
  async ask(text: string, until: (b: string) => boolean = (b) => b.endsWith('\r\n')): Promise<string> {
    this.buf = '';
    this.sock.write(text);
    const start = Date.now();
    while (!until(this.buf) && !this.closed) {
      if (Date.now() - start > 2000) throw new Error(`no complete reply to ${JSON.stringify(text)}: ${JSON.stringify(this.buf)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.buf;
  }
  async waitFor(re: RegExp): Promise<string> {
    const start = Date.now();
    while (!re.test(this.buf)) {
      if (Date.now() - start > 2000) throw new Error(`no ${re} in ${JSON.stringify(this.buf)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.buf;
  }
}

describe('Sentinel server (unix socket)', () => {
  let dir: string;
  let open: SentinelServer;
  let locked: SentinelServer;
  const log = new Logger('error', 'text');
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redkeep-sentinel-'));
    const identity = { myId: 'a'.repeat(40), port: 26379, version: '0.1.0' };
    open = new SentinelServer({ listen: { path: join(dir, 'open') }, password: undefined, identity, views: () => [view], log });
    locked = new SentinelServer({ listen: { path: join(dir, 'locked') }, password: 's3cret', identity, views: () => [view], log });
    await open.listen();
    await locked.listen();
  });
  after(async () => {
    await open.close();
    await locked.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers PING, SENTINEL and unknown commands', async () => {
    const c = await Raw.open(join(dir, 'open'));
    assert.equal(await c.ask('PING\r\n'), '+PONG\r\n');
    assert.equal(await c.ask('*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$11\r\nredis-write\r\n', (b) => b.split('\r\n').length >= 6), '*2\r\n$10\r\n192.0.2.13\r\n$4\r\n6379\r\n');
    assert.match(await c.ask('FLUSHALL\r\n'), /^-ERR unknown command 'FLUSHALL'/);
    assert.equal(await c.ask('AUTH x\r\n'), '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n');
    c.sock.destroy();
  });

  it('HELLO 3 switches to RESP3 maps; HELLO 4 is refused', async () => {
    const c = await Raw.open(join(dir, 'open'));
    assert.match(await c.ask('HELLO 4\r\n'), /^-NOPROTO/);
    const h = await c.ask('HELLO 3 SETNAME x\r\n', (b) => b.includes('modules'));
    assert.match(h, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
    assert.match(await c.ask('CLIENT GETNAME\r\n'), /^\$1\r\nx\r\n/);
    assert.equal(await c.ask('SENTINEL get-master-addr-by-name nope\r\n'), '_\r\n');
    c.sock.destroy();
  });

  it('with a password: NOAUTH until AUTH, WRONGPASS for a wrong one, HELLO AUTH', async () => {
    const c = await Raw.open(join(dir, 'locked'));
    assert.equal(await c.ask('PING\r\n'), '-NOAUTH Authentication required.\r\n');
    assert.match(await c.ask('AUTH nope\r\n'), /^-WRONGPASS/);
    assert.match(await c.ask('AUTH someone s3cret\r\n'), /^-WRONGPASS/);
    assert.equal(await c.ask('AUTH s3cret\r\n'), '+OK\r\n');
    assert.equal(await c.ask('PING\r\n'), '+PONG\r\n');
    const d = await Raw.open(join(dir, 'locked'));
    assert.match(await d.ask('HELLO 2\r\n'), /^-NOAUTH/);
    assert.match(await d.ask('HELLO 2 AUTH default s3cret\r\n', (b) => b.includes('modules')), /^\*14\r\n/);
    c.sock.destroy();
    d.sock.destroy();
  });

  it('delivers events to channel and pattern subscribers, and restricts subscribed RESP2 clients', async () => {
    const c = await Raw.open(join(dir, 'open'));
    const p = await Raw.open(join(dir, 'open'));
    assert.equal(await c.ask('SUBSCRIBE +switch-master\r\n', (b) => b.endsWith(':1\r\n')), '*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n');
    await p.ask('PSUBSCRIBE *\r\n', (b) => b.endsWith(':1\r\n'));
    assert.match(await c.ask('SENTINEL masters\r\n'), /^-ERR Can't execute 'sentinel'/);
    assert.equal(await c.ask('PING\r\n', (b) => b.endsWith('\r\n\r\n')), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    assert.equal(open.publish('+switch-master', 'redis-write 192.0.2.13 6379 192.0.2.12 6379'), 2);
    await c.waitFor(/message\r\n\$14\r\n\+switch-master\r\n\$43\r\nredis-write 192\.0\.2\.13 6379 192\.0\.2\.12 6379\r\n/);
    await p.waitFor(/pmessage\r\n\$1\r\n\*\r\n\$14\r\n\+switch-master\r\n/);
    assert.equal(open.publish('+sdown', 'master redis-write 192.0.2.13 6379'), 1, 'only the pattern subscriber');
    await c.ask('UNSUBSCRIBE\r\n', (b) => b.endsWith(':0\r\n'));
    assert.equal(await c.ask('PING\r\n'), '+PONG\r\n');
    c.sock.destroy();
    p.sock.destroy();
  });

  it('drops a client that does not read, and closes on a protocol error', async () => {
    const c = await Raw.open(join(dir, 'open'));
    await c.ask('SUBSCRIBE x\r\n', (b) => b.endsWith(':1\r\n'));
    c.sock.pause();
    const before = open.counters.dropped;
    const big = 'y'.repeat(60_000);
    for (let i = 0; i < (4 * MAX_PENDING_BYTES) / big.length && open.counters.dropped === before; i++) open.publish('x', big);
    assert.equal(open.counters.dropped, before + 1);
    const d = await Raw.open(join(dir, 'open'));
    assert.match(await d.ask('*1\r\n$x\r\n'), /^-ERR Protocol error/);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(d.closed);
  });

  it('globs as Redis does', () => {
    assert.ok(globToRegExp('*').test('+switch-master'));
    assert.ok(globToRegExp('+s*').test('+sdown'));
    assert.ok(!globToRegExp('+s?').test('+sdown'));
    assert.ok(globToRegExp('[+-]sdown').test('-sdown'));
    assert.ok(!globToRegExp('[^+]sdown').test('+sdown'));
    assert.ok(globToRegExp('a\\*').test('a*') && !globToRegExp('a\\*').test('ab'));
  });
});
