import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../log.js';
import { HookRunner } from './hook-runner.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-hooks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const log = createLogger('error', 'json');

describe('hooks', () => {
  it('call notify with keepalived\'s arguments and the documented environment', async () => {
    const out = join(tmp, 'notify.txt');
    const h = new HookRunner('redis-write', { notify: ['sh', '-c', `echo "$@|$REDKEEP_INSTANCE|$REDKEEP_STATE|$REDKEEP_PREVIOUS_STATE|$REDKEEP_VIPS|$REDKEEP_REDIS_ADDRESS|$REDKEEP_OLD_MASTER|$REDKEEP_NEW_MASTER" >> ${out}`, 'notify'], timeoutMs: 2000 }, log);
    const oldMaster = { ip: '192.0.2.13', port: 6379 };
    const newMaster = { ip: '192.0.2.11', port: 6379 };
    await h.transition({ state: 'MASTER', previous: 'BACKUP', priority: 150, vips: ['192.0.2.50/24'], redisAddress: '127.0.0.1:6379', oldMaster, newMaster });
    await h.transition({ state: 'BACKUP', previous: 'INIT', priority: 150, vips: ['2001:db8::50/64'], redisAddress: undefined, oldMaster: undefined, newMaster: { ip: '2001:db8::13', port: 6379 } });
    assert.equal(
      readFileSync(out, 'utf8'),
      'INSTANCE redis-write MASTER 150|redis-write|MASTER|BACKUP|192.0.2.50/24|127.0.0.1:6379|192.0.2.13:6379|192.0.2.11:6379\n' +
        'INSTANCE redis-write BACKUP 150|redis-write|BACKUP|INIT|2001:db8::50/64|||[2001:db8::13]:6379\n',
    );
  });

  it('call client_reconfig with Sentinel\'s client-reconfig-script arguments when the master moves', async () => {
    const out = join(tmp, 'reconfig.txt');
    const h = new HookRunner('redis-write', { clientReconfig: ['sh', '-c', `echo "$*" >> ${out}`, 'reconfig'], timeoutMs: 2000 }, log);
    const base = { priority: 100, vips: [], redisAddress: undefined, oldMaster: { ip: '192.0.2.13', port: 6379 }, newMaster: { ip: '192.0.2.12', port: 6380 } };
    await h.masterChanged({ ...base, state: 'MASTER', previous: 'BACKUP' });
    await h.masterChanged({ ...base, state: 'BACKUP', previous: 'BACKUP' });
    assert.equal(readFileSync(out, 'utf8'), 'redis-write leader failover 192.0.2.13 6379 192.0.2.12 6380\nredis-write observer failover 192.0.2.13 6379 192.0.2.12 6380\n');
    const none = new HookRunner('redis-write', { notify: ['true'], timeoutMs: 2000 }, log);
    await none.masterChanged({ ...base, state: 'MASTER', previous: 'BACKUP' });
    assert.equal(none.runs, 0);
  });

  it('never pass on the variable the Redis password was read from (password_env), to hooks or exec checks', async () => {
    process.env.REDKEEP_TEST_SECRET = 'hunter2';
    process.env.REDKEEP_TEST_PLAIN = 'visible';
    try {
      const { redisPassword } = await import('../redis/supervisor.js');
      const settings = { passwordEnv: 'REDKEEP_TEST_SECRET', passwordFile: undefined } as unknown as Parameters<typeof redisPassword>[0];
      assert.equal(redisPassword(settings), 'hunter2');
      const out = join(tmp, 'env.txt');
      const h = new HookRunner('i', { notify: ['sh', '-c', `echo "[$REDKEEP_TEST_SECRET][$REDKEEP_TEST_PLAIN]" >> ${out}`], timeoutMs: 2000 }, log);
      await h.transition({ state: 'MASTER', previous: 'BACKUP', priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
      assert.equal(readFileSync(out, 'utf8'), '[][visible]\n');
      const { runCheck } = await import('../tracks/exec-check.js');
      assert.equal((await runCheck(['sh', '-c', 'test -z "$REDKEEP_TEST_SECRET" && test -n "$REDKEEP_TEST_PLAIN"'], 2000)).ok, true);
    } finally {
      delete process.env.REDKEEP_TEST_SECRET;
      delete process.env.REDKEEP_TEST_PLAIN;
    }
  });

  it('run in transition order, a later one waiting for an earlier slow one', async () => {
    const out = join(tmp, 'order.txt');
    const slow = ['sh', '-c', `sleep 0.3; echo master >> ${out}`];
    const fast = ['sh', '-c', `echo backup >> ${out}`];
    const h = new HookRunner('i', { master: slow, backup: fast, notify: ['sh', '-c', `echo "notify $3" >> ${out}`, 'x'], timeoutMs: 2000 }, log);
    void h.transition({ state: 'MASTER', previous: 'BACKUP', priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
    await h.transition({ state: 'BACKUP', previous: 'MASTER', priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
    assert.equal(readFileSync(out, 'utf8'), 'master\nnotify MASTER\nbackup\nnotify BACKUP\n');
  });

  it('kill the hook\'s process group on timeout and record exit status and stderr of failures', async () => {
    const marker = join(tmp, 'late');
    const h = new HookRunner('i', { fault: ['sh', '-c', `(sleep 0.5; touch ${marker}) & sleep 5`], stop: ['sh', '-c', 'echo oops >&2; exit 4'], timeoutMs: 200 }, log);
    await h.transition({ state: 'FAULT', previous: 'MASTER', priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
    await h.transition({ state: 'STOP', previous: 'FAULT', priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
    assert.deepEqual(
      h.history.map((r) => [r.hook, r.ok, r.outcome]),
      [
        ['fault', false, 'timeout after 200 ms, process group killed'],
        ['stop', false, 'exit 4'],
      ],
    );
    assert.equal(h.failures, 2);
    await new Promise((r) => setTimeout(r, 700));
    assert.throws(() => readFileSync(marker), 'the background child died with its group');
  });

  it('run the hooks a reload gave from the next transition on; those queued before run as queued', async () => {
    const out = join(tmp, 'reloaded.txt');
    const echo = (what: string): string[] => ['sh', '-c', `sleep 0.1; echo ${what} $3 >> ${out}`, 'x'];
    const ctx = (state: 'MASTER' | 'BACKUP') => ({ state, previous: 'INIT' as const, priority: 100, vips: [], redisAddress: undefined, oldMaster: undefined, newMaster: undefined });
    const h = new HookRunner('i', undefined, log);
    assert.equal(h.configured, false);
    await h.transition(ctx('BACKUP'));
    assert.equal(h.runs, 0, 'no hooks, nothing runs');
    h.update({ notify: echo('old'), timeoutMs: 2000 });
    const queued = h.transition(ctx('MASTER'));
    h.update({ notify: echo('new'), timeoutMs: 2000 });
    assert.equal(h.configured, true);
    await queued;
    await h.transition(ctx('BACKUP'));
    assert.equal(readFileSync(out, 'utf8'), 'old MASTER\nnew BACKUP\n');
  });
});
