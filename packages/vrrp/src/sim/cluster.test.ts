// Property tests on simulated clusters: generated clusters and schedules of faults, checked
// against the election rules on a virtual clock (no sleeps).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { InstanceConfig } from '../instance.js';
import { masterDownIntervalMs, skewTimeMs } from '../timers.js';
import { SimCluster, splitBrainIntervals } from './cluster.js';
import { simNodeConfig } from './node-config.js';

const SEED = Number(process.env.REDKEEP_PROPERTY_SEED ?? 5798);
const LATENCY = { minMs: 0.05, maxMs: 0.5 };
/** A broken state machine can storm; fail in bounded time instead of shrinking for ever. */
const LIMITS = { interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true };

// ---- a model of the cluster, kept by the test independently of the implementation -----------

interface Spec {
  readonly version: 2 | 3;
  readonly family: 'ipv4' | 'ipv6';
  readonly intervalCs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly vipCount: number;
  /** v2 only: PASS authentication on every node. */
  readonly auth: boolean;
  /** Every node lists every other as a unicast peer. */
  readonly unicast: boolean;
  readonly nodes: readonly { priority: number; pingWeight: number; bonusWeight: number }[];
}

interface NodeModel {
  readonly name: string;
  readonly address: string;
  readonly base: number;
  readonly pingWeight: number;
  readonly bonusWeight: number;
  redisOk: boolean;
  pingOk: boolean;
  bonusOk: boolean;
  linkUp: boolean;
  crashed: boolean;
  stopped: boolean;
}

function effective(m: NodeModel): number {
  const p = m.base + (m.pingOk ? 0 : m.pingWeight) + (m.bonusOk ? m.bonusWeight : 0);
  return Math.min(254, Math.max(1, p));
}

function eligible(m: NodeModel): boolean {
  return m.redisOk && m.linkUp && !m.crashed && !m.stopped;
}

/**
 * The highest effective priority among eligible nodes. With preempt, the master must have it; an
 * equal-priority backup never preempts (RFC 5798 §6.4.2 accepts adverts of priority >= its own),
 * so the address tie-break only decides between two routers that are both master.
 */
function best(models: readonly NodeModel[]): number | undefined {
  let top: number | undefined;
  for (const m of models) if (eligible(m) && (top === undefined || effective(m) > top)) top = effective(m);
  return top;
}

function priorityOf(ms: readonly NodeModel[], name: string | undefined): number | undefined {
  const m = ms.find((x) => x.name === name);
  return m ? effective(m) : undefined;
}

function addressOf(spec: Spec, i: number): string {
  return spec.family === 'ipv4' ? `192.0.2.${10 + i}` : `2001:db8::${(0x10 + i).toString(16)}`;
}

function configs(spec: Spec): InstanceConfig[] {
  const vips = Array.from({ length: spec.vipCount }, (_, k) =>
    spec.family === 'ipv4' ? `192.0.2.${50 + k}` : `2001:db8::${(0x50 + k).toString(16)}`,
  );
  return spec.nodes.map((n, i) =>
    simNodeConfig(i, {
      version: spec.version,
      family: spec.family,
      primaryAddress: addressOf(spec, i),
      virtualAddresses: vips,
      advertIntervalCs: spec.intervalCs,
      preempt: spec.preempt,
      preemptDelayMs: spec.preemptDelayMs,
      priority: n.priority,
      tracks: [
        { name: 'redis', weight: 0 },
        { name: 'ping', weight: n.pingWeight },
        { name: 'bonus', weight: n.bonusWeight },
      ],
      ...(spec.auth ? { authPassword: 's3cret' } : {}),
      ...(spec.unicast ? { unicastPeers: spec.nodes.map((_, j) => addressOf(spec, j)).filter((_, j) => j !== i) } : {}),
    }),
  );
}

function models(spec: Spec): NodeModel[] {
  return configs(spec).map((c, i) => ({
    name: c.name,
    address: c.primaryAddress,
    base: c.priority,
    pingWeight: spec.nodes[i]?.pingWeight ?? 0,
    bonusWeight: spec.nodes[i]?.bonusWeight ?? 0,
    redisOk: true,
    pingOk: true,
    bonusOk: true,
    linkUp: true,
    crashed: false,
    stopped: false,
  }));
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    version: fc.constantFrom<2 | 3>(2, 3, 3),
    ipv6: fc.boolean(),
    v3IntervalCs: fc.constantFrom(10, 20, 50, 100),
    preempt: fc.boolean(),
    preemptDelayMs: fc.constantFrom(0, 0, 0, 700),
    vipCount: fc.integer({ min: 1, max: 3 }),
    auth: fc.boolean(),
    unicast: fc.boolean(),
    nodes: fc.array(
      fc.record({
        // A small pool makes equal priorities (and so the address tie-break) common.
        priority: fc.oneof(fc.constantFrom(100, 150, 200), fc.integer({ min: 1, max: 254 })),
        pingWeight: fc.integer({ min: -150, max: -1 }),
        bonusWeight: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 })),
      }),
      { minLength: 2, maxLength: 5 },
    ),
  })
  .map((r) => ({
    version: r.version,
    family: r.version === 3 && r.ipv6 ? ('ipv6' as const) : ('ipv4' as const),
    intervalCs: r.version === 2 ? 100 : r.v3IntervalCs,
    preempt: r.preempt,
    preemptDelayMs: r.preemptDelayMs,
    vipCount: r.vipCount,
    auth: r.version === 2 && r.auth,
    unicast: r.unicast,
    nodes: r.nodes,
  }));

type Change =
  | { kind: 'redis' | 'ping' | 'bonus'; node: number; ok: boolean }
  | { kind: 'link'; node: number; up: boolean }
  | { kind: 'crash' | 'restart' | 'shutdown' | 'start'; node: number };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constantFrom<'redis' | 'ping' | 'bonus'>('redis', 'ping', 'bonus'), node: fc.nat(4), ok: fc.boolean() }),
  fc.record({ kind: fc.constant<'link'>('link'), node: fc.nat(4), up: fc.boolean() }),
  fc.record({
    kind: fc.constantFrom<'crash' | 'restart' | 'shutdown' | 'start'>('crash', 'restart', 'shutdown', 'start'),
    node: fc.nat(4),
  }),
);

/** Applies a change to the simulation and the model alike; returns false if it does not apply. */
function apply(sim: SimCluster, ms: NodeModel[], c: Change): boolean {
  const m = ms[c.node % ms.length];
  if (!m) return false;
  switch (c.kind) {
    case 'redis':
    case 'ping':
    case 'bonus':
      if (m.crashed) return false;
      if (c.kind === 'redis') m.redisOk = c.ok;
      else if (c.kind === 'ping') m.pingOk = c.ok;
      else m.bonusOk = c.ok;
      sim.setTrack(m.name, c.kind, c.ok);
      return true;
    case 'link':
      if (m.crashed) return false;
      m.linkUp = c.up;
      sim.setLink(m.name, c.up);
      return true;
    case 'crash':
      if (m.crashed || m.stopped) return false;
      m.crashed = true;
      sim.crash(m.name);
      return true;
    case 'restart':
      if (!m.crashed) return false;
      // A restarted agent knows its tracks afresh (the model says they are as they were).
      m.crashed = false;
      sim.restart(m.name);
      if (!m.redisOk) sim.setTrack(m.name, 'redis', false);
      if (!m.pingOk) sim.setTrack(m.name, 'ping', false);
      if (!m.bonusOk) sim.setTrack(m.name, 'bonus', false);
      return true;
    case 'shutdown':
      if (m.crashed || m.stopped) return false;
      m.stopped = true;
      sim.shutdown(m.name);
      return true;
    case 'start':
      if (m.crashed || !m.stopped) return false;
      m.stopped = false;
      sim.start(m.name);
      return true;
  }
}

function newSim(spec: Spec, seed: number, lossRate = 0): SimCluster {
  return new SimCluster({ nodes: configs(spec), seed, latency: LATENCY, lossRate });
}

/**
 * Master_Down_Interval plus one advert interval, plus two one-way delays for the news to spread;
 * with a preempt delay, a higher-priority backup first tolerates the sitting master that long.
 */
function settleMs(spec: Spec, priority: number): number {
  const delay = spec.preemptDelayMs > 0 ? spec.preemptDelayMs + spec.intervalCs * 10 : 0;
  return masterDownIntervalMs(spec.version, priority, spec.intervalCs) + spec.intervalCs * 10 + 2 * LATENCY.maxMs + delay;
}

function describeState(sim: SimCluster, ms: readonly NodeModel[]): string {
  return ms
    .map((m) => {
      const n = sim.node(m.name);
      return `${m.name}(p${effective(m)}${eligible(m) ? '' : ' out'}): ${n.state}${n.crashed ? ' crashed' : ''}`;
    })
    .join(', ');
}

describe('simulated cluster', () => {
  it('elects exactly one master, the right one, within Master_Down_Interval plus one advert interval of any change (connected, lossless)', () => {
    fc.assert(
      fc.property(specArb, fc.array(changeArb, { minLength: 1, maxLength: 12 }), fc.integer(), (spec, changes, seed) => {
        const sim = newSim(spec, seed);
        const ms = models(spec);
        sim.startAll();
        const worst = settleMs(spec, 1);
        sim.runFor(worst);
        // Settled and unchanged: nothing moves for twenty intervals.
        const settledTransitions = sim.stateLog.length;
        sim.runFor(20 * spec.intervalCs * 10);
        assert.equal(sim.stateLog.length, settledTransitions, `a quiet cluster changed state: ${JSON.stringify(sim.stateLog.slice(settledTransitions))}`);
        let sitting = sim.masters()[0];
        for (const change of changes) {
          if (!apply(sim, ms, change)) continue;
          const target = best(ms);
          const bound = spec.preempt && target !== undefined ? settleMs(spec, target) : worst;
          sim.runFor(bound);
          for (const pass of ['at the bound', 'one interval later']) {
            const masters = sim.masters();
            const why = `${pass} after ${JSON.stringify(change)}: masters [${masters}]; ${describeState(sim, ms)}`;
            if (target === undefined) {
              assert.deepEqual(masters, [], why);
              continue;
            }
            assert.equal(masters.length, 1, why);
            const stillSitting = ms.find((m) => m.name === sitting);
            if (spec.preempt) assert.equal(priorityOf(ms, masters[0]), target, why);
            else if (stillSitting && eligible(stillSitting)) assert.equal(masters[0], sitting, why);
            // Only the master holds the VIP (a crashed agent keeps its own, as in real life).
            const holders = sim.vipHolders().filter((n) => !ms.find((m) => m.name === n)?.crashed);
            assert.deepEqual(holders, masters, why);
            sim.runFor(spec.intervalCs * 10);
          }
          sitting = sim.masters()[0];
        }
        // Never two masters for longer than one advert interval while connected and lossless.
        for (const sb of splitBrainIntervals(sim.masterLog, sim.nowMs)) {
          assert.ok(sb.endMs - sb.startMs <= spec.intervalCs * 10, `two masters from ${sb.startMs} to ${sb.endMs} ms`);
        }
        assert.deepEqual(sim.bugs, []);
      }),
      { seed: SEED, numRuns: 150, ...LIMITS },
    );
  });

  it('hands over within the backup\'s Skew_Time when the master\'s weight-0 track fails', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (spec, seed) => {
        const sim = newSim(spec, seed);
        const ms = models(spec);
        sim.startAll();
        sim.runFor(settleMs(spec, 1));
        const old = sim.masters()[0];
        assert.ok(old, 'a master was elected');
        const oldModel = ms.find((m) => m.name === old);
        assert.ok(oldModel);
        oldModel.redisOk = false;
        const next = best(ms);
        assert.ok(next !== undefined, 'some backup remains');
        const failAt = sim.nowMs;
        sim.setTrack(old, 'redis', false);
        sim.runFor(spec.intervalCs * 10);
        const took = sim.stateLog.find((e) => e.atMs >= failAt && e.to === 'master');
        assert.ok(took, `nobody took over: ${describeState(sim, ms)}`);
        const limit = skewTimeMs(spec.version, next, spec.intervalCs) + LATENCY.maxMs;
        assert.ok(
          took.atMs - failAt <= limit + 1e-9,
          `${took.node} took over after ${took.atMs - failAt} ms, Skew_Time bound ${limit} ms`,
        );
        assert.equal(sim.node(old).state, 'fault');
        // One master remains; with preempt it is a backup of the best priority left.
        sim.runFor(settleMs(spec, 1));
        const masters = sim.masters();
        assert.equal(masters.length, 1, describeState(sim, ms));
        if (spec.preempt) assert.equal(priorityOf(ms, masters[0]), next, describeState(sim, ms));
        assert.deepEqual(sim.bugs, []);
      }),
      { seed: SEED, numRuns: 200, ...LIMITS },
    );
  });

  it('keeps one master per side of a partition, and one master within one advert interval of the heal', () => {
    const splitArb = fc.array(fc.nat(2), { minLength: 5, maxLength: 5 });
    fc.assert(
      fc.property(specArb, splitArb, fc.array(changeArb, { maxLength: 3 }), fc.integer(), (spec, split, changes, seed) => {
        const sim = newSim(spec, seed);
        const ms = models(spec);
        for (const c of changes) {
          if (c.kind === 'redis' || c.kind === 'ping' || c.kind === 'bonus' || c.kind === 'link') apply(sim, ms, c);
        }
        sim.startAll();
        sim.runFor(settleMs(spec, 1));
        const groups = new Map<number, NodeModel[]>();
        ms.forEach((m, i) => groups.set(split[i] ?? 0, [...(groups.get(split[i] ?? 0) ?? []), m]));
        sim.partition([...groups.values()].map((g) => g.map((m) => m.name)));
        sim.runFor(settleMs(spec, 1));
        for (const side of groups.values()) {
          const masters = sim.masters().filter((n) => side.some((m) => m.name === n));
          const want = best(side);
          const why = `side [${side.map((m) => m.name)}]: ${describeState(sim, ms)}`;
          assert.equal(masters.length, want !== undefined ? 1 : 0, why);
          if (spec.preempt && want !== undefined) assert.equal(priorityOf(ms, masters[0]), want, why);
        }
        const healAt = sim.nowMs;
        sim.heal();
        sim.runFor(spec.intervalCs * 10 + 2 * LATENCY.maxMs);
        const want = best(ms);
        assert.equal(sim.masters().length, want !== undefined ? 1 : 0, `after heal at ${healAt}: ${describeState(sim, ms)}`);
        sim.runFor(settleMs(spec, 1));
        if (spec.preempt && want !== undefined) assert.equal(priorityOf(ms, sim.masters()[0]), want);
        assert.deepEqual(sim.bugs, []);
      }),
      { seed: SEED, numRuns: 200, ...LIMITS },
    );
  });

  it('converges to the right single master once loss, partitions and faults end', () => {
    const stepArb = fc.record({
      change: changeArb,
      gapMs: fc.integer({ min: 0, max: 3000 }),
      partition: fc.option(fc.array(fc.nat(1), { minLength: 5, maxLength: 5 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(specArb, fc.array(stepArb, { maxLength: 10 }), fc.double({ min: 0, max: 0.4, noNaN: true }), fc.integer(), (spec, steps, loss, seed) => {
        const sim = newSim(spec, seed, loss);
        const ms = models(spec);
        sim.startAll();
        for (const s of steps) {
          apply(sim, ms, s.change);
          if (s.partition) {
            const part = s.partition;
            sim.partition([0, 1].map((g) => ms.filter((_, i) => part[i] === g).map((m) => m.name)));
          }
          sim.runFor(s.gapMs);
        }
        // Everything mends.
        sim.setLoss(0);
        sim.heal();
        for (const [i, m] of ms.entries()) {
          if (m.crashed) apply(sim, ms, { kind: 'restart', node: i });
          if (m.stopped) apply(sim, ms, { kind: 'start', node: i });
          if (!m.linkUp) apply(sim, ms, { kind: 'link', node: i, up: true });
          if (!m.redisOk) apply(sim, ms, { kind: 'redis', node: i, ok: true });
          if (!m.pingOk) apply(sim, ms, { kind: 'ping', node: i, ok: true });
          if (!m.bonusOk) apply(sim, ms, { kind: 'bonus', node: i, ok: true });
        }
        const want = best(ms);
        assert.ok(want !== undefined);
        sim.runFor(settleMs(spec, 1) + spec.intervalCs * 10);
        const masters = sim.masters();
        assert.equal(masters.length, 1, describeState(sim, ms));
        if (spec.preempt) assert.equal(priorityOf(ms, masters[0]), want, describeState(sim, ms));
        assert.deepEqual(sim.vipHolders(), masters);
        assert.deepEqual(sim.bugs, []);
      }),
      { seed: SEED, numRuns: 150, ...LIMITS },
    );
  });
});

describe('equal priorities', () => {
  it('leave the highest primary address as master after a simultaneous start (RFC 5798 §6.4.3)', () => {
    fc.assert(
      fc.property(specArb, fc.integer({ min: 1, max: 254 }), fc.integer(), (spec, priority, seed) => {
        const equal: Spec = { ...spec, nodes: spec.nodes.map((n) => ({ ...n, priority, bonusWeight: 1 })) };
        const sim = newSim(equal, seed);
        sim.startAll();
        sim.runFor(settleMs(equal, priority) + 10 * equal.intervalCs * 10);
        const highest = `n${equal.nodes.length - 1}`; // addresses grow with the index
        assert.deepEqual(sim.masters(), [highest]);
      }),
      { seed: SEED, numRuns: 100, ...LIMITS },
    );
  });
});

describe('simulation harness', () => {
  it('is deterministic for a seed', () => {
    const run = (): string => {
      const node = { priority: 100, pingWeight: -1, bonusWeight: 1 };
      const spec: Spec = {
        version: 3,
        family: 'ipv4',
        intervalCs: 10,
        preempt: true,
        preemptDelayMs: 0,
        vipCount: 1,
        auth: false,
        unicast: false,
        nodes: [node, node, node],
      };
      const sim = newSim(spec, 42, 0.2);
      sim.startAll();
      sim.runFor(5000);
      sim.crash('n2');
      sim.runFor(5000);
      return JSON.stringify(sim.stateLog);
    };
    assert.equal(run(), run());
  });

  it('carries real bytes: a node with the wrong VRID on the LAN is counted, not obeyed', () => {
    const sim = new SimCluster({
      nodes: [simNodeConfig(0, { priority: 200 }), simNodeConfig(1, { vrid: 52, priority: 250 })],
      latency: LATENCY,
    });
    sim.startAll();
    sim.runFor(10_000);
    assert.deepEqual(sim.masters(), ['n0', 'n1']);
    assert.ok((sim.node('n0').instance.counters.drops['vrid-mismatch'] ?? 0) > 0);
    assert.ok(sim.delivered > 0);
  });

  it('delivers unicast adverts only to the configured peers', () => {
    const sim = new SimCluster({
      nodes: [
        simNodeConfig(0, { priority: 200, unicastPeers: ['192.0.2.11'] }),
        simNodeConfig(1, { priority: 100, unicastPeers: ['192.0.2.10'] }),
        simNodeConfig(2, { priority: 50 }),
      ],
      latency: LATENCY,
    });
    sim.startAll();
    sim.runFor(10_000);
    // n2 (multicast, no peers) never hears n0 and elects itself; n1 follows n0 over unicast.
    assert.deepEqual(sim.masters(), ['n0', 'n2']);
    assert.equal(sim.node('n1').state, 'backup');
    assert.ok((sim.node('n0').instance.counters.drops['not-a-peer'] ?? 0) > 0, 'n2 multicast dropped by n0');
  });

  it('hands over to the chosen router on a switchover, and the resigned router does not preempt', () => {
    for (const unicast of [false, true]) {
      const addrs = [0, 1, 2].map((i) => `192.0.2.${10 + i}`);
      const peers = (i: number): Partial<InstanceConfig> => (unicast ? { unicastPeers: addrs.filter((_, j) => j !== i) } : {});
      const sim = new SimCluster({
        nodes: [simNodeConfig(0, { priority: 200, ...peers(0) }), simNodeConfig(1, { priority: 150, ...peers(1) }), simNodeConfig(2, { priority: 100, ...peers(2) })],
        latency: LATENCY,
      });
      sim.startAll();
      sim.runFor(10_000);
      assert.deepEqual(sim.masters(), ['n0']);
      // To the lower-priority n2: only it hears the priority 0 and takes over within its
      // Skew_Time, while n1 has not heard anything.
      sim.resign('n0', 'n2');
      sim.runFor(skewTimeMs(3, 100, 100) + 5);
      assert.deepEqual(sim.masters(), ['n2'], 'n2 took over within its Skew_Time');
      // VRRP's priorities still rule: n1 (150, preempt) takes it from n2; the resigned n0 (200)
      // does not preempt anyone.
      sim.runFor(30_000);
      assert.deepEqual(sim.masters(), ['n1'], `n1 preempts n2, n0 stays backup (unicast ${unicast})`);
      assert.equal(sim.node('n0').state, 'backup');
    }
  });
});
