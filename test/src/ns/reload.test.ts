// Reload on real agents (SIGHUP and `redkeep reload`): the new file is validated first, a bad one
// is refused and the old configuration keeps running, instances whose settings did not change
// are not disturbed (a master stays master, its VIPs stay), added instances start, changed ones
// restart, removed ones release their VIPs.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AgentProc, Lab, REDKEEP_BIN, RunDir, holders, sleep, waitFor } from '@redkeep/scripts/lab';

const VIP_A = '192.0.2.50';
const VIP_B = '192.0.2.51';
const SECOND = (priority: number): string =>
  ['', '[[instance]]', 'name = "second"', 'interface = "eth0"', 'vrid = 52', `priority = ${priority}`, 'advert_interval = "100ms"', `virtual_addresses = ["${VIP_B}/24"]`, ''].join('\n');

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

  /** `redkeep reload` on h1, run asynchronously so that watchers keep running meanwhile. */
  const reload = (): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = lab.spawn('h1', [process.execPath, REDKEEP_BIN, 'reload', '--socket', h1.socket]);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (status) => resolve({ status, stdout, stderr }));
    });
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
