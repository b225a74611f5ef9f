// Where a member's Redis is reached. A member is known by its advert address (its identity in the
// configuration: `members`, `unicast_peers`, the source of its adverts); its Redis answers at that
// address, or, with `peer_addresses`, at another one (a replication network). One mapping, here,
// for every place that reaches a member's Redis or asks "whom does this Redis follow": REPLICAOF
// targets, the members' reads, fences, the hand-over, the Sentinel endpoint's addresses.
//
// Trust comes from configuration: an address learned from a packet or from someone's INFO (a
// master_host, a replica's ip) names a member only when it is the Redis address of a configured
// member (memberAt); it is never connected to for what it says.
//
// IPv6 link-local addresses (an IPv6 instance's advert sources) need a zone to be reached: Redis
// answers "Invalid argument" to REPLICAOF fe80::1 and accepts fe80::1%eth0, as the kernel does.
// A link-local Redis address without one gets the instance's interface. INFO reports master_host
// as it was given (with its zone); a master lists its replicas without one: both compare equal.
// Pure: no sockets, no clock.

import { canonicalAddress, parseIpv6 } from '@redkeep/vrrp';

export interface RedisHostsSettings {
  /** The configured members by advert address (this host's own may be among them). */
  readonly members: readonly string[];
  /**
   * `peer_addresses`: a member's advert address (canonical) → the address its Redis is reached
   * at by the others (canonical, a link-local one with an optional `%zone`). Undefined: every
   * Redis is at its member's advert address.
   */
  readonly peerAddresses?: Readonly<Record<string, string>>;
  /** The interface a link-local address without a zone is reached through (the instance's own). */
  readonly zone?: string;
}

/** An address with its zone apart: "fe80::1%eth0" → { address: "fe80::1", zone: "eth0" }; the address canonical when it is one. */
export function splitZone(host: string): { address: string; zone: string | undefined } {
  const pct = host.indexOf('%');
  const address = pct < 0 ? host : host.slice(0, pct);
  return { address: canonicalAddress(address) ?? address, zone: pct < 0 ? undefined : host.slice(pct + 1) };
}

/** IPv6 link-local unicast, fe80::/10 (RFC 4291 §2.5.6): reached only through an interface. */
export function isLinkLocal(address: string): boolean {
  const b = parseIpv6(address);
  return b !== undefined && b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
}

/**
 * Whether two Redis hosts are the same address: compared canonically, and by zone only when both
 * have one (a master lists its replicas' link-local addresses without it).
 */
export function sameRedisHost(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = splitZone(a);
  const y = splitZone(b);
  return x.address === y.address && (x.zone === undefined || y.zone === undefined || x.zone === y.zone);
}

export class RedisHosts {
  private readonly members: readonly string[];

  constructor(private readonly settings: RedisHostsSettings) {
    this.members = settings.members.map((m) => canonicalAddress(m) ?? m);
  }

  /** The one mapping: where `member`'s Redis is reached (its advert address by default), zone included. */
  hostOf(member: string): string {
    const key = canonicalAddress(member) ?? member;
    const host = this.settings.peerAddresses?.[key] ?? key;
    const zone = this.settings.zone;
    return zone !== undefined && !host.includes('%') && isLinkLocal(host) ? `${host}%${zone}` : host;
  }

  /** Whether `peer_addresses` (when given) says where `member`'s Redis is. Without the map, every member's is known. */
  knows(member: string): boolean {
    const map = this.settings.peerAddresses;
    return map === undefined || Object.hasOwn(map, canonicalAddress(member) ?? member);
  }

  /** Whether `host` (INFO's master_host, a replica's ip as its master lists it) is where `member`'s Redis is. */
  isAt(host: string | undefined, member: string | undefined): boolean {
    return member !== undefined && sameRedisHost(host, this.hostOf(member));
  }

  /** The configured member whose Redis is at `host`, or undefined: an address no member maps to is nobody. */
  memberAt(host: string | undefined): string | undefined {
    return host === undefined ? undefined : this.members.find((m) => this.isAt(host, m));
  }
}
