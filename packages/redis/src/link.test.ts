// RedisLink against real redis-server processes on loopback.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RedisCommandError, RedisLink } from './link.js';
import { RedisSubscriber } from './subscriber.js';

const servers: ChildProcess[] = [];
const dirs: string[] = [];
const links: RedisLink[] = [];
after(() => {
  for (const l of links) l.close();
  for (const s of servers) s.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function redis(...extra: string[]): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redkeep-redis-'));
  dirs.push(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'local', ...extra];
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  servers.push(proc);
  const probe = new RedisLink({ host: '127.0.0.1', port, db: 0, ...(extra.includes('--requirepass') ? { password: extra[extra.indexOf('--requirepass') + 1] ?? '' } : {}) }, { connectTimeoutMs: 200, reconnectMs: 20 });
  for (let i = 0; i < 200 && !probe.isUp; i++) await new Promise((r) => setTimeout(r, 10));
  probe.close();
  return { port, proc };
}

function link(port: number, password?: string): RedisLink {
  const l = new RedisLink({ host: '127.0.0.1', port, db: 0, ...(password !== undefined ? { password } : {}) }, { connectTimeoutMs: 200, reconnectMs: 20 });
  links.push(l);
  return l;
}

async function up(l: RedisLink): Promise<void> {
  for (let i = 0; i < 300 && !l.isUp; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(l.isUp, 'connected');
}

describe('RedisLink on a real redis-server', () => {
  it('pings, reads facts, and moves the role both ways with REPLICAOF', async () => {
    const a = await redis();
    const b = await redis();
    const la = link(a.port);
    const lb = link(b.port);
    await Promise.all([up(la), up(lb)]);
    await la.ping(500);
    await la.command(500, 'SET', 'k', 'v');
    const fa = await la.facts(500);
    assert.equal(fa.role, 'master');
    assert.equal(fa.keys, 1);
    assert.match(fa.runId ?? '', /^[0-9a-f]{40}$/);
    await lb.replicaOf('127.0.0.1', a.port, 500);
    for (let i = 0; i < 800; i++) {
      const f = await lb.facts(500);
      if (f.masterLinkUp && f.keys === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const fb = await lb.facts(500);
    assert.deepEqual([fb.role, fb.masterHost, fb.masterPort, fb.masterLinkUp, fb.keys], ['replica', '127.0.0.1', a.port, true, 1]);
    assert.equal((await la.facts(500)).replicas.length, 1);
    await lb.replicaOf(undefined, undefined, 500);
    assert.equal((await lb.facts(500)).role, 'master');
  });

  it('authenticates with a password, and refuses the wrong one', async () => {
    const s = await redis('--requirepass', 'pw-123');
    const good = link(s.port, 'pw-123');
    await up(good);
    await good.ping(500);
    const bad = link(s.port, 'nope');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bad.isUp, false);
    await assert.rejects(bad.ping(200), (e: unknown) => e instanceof RedisCommandError && e.code === 'ERR_REDIS_DOWN');
  });

  it('times a command out, and reports a dropped connection at once', async () => {
    const s = await redis();
    const l = link(s.port);
    await up(l);
    await assert.rejects(l.command(100, 'DEBUG', 'SLEEP', '0.5'), (e: unknown) => e instanceof RedisCommandError && e.code === 'ERR_REDIS_TIMEOUT');
    const down = new Promise<string>((resolve) => l.once('down', resolve));
    s.proc.kill('SIGKILL');
    assert.equal(await down, 'connection closed');
    await assert.rejects(l.ping(100), (e: unknown) => e instanceof RedisCommandError && e.code === 'ERR_REDIS_DOWN');
  });

  it('with a heartbeat, reports a frozen server as down and connects again once it answers', async () => {
    const s = await redis();
    const l = new RedisLink({ host: '127.0.0.1', port: s.port, db: 0 }, { connectTimeoutMs: 200, reconnectMs: 50, heartbeatMs: 100 });
    links.push(l);
    for (let i = 0; i < 100 && !l.isUp; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(l.isUp);
    const down = new Promise<number>((resolve) => {
      const t0 = Date.now();
      l.once('down', () => resolve(Date.now() - t0));
    });
    s.proc.kill('SIGSTOP');
    const ms = await down;
    assert.ok(ms < 1000, `down after ${ms} ms (a TCP connection to a frozen server stays established)`);
    const up = new Promise<void>((resolve) => l.once('up', () => resolve()));
    s.proc.kill('SIGCONT');
    await up;
    await l.ping(500);
  });

  it('subscribes to the channels wanted, again after the connection was killed, and forgets them when told', async () => {
    const s = await redis();
    const l = link(s.port);
    await up(l);
    const sub = new RedisSubscriber({ host: '127.0.0.1', port: s.port, db: 0 }, { connectTimeoutMs: 200, reconnectMs: 20, name: 'test-sub' });
    try {
      const got: string[] = [];
      sub.on('message', (c, m) => got.push(`${c} ${m}`));
      const subscribed = (): Promise<void> => new Promise((r) => sub.once('subscribed', () => r()));
      let ready = subscribed();
      await sub.want(['a', 'b']);
      await ready;
      assert.equal(await l.command(500, 'PUBLISH', 'a', 'one'), 1, 'one receiver');
      assert.deepEqual(((await l.command(500, 'PUBSUB', 'CHANNELS', '*')) as string[]).sort(), ['a', 'b'], 'listed while its connection lives');
      ready = subscribed();
      await l.command(500, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
      await ready;
      assert.equal(await l.command(500, 'PUBLISH', 'b', 'two'), 1, 'subscribed again after the kill');
      await sub.want(['b']);
      assert.equal(await l.command(500, 'PUBLISH', 'a', 'three'), 0, 'a was dropped');
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(got, ['a one', 'b two']);
      assert.ok(sub.inSync);
    } finally {
      sub.close();
    }
  });
});
