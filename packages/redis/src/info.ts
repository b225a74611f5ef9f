// Redis INFO text, parsed: sections of key:value lines. Replication and server facts that the
// agent decides on (role, run_id, offsets, link state, replicas, keys) are typed.

export type InfoSections = Record<string, Record<string, string>>;

export function parseInfo(text: string): InfoSections {
  const out: InfoSections = {};
  let section = 'default';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      section = line.slice(1).trim().toLowerCase();
      out[section] ??= {};
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    (out[section] ??= {})[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface ReplicaInfo {
  readonly ip: string;
  readonly port: number;
  readonly state: string;
  readonly offset: number;
  readonly lagS: number;
}

export interface RedisFacts {
  readonly role: 'master' | 'replica' | 'unknown';
  readonly runId: string | undefined;
  /** master_repl_offset: how much of the replication stream this Redis has. */
  readonly replOffset: number;
  /** master_replid and master_replid2: offsets compare only within a shared history. */
  readonly replId: string | undefined;
  readonly replId2: string | undefined;
  /** second_repl_offset: the first offset of the current history, where replId2's ended (undefined when none). */
  readonly secondReplOffset: number | undefined;
  readonly masterHost: string | undefined;
  readonly masterPort: number | undefined;
  readonly masterLinkUp: boolean;
  /** Seconds the link to the master has been down (replicas), if Redis says. */
  readonly masterLinkDownS: number | undefined;
  /** A replica's processed offset of its master's stream (slave_repl_offset), if it is one. */
  readonly replicaOffset: number | undefined;
  /** A replica still loading its full resync. */
  readonly syncInProgress: boolean;
  readonly replicas: readonly ReplicaInfo[];
  /** Keys over all databases (from the keyspace section). */
  readonly keys: number;
  readonly uptimeS: number | undefined;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function redisFacts(s: InfoSections): RedisFacts {
  const repl = s.replication ?? {};
  const role = repl.role === 'master' ? 'master' : repl.role === 'slave' ? 'replica' : 'unknown';
  const replicas: ReplicaInfo[] = [];
  for (const [k, v] of Object.entries(repl)) {
    if (!/^slave\d+$/.test(k)) continue;
    const f = Object.fromEntries(v.split(',').map((kv) => kv.split('=') as [string, string]));
    replicas.push({
      ip: f.ip ?? '',
      port: num(f.port) ?? 0,
      state: f.state ?? '',
      offset: num(f.offset) ?? 0,
      lagS: num(f.lag) ?? 0,
    });
  }
  let keys = 0;
  for (const v of Object.values(s.keyspace ?? {})) {
    keys += num(/keys=(\d+)/.exec(v)?.[1]) ?? 0;
  }
  return {
    role,
    runId: s.server?.run_id,
    replOffset: num(repl.master_repl_offset) ?? 0,
    replId: repl.master_replid,
    replId2: repl.master_replid2 !== undefined && /^0+$/.test(repl.master_replid2) ? undefined : repl.master_replid2,
    secondReplOffset: (num(repl.second_repl_offset) ?? -1) >= 0 ? num(repl.second_repl_offset) : undefined,
    masterHost: repl.master_host,
    masterPort: num(repl.master_port),
    masterLinkUp: repl.master_link_status === 'up',
    masterLinkDownS: num(repl.master_link_down_since_seconds),
    syncInProgress: repl.master_sync_in_progress === '1',
    replicaOffset: num(repl.slave_repl_offset),
    replicas,
    keys,
    uptimeS: num(s.server?.uptime_in_seconds),
  };
}
