// Three lab hosts with real redis-server and a redkeep agent each, a client writing through the
// VIP, and a probe of every Redis' role: the data-safety scenarios of the namespace tests and
// the failover benchmark, measured the same way in both.

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Lab } from './lab.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProc, KeepalivedProc, REDKEEP_BIN, RedisProc, RunDir, holders, redisInstanceToml, sleep, waitFor } from './procs.js';
import { TakeoverWatch } from './takeover-watch.js';

export const CLUSTER_VIP = '192.0.2.50';
/** The VIP of an IPv6 cluster (`ipv6`). */
export const CLUSTER_VIP6 = '2001:db8::50';
const WRITER = fileURLToPath(new URL('./writer.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./role-probe.js', import.meta.url));

export interface RedisClusterOptions {
  /** "100ms" (default) or e.g. "1s". */
  readonly advertInterval?: string;
  readonly preempt?: boolean;
  /** Priorities by host (default h1 110, h2 120, h3 130: h3 is master). */
  readonly priorities?: Readonly<Record<string, number>>;
  /** More [instance.redis] keys (TOML lines). */
  readonly redisExtra?: string;
  /** More top-level TOML for a host (e.g. [[track]] tables), before [agent]. */
  readonly topFor?: (host: string) => string;
  /** More tracks the write instance follows, by name (defined by topFor). */
  readonly tracks?: readonly string[];
  /** More [agent] keys (TOML lines). */
  readonly agentExtra?: string;
  /** More [[instance]] keys (TOML lines, before its [instance.redis]). */
  readonly instanceExtra?: string;
  /**
   * A second instance on every host with serve = "read" (VRID 52, this VIP), priorities as the
   * write instance's, and more of its keys (TOML lines, e.g. its [instance.redis] max_lag).
   */
  readonly readVip?: { readonly vip: string; readonly redisExtra?: string };
  /**
   * Every Redis with `appendonly yes` (as examples/redis.conf): a Redis killed and started again
   * comes back with its data. Default off: it starts empty.
   */
  readonly redisAppendOnly?: boolean;
  /** Writes every this many ms (default 5). */
  readonly writeEveryMs?: number;
  /** Lab hosts beyond the cluster hosts: not members, e.g. for a rogue VRRP speaker. */
  readonly outsiders?: number;
  /** Cluster hosts (members), 3 (default) or more; priorities 110, 120, ... so the last is master. */
  readonly hosts?: number;
  /**
   * The failover agent: redkeep (default), or keepalived with the scripts people use with it
   * (a `redis-cli ping` check every second, notify running REPLICAOF NO ONE on MASTER and
   * REPLICAOF the VIP otherwise), for side-by-side measurements.
   */
  readonly impl?: 'redkeep' | 'keepalived';
  /**
   * The writing client's connect and command timeout in ms (default: connect 200 ms, command
   * 500 ms).
   */
  readonly clientTimeoutMs?: number;
  /**
   * Redis replication on a network of its own: the lab's second network (eth1, 198.51.100.N), and
   * `peer_addresses` mapping each member's advert address (192.0.2.N) to it. Redis listens on
   * every address, so on both networks (clients reach it through the VIP on the first).
   */
  readonly replicationNetwork?: boolean;
  /**
   * IPv6 VRRP (redkeep only): the VIP is CLUSTER_VIP6, the members (advert sources) are the hosts'
   * link-local addresses, and Redis listens on both families; the agents reach each other's Redis
   * at the link-local addresses (with the zone, eth0).
   */
  readonly ipv6?: boolean;
}

/** measureFailover's options: the cluster's, and what to watch besides the client. */
export interface MeasureOptions extends RedisClusterOptions {
  /**
   * Watch the takeover host from its namespace (VIP address events, VRRP adverts on the wire)
   * and report `takeover` in the measure.
   */
  readonly watchTakeover?: boolean;
  /**
   * After the fault, wait this long before the settle step starts polling the lab (default 0):
   * its polls (`ip netns exec` every 20 ms) take CPU from the agents during the takeover. The
   * writer, the role probe and the takeover watch measure meanwhile.
   */
  readonly quietMs?: number;
}

/**
 * How long after a partition starts an isolated master may still acknowledge writes: the member
 * timeout (2 adverts) and one guard period, plus what the client and Redis take to see it. Writes
 * acknowledged in that window on the cut-off side are the minority's, lost when it rejoins.
 */
export const MINORITY_WINDOW_MS = 500;

export interface Ack {
  readonly n: number;
  readonly atMs: number;
}

/** What one failover did to the writing client. */
export interface FailoverMeasure {
  readonly scenario: string;
  readonly advertInterval: string;
  readonly acked: number;
  /** Acknowledged writes missing from the final master. */
  readonly lost: readonly Ack[];
  readonly longestWriteGapMs: number;
  /** The acknowledgements around the longest gap, ms from the fault: [last before, first after]. */
  readonly longestWriteGapAtMs: readonly [number, number];
  /** From the fault to the first moment the takeover host (h2 unless the scenario says) is the one reachable Redis master. */
  readonly timeToSingleMasterMs: number;
  readonly faultAtMs: number;
  readonly master: string;
  /** Role changes seen by the probe, ms after the fault. */
  readonly roleChanges: readonly string[];
  /** Windows (wall clock) in which a cut-off master could acknowledge writes the majority never saw. */
  readonly minorityWindows: readonly (readonly [number, number])[];
  readonly impl: 'redkeep' | 'keepalived';
  /** With `watchTakeover`: what the takeover host saw. */
  readonly takeover?: TakeoverTimes;
}

/**
 * The takeover as its host saw it, ms from the fault (NaN: not seen). The old master is h3, where
 * every scenario starts.
 */
export interface TakeoverTimes {
  readonly host: string;
  readonly priority: number;
  /** The VIP added on the takeover host's eth0 (kernel address event). */
  readonly vipUpMs: number;
  /** The takeover host's Redis first seen as a master, taking writes or not (role probe). */
  readonly rolePromotedMs: number;
  /**
   * The takeover host's Redis first seen as a master taking writes (role probe): with
   * min-replicas-to-write set (redkeep sets quorum - 1), once enough replicas follow it.
   */
  readonly roleMasterMs: number;
  /** max(vipUpMs, roleMasterMs): clients reaching the VIP can write. */
  readonly vipWritableMs: number;
  /**
   * The old master's last advert (priority above 0) before the takeover host's first, seen on the
   * takeover host: the Master_Down_Interval runs from there. Usually negative; a few ms after the
   * fault when an advert left before the fault's first step (a link cut takes a few ms) was done.
   */
  readonly lastAdvertMs: number;
  /** The old master's first priority-0 advert after the fault. */
  readonly priorityZeroMs: number;
  /** The takeover host's first advert after the fault (it is master). */
  readonly firstAdvertMs: number;
}

/** The acknowledged writes (Writer's SET w:N) a Redis does not have. */
export function lostWrites(redis: RedisProc, acks: readonly Ack[]): Ack[] {
  const keys = new Set(redis.cli(['--raw', 'keys', 'w:*']).split('\n').filter(Boolean));
  return acks.filter((x) => !keys.has(`w:${x.n}`));
}

/** A client process writing SET w:N N through the VIP and printing every acknowledgement. */
export class Writer {
  private readonly child: ChildProcess;
  private text = '';

  /**
   * `timeoutMs`: the client's connect and command timeout (default: connect 200 ms, command 500
   * ms); `vip`: the address it writes to (default CLUSTER_VIP).
   */
  constructor(lab: Lab, everyMs: number, timeoutMs?: number, vip = CLUSTER_VIP) {
    this.child = lab.spawn('client', [process.execPath, WRITER, vip, '6379', String(everyMs), ...(timeoutMs === undefined ? [] : [String(timeoutMs)])]);
    this.child.stdout?.on('data', (d: Buffer) => (this.text += d.toString()));
  }

  acks(): Ack[] {
    return [...this.text.matchAll(/^ack (\d+) (\d+)$/gm)].map((m) => ({ n: Number(m[1]), atMs: Number(m[2]) }));
  }

  /** Resolves once writes are acknowledged again after `sinceMs` (wall clock), for `forMs`. */
  async flowing(sinceMs: number, forMs: number, timeoutMs: number): Promise<void> {
    await waitFor(`writes through the VIP to flow again (writer said: ${this.text.slice(-200)})`, timeoutMs, () => {
      const after = this.acks().filter((a) => a.atMs > sinceMs);
      const first = after[0];
      const last = after[after.length - 1];
      return first !== undefined && last !== undefined && last.atMs - first.atMs >= forMs && last.atMs > Date.now() - 200;
    });
  }

  /** Stops the client (once; a second call returns the same acknowledgements). */
  async stop(): Promise<Ack[]> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    return this.acks();
  }
}

/** The role of every Redis, seen from the client namespace every few ms. */
export class RoleProbe {
  private readonly child: ChildProcess;
  private text = '';

  constructor(lab: Lab) {
    this.child = lab.spawn('client', [process.execPath, PROBE, '6379', ...lab.hosts.map((h) => h.address)]);
    this.child.stdout?.on('data', (d: Buffer) => (this.text += d.toString()));
  }

  /** Role changes, in order. */
  changes(): { address: string; role: string; atMs: number }[] {
    return [...this.text.matchAll(/^role (\S+) (\S+) (\d+)$/gm)].map((m) => ({ address: m[1] ?? '', role: m[2] ?? '', atMs: Number(m[3]) }));
  }

  /** The first time at or after `sinceMs` when `address` was the one reachable Redis master. */
  singleMasterAt(address: string, sinceMs: number): number | undefined {
    const roles = new Map<string, string>();
    for (const c of this.changes()) {
      roles.set(c.address, c.role);
      if (c.atMs < sinceMs) continue;
      const masters = [...roles].filter(([, r]) => r === 'master').map(([a]) => a);
      if (masters.length === 1 && masters[0] === address) return c.atMs;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}

export class RedisCluster {
  readonly lab: Lab;
  readonly dir = new RunDir();
  redis: RedisProc[] = [];
  agents: AgentProc[] = [];
  keepaliveds: KeepalivedProc[] = [];
  readonly advertInterval: string;
  /** The address clients write to. */
  readonly vip: string;
  /** With `ipv6`: the hosts' link-local addresses, read once. */
  private readonly linkLocals = new Map<string, string>();

  /** Wall-clock windows in which a cut-off master could acknowledge writes that the majority never saw. */
  readonly minorityWindows: [number, number][] = [];

  constructor(readonly opts: RedisClusterOptions = {}) {
    this.advertInterval = opts.advertInterval ?? '100ms';
    if (opts.ipv6 && opts.impl === 'keepalived') throw new Error('the IPv6 cluster runs redkeep only');
    this.lab = Lab.create({ hosts: (opts.hosts ?? 3) + (opts.outsiders ?? 0), ipv6: opts.ipv6 ?? false, replicationNetwork: opts.replicationNetwork ?? false });
    this.vip = opts.ipv6 ? CLUSTER_VIP6 : CLUSTER_VIP;
  }

  /** A host's VRRP advert source: its IPv4 address, or with `ipv6` its link-local address. */
  advertAddress(host: string): string {
    if (!this.opts.ipv6) return this.lab.host(host).address;
    let ll = this.linkLocals.get(host);
    if (ll === undefined) {
      ll = this.lab.linkLocal(host);
      if (ll === undefined) throw new Error(`${host} has no link-local address`);
      this.linkLocals.set(host, ll);
    }
    return ll;
  }

  /** Where a host's Redis is reached by the others, as INFO's master_host on its replicas says it. */
  redisAddress(host: string): string {
    if (this.opts.ipv6) return `${this.advertAddress(host)}%eth0`;
    const h = this.lab.host(host);
    return this.opts.replicationNetwork ? h.address2 : h.address;
  }

  /** The cluster's hosts (members): h1..h3 by default. */
  get hostNames(): string[] {
    return this.lab.hosts.slice(0, this.opts.hosts ?? 3).map((h) => h.name);
  }

  get impl(): 'redkeep' | 'keepalived' {
    return this.opts.impl ?? 'redkeep';
  }

  /** Cuts a host off (carrier up, bridge port blocked), noting the minority window. */
  partition(host: string): void {
    const at = Date.now();
    this.minorityWindows.push([at, at + MINORITY_WINDOW_MS]);
    this.lab.isolate(host);
  }

  heal(host: string): void {
    this.lab.rejoin(host);
  }

  /** One-way loss: the host receives everything and sends nothing (nftables in its namespace). */
  muteOutput(host: string): void {
    const at = Date.now();
    this.minorityWindows.push([at, at + MINORITY_WINDOW_MS]);
    const r = this.lab.exec(host, ['nft', '-f', '-'], 'table inet redkeep_lab {\n  chain out {\n    type filter hook output priority 0; policy drop;\n    oifname "lo" accept\n  }\n}\n');
    if (r.status !== 0) throw new Error(`nft failed: ${r.stderr}`);
  }

  unmuteOutput(host: string): void {
    this.lab.exec(host, ['nft', 'delete', 'table', 'inet', 'redkeep_lab']);
  }

  r(host: string): RedisProc {
    const x = this.redis.find((p) => p.host === host);
    if (!x) throw new Error(`no redis on ${host}`);
    return x;
  }

  a(host: string): AgentProc {
    const x = this.agents.find((p) => p.host === host);
    if (!x) throw new Error(`no agent on ${host}`);
    return x;
  }

  priority(host: string): number {
    return this.opts.priorities?.[host] ?? 100 + 10 * (this.hostNames.indexOf(host) + 1);
  }

  /**
   * Starts every Redis and agent: `first`'s agent alone until it is master (with nopreempt the
   * first master stays), then the others.
   */
  async start(first = 'h3'): Promise<this> {
    // keepalived's users start Redis as a master of its own (redkeep's: fenced, until told).
    const extra = [
      ...(this.opts.impl === 'keepalived' ? ['--replicaof', 'no', 'one'] : this.opts.ipv6 ? ['--bind', '*', '-::*'] : []),
      // Later arguments win over RedisProc's own `--appendonly no`.
      ...(this.opts.redisAppendOnly ? ['--appendonly', 'yes'] : []),
    ];
    this.redis = this.hostNames.map((h) => new RedisProc(this.lab, h, this.dir, 6379, extra).start());
    if (this.opts.impl === 'keepalived') {
      this.makeKeepalived(first).start();
      await waitFor(`${first} to become master`, 15_000, () => holders(this.lab, CLUSTER_VIP).includes(first), 20);
      for (const h of this.hostNames.filter((x) => x !== first)) this.makeKeepalived(h).start();
      return this;
    }
    this.makeAgent(first).start();
    await waitFor(`${first} to become master`, 15_000, async () => (await this.a(first).state()) === 'master', 20);
    for (const h of this.hostNames.filter((x) => x !== first)) this.makeAgent(h).start();
    return this;
  }

  /** keepalived as people run it with Redis: a PING check every second, notify scripts running REPLICAOF. */
  private makeKeepalived(host: string): KeepalivedProc {
    const notify = join(this.dir.path, `${host}-notify.sh`);
    writeFileSync(
      notify,
      [
        '#!/bin/sh',
        '# keepalived notify: INSTANCE name STATE priority',
        'case "$3" in',
        '  MASTER) exec redis-cli -p 6379 replicaof no one ;;',
        `  *) exec redis-cli -p 6379 replicaof ${CLUSTER_VIP} 6379 ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o700 },
    );
    const k = new KeepalivedProc(this.lab, host, this.dir, {
      priority: this.priority(host),
      advertInterval: this.advertInterval,
      ...(this.opts.preempt !== undefined ? { preempt: this.opts.preempt } : {}),
      scriptBlocks: ['vrrp_script chk_redis {', '  script "/usr/bin/redis-cli -p 6379 ping"', '  interval 1', '  timeout 1', '  fall 1', '  rise 1', '}'],
      instanceLines: ['track_script {', '  chk_redis', '}', `notify ${notify}`],
    });
    this.keepaliveds = [...this.keepaliveds.filter((x) => x.host !== host), k];
    return k;
  }

  /** A signal to a host's failover agent, whichever it is (SIGSTOP, SIGCONT, SIGKILL, SIGTERM). */
  agentSignal(host: string, sig: NodeJS.Signals): void {
    if (this.opts.impl === 'keepalived') {
      const k = this.keepaliveds.find((x) => x.host === host);
      if (sig === 'SIGKILL') k?.kill();
      else k?.signal(sig);
    } else this.a(host).signal(sig);
  }

  /** Whether a host's failover agent says its instance is in Fault. */
  async agentInFault(host: string): Promise<boolean> {
    if (this.opts.impl === 'keepalived') return /Entering FAULT STATE/.test(this.keepaliveds.find((x) => x.host === host)?.logs.text ?? '');
    return (await this.a(host).state()) === 'fault';
  }

  /**
   * A planned switchover from the master `host` to `to`, as each agent's users make one:
   * `redkeep switchover --to`, or stopping keepalived (SIGTERM to its main process, as
   * `systemctl stop` does with the Debian unit's KillMode=process: it resigns with priority 0).
   */
  plannedSwitchover(host: string, to: string): void {
    if (this.opts.impl === 'keepalived') {
      const k = this.keepaliveds.find((x) => x.host === host);
      if (!k?.child) throw new Error(`no keepalived on ${host}`);
      k.child.kill('SIGTERM');
      return;
    }
    const r = this.switchover(host, ['--to', this.advertAddress(to)]);
    if (r.status !== 0) throw new Error(`redkeep switchover failed (${r.status}): ${r.stderr}${r.stdout}`);
  }

  /** Starts a host's failover agent again (after a kill). */
  startAgent(host: string): void {
    if (this.opts.impl === 'keepalived') this.makeKeepalived(host).start();
    else this.restartAgent(host);
  }

  /** A new agent process for a host (same config), not started. */
  makeAgent(host: string): AgentProc {
    const toml = redisInstanceToml(6379, '100ms', this.opts.tracks);
    const agent = new AgentProc(this.lab, host, this.dir, {
      priority: this.priority(host),
      advertInterval: this.advertInterval,
      ...(this.opts.preempt !== undefined ? { preempt: this.opts.preempt } : {}),
      top: `${toml.top}\n${this.opts.topFor?.(host) ?? ''}`,
      ...(this.opts.agentExtra !== undefined ? { agentExtra: this.opts.agentExtra } : {}),
      ...(this.opts.ipv6 ? { vips: [`${CLUSTER_VIP6}/64`], memberAddresses: this.hostNames.map((h) => this.advertAddress(h)) } : { members: this.hostNames }),
      extra: `${this.opts.instanceExtra ?? ''}\n${toml.instance}\n${this.peerAddressesToml()}${this.opts.redisExtra ?? ''}${this.readInstanceToml(host)}`,
    });
    this.agents = [...this.agents.filter((x) => x.host !== host), agent];
    return agent;
  }

  /** The read instance of `readVip` for one host (empty without it). */
  private readInstanceToml(host: string): string {
    const r = this.opts.readVip;
    if (!r) return '';
    const members = this.hostNames.map((h) => `"${this.lab.host(h).address}"`).join(', ');
    return [
      '',
      '[[instance]]',
      'name = "redis-read"',
      'serve = "read"',
      'interface = "eth0"',
      'vrid = 52',
      `priority = ${this.priority(host)}`,
      `advert_interval = "${this.advertInterval}"`,
      `virtual_addresses = ["${r.vip}/24"]`,
      `members = [${members}]`,
      '',
      '[instance.redis]',
      'address = "127.0.0.1:6379"',
      r.redisExtra ?? '',
      '',
    ].join('\n');
  }

  /** `peer_addresses` for [instance.redis] with a replication network: every member, this host included. */
  private peerAddressesToml(): string {
    if (!this.opts.replicationNetwork) return '';
    return `peer_addresses = { ${this.hostNames.map((h) => `"${this.advertAddress(h)}" = "${this.redisAddress(h)}"`).join(', ')} }\n`;
  }

  /** Restarts a host's agent (after kill -9). */
  restartAgent(host: string): AgentProc {
    return this.makeAgent(host).start();
  }

  /**
   * Waits until `master` alone holds the VIP, its Redis is master, and every host in `others`
   * replicates from it with the link up.
   */
  async settled(master: string, others: readonly string[], timeoutMs = 10_000, dead: readonly string[] = []): Promise<void> {
    const live = (): string[] => holders(this.lab, this.vip).filter((h) => !dead.includes(h));
    await waitFor(`${master} to hold the VIP alone`, timeoutMs, () => live().join() === master, 20);
    await waitFor(`${master}'s Redis to be master`, timeoutMs, () => this.r(master).info('replication').role === 'master', 20);
    for (const o of others) {
      await waitFor(`${o}'s Redis to replicate from ${master}`, timeoutMs, () => {
        const i = this.r(o).info('replication');
        // keepalived's usual scripts point replicas at the VIP, redkeep at the master's address.
        const from = [this.redisAddress(master), ...(this.opts.impl === 'keepalived' ? [CLUSTER_VIP] : [])];
        return i.role === 'slave' && from.includes(i.master_host ?? '') && i.master_link_status === 'up' && i.master_sync_in_progress === '0';
      }, 20);
    }
    // The master streams to a replica only after its first acknowledgement (up to a second after
    // a full sync): until then writes live on the master alone. Wait until it has one from each.
    await waitFor(`${master} to have acknowledgements from ${others.join(', ')}`, timeoutMs, () => {
      const i = this.r(master).info('replication');
      // A master lists its replicas without a zone.
      return others.every((o) => Object.entries(i).some(([k, v]) => /^slave\d+$/.test(k) && v.includes(`ip=${this.redisAddress(o).replace(/%.*/, '')},`) && /state=online/.test(v) && !/offset=0,/.test(v)));
    }, 20);
    // redkeep's agents: every running one a backup hearing the master (one still in Fault, its
    // quorum not yet seen, would start its down timer late and take over after the others).
    if (this.opts.impl !== 'keepalived') {
      for (const o of others) {
        const agent = this.agents.find((x) => x.host === o);
        if (!agent?.running) continue;
        await waitFor(`${o}'s agent to be a backup of ${master}`, timeoutMs, async () => {
          const st = (await agent.status()).instances[0];
          return st?.state === 'backup' && st.masterAddress === this.advertAddress(master);
        }, 20);
      }
    }
  }

  /** Every acknowledged write missing from a host's Redis. */
  lostOn(host: string, acks: readonly Ack[]): Ack[] {
    return lostWrites(this.r(host), acks);
  }

  /** `redkeep switchover` run on a host against its agent. */
  switchover(host: string, args: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
    return this.lab.exec(host, [process.execPath, REDKEEP_BIN, 'switchover', '--socket', this.a(host).socket, ...args]);
  }

  /** One host's failover agent log (redkeep or keepalived), as it printed it. */
  agentLog(host: string): string {
    if (this.opts.impl === 'keepalived') return this.keepaliveds.find((x) => x.host === host)?.logs.text ?? '';
    return this.agents.find((x) => x.host === host)?.logs.text ?? '';
  }

  logs(): string {
    return [...this.agents.map((x) => x.logs.text), ...this.keepaliveds.map((x) => x.logs.text), ...this.redis.map((x) => x.logs.text)].join('\n');
  }

  destroy(): void {
    for (const x of this.agents) if (x.running) x.signal('SIGKILL');
    for (const x of this.keepaliveds) x.kill();
    for (const x of this.redis) x.kill();
    this.lab.destroy();
    this.dir.remove();
  }
}

/**
 * A failover scenario: `fault` breaks something on the master (h3 at the start), `settle`
 * waits for the cluster to be whole again and names the final master.
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Acknowledged writes may be lost only when a crash takes the master's unreplicated tail. */
  readonly crash: boolean;
  readonly options?: RedisClusterOptions;
  /** The host expected to take over from h3 (default h2): time to single master is measured for it. */
  readonly takeover?: string;
  /** Resolves the wall-clock ms of the decisive failure when it is not the start (a crash after a build-up). */
  fault(c: RedisCluster): Promise<number | void> | void;
  settle(c: RedisCluster): Promise<string>;
}

/** A settle step that waits for `master` to be the single master every host in `others` follows. */
function settleOn(master: string, others: readonly string[], timeoutMs = 10_000, dead: readonly string[] = []): Scenario['settle'] {
  return async (c) => {
    await c.settled(master, others, timeoutMs, dead);
    return master;
  };
}

/** h3's host crashes (link cut, agent and Redis killed), h2 takes over, then h3 reboots with an empty Redis. */
async function crashAndReboot(c: RedisCluster): Promise<void> {
  c.lab.cutLink('h3');
  c.a('h3').signal('SIGKILL');
  c.r('h3').kill();
  await waitFor('h2 to take over', 5000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
  await sleep(500);
  // It reboots: addresses are not kept over a reboot (the VIP its killed agent left goes).
  c.lab.run('h3', ['ip', 'addr', 'del', `${CLUSTER_VIP}/24`, 'dev', 'eth0']);
  c.lab.healLink('h3');
  c.r('h3').start();
  c.restartAgent('h3');
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'host-crash',
    description: 'master host crash: link cut, agent and Redis killed',
    crash: true,
    fault(c) {
      c.lab.cutLink('h3');
      if (c.lab.replicationNetwork) c.lab.isolateSecond('h3');
      c.agentSignal('h3', 'SIGKILL');
      c.r('h3').kill();
    },
    async settle(c) {
      // h3 is "down": the VIP its killed agent left on its interface is unreachable.
      await c.settled('h2', ['h1'], 10_000, ['h3']);
      return 'h2';
    },
  },
  {
    name: 'redis-crash',
    description: 'Redis on the master killed (stays down)',
    crash: true,
    fault(c) {
      c.r('h3').kill();
    },
    async settle(c) {
      await c.settled('h2', ['h1']);
      await waitFor('h3 to be in fault', 5000, () => c.agentInFault('h3'));
      return 'h2';
    },
  },
  {
    name: 'restart-empty',
    description: 'Redis on the master restarts at once, empty: fenced, h2 takes over, h3 resyncs and (preempt on) takes the VIP back',
    crash: true,
    async fault(c) {
      c.r('h3').kill();
      await sleep(20);
      c.r('h3').start();
    },
    async settle(c) {
      // h2 takes over; h3's Redis, fenced, resyncs from it; then h3 (130, preempt on) takes the
      // VIP back by a normal preemption, which catches up from h2 before promoting.
      await waitFor('h3 to resync and leave fault', 15_000, async () => (await c.a('h3').state()) !== 'fault', 20);
      await c.settled('h3', ['h1', 'h2'], 15_000);
      return 'h3';
    },
  },
  {
    name: 'agent-kill',
    description: 'kill -9 of the master\'s agent; h2 takes over and fences the old Redis; the agent restarts and (preempt on) takes the VIP back',
    crash: false,
    fault(c) {
      c.a('h3').signal('SIGKILL');
    },
    async settle(c) {
      await waitFor('h2 to take over', 5000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await waitFor('h3\'s Redis to be fenced (a replica of h2)', 8000, () => c.r('h3').info('replication').master_host === c.redisAddress('h2'), 20);
      // The restarted agent removes its stale VIP before anything else. With preempt on (130)
      // it takes the VIP back later, by a normal VRRP preemption.
      c.restartAgent('h3');
      await c.settled('h3', ['h1', 'h2'], 15_000);
      return 'h3';
    },
  },
  {
    name: 'switchover',
    description: '`redkeep switchover --to h2` on the master',
    crash: false,
    fault(c) {
      // keepalived: SIGTERM of the master's keepalived (priority 0).
      c.plannedSwitchover('h3', 'h2');
    },
    async settle(c) {
      // keepalived's notify makes h3's Redis a replica of the VIP as it stops; that link comes up
      // when Redis' replication cron retries (once a second): not waited for.
      await c.settled('h2', c.impl === 'keepalived' ? ['h1'] : ['h1', 'h3']);
      return 'h2';
    },
  },
  {
    name: 'old-master-returns',
    description: 'master host crash, then it reboots (Redis empty, nopreempt): it stays backup and resyncs',
    crash: true,
    options: { preempt: false },
    fault: crashAndReboot,
    settle: settleOn('h2', ['h1', 'h3'], 15_000),
  },
  {
    name: 'reboot-preempt',
    description: 'master host crash, then it reboots (Redis empty) with preempt on: it resyncs from h2 before it takes the VIP back, so nothing is wiped',
    crash: true,
    fault: crashAndReboot,
    settle: settleOn('h3', ['h1', 'h2'], 15_000),
  },
  {
    name: 'isolation',
    description: 'the master is cut off from every replica and peer: without a quorum it refuses writes and goes to Fault before h2 takes over; on healing h2 keeps the VIP and its writes, h3 rejoins as a replica',
    // Writes h3 acknowledged just before the cut had no time to replicate, as in a crash.
    crash: true,
    options: { preempt: false },
    async fault(c) {
      c.partition('h3');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await waitFor('h3 to refuse writes without a quorum', 8000, async () => (await c.a('h3').status()).instances[0]?.guard?.writesRefused === true, 50);
      const local = c.r('h3').cli(['set', 'written-on-the-isolated-side', '1']);
      if (!/NOREPLICAS/.test(local)) throw new Error(`the isolated master accepted a write: ${local}`);
      const st = (await c.a('h3').status()).instances[0];
      if (st?.state !== 'fault' || st.guard?.quorum?.ok !== false) throw new Error(`the isolated master is ${String(st?.state)} (quorum ${JSON.stringify(st?.guard?.quorum)}), not in fault without a quorum`);
      await sleep(1500);
      c.heal('h3');
    },
    settle: settleOn('h2', ['h1', 'h3'], 15_000),
  },
  {
    name: 'partition-heal',
    description: 'the master is partitioned for 2 s (carrier up) and comes back: h2 keeps the VIP and the writes it acknowledged, h3 follows it',
    crash: true,
    options: { preempt: false },
    async fault(c) {
      c.partition('h3');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await sleep(2000);
      c.heal('h3');
    },
    settle: settleOn('h2', ['h1', 'h3'], 15_000),
  },
  {
    name: 'partition-heal-preempt',
    description: 'the master (preempt on, highest priority) is partitioned for 5 s: on healing it resyncs from h2 before it takes the VIP back by a takeover that catches up first',
    crash: true,
    async fault(c) {
      c.partition('h3');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await sleep(5000);
      c.heal('h3');
    },
    settle: settleOn('h3', ['h1', 'h2'], 20_000),
  },
  {
    name: 'flap',
    description: 'the master\'s link flaps: cut off for 0.4 s, back for 0.6 s, four times',
    crash: true,
    options: { preempt: false },
    async fault(c) {
      for (let k = 0; k < 4; k++) {
        c.partition('h3');
        await sleep(400);
        c.heal('h3');
        await sleep(600);
      }
    },
    async settle(c) {
      // Whoever holds the VIP at the end, every other host must follow it.
      await sleep(1500);
      const m = await waitFor('one VIP holder', 10_000, () => {
        const h = holders(c.lab, CLUSTER_VIP);
        return h.length === 1 ? h[0] : undefined;
      });
      await c.settled(m, c.hostNames.filter((x) => x !== m), 15_000);
      return m;
    },
  },
  {
    name: 'one-way',
    description: 'the master receives everything but sends nothing for 3 s (nftables): it loses its quorum and stops acknowledging, h2 takes over and keeps the VIP when it ends',
    crash: true,
    options: { preempt: false },
    async fault(c) {
      c.muteOutput('h3');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await sleep(3000);
      c.unmuteOutput('h3');
    },
    settle: settleOn('h2', ['h1', 'h3'], 15_000),
  },
  {
    name: 'agent-pause',
    description: 'the master\'s agent is frozen (SIGSTOP) for 2 s: h2 takes over (pausing, catching up and fencing h3\'s Redis); woken, h3 does not reclaim the master role by priority',
    crash: false,
    async fault(c) {
      c.a('h3').signal('SIGSTOP');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await waitFor('h3\'s Redis to follow h2', 8000, () => c.r('h3').info('replication').master_host === c.redisAddress('h2'), 20);
      await sleep(1000);
      c.a('h3').signal('SIGCONT');
    },
    async settle(c) {
      await sleep(1000);
      await c.settled('h2', ['h1', 'h3'], 15_000);
      return 'h2';
    },
  },
  {
    name: 'redis-pause',
    description: 'the master\'s Redis is frozen (SIGSTOP) for 2 s: h2 takes over; woken, h3\'s Redis refuses writes and follows h2',
    crash: true,
    options: { preempt: false },
    async fault(c) {
      c.r('h3').signal('SIGSTOP');
      await waitFor('h2 to take over', 8000, () => holders(c.lab, CLUSTER_VIP).includes('h2'), 20);
      await sleep(2000);
      c.r('h3').signal('SIGCONT');
    },
    settle: settleOn('h2', ['h1', 'h3'], 15_000),
  },
  {
    name: 'stale-replica',
    description: 'h2 (priority 120) stops receiving replication from h3 and falls behind h1; then h3 crashes: h1 takes over, not the stale h2',
    crash: true,
    takeover: 'h1',
    options: { preempt: false, redisExtra: 'max_lag = 2000' },
    async fault(c) {
      // h2 can no longer reach h3 (multicast adverts from h3 still arrive): its replication stops.
      c.lab.run('h2', ['ip', 'route', 'add', 'blackhole', `${c.lab.host('h3').address}/32`]);
      await waitFor('h2 to know it is stale', 8000, async () => (await c.a('h2').status()).instances[0]?.guard?.ok === false, 50);
      const crashAtMs = Date.now();
      c.lab.cutLink('h3');
      c.a('h3').signal('SIGKILL');
      c.r('h3').kill();
      return crashAtMs;
    },
    settle: settleOn('h1', ['h2'], 15_000, ['h3']),
  },
];

/**
 * Runs one scenario on a fresh cluster and measures it. The cluster is destroyed afterwards
 * unless `keep` is given (the tests assert more on it, then destroy it).
 */
export async function measureFailover(
  scenario: Scenario,
  opts: MeasureOptions = {},
  keep?: (c: RedisCluster, m: FailoverMeasure) => Promise<void>,
): Promise<FailoverMeasure> {
  const c = new RedisCluster({ ...scenario.options, ...opts });
  const takeoverHost = scenario.takeover ?? 'h2';
  try {
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
    const watch = opts.watchTakeover === true ? new TakeoverWatch(c.lab, takeoverHost, CLUSTER_VIP) : undefined;
    await watch?.ready();
    const probe = new RoleProbe(c.lab);
    const writer = new Writer(c.lab, opts.writeEveryMs ?? 5, c.opts.clientTimeoutMs, c.vip);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    const startMs = Date.now();
    const faultAtMs = (await scenario.fault(c)) ?? startMs;
    if (opts.quietMs !== undefined) await sleep(Math.max(0, faultAtMs + opts.quietMs - Date.now()));
    const master = await scenario.settle(c);
    // Writes acknowledged again for a while after the cluster settled (not just after the fault).
    await writer.flowing(Date.now(), 300, 10_000);
    await sleep(100);
    const acks = await writer.stop();
    await probe.stop();
    watch?.stop();
    await sleep(300); // the last writes replicate
    let longest = 0;
    let longestAt: [number, number] = [Number.NaN, Number.NaN];
    for (let i = 1; i < acks.length; i++) {
      const from = acks[i - 1]?.atMs ?? 0;
      const to = acks[i]?.atMs ?? 0;
      if (to - from > longest) {
        longest = to - from;
        longestAt = [from - faultAtMs, to - faultAtMs];
      }
    }
    const single = probe.singleMasterAt(c.lab.host(takeoverHost).address, faultAtMs);
    const m: FailoverMeasure = {
      scenario: scenario.name,
      advertInterval: c.advertInterval,
      acked: acks.length,
      lost: c.lostOn(master, acks),
      longestWriteGapMs: longest,
      longestWriteGapAtMs: longestAt,
      timeToSingleMasterMs: single === undefined ? Number.NaN : Math.max(0, single - faultAtMs),
      faultAtMs,
      master,
      roleChanges: probe.changes().filter((x) => x.atMs >= faultAtMs).map((x) => `${x.atMs - faultAtMs} ${x.address} ${x.role}`),
      minorityWindows: c.minorityWindows,
      impl: c.impl,
      ...(watch ? { takeover: takeoverTimes(c, watch, probe, takeoverHost, faultAtMs) } : {}),
    };
    if (keep) await keep(c, m);
    return m;
  } catch (e) {
    (e as Error).message += `\n--- logs ---\n${c.logs()}`;
    throw e;
  } finally {
    c.destroy();
  }
}

/** What the takeover host saw, ms from the fault (NaN: not seen). */
function takeoverTimes(c: RedisCluster, watch: TakeoverWatch, probe: RoleProbe, host: string, faultAtMs: number): TakeoverTimes {
  const address = c.lab.host(host).address;
  const old = c.lab.host('h3').address;
  const rel = (at: number | undefined): number => (at === undefined ? Number.NaN : at - faultAtMs);
  const vipUpMs = rel(watch.vipUpAt(faultAtMs));
  const changes = probe.changes().filter((x) => x.address === address && x.atMs >= faultAtMs);
  const roleMasterMs = rel(changes.find((x) => x.role === 'master')?.atMs);
  const adverts = watch.adverts();
  const firstAdvertAt = adverts.find((a) => a.source === address && a.atMs >= faultAtMs)?.atMs;
  return {
    host,
    priority: c.priority(host),
    vipUpMs,
    rolePromotedMs: rel(changes.find((x) => x.role === 'master' || x.role === 'master-refusing')?.atMs),
    roleMasterMs,
    vipWritableMs: Math.max(vipUpMs, roleMasterMs),
    lastAdvertMs: rel(adverts.filter((a) => a.source === old && a.priority > 0 && a.atMs <= (firstAdvertAt ?? Infinity)).at(-1)?.atMs),
    priorityZeroMs: rel(adverts.find((a) => a.source === old && a.priority === 0 && a.atMs >= faultAtMs)?.atMs),
    firstAdvertMs: rel(firstAdvertAt),
  };
}
