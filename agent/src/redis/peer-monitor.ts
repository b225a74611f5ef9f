// The members' Redis, read over the network for the failover policy: each member's INFO (offsets,
// replication history) and when its host last answered at all. Members come from the
// configuration only (unicast_peers, or members in multicast), each read where its Redis is
// (RedisHosts: its advert address, or its peer_addresses entry; a witness at its own address):
// an address learned from an advert or from someone's INFO is never read, never sent AUTH. Each
// member is polled on its own cadence, so that one silent member never delays the look at the
// others; the policy reads the latest answers with their age. A member whose Redis refuses the connection still answers (its
// host is up); one that does not answer at all, does not.

import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PeerView, RedisHosts } from '@redkeep/failover';
import { type RedisEndpoint, type RedisFacts, RedisLink } from '@redkeep/redis';

/** How a host answers on a port: accepted, refused (a RST: the host is up, nothing listens), or not at all. */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<'accepted' | 'refused' | 'silent'> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (r: 'accepted' | 'refused' | 'silent'): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    s.once('connect', () => done('accepted'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'silent'));
  });
}

interface Member {
  /** The member's advert address (its identity; a witness': its address). */
  readonly address: string;
  /** Where its Redis is reached. */
  readonly host: string;
  link: RedisLink;
  lastAnswerMs: number | undefined;
  redis: PeerView['redis'];
  facts: RedisFacts | undefined;
  factsAtMs: number;
  timer: NodeJS.Timeout | undefined;
}

export class PeerMonitor {
  private readonly members = new Map<string, Member>();
  private closed = false;

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly port: number,
    hosts: RedisHosts,
    private readonly instance: string,
    addresses: readonly string[],
    /** Time between two looks at one member. */
    private readonly periodMs: number,
    /** A member silent this long gets a new connection (a dead path can look connected for minutes). */
    private readonly reconnectAfterMs: number,
  ) {
    for (const a of addresses) {
      const host = hosts.hostOf(a);
      const m: Member = { address: a, host, link: this.newLink(host), lastAnswerMs: undefined, redis: 'unknown', facts: undefined, factsAtMs: 0, timer: undefined };
      this.members.set(a, m);
      this.schedule(m, 0);
    }
  }

  private newLink(host: string): RedisLink {
    return new RedisLink(
      { ...this.endpoint, host, port: this.port },
      { connectTimeoutMs: Math.max(200, this.periodMs * 2), reconnectMs: Math.max(100, this.periodMs), name: `redkeep-${this.instance}-peer` },
    );
  }

  private schedule(m: Member, ms: number): void {
    if (this.closed) return;
    m.timer = setTimeout(() => {
      m.timer = undefined;
      const start = performance.now();
      void this.look(m).finally(() => this.schedule(m, Math.max(0, this.periodMs - (performance.now() - start))));
    }, ms);
  }

  private async look(m: Member, timeoutMs = Math.max(this.periodMs, 100)): Promise<void> {
    if (m.link.isUp) {
      const facts = await m.link.facts(timeoutMs).catch(() => undefined);
      if (this.closed) return;
      if (facts) {
        m.lastAnswerMs = m.factsAtMs = performance.now();
        m.redis = 'up';
        m.facts = facts;
        return;
      }
      // No INFO in time: a Redis busy with a full sync or a fork is not a host out of reach. Its
      // kernel still accepts a connection; a partitioned host does not answer at all.
      const probe = await tcpProbe(m.host, this.port, timeoutMs);
      if (this.closed) return;
      if (probe !== 'silent') {
        m.lastAnswerMs = performance.now();
        return;
      }
      if (m.lastAnswerMs === undefined || performance.now() - m.lastAnswerMs > this.reconnectAfterMs) {
        m.link.close();
        m.link = this.newLink(m.host);
      }
      return;
    }
    // No connection: a refused connection means its host is up and its Redis is down; an
    // accepted one, that its Redis is starting or our link is not up yet; silence, that it is out of reach.
    const probe = await tcpProbe(m.host, this.port, timeoutMs);
    if (this.closed || probe === 'silent') return;
    m.lastAnswerMs = performance.now();
    m.redis = probe === 'refused' ? 'down' : 'unknown';
    m.facts = undefined;
    m.factsAtMs = 0;
  }

  /**
   * Every member read now, in parallel, within `timeoutMs` (a promotion's fresh look): those
   * whose host answers, with their Redis' INFO when that answers too. A member silent for longer
   * than `silentForMs` is not asked (a crashed master must not slow its own failover down).
   */
  async readNow(timeoutMs: number, silentForMs: number): Promise<{ address: string; facts: RedisFacts | undefined }[]> {
    const start = performance.now();
    const asked = [...this.members.values()].filter((m) => m.lastAnswerMs !== undefined && start - m.lastAnswerMs <= silentForMs);
    // The usual look, with a shorter timeout; what it finds feeds the guard's next look as well.
    await Promise.all(asked.map((m) => this.look(m, timeoutMs)));
    return asked
      .filter((m) => m.lastAnswerMs !== undefined && m.lastAnswerMs >= start)
      .map((m) => ({ address: m.address, facts: m.redis === 'up' && m.factsAtMs >= start ? m.facts : undefined }));
  }

  /** The latest of one member: its Redis' INFO with its time, and when its host last answered. */
  latest(address: string): { facts: RedisFacts | undefined; factsAtMs: number; lastAnswerMs: number | undefined } | undefined {
    const m = this.members.get(address);
    return m ? { facts: m.facts, factsAtMs: m.factsAtMs, lastAnswerMs: m.lastAnswerMs } : undefined;
  }

  /** A command to a member's Redis over the monitor's own connection (rejects when it is not connected). */
  command(address: string, timeoutMs: number, name: string, ...args: string[]): Promise<unknown> {
    const m = this.members.get(address);
    if (!m) return Promise.reject(new Error(`${address} is not a member`));
    return m.link.command(timeoutMs, name, ...args);
  }

  get addresses(): string[] {
    return [...this.members.keys()];
  }

  /** What is known of every member now (answers are at most one period old while it answers). */
  views(): PeerView[] {
    // INFO older than half the reconnect bound is not what the member's Redis has now.
    const now = performance.now();
    return [...this.members.values()].map((m) => ({
      address: m.address,
      lastAnswerMs: m.lastAnswerMs,
      redis: m.redis,
      facts: now - m.factsAtMs <= this.reconnectAfterMs / 2 ? m.facts : undefined,
    }));
  }

  close(): void {
    this.closed = true;
    for (const m of this.members.values()) {
      if (m.timer) clearTimeout(m.timer);
      m.link.close();
    }
    this.members.clear();
  }
}
