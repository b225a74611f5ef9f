// The peers' Redis, read over the network for the data guard: each peer's INFO (offsets,
// replication history) and whether its host answers at all. A peer whose Redis refuses the
// connection still counts as reachable (its host is up); one that does not answer, does not.
// Peers are the configured unicast peers plus every address learned since start (the master's
// advert source, replicas listed in INFO). The same credentials as the local Redis are used
// (replication needs them to match anyway).

import { connect } from 'node:net';
import { type RedisEndpoint, type RedisFacts, RedisLink } from '@redkeep/redis';
import type { PeerView } from './data-guard.js';

interface Peer {
  readonly address: string;
  readonly link: RedisLink;
}

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

export class PeerMonitor {
  private readonly peers = new Map<string, Peer>();
  private closed = false;
  /** Addresses found to be this host. */
  private readonly ignored = new Set<string>();

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly port: number,
    private readonly instance: string,
    private readonly self: () => string | undefined,
  ) {}

  /**
   * Adds a peer (once). Ignored: our own advert source, loopback (the fence address), and IPv6
   * link-local addresses (no zone to connect with; IPv6 peers come from INFO and unicast_peers).
   */
  learn(address: string | undefined): boolean {
    if (this.closed || address === undefined || address === '' || address === this.self()) return false;
    if (address.startsWith('127.') || address === '::1' || /^fe[89ab]/i.test(address)) return false;
    if (this.peers.has(address) || this.ignored.has(address)) return false;
    const link = new RedisLink(
      { ...this.endpoint, host: address, port: this.port },
      { connectTimeoutMs: 500, reconnectMs: 500, name: `redkeep-${this.instance}-peer` },
    );
    this.peers.set(address, { address, link });
    return true;
  }

  /** Drops a peer (it turned out to be this host); it may be learned again only from a new source. */
  forget(address: string): void {
    this.peers.get(address)?.link.close();
    this.peers.delete(address);
    this.ignored.add(address);
  }

  get addresses(): string[] {
    return [...this.peers.keys()];
  }

  /** One look at every peer, all at once, each bounded by `timeoutMs`. */
  async sample(timeoutMs: number): Promise<PeerView[]> {
    return await Promise.all(
      [...this.peers.values()].map(async (p): Promise<PeerView> => {
        let facts: RedisFacts | undefined;
        if (p.link.isUp) facts = await p.link.facts(timeoutMs).catch(() => undefined);
        if (facts) return { address: p.address, reachable: true, redis: 'up', facts };
        // No INFO: a refused connection means its host is up and its Redis is down; an accepted
        // one, that its Redis is starting or our link is not up yet; silence, that it is out of reach.
        const probe = p.link.isUp ? 'silent' : await tcpProbe(p.address, this.port, timeoutMs);
        return { address: p.address, reachable: probe !== 'silent', redis: probe === 'refused' ? 'down' : 'unknown', facts: undefined };
      }),
    );
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) p.link.close();
    this.peers.clear();
  }
}
