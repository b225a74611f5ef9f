import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { controlRequest } from './client.js';
import { ControlError, groupId, startControlServer, stopControlServer } from './server.js';

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

  it('says clearly when no agent is listening', async () => {
    await assert.rejects(controlRequest(join(tmp, 'none.sock'), { cmd: 'status' }), /cannot reach redkeep at .*ENOENT \(is the agent running\?\)/);
  });
});
