import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCheck } from './exec-check.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-exec-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('exec check (keepalived vrrp_script semantics)', () => {
  it('is OK on exit 0 and failed on any other exit', async () => {
    assert.deepEqual({ ...(await runCheck(['true'], 1000)), durationMs: 0 }, { ok: true, outcome: 'exit 0', durationMs: 0 });
    const r = await runCheck(['sh', '-c', 'exit 3'], 1000);
    assert.deepEqual([r.ok, r.outcome], [false, 'exit 3']);
  });

  it('fails a command that cannot start, with the reason', async () => {
    const r = await runCheck([join(tmp, 'no-such-check')], 1000);
    assert.deepEqual([r.ok, r.outcome], [false, 'spawn ENOENT']);
  });

  it('kills the whole process group on timeout, children included', async () => {
    const marker = join(tmp, 'child-survived');
    // The script starts a grandchild that would create the marker after the timeout.
    const r = await runCheck(['sh', '-c', `(sleep 0.6; touch ${marker}) & sleep 5`], 200);
    assert.deepEqual([r.ok, r.outcome], [false, 'timeout']);
    assert.ok(r.durationMs < 1000);
    await new Promise((res) => setTimeout(res, 900));
    assert.equal(existsSync(marker), false, 'the grandchild was killed with its group');
  });

  it('passes no shell: arguments are taken literally', async () => {
    const r = await runCheck(['test', '$HOME', '=', '$HOME'], 1000);
    assert.equal(r.ok, true);
    const r2 = await runCheck(['test', 'a;', '=', 'a;'], 1000);
    assert.equal(r2.ok, true);
  });
});
