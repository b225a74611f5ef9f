import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startControlServer, stopControlServer } from '../control/server.js';
import type { ReloadResult } from '../daemon/agent.js';
import { EXIT } from '../exit-status.js';
import { captureOutput } from '../output.js';
import { reloadCommand } from './reload.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-reload-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const RELOADED: ReloadResult = { ok: true, file: '/etc/redkeep/redkeep.toml', unchanged: ['w'], updated: [], restarted: [], added: ['r'], removed: [], failed: [], needsRestart: [] };

/** `redkeep reload` against a control socket that answers `answer` (systemd's ExecReload runs it). */
async function reloadAgainst(answer: () => unknown): Promise<{ status: number; stdout: string[]; stderr: string[] }> {
  const path = join(tmp, 'agent.sock');
  const server = await startControlServer(path, undefined, answer);
  try {
    const out = captureOutput();
    return { status: await reloadCommand({ socket: path }, out), stdout: out.stdout, stderr: out.stderr };
  } finally {
    await stopControlServer(server, path);
  }
}

describe('redkeep reload', () => {
  it('exits 0 and says what changed when the agent runs the new configuration', async () => {
    const r = await reloadAgainst(() => RELOADED);
    assert.equal(r.status, 0);
    assert.deepEqual(r.stdout, ['reloaded /etc/redkeep/redkeep.toml: unchanged w; updated in place none; restarted none; added r; removed none']);
  });

  it('exits non-zero and says why when the agent refuses a bad configuration and keeps its own', async () => {
    const r = await reloadAgainst(() => ({ ...RELOADED, ok: false, unchanged: [], added: [], error: 'redkeep.toml:3: instance.vrid: must be 1..255' }));
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr, ['redkeep reload: refused, the running configuration stays:', '  redkeep.toml:3: instance.vrid: must be 1..255']);
  });

  it('exits non-zero when an instance of the new configuration could not start', async () => {
    const r = await reloadAgainst(() => ({ ...RELOADED, ok: false, failed: [{ name: 'r', error: 'interface eth9 does not exist' }] }));
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr, ['redkeep reload: r could not start: interface eth9 does not exist']);
  });

  it('exits non-zero when the agent cannot reload now (stopping, another reload running)', async () => {
    const r = await reloadAgainst(() => {
      throw new Error('a reload is already running');
    });
    assert.equal(r.status, EXIT.failed);
    assert.notEqual(EXIT.failed, 0);
  });

  it('exits with "not running" when no agent listens', async () => {
    const out = captureOutput();
    assert.equal(await reloadCommand({ socket: join(tmp, 'absent.sock') }, out), EXIT.notRunning);
  });
});
