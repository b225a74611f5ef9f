import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlRequest } from './client.js';
import { ControlError, ControlStream, groupId, startControlServer, stopControlServer } from './server.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-control-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('control socket', () => {
  it('is readable by root only (0600) unless a group is configured', async () => {
    const path = join(tmp, 'a', 'redkeep.sock');
    const server = await startControlServer(path, undefined, () => ({ hello: 1 }));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await controlRequest(path, { cmd: 'status' }), { ok: true, result: { hello: 1 } });
    await stopControlServer(server, path);
    assert.throws(() => statSync(path), 'the socket is removed on stop');
  });

  it('opens to one group (0660) when control_group is set', async () => {
    const group = ['daemon', 'nogroup', 'adm'].find((g) => groupId(g) !== undefined);
    assert.ok(group, 'a standard group exists');
    const path = join(tmp, 'b.sock');
    const server = await startControlServer(path, group, () => 'x');
    const st = statSync(path);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, groupId(group));
    await stopControlServer(server, path);
  });

  it('resolves groups through NSS (getent), and refuses names that are not group names', () => {
    assert.equal(groupId('root'), 0);
    const getent = spawnSync('getent', ['group', 'daemon'], { encoding: 'utf8' });
    if (getent.status === 0) assert.equal(groupId('daemon'), Number(getent.stdout.split(':')[2]));
    for (const bad of ['no-such-group-here', 'a:b', '../etc', '', 'x'.repeat(65), '-n']) assert.equal(groupId(bad), undefined, bad);
  });

  it('refuses a group that does not exist', async () => {
    await assert.rejects(startControlServer(join(tmp, 'c.sock'), 'no-such-group-here', () => 1), ControlError);
  });

  it('answers an unknown command or bad JSON with an error, not a crash', async () => {
    const path = join(tmp, 'd.sock');
    const server = await startControlServer(path, undefined, () => 'fine');
    const r = await controlRequest(path, { cmd: 'frobnicate' } as unknown as { cmd: 'status' });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /unknown command/);
    assert.deepEqual(await controlRequest(path, { cmd: 'ping' }), { ok: true, result: 'fine' });
    await stopControlServer(server, path);
  });

  it('streams a ControlStream after its response until the client closes, and drops a client that does not read', async () => {
    const path = join(tmp, 'e.sock');
    const listeners = new Set<(e: unknown) => void>();
    const server = await startControlServer(path, undefined, () => new ControlStream(['old'], (push) => {
      listeners.add(push);
      return () => listeners.delete(push);
    }));
    const lines: string[] = [];
    const sock = createConnection(path);
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    await new Promise((r) => sock.once('connect', r));
    sock.write('{"cmd":"events","follow":true}\n');
    const until = async (f: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(f());
    };
    await until(() => listeners.size === 1);
    for (const l of listeners) l({ seq: 1 });
    await until(() => lines.length === 2);
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ ok: true, result: ['old'] }, { event: { seq: 1 } }]);
    sock.destroy();
    await until(() => listeners.size === 0);
    // A follower that never reads: dropped once a megabyte waits for it.
    const slow = createConnection(path);
    await new Promise((r) => slow.once('connect', r));
    slow.write('{"cmd":"events","follow":true}\n');
    slow.pause();
    await until(() => listeners.size === 1);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 64 && listeners.size === 1; i++) for (const l of listeners) l(big);
    await until(() => listeners.size === 0);
    slow.destroy();
    await stopControlServer(server, path);
  });

  it('says clearly when no agent is listening', async () => {
    await assert.rejects(controlRequest(join(tmp, 'none.sock'), { cmd: 'status' }), /cannot reach redkeep at .*ENOENT \(is the agent running\?\)/);
  });
});
