// keepalived 2.2.7 (Debian) and redkeep in one VRID, each way round, for VRRPv2 with PASS over
// multicast, VRRPv3 over multicast, and VRRPv3 unicast: the higher priority wins, the lower
// takes over when the other dies, priority-0 stops are honoured, equal priorities break the tie
// the same way on both sides, and there are never two masters once settled.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe } from 'node:test';
import {
  AgentProc,
  type InstanceOptions,
  KeepalivedProc,
  Lab,
  RunDir,
  scenarioWithLogs,
  holders,
  sleep,
  waitFor,
} from '@redkeep/scripts/lab';
import { masterDownIntervalMs, skewTimeMs } from '@redkeep/vrrp';

const VIP = '192.0.2.50';

interface Mode {
  readonly name: string;
  readonly version: 2 | 3;
  readonly advertInterval: string;
  readonly intervalCs: number;
  readonly authPass?: string;
  readonly unicast: boolean;
}

const MODES: readonly Mode[] = [
  { name: 'VRRPv2 with PASS over multicast', version: 2, advertInterval: '1s', intervalCs: 100, authPass: 's3cret99', unicast: false },
  { name: 'VRRPv3 over multicast', version: 3, advertInterval: '100ms', intervalCs: 10, unicast: false },
  { name: 'VRRPv3 unicast', version: 3, advertInterval: '100ms', intervalCs: 10, unicast: true },
];

let lab: Lab;
let dir: RunDir;
let logs: (() => string)[] = [];

function opts(mode: Mode, host: string, priority: number): InstanceOptions {
  const peer = host === 'h1' ? 'h2' : 'h1';
  return {
    priority,
    version: mode.version,
    advertInterval: mode.advertInterval,
    ...(mode.authPass !== undefined ? { authPass: mode.authPass } : {}),
    ...(mode.unicast ? { unicastPeers: [peer] } : {}),
  };
}

function keepalived(mode: Mode, host: string, priority: number): KeepalivedProc {
  const k = new KeepalivedProc(lab, host, dir, opts(mode, host, priority)).start();
  logs.push(() => k.logs.text);
  return k;
}

function redkeep(mode: Mode, host: string, priority: number): AgentProc {
  const a = new AgentProc(lab, host, dir, opts(mode, host, priority)).start();
  logs.push(() => a.logs.text);
  return a;
}

/** Waits for `host` to be the only VIP holder, then checks it stays so for a while. */
async function settledOn(mode: Mode, host: string): Promise<void> {
  const mdi = masterDownIntervalMs(mode.version, 1, mode.intervalCs);
  await waitFor(`${host} to be the only VIP holder`, 3 * mdi + 3000, () => {
    const hs = holders(lab, VIP);
    return hs.length === 1 && hs[0] === host;
  });
  const end = Date.now() + Math.max(1000, 3 * mode.intervalCs * 10);
  while (Date.now() < end) {
    assert.deepEqual(holders(lab, VIP), [host], 'never two masters once settled');
    await sleep(50);
  }
}

/** Time from now until `host` holds the VIP. */
async function takeoverMs(host: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  await waitFor(`${host} to take the VIP`, timeoutMs, () => holders(lab, VIP).includes(host), 2);
  return Date.now() - t0;
}

function scenario(name: string, fn: () => Promise<void>): void {
  scenarioWithLogs(name, () => logs.map((l) => l()).join('\n'), fn);
}

for (const mode of MODES) {
  describe(`keepalived and redkeep, ${mode.name}`, () => {
    beforeEach(() => {
      lab = Lab.create({ hosts: 2 });
      dir = new RunDir();
      logs = [];
    });
    afterEach(() => {
      lab.destroy();
      dir.remove();
    });

    // Observed takeover includes the agent's reaction, netlink and our 2 ms polling.
    const margin = 250;

    scenario('keepalived higher: it wins; redkeep follows, takes over on its priority 0 and on its death, yields on its return', async () => {
      let ka = keepalived(mode, 'h1', 150);
      const rk = redkeep(mode, 'h2', 100);
      await settledOn(mode, 'h1');
      const st = (await rk.status()).instances[0];
      assert.equal(st?.state, 'backup');
      assert.equal(st?.masterAddress, lab.host('h1').address);
      assert.equal(st?.masterPriority, 150);

      // Priority 0 on keepalived's stop: redkeep waits only Skew_Time.
      const stopping = ka.stop();
      const ms = await takeoverMs('h2', 5000);
      await stopping;
      const skew = skewTimeMs(mode.version, 100, mode.intervalCs);
      assert.ok(ms <= skew + margin, `redkeep took over ${ms} ms after keepalived's stop; Skew_Time ${skew} ms`);
      assert.ok(((await rk.status()).instances[0]?.counters?.priorityZeroRx ?? 0) >= 1);
      await settledOn(mode, 'h2');

      // keepalived returns with the higher priority and preempts.
      ka = keepalived(mode, 'h1', 150);
      await settledOn(mode, 'h1');
      assert.equal(await rk.state(), 'backup');

      // kill -9: redkeep takes over after Master_Down_Interval.
      ka.kill();
      const msDown = await takeoverMs('h2', 10_000);
      const mdi = masterDownIntervalMs(mode.version, 100, mode.intervalCs);
      assert.ok(msDown <= mdi + mode.intervalCs * 10 + margin, `takeover ${msDown} ms after kill -9; Master_Down_Interval ${mdi} ms`);
    });

    scenario('redkeep higher: it wins; keepalived follows, takes over on its priority 0 and on its death', async () => {
      keepalived(mode, 'h1', 100);
      let rk = redkeep(mode, 'h2', 150);
      await settledOn(mode, 'h2');
      assert.equal((await rk.status()).instances[0]?.state, 'master');

      rk.signal('SIGTERM');
      const ms = await takeoverMs('h1', 5000);
      assert.equal(await rk.exited(), 0);
      const skew = skewTimeMs(mode.version, 100, mode.intervalCs);
      assert.ok(ms <= skew + margin, `keepalived took over ${ms} ms after redkeep's SIGTERM; Skew_Time ${skew} ms`);
      await settledOn(mode, 'h1');

      rk = redkeep(mode, 'h2', 150);
      await settledOn(mode, 'h2');
      rk.signal('SIGKILL');
      await rk.exited();
      // The killed agent leaves its VIP; keepalived must still take over.
      await waitFor('keepalived to take over after kill -9', 10_000, () => holders(lab, VIP).includes('h1'));
    });

    scenario('equal priorities: both break the tie for the higher address, whichever side runs which', async () => {
      for (const [kaHost, rkHost] of [
        ['h1', 'h2'],
        ['h2', 'h1'],
      ] as const) {
        // Each side becomes master alone, then they meet: only the tie-break can settle it.
        lab.isolate('h1');
        const ka = keepalived(mode, kaHost, 100);
        const rk = redkeep(mode, rkHost, 100);
        await waitFor('both to be master while apart', 3 * masterDownIntervalMs(mode.version, 100, mode.intervalCs) + 3000, () =>
          holders(lab, VIP).length === 2,
        );
        lab.rejoin('h1');
        await settledOn(mode, 'h2');
        await ka.stop();
        rk.signal('SIGTERM');
        await rk.exited();
        await waitFor('the VIP to be released', 5000, () => holders(lab, VIP).length === 0);
      }
    });
  });
}
