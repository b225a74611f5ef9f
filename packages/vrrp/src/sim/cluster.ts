// A simulated LAN for VRRP instances: a virtual clock, per-packet latency, loss, partitions, link
// and track faults. Every advert travels as real bytes (encode, then decode on receipt) unless
// `wire: false`. Deterministic for a given seed; no timers, no sleeps.

import {
  VRRP_MULTICAST_IPV4,
  VRRP_MULTICAST_IPV6,
  decodeIpv4Datagram,
  decodeIpv6Packet,
  encodeIpv4Datagram,
  encodeIpv6Packet,
  encodeVrrp,
  type VrrpAdvert,
} from '../codec.js';
import {
  type GarpBurst,
  type InstanceConfig,
  type TransitionReason,
  type VrrpAction,
  VrrpInstance,
  type VrrpState,
} from '../instance.js';
import { canonicalAddress } from '../address.js';

export interface LatencyRange {
  readonly minMs: number;
  readonly maxMs: number;
}

export interface SimOptions {
  readonly nodes: readonly InstanceConfig[];
  readonly seed?: number;
  readonly latency?: LatencyRange;
  /** Probability in [0, 1) that any one delivery is lost. */
  readonly lossRate?: number;
  /** Encode and decode every advert (default true). */
  readonly wire?: boolean;
  /**
   * Events one runUntil() may process before it gives up with an error: an advert storm (two
   * routers answering each other forever) must fail a test, not hang it. Default 200 000.
   */
  readonly maxEventsPerRun?: number;
}

export interface SimStateChange {
  readonly atMs: number;
  readonly node: string;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: TransitionReason;
}

export interface SimMasterSet {
  readonly atMs: number;
  readonly masters: readonly string[];
}

export interface SimGarp {
  readonly atMs: number;
  readonly node: string;
  readonly count: number;
  readonly burst: GarpBurst;
}

export class SimError extends Error {
  override readonly name = 'SimError';
  readonly code: 'ERR_SIM_USAGE' | 'ERR_SIM_STUCK' | 'ERR_SIM_STORM';
  constructor(code: SimError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface SimAdvertSent {
  readonly atMs: number;
  readonly node: string;
  readonly priority: number;
}

export interface SimBug {
  readonly atMs: number;
  readonly node: string;
  readonly message: string;
}

export class SimNode {
  instance: VrrpInstance;
  linkUp = true;
  /** Killed without a shutdown (kill -9): hears nothing, sends nothing, keeps its VIPs. */
  crashed = false;
  vipsHeld = false;
  readonly config: InstanceConfig;
  readonly address: string;

  constructor(config: InstanceConfig) {
    this.config = config;
    this.instance = new VrrpInstance(config);
    this.address = canonicalAddress(config.primaryAddress) ?? config.primaryAddress;
  }

  get name(): string {
    return this.config.name;
  }

  get state(): VrrpState {
    return this.instance.state;
  }

  /** Taking part in the election: running, not crashed, link up. */
  get live(): boolean {
    return !this.crashed && this.linkUp;
  }
}

interface Delivery {
  readonly atMs: number;
  readonly seq: number;
  readonly to: SimNode;
  readonly from: SimNode;
  readonly bytes: Uint8Array | undefined;
  readonly advert: VrrpAdvert;
}

/** mulberry32: small, seedable, good enough for schedules. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_STEPS_AT_ONE_INSTANT = 100_000;

export class SimCluster {
  nowMs = 0;
  readonly nodes: ReadonlyMap<string, SimNode>;
  readonly stateLog: SimStateChange[] = [];
  readonly masterLog: SimMasterSet[] = [{ atMs: 0, masters: [] }];
  readonly garps: SimGarp[] = [];
  readonly advertsSent: SimAdvertSent[] = [];
  readonly bugs: SimBug[] = [];
  delivered = 0;
  lost = 0;
  /** Inputs handed to instances (deliveries, timeouts, operations): the benchmark's unit. */
  inputs = 0;
  private latency: LatencyRange;
  private lossRate: number;
  private readonly wire: boolean;
  private readonly maxEventsPerRun: number;
  private readonly random: () => number;
  private queue: Delivery[] = [];
  private seq = 0;
  /** Partition groups by node name; nodes in different groups cannot hear each other. */
  private group = new Map<string, number>();

  constructor(opts: SimOptions) {
    const nodes = new Map<string, SimNode>();
    for (const c of opts.nodes) {
      if (nodes.has(c.name)) throw new SimError('ERR_SIM_USAGE', `duplicate node name ${c.name}`);
      nodes.set(c.name, new SimNode(c));
    }
    this.nodes = nodes;
    this.random = seededRandom(opts.seed ?? 1);
    this.latency = opts.latency ?? { minMs: 0.1, maxMs: 0.5 };
    this.lossRate = opts.lossRate ?? 0;
    this.wire = opts.wire ?? true;
    this.maxEventsPerRun = opts.maxEventsPerRun ?? 200_000;
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (!n) throw new SimError('ERR_SIM_USAGE', `no node ${name}`);
    return n;
  }

  // ---- operations ---------------------------------------------------------------------------

  start(name: string): void {
    this.input(this.node(name), { type: 'start' });
  }

  startAll(): void {
    for (const n of this.nodes.values()) this.start(n.name);
  }

  /** Graceful stop (SIGTERM): priority-0 advert if master, VIPs released. */
  shutdown(name: string): void {
    this.input(this.node(name), { type: 'shutdown' });
  }

  /** Planned switchover: the master resigns, to one router (by name) or to whoever wins. */
  resign(name: string, to?: string): void {
    this.input(this.node(name), to === undefined ? { type: 'resign' } : { type: 'resign', to: this.node(to).address });
  }

  /** kill -9: the node falls silent and keeps whatever it held. */
  crash(name: string): void {
    const n = this.node(name);
    n.crashed = true;
    this.recordMasters();
  }

  /** A crashed node's agent starts again from scratch (stale VIPs removed first). */
  restart(name: string): void {
    const n = this.node(name);
    n.crashed = false;
    n.vipsHeld = false;
    n.instance = new VrrpInstance(n.config);
    if (!n.linkUp) this.input(n, { type: 'interface', up: false });
    this.input(n, { type: 'start' });
  }

  setTrack(name: string, track: string, ok: boolean): void {
    this.input(this.node(name), { type: 'track', name: track, ok });
  }

  /** Carrier down/up on a node's link: it neither sends nor hears, and its instance is told. */
  setLink(name: string, up: boolean): void {
    const n = this.node(name);
    n.linkUp = up;
    this.input(n, { type: 'interface', up });
  }

  /** Splits the LAN: each listed group hears only itself; unlisted nodes form one more group. */
  partition(groups: readonly (readonly string[])[]): void {
    this.group = new Map();
    groups.forEach((g, i) => g.forEach((name) => this.group.set(name, i + 1)));
  }

  heal(): void {
    this.group = new Map();
  }

  get partitioned(): boolean {
    return this.group.size > 0;
  }

  setLoss(rate: number): void {
    this.lossRate = rate;
  }

  setLatency(latency: LatencyRange): void {
    this.latency = latency;
  }

  canHear(a: SimNode, b: SimNode): boolean {
    return (this.group.get(a.name) ?? 0) === (this.group.get(b.name) ?? 0);
  }

  // ---- observation --------------------------------------------------------------------------

  /** Nodes in Master state that are still running (a crashed node no longer counts). */
  masters(): string[] {
    return [...this.nodes.values()]
      .filter((n) => !n.crashed && n.state === 'master')
      .map((n) => n.name)
      .sort();
  }

  vipHolders(): string[] {
    return [...this.nodes.values()]
      .filter((n) => n.vipsHeld)
      .map((n) => n.name)
      .sort();
  }

  // ---- the clock ----------------------------------------------------------------------------

  runFor(ms: number): void {
    this.runUntil(this.nowMs + ms);
  }

  runUntil(t: number): void {
    let stepsHere = 0;
    let events = 0;
    let lastAt = this.nowMs;
    for (;;) {
      const delivery = this.queue[0];
      let timerNode: SimNode | undefined;
      let timerAt = Infinity;
      for (const n of this.nodes.values()) {
        if (n.crashed) continue;
        const d = n.instance.nextDeadline();
        if (d !== undefined && d < timerAt) {
          timerAt = d;
          timerNode = n;
        }
      }
      const deliveryAt = delivery ? delivery.atMs : Infinity;
      const next = Math.min(deliveryAt, timerAt);
      if (next > t) break;
      if (++events > this.maxEventsPerRun) {
        throw new SimError('ERR_SIM_STORM', `simulation exceeded ${this.maxEventsPerRun} events before ${t} ms (advert storm?)`);
      }
      this.nowMs = Math.max(this.nowMs, next);
      if (this.nowMs === lastAt) {
        if (++stepsHere > MAX_STEPS_AT_ONE_INSTANT) {
          throw new SimError('ERR_SIM_STUCK', `simulation stuck at ${this.nowMs} ms`);
        }
      } else {
        lastAt = this.nowMs;
        stepsHere = 0;
      }
      if (delivery && deliveryAt <= timerAt) {
        this.queue.shift();
        this.deliver(delivery);
      } else if (timerNode) {
        this.input(timerNode, { type: 'timeout' });
      }
    }
    this.nowMs = Math.max(this.nowMs, t);
  }

  // ---- internals ----------------------------------------------------------------------------

  private input(n: SimNode, input: Parameters<VrrpInstance['handle']>[0]): void {
    if (n.crashed) return;
    this.inputs++;
    const actions = n.instance.handle(input, this.nowMs);
    for (const a of actions) this.apply(n, a);
    this.recordMasters();
  }

  private apply(n: SimNode, a: VrrpAction): void {
    switch (a.type) {
      case 'send-advert':
        this.advertsSent.push({ atMs: this.nowMs, node: n.name, priority: a.advert.priority });
        this.transmit(n, a.advert, a.to);
        return;
      case 'add-vips':
        n.vipsHeld = true;
        return;
      case 'remove-vips':
        n.vipsHeld = false;
        return;
      case 'send-garps':
        this.garps.push({ atMs: this.nowMs, node: n.name, count: a.count, burst: a.burst });
        return;
      case 'state-changed':
        this.stateLog.push({
          atMs: this.nowMs,
          node: n.name,
          from: a.from,
          to: a.to,
          reason: a.reason,
        });
        return;
      case 'priority-changed':
        return;
      case 'unexpected-input':
        this.bugs.push({ atMs: this.nowMs, node: n.name, message: `${a.input}: ${a.message}` });
        return;
    }
  }

  private transmit(from: SimNode, advert: VrrpAdvert, only?: string): void {
    if (!from.linkUp) return; // carrier down: nothing leaves
    const family = from.config.family;
    const multicast = family === 'ipv4' ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;
    const peers = from.config.unicastPeers?.map((p) => canonicalAddress(p) ?? p);
    for (const to of this.nodes.values()) {
      if (to === from) continue;
      if (only !== undefined && to.address !== only) continue;
      let dst = multicast;
      if (peers) {
        if (!peers.includes(to.address)) continue;
        dst = to.address;
      } else if (only !== undefined) dst = to.address;
      if (!this.canHear(from, to)) continue;
      if (this.lossRate > 0 && this.random() < this.lossRate) {
        this.lost++;
        continue;
      }
      const { minMs, maxMs } = this.latency;
      const atMs = this.nowMs + minMs + (maxMs - minMs) * this.random();
      let bytes: Uint8Array | undefined;
      if (this.wire) {
        const msg = encodeVrrp(advert, { src: from.address, dst });
        bytes =
          family === 'ipv4'
            ? encodeIpv4Datagram(msg, { src: from.address, dst })
            : encodeIpv6Packet(msg, { src: from.address, dst });
      }
      this.enqueue({ atMs, seq: this.seq++, to, from, bytes, advert });
    }
  }

  private enqueue(d: Delivery): void {
    // Keep the queue sorted by (atMs, seq); it stays small, so insertion is cheap.
    let i = this.queue.length;
    while (i > 0) {
      const prev = this.queue[i - 1];
      if (!prev || prev.atMs < d.atMs || (prev.atMs === d.atMs && prev.seq < d.seq)) break;
      i--;
    }
    this.queue.splice(i, 0, d);
  }

  private deliver(d: Delivery): void {
    const to = d.to;
    if (!to.live) return;
    this.delivered++;
    if (!d.bytes) {
      this.input(to, { type: 'advert', advert: d.advert, source: d.from.address });
      return;
    }
    const r =
      to.config.family === 'ipv4' ? decodeIpv4Datagram(d.bytes) : decodeIpv6Packet(d.bytes);
    if (r.ok) {
      this.input(to, { type: 'advert', advert: r.advert, source: r.ip?.src ?? d.from.address });
    } else {
      this.input(to, { type: 'advert-dropped', reason: r.reason });
    }
  }

  private recordMasters(): void {
    const masters = this.masters();
    const last = this.masterLog[this.masterLog.length - 1];
    if (last && sameList(last.masters, masters)) return;
    this.masterLog.push({ atMs: this.nowMs, masters });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Maximal intervals during which two or more nodes were master at once, from a master log. */
export function splitBrainIntervals(
  log: readonly SimMasterSet[],
  endMs: number,
): { startMs: number; endMs: number }[] {
  const out: { startMs: number; endMs: number }[] = [];
  let openAt: number | undefined;
  for (const e of log) {
    if (e.masters.length >= 2 && openAt === undefined) openAt = e.atMs;
    if (e.masters.length < 2 && openAt !== undefined) {
      out.push({ startMs: openAt, endMs: e.atMs });
      openAt = undefined;
    }
  }
  if (openAt !== undefined) out.push({ startMs: openAt, endMs });
  return out;
}
