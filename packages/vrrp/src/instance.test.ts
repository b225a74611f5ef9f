import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VrrpAdvert } from './codec.js';
import {
  type InstanceConfig,
  KEEPALIVED_GARP_DEFAULTS,
  type VrrpAction,
  VrrpInstance,
  VrrpConfigError,
} from './instance.js';
import { masterDownIntervalMs } from './timers.js';
import { simNodeConfig } from './sim/node-config.js';

const LOCAL = '192.0.2.20';
const PEER_LOW = '192.0.2.10';
const PEER_HIGH = '192.0.2.30';

/** The instance under test: 192.0.2.20 (simNodeConfig's node 10), VRID 51, v3, 1 s adverts. */
function config(overrides: Partial<InstanceConfig> = {}): InstanceConfig {
  return simNodeConfig(10, { name: 'redis-write', ...overrides });
}

function advert(priority: number, overrides: Partial<VrrpAdvert> = {}): VrrpAdvert {
  return {
    version: 3,
    vrid: 51,
    priority,
    advertIntervalCs: 100,
    family: 'ipv4',
    addresses: ['192.0.2.50'],
    authType: 'none',
    ...overrides,
  };
}

function types(actions: readonly VrrpAction[]): string[] {
  return actions.map((a) => a.type);
}

function sentPriorities(actions: readonly VrrpAction[]): number[] {
  return actions.flatMap((a) => (a.type === 'send-advert' ? [a.advert.priority] : []));
}

/** A started backup at t=0. */
function backup(overrides: Partial<InstanceConfig> = {}): VrrpInstance {
  const i = new VrrpInstance(config(overrides));
  i.handle({ type: 'start' }, 0);
  assert.equal(i.state, 'backup');
  return i;
}

/** A started instance that has become master through its down timer. */
function master(overrides: Partial<InstanceConfig> = {}): { inst: VrrpInstance; at: number } {
  const inst = backup(overrides);
  const at = inst.nextDeadline() ?? assert.fail('no deadline');
  inst.handle({ type: 'timeout' }, at);
  assert.equal(inst.state, 'master');
  return { inst, at };
}

describe('startup', () => {
  it('starts in Backup with Master_Down_Interval armed', () => {
    const i = new VrrpInstance(config());
    const out = i.handle({ type: 'start' }, 1000);
    assert.equal(i.state, 'backup');
    assert.deepEqual(types(out), ['state-changed']);
    assert.equal(i.nextDeadline(), 1000 + i.masterDownIntervalMs());
  });

  it('starts the address owner (priority 255) directly as Master', () => {
    const i = new VrrpInstance(config({ priority: 255 }));
    const out = i.handle({ type: 'start' }, 0);
    assert.equal(i.state, 'master');
    assert.deepEqual(types(out), ['state-changed', 'send-advert', 'add-vips', 'send-garps']);
    assert.deepEqual(sentPriorities(out), [255]);
  });

  it('starts in Fault when the interface is down or a weight-0 track fails', () => {
    const a = new VrrpInstance(config());
    a.handle({ type: 'interface', up: false }, 0);
    a.handle({ type: 'start' }, 0);
    assert.equal(a.state, 'fault');
    const b = new VrrpInstance(config({ tracks: [{ name: 'redis', weight: 0 }] }));
    b.handle({ type: 'track', name: 'redis', ok: false }, 0);
    b.handle({ type: 'start' }, 0);
    assert.equal(b.state, 'fault');
    assert.equal(b.status().lastTransition?.reason, 'track-failed');
  });

  it('refuses an invalid configuration with a VrrpConfigError naming the problem', () => {
    assert.throws(() => new VrrpInstance(config({ vrid: 0 })), VrrpConfigError);
    assert.throws(
      () => new VrrpInstance(config({ version: 2, advertIntervalCs: 50 })),
      /whole seconds/,
    );
    assert.throws(() => new VrrpInstance(config({ authPassword: 'x' })), /VRRPv2 only/);
    assert.throws(() => new VrrpInstance(config({ virtualAddresses: ['2001:db8::1'] })), /ipv4/);
    assert.throws(
      () => new VrrpInstance(config({ version: 2, advertIntervalCs: 100, authPassword: 'ninechars' })),
      (e: unknown) => e instanceof VrrpConfigError && /8 octets/.test(e.message),
    );
    assert.throws(
      () =>
        new VrrpInstance(
          config({ family: 'ipv6', primaryAddress: '2001:db8::20', virtualAddresses: ['2001:db8::50', '2001:DB8:0::50'] }),
        ),
      /listed twice/,
    );
  });
});

describe('backup', () => {
  it('becomes master when Master_Down_Timer expires: advert, then VIPs, then GARPs', () => {
    const i = backup();
    const at = i.nextDeadline() ?? assert.fail();
    const out = i.handle({ type: 'timeout' }, at);
    assert.deepEqual(types(out), ['state-changed', 'send-advert', 'add-vips', 'send-garps']);
    const garps = out.find((a) => a.type === 'send-garps');
    assert.equal(garps?.type === 'send-garps' && garps.count, KEEPALIVED_GARP_DEFAULTS.repeat);
    assert.equal(i.status().lastTransition?.reason, 'master-down-timer');
  });

  it('treats a timeout before any deadline as a no-op', () => {
    const i = backup();
    const before = i.status();
    const deadline = i.nextDeadline() ?? assert.fail();
    assert.deepEqual(i.handle({ type: 'timeout' }, deadline - 1), []);
    assert.deepEqual(i.status(), before);
    assert.equal(i.nextDeadline(), deadline);
  });

  it('resets Master_Down_Timer on each advert from a higher-priority master', () => {
    const i = backup();
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 2000);
    assert.equal(i.nextDeadline(), 2000 + i.masterDownIntervalMs());
    assert.equal(i.status().masterAddress, PEER_HIGH);
    assert.equal(i.status().masterPriority, 200);
  });

  it('learns Master_Adver_Interval from a v3 master and derives Master_Down_Interval from it', () => {
    const i = backup();
    i.handle({ type: 'advert', advert: advert(200, { advertIntervalCs: 10 }), source: PEER_HIGH }, 500);
    assert.equal(i.status().masterAdverIntervalCs, 10);
    assert.equal(i.nextDeadline(), 500 + masterDownIntervalMs(3, 100, 10));
  });

  it('drops a VRRPv2 advert whose interval differs from its own (RFC 3768 §7.1)', () => {
    const i = backup({ version: 2, advertIntervalCs: 100 });
    const deadline = i.nextDeadline();
    const v2 = advert(200, { version: 2, advertIntervalCs: 200, authData: new Uint8Array(8) });
    i.handle({ type: 'advert', advert: v2, source: PEER_HIGH }, 10);
    assert.equal(i.counters.drops['interval-mismatch'], 1);
    assert.equal(i.nextDeadline(), deadline);
  });

  it('waits only Skew_Time after the master sends priority 0', () => {
    const i = backup();
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 1000);
    i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, 1500);
    assert.equal(i.nextDeadline(), 1500 + i.skewTimeMs());
    assert.equal(i.counters.priorityZeroRx, 1);
    i.handle({ type: 'timeout' }, 1500 + i.skewTimeMs());
    assert.equal(i.state, 'master');
  });

  it('with preempt, ignores a lower-priority master and takes over when the timer runs out', () => {
    const i = backup({ priority: 150 });
    const deadline = i.nextDeadline() ?? assert.fail();
    for (let t = 100; t < deadline; t += 1000) {
      i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t);
    }
    assert.equal(i.nextDeadline(), deadline, 'lower-priority adverts do not reset the timer');
    i.handle({ type: 'timeout' }, deadline);
    assert.equal(i.state, 'master');
  });

  it('with preempt, follows an equal-priority master (only a higher priority preempts)', () => {
    const i = backup({ priority: 150 });
    i.handle({ type: 'advert', advert: advert(150), source: PEER_LOW }, 100);
    assert.equal(i.nextDeadline(), 100 + i.masterDownIntervalMs());
  });

  it('as address owner, preempts even when configured with nopreempt (RFC 5798 §6.1)', () => {
    const i = new VrrpInstance(config({ priority: 255, preempt: false, preemptDelayMs: 10_000 }));
    i.handle({ type: 'start' }, 0);
    i.handle({ type: 'interface', up: false }, 1);
    i.handle({ type: 'interface', up: true }, 2);
    assert.equal(i.state, 'backup');
    const deadline = i.nextDeadline() ?? assert.fail();
    i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, 50);
    assert.equal(i.nextDeadline(), deadline, 'a lower-priority master is not followed');
    i.handle({ type: 'timeout' }, deadline);
    assert.equal(i.state, 'master');
  });

  it('with nopreempt, follows a lower-priority master indefinitely', () => {
    const i = backup({ priority: 150, preempt: false });
    for (let t = 0; t < 60_000; t += 1000) {
      i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t);
      i.handle({ type: 'timeout' }, t + 999);
      assert.equal(i.state, 'backup');
    }
  });

  it('with preempt_delay, tolerates a lower-priority master until the delay since its first advert', () => {
    const delay = 5000;
    const i = backup({ priority: 150, preemptDelayMs: delay });
    let t = 0;
    for (; t < delay; t += 1000) {
      i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t);
      assert.equal(i.nextDeadline(), t + i.masterDownIntervalMs(), `accepted at ${t}`);
    }
    // Past the delay the lower-priority adverts are discarded and the timer runs out.
    const deadline = i.nextDeadline() ?? assert.fail();
    i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t);
    assert.equal(i.nextDeadline(), deadline);
    i.handle({ type: 'timeout' }, deadline);
    assert.equal(i.state, 'master');
  });

  it('restarts the preempt delay after a higher-priority master has been seen', () => {
    const i = backup({ priority: 150, preemptDelayMs: 3000 });
    i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, 0);
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 2500);
    i.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, 4000);
    assert.equal(i.nextDeadline(), 4000 + i.masterDownIntervalMs(), 'delay restarted at 4000');
  });

  it('shifts a running Master_Down_Timer when its priority changes', () => {
    const i = backup({ tracks: [{ name: 'redis', weight: -50 }] });
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 1000);
    const before = i.nextDeadline() ?? assert.fail();
    const skewBefore = i.skewTimeMs();
    i.handle({ type: 'track', name: 'redis', ok: false }, 1200);
    assert.equal(i.effectivePriority, 50);
    assert.ok(Math.abs((i.nextDeadline() ?? 0) - (before + i.skewTimeMs() - skewBefore)) < 1e-9);
  });
});

describe('master', () => {
  it('sends an advert every Advertisement_Interval', () => {
    const { inst, at } = master();
    for (let k = 1; k <= 3; k++) {
      const out = inst.handle({ type: 'timeout' }, at + k * 1000);
      assert.deepEqual(sentPriorities(out), [100]);
    }
    assert.equal(inst.counters.advertsTx, 4);
  });

  it('keeps its advert rate when its timer fires a little late, and restarts the cadence after a pause', () => {
    const { inst, at } = master();
    let due = inst.nextDeadline() ?? assert.fail('no deadline');
    assert.equal(due, at + 1000);
    // Each timer fires 3 ms late: the adverts stay on the 1 s grid.
    for (let k = 1; k <= 5; k++) {
      assert.deepEqual(sentPriorities(inst.handle({ type: 'timeout' }, due + 3)), [100]);
      const next = inst.nextDeadline() ?? assert.fail('no deadline');
      assert.equal(next, at + (k + 1) * 1000);
      due = next;
    }
    // Woken 2.5 s late (a pause): one advert now, the next a whole interval later.
    const late = due + 2500;
    assert.deepEqual(sentPriorities(inst.handle({ type: 'timeout' }, late)), [100]);
    assert.equal(inst.nextDeadline(), late + 1000);
  });

  it('sends the second GARP burst after garp delay and refreshes when configured', () => {
    const garp = { ...KEEPALIVED_GARP_DEFAULTS, delayMs: 5000, refreshMs: 60_000, refreshRepeat: 2 };
    const { inst, at } = master({ garp });
    const bursts: string[] = [];
    for (let t = at; t <= at + 121_000; t = inst.nextDeadline() ?? Infinity) {
      for (const a of inst.handle({ type: 'timeout' }, t)) {
        if (a.type === 'send-garps') bursts.push(`${a.burst}@${Math.round(t - at)}x${a.count}`);
      }
    }
    assert.deepEqual(bursts, ['delayed@5000x5', 'refresh@60000x2', 'refresh@120000x2']);
  });

  it('announces its addresses again on request (a heal), and only while it holds them', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'announce' }, at + 10);
    assert.deepEqual(
      out.filter((a) => a.type === 'send-garps').map((a) => (a.type === 'send-garps' ? `${a.burst}x${a.count}` : '')),
      [`announcex${KEEPALIVED_GARP_DEFAULTS.repeat}`],
    );
    assert.equal(out.filter((a) => a.type !== 'send-garps').length, 0, 'nothing else: no advert, no state change');
    const b = backup();
    assert.deepEqual(b.handle({ type: 'announce' }, 1000), [], 'a backup holds nothing to announce');
  });

  it('advertises at once when it hears priority 0', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'advert', advert: advert(0), source: PEER_LOW }, at + 300);
    assert.deepEqual(sentPriorities(out), [100]);
    assert.equal(inst.nextDeadline(), at + 300 + 1000);
  });

  it('steps down when a higher priority advert arrives and releases its VIPs', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, at + 10);
    assert.equal(inst.state, 'backup');
    assert.deepEqual(types(out), ['remove-vips', 'state-changed']);
    assert.deepEqual(sentPriorities(out), [], 'no priority-0 advert when yielding');
    assert.equal(inst.status().lastTransition?.reason, 'higher-priority-advert');
    assert.deepEqual(inst.status().vipsHeld, []);
  });

  it('breaks an equal-priority tie by primary address: the higher address stays master', () => {
    const { inst: a, at } = master();
    a.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, at + 10);
    assert.equal(a.state, 'master', 'lower address does not win');
    a.handle({ type: 'advert', advert: advert(100), source: PEER_HIGH }, at + 20);
    assert.equal(a.state, 'backup');
    assert.equal(a.status().lastTransition?.reason, 'equal-priority-higher-address');
  });

  it('compares IPv6 addresses numerically for the tie-break', () => {
    const v6 = {
      family: 'ipv6' as const,
      primaryAddress: '2001:db8::20',
      virtualAddresses: ['2001:db8::50'],
    };
    const { inst, at } = master(v6);
    const adv = advert(100, { family: 'ipv6', addresses: ['2001:db8::50'] });
    inst.handle({ type: 'advert', advert: adv, source: '2001:db8::1f' }, at + 1);
    assert.equal(inst.state, 'master');
    inst.handle({ type: 'advert', advert: adv, source: '2001:db8::100' }, at + 2);
    assert.equal(inst.state, 'backup');
  });

  it('answers a lower-priority advert at once with its own advert and a GARP burst (keepalived)', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, at + 10);
    assert.deepEqual(sentPriorities(out), [100]);
    assert.ok(out.some((a) => a.type === 'send-garps' && a.burst === 'lower-priority'));
    assert.equal(inst.state, 'master');
    // The repeat after garp delay is not postponed by further lower-priority adverts.
    const bursts: string[] = [];
    // Spaced more than two intervals apart: a router that answers in time is not "unheard".
    for (let t = at + 1000; t <= at + 12_000; t += 2500) {
      for (const a of inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, t)) {
        if (a.type === 'send-garps') bursts.push(a.burst);
      }
      for (const a of inst.handle({ type: 'timeout' }, t + 1)) if (a.type === 'send-garps') bursts.push(a.burst);
    }
    assert.ok(bursts.includes('lower-priority-delayed'), bursts.join(','));
    assert.ok(bursts.includes('delayed'), 'the become-master repeat still fires');
    const quiet = master({ answerLowerPriority: false, garp: { ...KEEPALIVED_GARP_DEFAULTS, lowerPriorityRepeat: 0 } });
    const none = quiet.inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, quiet.at + 1);
    assert.deepEqual(none, [], 'RFC behaviour: discard');
  });
});

describe('one-way loss: the unheard master', () => {
  it('steps down when a lower-priority master keeps advertising although it is answered, and does not preempt it', () => {
    const { inst, at } = master();
    let t = at;
    for (let k = 0; k < 4; k++) {
      t += 1000;
      inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, t);
      assert.equal(inst.state, 'master', `after ${k + 1} of its adverts`);
    }
    const out = inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, t + 1000);
    assert.equal(inst.state, 'backup');
    assert.ok(out.some((a) => a.type === 'state-changed' && a.reason === 'unheard'));
    assert.ok(out.some((a) => a.type === 'remove-vips'), 'the other side holds the VIP');
    assert.equal(inst.counters.unheardStepDowns, 1);
    assert.equal(inst.status().masterAddress, PEER_LOW);
    // Its adverts keep us backup (no preemption by priority) until it goes away.
    for (let k = 0; k < 5; k++) {
      t += 1000;
      inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, t + 1000);
      assert.equal(inst.state, 'backup');
    }
  });

  it('a lower-priority master that yields after our answer is no reason to step down', () => {
    const { inst, at } = master();
    inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, at + 1000);
    inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, at + 2000);
    // silence: it heard us; much later it claims master again once
    inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, at + 9000);
    inst.handle({ type: 'advert', advert: advert(50), source: PEER_LOW }, at + 10_000);
    assert.equal(inst.state, 'master');
  });
});

describe('members (multicast)', () => {
  it('drops and counts adverts from a router that is not a configured member', () => {
    const i = backup({ members: [PEER_HIGH] });
    i.handle({ type: 'advert', advert: advert(254), source: PEER_LOW }, 10);
    assert.equal(i.counters.drops['not-a-member'], 1);
    assert.equal(i.status().masterAddress, undefined);
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 20);
    assert.equal(i.status().masterAddress, PEER_HIGH);
  });
});

describe('tracks and fault', () => {
  it('lowers the effective priority by the weight of a failing track and restores it', () => {
    const i = backup({ tracks: [{ name: 'ping', weight: -60 }] });
    const out = i.handle({ type: 'track', name: 'ping', ok: false }, 10);
    assert.equal(i.effectivePriority, 40);
    assert.deepEqual(out, [{ type: 'priority-changed', from: 100, to: 40 }]);
    i.handle({ type: 'track', name: 'ping', ok: true }, 20);
    assert.equal(i.effectivePriority, 100);
  });

  it('adds a positive weight while the track succeeds, and clamps to 1..254', () => {
    const i = backup({
      priority: 200,
      tracks: [
        { name: 'up', weight: 100 },
        { name: 'down', weight: -253 },
      ],
    });
    assert.equal(i.effectivePriority, 254);
    i.handle({ type: 'track', name: 'up', ok: false }, 1);
    i.handle({ type: 'track', name: 'down', ok: false }, 2);
    assert.equal(i.effectivePriority, 1);
  });

  it('number tracks (track_file): value × weight on the priority, Fault at -254 or less, and any value but 0 with weight 0', () => {
    const i = backup({ tracks: [{ name: 'drain', weight: -1 }, { name: 'gate', weight: 0 }] });
    assert.deepEqual(i.handle({ type: 'track', name: 'drain', ok: true, value: 30 }, 1), [{ type: 'priority-changed', from: 100, to: 70 }]);
    assert.deepEqual(i.handle({ type: 'track', name: 'drain', ok: false, value: 30 }, 2), [], 'the same value again: nothing (ok is ignored)');
    i.handle({ type: 'track', name: 'drain', ok: true, value: -20 }, 3);
    assert.equal(i.effectivePriority, 120);
    i.handle({ type: 'track', name: 'drain', ok: true, value: 254 }, 4);
    assert.equal(i.state, 'fault');
    assert.match(i.status().lastTransition?.detail ?? '', /track drain is 254/);
    i.handle({ type: 'track', name: 'drain', ok: true, value: 0 }, 5);
    assert.equal(i.state, 'backup');
    assert.equal(i.effectivePriority, 100);
    i.handle({ type: 'track', name: 'gate', ok: true, value: 3 }, 6);
    assert.equal(i.state, 'fault');
    i.handle({ type: 'track', name: 'gate', ok: true, value: 0 }, 7);
    assert.equal(i.state, 'backup');
  });

  it('keeps the address owner at 255 whatever its weighted tracks say', () => {
    const i = new VrrpInstance(config({ priority: 255, tracks: [{ name: 't', weight: -100 }] }));
    i.handle({ type: 'start' }, 0);
    i.handle({ type: 'track', name: 't', ok: false }, 1);
    assert.equal(i.effectivePriority, 255);
  });

  it('enters Fault from Master on a weight-0 track failure: two priority-0 adverts, VIPs released', () => {
    const { inst, at } = master({ tracks: [{ name: 'redis', weight: 0 }] });
    const out = inst.handle({ type: 'track', name: 'redis', ok: false }, at + 5);
    assert.equal(inst.state, 'fault');
    assert.deepEqual(sentPriorities(out), [0, 0]);
    assert.deepEqual(types(out), ['send-advert', 'send-advert', 'remove-vips', 'state-changed']);
    assert.equal(inst.nextDeadline(), undefined, 'no timers in Fault');
  });

  it('leaves Fault for Backup when the cause clears, even as address owner', () => {
    const i = new VrrpInstance(config({ priority: 255 }));
    i.handle({ type: 'start' }, 0);
    i.handle({ type: 'interface', up: false }, 10);
    assert.equal(i.state, 'fault');
    i.handle({ type: 'interface', up: true }, 20);
    assert.equal(i.state, 'backup');
    assert.equal(i.status().lastTransition?.reason, 'fault-cleared');
    assert.equal(i.nextDeadline(), 20 + i.masterDownIntervalMs());
  });

  it('ignores adverts while in Fault', () => {
    const i = backup();
    i.handle({ type: 'interface', up: false }, 0);
    const out = i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, 5);
    assert.deepEqual(out, []);
    assert.equal(i.nextDeadline(), undefined);
  });

  it('sends nothing when a Backup enters Fault', () => {
    const i = backup({ tracks: [{ name: 'redis', weight: 0 }] });
    const out = i.handle({ type: 'track', name: 'redis', ok: false }, 5);
    assert.deepEqual(types(out), ['state-changed']);
  });
});

describe('shutdown', () => {
  it('sends one priority-0 advert and releases the VIPs when stopping as Master', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'shutdown' }, at + 1);
    assert.equal(inst.state, 'stopped');
    assert.deepEqual(types(out), ['send-advert', 'remove-vips', 'state-changed']);
    assert.deepEqual(sentPriorities(out), [0]);
    assert.equal(inst.nextDeadline(), undefined);
  });

  it('sends nothing when stopping as Backup', () => {
    const i = backup();
    assert.deepEqual(types(i.handle({ type: 'shutdown' }, 1)), ['state-changed']);
  });
});

describe('switchover (resign)', () => {
  it('steps down to Backup with one priority-0 advert, and releases its VIPs when the new master is heard', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'resign' }, at + 1);
    assert.equal(inst.state, 'backup');
    assert.deepEqual(types(out), ['send-advert', 'state-changed']);
    assert.deepEqual(sentPriorities(out), [0]);
    const sent = out[0];
    assert.ok(sent?.type === 'send-advert' && sent.to === undefined, 'to the usual destinations');
    assert.equal(inst.status().lastTransition?.reason, 'resigned');
    assert.deepEqual(inst.status().vipsHeld, ['192.0.2.50'], 'kept until the new master is heard');
    assert.deepEqual(types(inst.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, at + 60)), ['remove-vips']);
    assert.deepEqual(inst.status().vipsHeld, []);
  });

  it('takes its VIPs up again (and says so) when nobody takes over', () => {
    const { inst, at } = master();
    inst.handle({ type: 'resign' }, at + 1);
    const out = inst.handle({ type: 'timeout' }, inst.nextDeadline() ?? assert.fail('no deadline'));
    assert.equal(inst.state, 'master');
    assert.deepEqual(types(out), ['state-changed', 'send-advert', 'add-vips', 'send-garps']);
  });

  it('releases kept VIPs when it leaves Backup for Fault', () => {
    const { inst, at } = master({ tracks: [{ name: 'redis', weight: 0 }] });
    inst.handle({ type: 'resign' }, at + 1);
    const out = inst.handle({ type: 'track', name: 'redis', ok: false }, at + 2);
    assert.equal(inst.state, 'fault');
    assert.ok(types(out).includes('remove-vips'));
  });

  it('sends the priority-0 advert only to the chosen router when given one', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'resign', to: PEER_LOW }, at + 1);
    const sent = out[0];
    assert.ok(sent?.type === 'send-advert');
    assert.equal(sent.to, PEER_LOW);
    assert.equal(inst.status().lastTransition?.detail, `to ${PEER_LOW}`);
  });

  it('does not preempt the lower-priority router it handed over to, until master again', () => {
    const { inst, at } = master({ priority: 200 });
    inst.handle({ type: 'resign' }, at + 1);
    let t = at + 10;
    for (let k = 0; k < 20; k++, t += 1000) inst.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t);
    assert.equal(inst.state, 'backup', 'behaves as nopreempt');
    // The new master falls silent: the resigned router still takes over.
    inst.handle({ type: 'timeout' }, inst.nextDeadline() ?? assert.fail('no deadline'));
    assert.equal(inst.state, 'master');
    // Master again: preemption is back (a lower-priority master is preempted after stepping down).
    inst.handle({ type: 'advert', advert: advert(250), source: PEER_HIGH }, t + 5000);
    assert.equal(inst.state, 'backup');
    const before = inst.nextDeadline() ?? assert.fail('no deadline');
    inst.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, t + 5100);
    assert.equal(inst.nextDeadline(), before, 'a lower-priority advert no longer resets the timer');
  });

  it('reports a resign outside Master, or to an unusable address, as a bug', () => {
    const i = backup();
    assert.equal(i.handle({ type: 'resign' }, 1)[0]?.type, 'unexpected-input');
    const { inst, at } = master();
    for (const to of ['not-an-address', '2001:db8::1', LOCAL]) {
      assert.equal(inst.handle({ type: 'resign', to }, at + 1)[0]?.type, 'unexpected-input', to);
      assert.equal(inst.state, 'master');
    }
  });
});

describe('designated hand-over (redkeep, not in the RFC)', () => {
  /** A backup following PEER_HIGH (priority 200) since t=1000. */
  function following(): VrrpInstance {
    const i = backup();
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 1000);
    return i;
  }

  it('becomes master at once when the master that designated it sends priority 0: no Skew_Time', () => {
    const i = following();
    assert.deepEqual(i.handle({ type: 'designated', by: PEER_HIGH, to: LOCAL }, 1010), [], 'a designation alone changes nothing');
    assert.equal(i.state, 'backup');
    assert.equal(i.counters.designationsRx, 1);
    const out = i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, 1020);
    assert.equal(i.state, 'master');
    assert.equal(i.status().lastTransition?.reason, 'designated');
    const add = out.find((a) => a.type === 'add-vips');
    assert.ok(add?.type === 'add-vips' && add.handedOver, 'a hand-over: the previous master left with priority 0');
    assert.equal(i.counters.designatedTakeovers, 1);
  });

  it('takes over at once when the designation comes during the Skew_Time of its designator\'s priority 0', () => {
    const i = following();
    i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, 1500);
    assert.equal(i.nextDeadline(), 1500 + i.skewTimeMs());
    const out = i.handle({ type: 'designated', by: PEER_HIGH, to: LOCAL }, 1501);
    assert.equal(i.state, 'master');
    assert.deepEqual(types(out), ['state-changed', 'send-advert', 'add-vips', 'send-garps']);
  });

  it('ignores (and counts) a designation not from the master it follows, not naming it, from a non-member, or outside Backup; Skew_Time as usual', () => {
    const i = following();
    i.handle({ type: 'designated', by: PEER_LOW, to: LOCAL }, 1010);
    i.handle({ type: 'designated', by: PEER_HIGH, to: PEER_LOW }, 1011);
    i.handle({ type: 'designated', by: 'not-an-address', to: LOCAL }, 1012);
    assert.equal(i.counters.designationsIgnored, 3);
    i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, 1020);
    assert.equal(i.state, 'backup');
    assert.equal(i.nextDeadline(), 1020 + i.skewTimeMs());

    const m = backup({ members: [LOCAL, PEER_LOW] });
    m.handle({ type: 'designated', by: PEER_HIGH, to: LOCAL }, 10);
    assert.equal(m.counters.designationsIgnored, 1, 'not a member');

    const { inst, at } = master();
    assert.deepEqual(inst.handle({ type: 'designated', by: PEER_HIGH, to: LOCAL }, at + 1), []);
    assert.equal(inst.counters.designationsIgnored, 1, 'a master is not designated');
    assert.equal(inst.counters.unexpectedInputs, 0, 'network data, not a caller bug');
  });

  it('does not skip Skew_Time for a designation older than Master_Down_Interval', () => {
    const i = following();
    i.handle({ type: 'designated', by: PEER_HIGH, to: LOCAL }, 1010);
    for (let t = 1100; t < 1010 + i.masterDownIntervalMs() + 100; t += 100) i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, t);
    const late = 1010 + i.masterDownIntervalMs() + 150;
    i.handle({ type: 'advert', advert: advert(0), source: PEER_HIGH }, late);
    assert.equal(i.state, 'backup');
    assert.equal(i.nextDeadline(), late + i.skewTimeMs());
  });

  it('forgets the designation when another router becomes master', () => {
    const i = backup({ priority: 100 });
    i.handle({ type: 'advert', advert: advert(150), source: PEER_LOW }, 1000);
    i.handle({ type: 'designated', by: PEER_LOW, to: LOCAL }, 1010);
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 1020);
    i.handle({ type: 'advert', advert: advert(0), source: PEER_LOW }, 1030);
    assert.equal(i.state, 'backup');
  });

  it('the resigned master keeps its VIPs until the router it designated says it holds them', () => {
    const { inst, at } = master();
    const out = inst.handle({ type: 'resign', to: PEER_LOW, designated: PEER_LOW }, at + 1);
    assert.deepEqual(sentPriorities(out), [0]);
    assert.equal(inst.counters.designationsTx, 1);
    assert.equal(inst.status().lastTransition?.detail, `to ${PEER_LOW}, designated ${PEER_LOW}`);
    assert.deepEqual(types(inst.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, at + 5)), [], 'heard, but its Redis may still be promoting');
    assert.deepEqual(inst.status().vipsHeld, ['192.0.2.50']);
    assert.deepEqual(inst.handle({ type: 'taken-over', by: PEER_HIGH }, at + 6), [], 'someone else says so: not the successor');
    assert.deepEqual(inst.handle({ type: 'taken-over', by: PEER_LOW }, at + 7), [{ type: 'remove-vips', addresses: ['192.0.2.50'], handedOver: true }], 'confirmed: the successor holds them');
    assert.deepEqual(inst.handle({ type: 'taken-over', by: PEER_LOW }, at + 8), [], 'once');
  });

  it('the resigned master releases them one Master_Adver_Interval after its successor\'s first advert at the latest', () => {
    const { inst, at } = master();
    inst.handle({ type: 'resign', designated: PEER_LOW }, at + 1);
    inst.handle({ type: 'advert', advert: advert(100), source: PEER_LOW }, at + 5);
    assert.equal(inst.nextDeadline(), at + 5 + 1000);
    assert.deepEqual(inst.handle({ type: 'timeout' }, at + 1005), [{ type: 'remove-vips', addresses: ['192.0.2.50'], handedOver: false }], 'not confirmed');
    assert.deepEqual(inst.status().vipsHeld, []);
  });

  it('the resigned master releases them at once when another router takes over', () => {
    const { inst, at } = master();
    inst.handle({ type: 'resign', designated: PEER_LOW }, at + 1);
    assert.deepEqual(types(inst.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, at + 5)), ['remove-vips']);
  });

  it('reports a designated successor that is no usable address as a bug', () => {
    const { inst, at } = master();
    assert.equal(inst.handle({ type: 'resign', designated: LOCAL }, at + 1)[0]?.type, 'unexpected-input');
    assert.equal(inst.state, 'master');
  });
});

describe('inputs that make no sense', () => {
  it('reports and counts a second start as a bug', () => {
    const i = backup();
    const out = i.handle({ type: 'start' }, 1);
    assert.equal(out[0]?.type, 'unexpected-input');
    assert.equal(i.counters.unexpectedInputs, 1);
    assert.equal(i.state, 'backup');
  });

  it('reports a track it does not have', () => {
    const i = backup();
    const out = i.handle({ type: 'track', name: 'nope', ok: false }, 1);
    assert.equal(out[0]?.type, 'unexpected-input');
  });

  it('reports a shutdown when already stopped', () => {
    const i = backup();
    i.handle({ type: 'shutdown' }, 1);
    assert.equal(i.handle({ type: 'shutdown' }, 2)[0]?.type, 'unexpected-input');
  });
});

describe('receive checks', () => {
  const cases: { what: string; cfg: Partial<InstanceConfig>; adv: VrrpAdvert; src: string; reason: string }[] = [
    { what: 'another VRID', cfg: {}, adv: advert(200, { vrid: 52 }), src: PEER_HIGH, reason: 'vrid-mismatch' },
    { what: 'another version', cfg: {}, adv: advert(200, { version: 2 }), src: PEER_HIGH, reason: 'version-mismatch' },
    { what: 'its own address', cfg: {}, adv: advert(200), src: LOCAL, reason: 'from-self' },
    {
      what: 'a different address list',
      cfg: {},
      adv: advert(200, { addresses: ['192.0.2.51'] }),
      src: PEER_HIGH,
      reason: 'address-mismatch',
    },
    {
      what: 'a source that is not a unicast peer',
      cfg: { unicastPeers: [PEER_LOW] },
      adv: advert(200),
      src: PEER_HIGH,
      reason: 'not-a-peer',
    },
    {
      what: 'the wrong PASS password',
      cfg: { version: 2, authPassword: 's3cret99' },
      adv: advert(200, { version: 2, authType: 'simple', authData: new TextEncoder().encode('wrong\0\0\0') }),
      src: PEER_HIGH,
      reason: 'auth-mismatch',
    },
    {
      what: 'no authentication where PASS is configured',
      cfg: { version: 2, authPassword: 's3cret99' },
      adv: advert(200, { version: 2, authType: 'none', authData: new Uint8Array(8) }),
      src: PEER_HIGH,
      reason: 'auth-mismatch',
    },
  ];
  for (const c of cases) {
    it(`drops and counts an advert with ${c.what}`, () => {
      const i = backup(c.cfg);
      const deadline = i.nextDeadline();
      const out = i.handle({ type: 'advert', advert: c.adv, source: c.src }, 10);
      assert.deepEqual(out, []);
      assert.equal(i.counters.drops[c.reason as keyof typeof i.counters.drops], 1);
      assert.equal(i.counters.advertsRx, 0);
      assert.equal(i.nextDeadline(), deadline);
    });
  }

  it('accepts the right PASS password', () => {
    const i = backup({ version: 2, authPassword: 's3cret99' });
    const adv = advert(200, {
      version: 2,
      authType: 'simple',
      authData: new TextEncoder().encode('s3cret99'),
    });
    i.handle({ type: 'advert', advert: adv, source: PEER_HIGH }, 10);
    assert.equal(i.counters.advertsRx, 1);
  });

  it('counts decode failures reported for it and adverts heard before start', () => {
    const i = new VrrpInstance(config());
    i.handle({ type: 'advert', advert: advert(200), source: PEER_HIGH }, 0);
    i.handle({ type: 'advert-dropped', reason: 'bad-checksum' }, 0);
    assert.deepEqual(i.counters.drops, { 'not-running': 1, 'bad-checksum': 1 });
  });

  it('never puts the PASS password in its status', () => {
    const i = backup({ version: 2, authPassword: 's3cret99' });
    assert.ok(!JSON.stringify(i.status()).includes('s3cret99'));
  });
});
