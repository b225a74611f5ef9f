// The agent's side of the Sentinel endpoint: builds each instance's view from what this agent
// knows, publishes the events between two views, and serves them (server.ts).
//
// Who is reported as master (get-master-addr-by-name) follows the failover policy, never more:
//   - this host, while it is the VRRP master (and not just woken from a pause), its Redis answers
//     as master, and the data guard lets it take writes (no fence, no refusal);
//   - another member, while it is the VRRP master we hear, and its Redis, read by the data guard
//     within a few periods, is master with the fresh replicas its write gate needs;
//   - nobody otherwise (a failover under way, a fence, a partition): clients ask again.
// A member's Redis is where the agents reach it (RedisHosts: its peer_addresses entry, or its
// advert address) on the instance's peer_port.

import { createHash } from 'node:crypto';
import { REPLICA_FRESH_S, sameRedisHost } from '@redkeep/failover';
import type { RedisFacts } from '@redkeep/redis';
import { canonicalAddress, hostPortText, masterDownIntervalMs } from '@redkeep/vrrp';
import type { InstanceSettings } from '../config/config.js';
import type { InstanceRunner } from '../daemon/instance-runner.js';
import type { Logger } from '../log.js';
import type { GuardRunner } from '../redis/guard-runner.js';
import type { RedisSupervisor } from '../redis/supervisor.js';
import type { MasterView, ReplicaView, SentinelPeerView } from './model.js';
import { sentinelEvents } from './model.js';
import { SentinelServer } from './server.js';

/** How often views are rebuilt to publish events (requests rebuild them too). */
const REFRESH_MS = 100;
/** A member's INFO older than this many guard periods is not what it has now. */
const FRESH_PERIODS = 3;
/** A member host silent this long counts as down (s_down). */
const REACHABLE_MS = 3000;

export interface SentinelUnit {
  readonly settings: InstanceSettings;
  readonly runner: InstanceRunner;
  readonly redis: RedisSupervisor | undefined;
  readonly guard: GuardRunner | undefined;
}

/** The Sentinel run id of the agent whose adverts come from `address`: every agent can tell every other's. */
export function sentinelId(address: string): string {
  return createHash('sha1').update(`redkeep-sentinel ${canon(address)}`).digest('hex');
}

function canon(address: string): string {
  return canonicalAddress(address) ?? address;
}

function replicaOf(f: RedisFacts | undefined, master: { ip: string; port: number } | undefined): boolean {
  return f?.role === 'replica' && master !== undefined && sameRedisHost(f.masterHost, master.ip) && f.masterPort === master.port;
}

export class SentinelEndpoint {
  private server: SentinelServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly prev = new Map<string, MasterView>();
  private readonly epoch = new Map<string, number>();
  private readonly last = new Map<string, { ip: string; port: number }>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly password: string | undefined,
    private readonly version: string,
    private readonly units: () => readonly SentinelUnit[],
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const self = this;
    const server = new SentinelServer({
      listen: { host: this.host, port: this.port },
      password: this.password,
      // The run id comes from this host's advert address, known once an instance runs.
      identity: { get myId() { return self.myId(); }, port: this.port, version: this.version },
      views: () => this.refresh(),
      log: this.log,
    });
    await server.listen();
    this.server = server;
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.log.info('sentinel endpoint listening', { address: hostPortText(this.host, server.port) });
  }

  get listeningPort(): number | undefined {
    return this.server?.port;
  }

  get counters(): SentinelServer['counters'] | undefined {
    return this.server?.counters;
  }

  private myId(): string {
    const self = this.units().find((u) => u.runner.primaryAddress !== undefined)?.runner.primaryAddress;
    return sentinelId(self ?? this.host);
  }

  /** Builds the views now, publishes what changed since the last ones, and returns them. */
  refresh(): MasterView[] {
    const views: MasterView[] = [];
    for (const u of this.units()) {
      const v = this.view(u);
      if (!v) continue;
      views.push(v);
      const before = this.prev.get(v.name);
      for (const e of sentinelEvents(before, v)) {
        const n = this.server?.publish(e.channel, e.message) ?? 0;
        this.log.info('sentinel event', { event: 'sentinel', instance: v.name, channel: e.channel, message: e.message, subscribers: n });
      }
      this.prev.set(v.name, v);
    }
    return views;
  }

  private view(u: SentinelUnit): MasterView | undefined {
    const s = u.settings;
    const redis = u.redis;
    const guard = u.guard;
    if (!redis || !guard || !s.redis?.manageRole) return undefined;
    const port = s.redis.peerPort;
    const redisHost = (member: string): string => redis.hosts.hostOf(member);
    const self = u.runner.primaryAddress;
    const members = (s.members ?? []).map(canon).filter((m) => m !== self);
    const st = u.runner.status();
    const fresh = FRESH_PERIODS * guard.period;
    const peerFacts = (m: string): RedisFacts | undefined => guard.peerFacts(m, fresh);
    const peerReachable = (m: string): boolean => guard.peerAnswered(m, REACHABLE_MS);
    const mine = redis.latestFacts;

    let master: MasterView['master'];
    if (self !== undefined && u.runner.state === 'master') {
      const g = guard.status();
      if (u.runner.masterNow() && mine?.role === 'master' && g.ok && !g.writesRefused && !redis.status().desired.startsWith('fenced')) {
        master = { ip: redisHost(self), port, runId: mine.runId };
      }
    } else if (u.runner.state === 'backup' && st.masterAddress !== undefined) {
      const m = canon(st.masterAddress);
      const f = members.includes(m) ? peerFacts(m) : undefined;
      if (f?.role === 'master') {
        const freshReplicas = f.replicas.filter((r) => r.state === 'online' && r.lagS <= REPLICA_FRESH_S).length;
        if (freshReplicas >= guard.gateReplicas) master = { ip: redisHost(m), port, runId: f.runId };
      }
    }
    if (master) {
      const was = this.last.get(s.name);
      if (was && (was.ip !== master.ip || was.port !== master.port)) this.epoch.set(s.name, (this.epoch.get(s.name) ?? 0) + 1);
      this.last.set(s.name, { ip: master.ip, port: master.port });
    }
    const lastMaster = this.last.get(s.name);
    const at = master ?? lastMaster;

    const replicas: ReplicaView[] = [];
    const hosts = self !== undefined ? [self, ...members] : members;
    for (const h of hosts) {
      const ip = redisHost(h);
      if (at && sameRedisHost(ip, at.ip)) continue;
      const f = h === self ? mine : peerFacts(h);
      const reachable = h === self ? redis.status().up : peerReachable(h);
      replicas.push({
        ip,
        port,
        reachable,
        linkUp: replicaOf(f, at) && f?.masterLinkUp === true,
        offset: f?.replicaOffset ?? f?.replOffset ?? 0,
        runId: f?.runId,
        masterHost: f?.masterHost,
        masterPort: f?.masterPort,
        priority: h === self ? s.priority : 100,
      });
    }
    const sentinels: SentinelPeerView[] = members.map((m) => ({ ip: m, port: this.server?.port ?? this.port, runId: sentinelId(m), reachable: peerReachable(m) }));
    const interval = st.masterAdverIntervalCs ?? s.advertIntervalCs;
    return {
      name: s.name,
      master,
      lastMaster,
      replicas,
      sentinels,
      quorum: Math.max(1, guard.quorum),
      downAfterMs: Math.round(masterDownIntervalMs(s.version, s.priority, interval)),
      configEpoch: this.epoch.get(s.name) ?? 0,
    };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.server?.close();
    this.server = undefined;
  }
}
