// `redkeep status --cluster`: every member of the instances this host runs, as one host sees
// them: what each agent says of itself (its beacon, read from its Redis), and what its Redis says
// (INFO, read by the data guard). Pure: what was read in, the view and its text out.

import type { RedisFacts } from '@redkeep/redis';
import type { Beacon } from './beacon.js';

export interface ClusterInstanceView {
  readonly state: string;
  readonly priority: number | undefined;
  readonly basePriority: number | undefined;
  readonly maintenance: boolean | undefined;
  readonly vipsHeld: readonly string[];
  readonly dataGuard: { readonly ok: boolean | undefined; readonly writesRefused: boolean | undefined } | undefined;
}

export interface ClusterRedisView {
  readonly role: string | undefined;
  readonly offset: number | undefined;
  /** A replica's master (host:port) and whether its link is up. */
  readonly master: string | null;
  readonly linkUp: boolean | null;
  /** A replica's bytes behind the master it follows, when both were read. */
  readonly lagBytes: number | null;
}

export interface ClusterMemberView {
  /** The member's agent name, when its agent says so; null when it cannot be read. */
  readonly name: string | null;
  readonly address: string;
  readonly self: boolean;
  /** Its host answered recently (its Redis, or at least a TCP connection). */
  readonly reachable: boolean;
  readonly instances: Readonly<Record<string, ClusterInstanceView>>;
  readonly redis: ClusterRedisView | null;
}

export interface ClusterView {
  readonly schema: 1;
  readonly seenFrom: string;
  readonly at: string;
  readonly members: readonly ClusterMemberView[];
}

/** What was read of one member for one instance. */
export interface MemberReading {
  readonly instance: string;
  readonly address: string;
  /** Where the other members reach its Redis (INFO's master_host of its replicas). */
  readonly redisHost: string;
  readonly self: boolean;
  readonly reachable: boolean;
  /** Its beacon for this instance (this host's own: from its own status), or undefined when none was found. */
  readonly beacon: Beacon | undefined;
  readonly facts: RedisFacts | undefined;
  /** The Redis port peers use. */
  readonly port: number;
}

function lag(f: RedisFacts | undefined, all: readonly MemberReading[]): number | null {
  if (f?.role !== 'replica' || f.masterHost === undefined) return null;
  const m = all.find((r) => r.redisHost === f.masterHost && r.port === f.masterPort && r.facts?.role === 'master');
  const mine = f.replicaOffset ?? f.replOffset;
  return m?.facts ? Math.max(0, m.facts.replOffset - mine) : null;
}

export function buildClusterView(seenFrom: string, at: string, readings: readonly MemberReading[]): ClusterView {
  const members = new Map<string, { name: string | null; self: boolean; reachable: boolean; instances: Record<string, ClusterInstanceView>; redis: ClusterRedisView | null }>();
  for (const r of readings) {
    let m = members.get(r.address);
    if (!m) {
      m = { name: null, self: r.self, reachable: r.reachable, instances: {}, redis: null };
      members.set(r.address, m);
    }
    m.reachable ||= r.reachable;
    const b = r.beacon;
    if (b) m.name = b.agent;
    m.instances[r.instance] = b
      ? {
          state: b.state,
          priority: b.priority,
          basePriority: b.basePriority,
          maintenance: b.maintenance,
          vipsHeld: b.vipsHeld,
          dataGuard: b.guardOk === undefined && b.writesRefused === undefined ? undefined : { ok: b.guardOk, writesRefused: b.writesRefused },
        }
      : { state: r.reachable ? 'unknown (no agent answers for it)' : 'unknown (unreachable)', priority: undefined, basePriority: undefined, maintenance: undefined, vipsHeld: [], dataGuard: undefined };
    if (m.redis === null && r.facts) {
      const f = r.facts;
      m.redis = {
        role: f.role,
        offset: f.role === 'replica' ? (f.replicaOffset ?? f.replOffset) : f.replOffset,
        master: f.role === 'replica' && f.masterHost !== undefined ? `${f.masterHost}:${f.masterPort ?? ''}` : null,
        linkUp: f.role === 'replica' ? f.masterLinkUp : null,
        lagBytes: lag(f, readings),
      };
    }
  }
  const list = [...members.entries()].map(([address, m]) => ({ name: m.name, address, self: m.self, reachable: m.reachable, instances: m.instances, redis: m.redis }));
  // Masters first, then by address: the shape of the cluster at a glance.
  const rank = (x: ClusterMemberView): number => (Object.values(x.instances).some((i) => i.state === 'master') ? 0 : 1);
  list.sort((a, b) => rank(a) - rank(b) || a.address.localeCompare(b.address, 'en'));
  return { schema: 1, seenFrom, at, members: list };
}

export function formatClusterView(v: ClusterView): string[] {
  const lines = [`cluster as seen from ${v.seenFrom} at ${v.at}: ${v.members.length} member${v.members.length === 1 ? '' : 's'}`];
  for (const m of v.members) {
    lines.push('');
    lines.push(`${m.name ?? '?'} ${m.address}${m.self ? ' (this host)' : ''}${m.reachable ? '' : ' UNREACHABLE'}`);
    for (const [name, i] of Object.entries(v.members.length ? m.instances : {})) {
      const prio = i.priority === undefined ? '' : ` priority ${i.priority}${i.basePriority !== undefined && i.basePriority !== i.priority ? ` (base ${i.basePriority})` : ''}`;
      const vips = i.vipsHeld.length ? `, holds ${i.vipsHeld.join(', ')}` : '';
      const guard = i.dataGuard ? `, data guard ${i.dataGuard.ok === false ? 'FAILING' : 'ok'}${i.dataGuard.writesRefused ? ', writes refused' : ''}` : '';
      lines.push(`  ${name}: ${i.state.startsWith('unknown') ? i.state : i.state.toUpperCase()}${prio}${vips}${guard}${i.maintenance ? ', MAINTENANCE' : ''}`);
    }
    const r = m.redis;
    if (r) {
      const follow = r.role === 'replica' ? ` of ${r.master ?? '?'}, link ${r.linkUp ? 'up' : 'DOWN'}${r.lagBytes !== null ? `, ${r.lagBytes} bytes behind` : ''}` : '';
      lines.push(`  redis: ${r.role ?? '?'}${follow}, offset ${r.offset ?? '?'}`);
    } else lines.push('  redis: not read');
  }
  return lines;
}
