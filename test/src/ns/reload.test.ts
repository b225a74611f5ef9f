// Reload on real agents (SIGHUP and `redkeep reload`): the new file is validated first, a bad one
// is refused and the old configuration keeps running, instances whose settings did not change
// are not disturbed (a master stays master, its VIPs stay), added instances start, changed ones
// restart, removed ones release their VIPs. A change of hooks, of a track's script or of the log
// settings is applied in place: no transition, no priority 0, the new hook and script run next.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AgentProc, Lab, REDKEEP_BIN, RunDir, holders, sleep, waitFor } from '@redkeep/scripts/lab';

const VIP_A = '192.0.2.50';
const VIP_B = '192.0.2.51';
const SECOND = (priority: number): string =>
  ['', '[[instance]]', 'name = "second"', 'interface = "eth0"', 'vrid = 52', `priority = ${priority}`, 'advert_interval = "100ms"', `virtual_addresses = ["${VIP_B}/24"]`, ''].join('\n');

/** `redkeep reload` on the agent's host, run asynchronously so that watchers keep running meanwhile. */
function reloadOn(lab: Lab, a: AgentProc): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = lab.spawn(a.host, [process.execPath, REDKEEP_BIN, 'reload', '--socket', a.socket]);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('reload (two hosts)', () => {
  let lab: Lab;
  let dir: RunDir;
  let h1: AgentProc;
  let h2: AgentProc;
  let base: string;

  before(async () => {
    lab = Lab.create({ hosts: 2, ipv6: false });
    dir = new RunDir();
    h1 = new AgentProc(lab, 'h1', dir, { priority: 130 }).start();
    h2 = new AgentProc(lab, 'h2', dir, { priority: 120 }).start();
    base = readFileSync(h1.config, 'utf8');
    await waitFor('h1 to hold the VIP alone', 8000, () => holders(lab, VIP_A).join() === 'h1');
  });
  after(() => {
    for (const a of [h1, h2]) if (a.running) a.signal('SIGKILL');
    lab.destroy();
    dir.remove();
  });

  const reload = (): ReturnType<typeof reloadOn> => reloadOn(lab, h1);
  const instance = async (name: string) => (await h1.status()).instances.find((i) => i.name === name);

  it('adds an instance without disturbing the running master', async () => {
    const before = await instance('redis-write');
    assert.equal(before?.state, 'master');
    // Watch the VIP the whole time: it must never leave h1.
    let gone = false;
    let looks = 0;
    let lastLookAt = 0;
    const look = (): void => {
      looks++;
      gone ||= !holders(lab, VIP_A).includes('h1');
      lastLookAt = Date.now();
    };
    // One look before the reload starts, then as often as the machine allows (each look runs
    // `ip` in the namespace) until after the new instance is master.
    look();
    const watch = setInterval(look, 5);
    let addedAt = 0;
    try {
      writeFileSync(h1.config, base + SECOND(100));
      const r = await reload();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /unchanged redis-write; updated in place none; restarted none; added second; removed none/);
      await waitFor('the new instance to be master with its VIP', 8000, () => holders(lab, VIP_B).includes('h1'));
      addedAt = Date.now();
      await sleep(300);
    } finally {
      clearInterval(watch);
    }
    const after = await instance('redis-write');
    assert.ok(looks > 2 && lastLookAt >= addedAt, `the VIP was watched throughout (${looks} looks, the last ${addedAt - lastLookAt} ms before the end)`);
    assert.equal(gone, false, 'the VIP of the unchanged instance stayed');
    assert.equal(after?.state, 'master');
    assert.equal(after?.counters?.transitions, before?.counters?.transitions, 'no transition');
    assert.equal(after?.lastTransition?.at, before?.lastTransition?.at);
  });

  it('refuses a bad file with file, line and key, and keeps running the old configuration', async () => {
    const before = await instance('redis-write');
    writeFileSync(h1.config, `${base + SECOND(100)}\n[agent.oops]\n`.replace('priority = 130', 'priority = "high"'));
    const r = await reload();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refused, the running configuration stays/);
    assert.match(r.stderr, new RegExp(`${h1.config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: instance\\[0\\]\\.priority`));
    const after = await instance('redis-write');
    assert.equal(after?.state, 'master');
    assert.equal(after?.counters?.transitions, before?.counters?.transitions);
    assert.equal(after?.basePriority, 130);
    assert.ok(holders(lab, VIP_B).includes('h1'), 'the added instance still runs');
  });

  it('on SIGHUP restarts a changed instance and stops a removed one, releasing its VIP', async () => {
    writeFileSync(h1.config, base + SECOND(90));
    h1.signal('SIGHUP');
    await waitFor('the changed instance to run with priority 90', 8000, async () => (await instance('second'))?.basePriority === 90);
    await waitFor('the reload to finish', 5000, () => /configuration reloaded.*restarted=second/.test(h1.logs.text));
    await waitFor('its VIP back on h1', 8000, () => holders(lab, VIP_B).includes('h1'));
    writeFileSync(h1.config, base);
    const r = await reload();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed second/);
    await waitFor('the removed instance\'s VIP to be gone', 5000, () => holders(lab, VIP_B).length === 0);
    assert.equal(await instance('second'), undefined);
    assert.equal((await instance('redis-write'))?.state, 'master');
    assert.deepEqual(holders(lab, VIP_A), ['h1']);
  });
});

describe('reload in place (two hosts)', () => {
  let lab: Lab;
  let dir: RunDir;
  let h1: AgentProc;
  let h2: AgentProc;
  let base: string;
  let trackRuns: string;
  let hookRuns: string;
  /** While it exists, the new track script fails (the old one never looks at it). */
  let failFlag: string;

  before(async () => {
    lab = Lab.create({ hosts: 2, ipv6: false });
    dir = new RunDir();
    trackRuns = dir.file('track-runs', '');
    hookRuns = dir.file('hook-runs', '');
    failFlag = dir.file('fail');
    const top = ['[[track]]', 'name = "app"', 'type = "exec"', `command = ["sh", "-c", "echo old >> ${trackRuns}"]`, 'interval = "200ms"', 'timeout = "5s"', 'weight = -20', ''].join('\n');
    const extra = ['tracks = ["app"]', '', '[instance.hooks]', `notify = ["sh", "-c", "echo old $3 >> ${hookRuns}", "notify"]`, ''].join('\n');
    // Adverts every second: a loaded machine's stall is not taken for a dead master (these tests
    // assert that nothing happens), and exec checks get time to start.
    h1 = new AgentProc(lab, 'h1', dir, { priority: 130, advertInterval: '1s', top, extra }).start();
    h2 = new AgentProc(lab, 'h2', dir, { priority: 120, advertInterval: '1s' }).start();
    base = readFileSync(h1.config, 'utf8');
    await waitFor('h1 to hold the VIP alone', 20_000, () => holders(lab, VIP_A).join() === 'h1');
    await waitFor('h1 to be master with its track ok', 8000, async () => {
      const i = (await h1.status()).instances[0];
      return i?.state === 'master' && i.effectivePriority === 130;
    });
    await waitFor('the notify hook of h1 becoming master', 5000, () => readFileSync(hookRuns, 'utf8').includes('old MASTER'));
  });
  after(() => {
    for (const a of [h1, h2]) if (a.running) a.signal('SIGKILL');
    lab.destroy();
    dir.remove();
  });

  const reload = (): ReturnType<typeof reloadOn> => reloadOn(lab, h1);
  const only = async (a: AgentProc) => {
    const i = (await a.status()).instances[0];
    assert.ok(i);
    return i;
  };
  const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  /** A test that prints both agents' logs when it fails. */
  const scenario = (name: string, fn: () => Promise<void>): void => {
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`--- agent logs for "${name}" ---\n${dump()}\n`);
        throw e;
      }
    });
  };
  const dump = (): string => `--- h1 ---\n${h1.logs.text}\n--- h2 ---\n${h2.logs.text}`;

  scenario('applies a new notify hook, a new track script and new log settings without a transition', async () => {
    const m1 = await only(h1);
    const b2 = await only(h2);
    assert.equal(b2.state, 'backup');
    const hooksBefore = lines(hookRuns);
    assert.ok(hooksBefore.includes('old MASTER'), hooksBefore.join('|'));
    // Watch the VIP the whole time: it must never leave h1.
    let gone = false;
    const watch = setInterval(() => (gone ||= holders(lab, VIP_A).join() !== 'h1'), 5);
    let r: Awaited<ReturnType<typeof reload>>;
    try {
      writeFileSync(
        h1.config,
        base
          .replace(`echo old >> ${trackRuns}`, `echo new >> ${trackRuns}; test ! -e ${failFlag}`)
          .replace(`echo old $3 >> ${hookRuns}`, `echo new $3 >> ${hookRuns}`)
          .replace('log_level = "debug"', 'log_level = "info"\nlog_format = "json"'),
      );
      r = await reload();
      assert.equal(r.status, 0, r.stderr);
      await waitFor('the new track script to run a few times', 10_000, () => lines(trackRuns).filter((l) => l === 'new').length >= 5);
    } finally {
      clearInterval(watch);
    }
    assert.match(r.stdout, /unchanged none; updated in place redis-write; restarted none; added none; removed none/);
    const runs = lines(trackRuns);
    const firstNew = runs.indexOf('new');
    assert.ok(firstNew > 0 && runs.slice(firstNew).every((l) => l === 'new'), `the old script never ran after the new one: ${runs.join(' ')}`);
    const m1After = await only(h1);
    const b2After = await only(h2);
    assert.equal(gone, false, 'the VIP stayed on h1');
    assert.equal(m1After.state, 'master');
    assert.equal(m1After.counters?.transitions, m1.counters?.transitions, 'no transition on h1');
    assert.equal(m1After.lastTransition?.at, m1.lastTransition?.at);
    assert.equal(m1After.counters?.priorityZeroTx, m1.counters?.priorityZeroTx, 'h1 sent no priority 0');
    assert.equal(m1After.effectivePriority, 130, 'the track stayed ok');
    assert.equal(b2After.state, 'backup');
    assert.equal(b2After.counters?.transitions, b2.counters?.transitions, 'no transition on h2');
    assert.equal(b2After.counters?.priorityZeroRx, b2.counters?.priorityZeroRx, 'h2 saw no priority 0');
    assert.deepEqual(lines(hookRuns), hooksBefore, 'no hook ran: nothing happened to the instance');
    assert.equal(h1.logs.text.match(/instance starting/g)?.length, 1, 'the instance was not started again');
    // The log format applied at once: the reload's own summary is a JSON line.
    const summary = /\{[^\n]*"message":"configuration reloaded"[^\n]*\}/.exec(h1.logs.text);
    assert.ok(summary);
    const j = JSON.parse(summary[0]) as Record<string, unknown>;
    assert.deepEqual([j.level, j.updated, j.restarted], ['info', 'redis-write', 'none']);
  });

  scenario('runs the new track script and the new hook at the next transitions', async () => {
    writeFileSync(failFlag, '');
    await waitFor('h2 to take over once the new script fails', 15_000, () => holders(lab, VIP_A).join() === 'h2');
    await waitFor('h1 to be backup', 5000, async () => (await only(h1)).state === 'backup');
    rmSync(failFlag);
    await waitFor('h1 to take the master role back', 15_000, () => holders(lab, VIP_A).join() === 'h1');
    await waitFor('the hooks of both transitions', 5000, () => lines(hookRuns).filter((l) => l.startsWith('new ')).length >= 2);
    const after = lines(hookRuns);
    const fresh = after.slice(after.findIndex((l) => l.startsWith('new ')));
    assert.deepEqual(fresh, ['new BACKUP', 'new MASTER'], after.join('|'));
    assert.ok(!existsSync(failFlag));
  });

  scenario('still restarts an instance whose priority changed', async () => {
    const b2 = await only(h2);
    writeFileSync(h1.config, readFileSync(h1.config, 'utf8').replace('priority = 130', 'priority = 140'));
    const r = await reload();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /unchanged none; updated in place none; restarted redis-write; added none; removed none/);
    await waitFor('h1 master again at priority 140', 20_000, async () => {
      const i = await only(h1);
      return i.state === 'master' && i.basePriority === 140 && holders(lab, VIP_A).join() === 'h1';
    });
    assert.ok(((await only(h2)).counters?.priorityZeroRx ?? 0) > (b2.counters?.priorityZeroRx ?? 0), 'the restart stepped down with priority 0');
    assert.equal(h1.logs.text.match(/instance starting/g)?.length, 2);
  });
});
