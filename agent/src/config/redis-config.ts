// The Redis-facing parts of the configuration: [[track]], an instance's `tracks` list,
// [instance.redis] and [instance.hooks]. Validated like the rest: file, line and key.

import { isLinkLocal } from '@redkeep/failover';
import { type AddressFamily, addressFamilyOf, canonicalAddress } from '@redkeep/vrrp';
import { childPath } from './locate.js';

export type TrackType = 'redis-ping' | 'redis-role' | 'exec' | 'file';

export interface TrackSettings {
  readonly name: string;
  readonly type: TrackType;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  /** Default weight; an instance's reference may override it. 0 = Fault when failing. */
  readonly weight: number;
  /** exec only: argv, no shell. */
  readonly command: readonly string[];
  /**
   * file only (keepalived's track_file): the file holding a number, read every interval; the
   * number times the weight (default 1) is added to the priority; with weight 0, any number but
   * 0 means Fault. A missing file reads as 0.
   */
  readonly file: string | undefined;
}

export interface TrackRef {
  readonly name: string;
  readonly weight: number;
}

export interface RedisTlsSettings {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly serverName: string | undefined;
  readonly verify: boolean;
}

export interface RedisSettings {
  /** The local Redis. */
  readonly host: string;
  readonly port: number;
  /** Port of the peers' Redis, for REPLICAOF (default: the local port). */
  readonly peerPort: number;
  /**
   * `peer_addresses`: each member's advert address (canonical) → the address its Redis is reached
   * at by the others (canonical; a link-local one may carry a `%zone`). Undefined: at the advert
   * address. Read through RedisHosts only (@redkeep/failover), never directly.
   */
  readonly peerAddresses: Readonly<Record<string, string>> | undefined;
  readonly username: string | undefined;
  /** Where the password is read from at start; the password itself is never in the config object. */
  readonly passwordFile: string | undefined;
  readonly passwordEnv: string | undefined;
  readonly tls: RedisTlsSettings | undefined;
  readonly db: number;
  readonly manageRole: boolean;
  /** On SIGTERM as master: pause writes, let replicas catch up, then hand over (default true). */
  readonly switchoverOnStop: boolean;
  /** The data guard: isolation (master) and staleness (backup) bounds; 0 turns one off. */
  readonly guard: {
    /** A member silent this long is unreachable; a master without a quorum refuses writes. 0: off. */
    readonly memberTimeoutMs: number;
    /** Members (this host included) that must be reachable; undefined: a majority. */
    readonly quorum: number | undefined;
    readonly maxLinkDownMs: number;
    readonly maxLagBytes: number;
  };
  /** Added to the priority while the data guard fails (default -253: below every healthy peer). */
  readonly guardWeight: number;
}

export interface HooksSettings {
  readonly master: readonly string[] | undefined;
  readonly backup: readonly string[] | undefined;
  readonly fault: readonly string[] | undefined;
  readonly stop: readonly string[] | undefined;
  readonly notify: readonly string[] | undefined;
  /** Sentinel's client-reconfig-script arguments: name role state from-ip from-port to-ip to-port. */
  readonly clientReconfig: readonly string[] | undefined;
  readonly timeoutMs: number;
}

export const TRACK_KEYS = ['name', 'type', 'interval', 'timeout', 'rise', 'fall', 'weight', 'command', 'file'] as const;
export const REDIS_KEYS = ['address', 'peer_port', 'peer_addresses', 'username', 'password_file', 'password_env', 'tls', 'db', 'manage_role', 'switchover_on_stop', 'isolation_timeout', 'max_link_down', 'max_lag', 'guard_weight', 'quorum'] as const;
export const TLS_KEYS = ['ca_file', 'cert_file', 'key_file', 'server_name', 'verify'] as const;
export const HOOK_KEYS = ['master', 'backup', 'fault', 'stop', 'notify', 'client_reconfig', 'timeout'] as const;
/** An entry of an instance's `tracks` written as a table. */
export const TRACK_REF_KEYS = ['name', 'weight'] as const;
const TRACK_TYPES = ['redis-ping', 'redis-role', 'exec', 'file'] as const;

type Table = Record<string, unknown>;

/** What the main reader offers (see config.ts). */
export interface FieldReader {
  issue(path: string, message: string): void;
  keys(t: Table, path: string, allowed: readonly string[]): void;
  str(t: Table, path: string, key: string, opts?: { required?: boolean }): string | undefined;
  int(t: Table, path: string, key: string, min: number, max: number, dflt: number | undefined): number | undefined;
  bool(t: Table, path: string, key: string, dflt: boolean): boolean;
  duration(t: Table, path: string, key: string, dfltMs: number): number;
  oneOf<T extends string>(t: Table, path: string, key: string, allowed: readonly T[], dflt: T): T;
}

export function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function argv(r: FieldReader, t: Table, path: string, key: string): string[] | undefined {
  const v = t[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.length > 0)) {
    r.issue(`${path}.${key}`, 'must be a command as an array of strings, e.g. ["/usr/local/bin/notify", "--quiet"] (no shell)');
    return undefined;
  }
  return v as string[];
}

export function readTrack(r: FieldReader, t: Table, path: string): TrackSettings | undefined {
  r.keys(t, path, TRACK_KEYS);
  const name = r.str(t, path, 'name', { required: true });
  if (['redis-safety', 'redis-data', 'redis-quorum', 'maintenance', 'read-in-sync', 'read-on-master'].includes(name ?? '')) r.issue(`${path}.name`, `"${name}" is one of redkeep's own tracks: choose another name`);
  const type = r.oneOf(t, path, 'type', TRACK_TYPES, 'redis-ping');
  if (t.type === undefined) r.issue(`${path}.type`, `is required: one of ${TRACK_TYPES.map((x) => `"${x}"`).join(', ')}`);
  const intervalMs = r.duration(t, path, 'interval', 1000);
  const timeoutMs = r.duration(t, path, 'timeout', Math.min(1000, intervalMs));
  if (intervalMs < 10) r.issue(`${path}.interval`, 'is at least "10ms"');
  if (timeoutMs < 1 || timeoutMs > 60_000) r.issue(`${path}.timeout`, 'must be "1ms".."60s"');
  const command = argv(r, t, path, 'command');
  if (type === 'exec' && command === undefined && t.command === undefined) r.issue(`${path}.command`, 'is required for an exec track');
  if (type !== 'exec' && t.command !== undefined) r.issue(`${path}.command`, `only an exec track runs a command (this one is "${type}")`);
  const file = r.str(t, path, 'file');
  if (type === 'file' && file === undefined && t.file === undefined) r.issue(`${path}.file`, 'is required for a file track: the file holding a number, e.g. "/run/redkeep/drain"');
  if (file !== undefined && !file.startsWith('/')) r.issue(`${path}.file`, `must be an absolute path, got "${file}"`);
  if (type !== 'file' && t.file !== undefined) r.issue(`${path}.file`, `only a file track reads a file (this one is "${type}")`);
  if (type === 'file' && (t.rise !== undefined || t.fall !== undefined)) r.issue(`${path}.${t.rise !== undefined ? 'rise' : 'fall'}`, 'a file track has no rise or fall: a new number counts at once');
  const track: TrackSettings = {
    name: name ?? '',
    type,
    intervalMs,
    timeoutMs,
    rise: r.int(t, path, 'rise', 1, 100, 1) ?? 1,
    fall: r.int(t, path, 'fall', 1, 100, 1) ?? 1,
    weight: r.int(t, path, 'weight', -253, 253, type === 'file' ? 1 : 0) ?? 0,
    command: command ?? [],
    file,
  };
  return name === undefined ? undefined : track;
}

/** An instance's `tracks = ["name", { name = "...", weight = -50 }]`. */
export function readTrackRefs(r: FieldReader, v: unknown, path: string, known: readonly TrackSettings[]): TrackRef[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    r.issue(path, 'must be an array such as ["redis-alive", { name = "redis-role", weight = -50 }]');
    return [];
  }
  const out: TrackRef[] = [];
  v.forEach((e, i) => {
    const p = `${path}[${i}]`;
    let name: string | undefined;
    let weight: number | undefined;
    if (typeof e === 'string') name = e;
    else if (isTable(e)) {
      r.keys(e, p, TRACK_REF_KEYS);
      name = r.str(e, p, 'name', { required: true });
      if (e.weight !== undefined) weight = r.int(e, p, 'weight', -253, 253, 0);
    } else {
      r.issue(p, 'must be a track name or { name = "...", weight = N }');
      return;
    }
    if (name === undefined) return;
    const def = known.find((k) => k.name === name);
    if (!def) {
      r.issue(p, `no [[track]] is named "${name}"${known.length ? ` (known: ${known.map((k) => k.name).join(', ')})` : ''}`);
      return;
    }
    if (out.some((x) => x.name === name)) r.issue(p, `track "${name}" is listed twice`);
    else out.push({ name, weight: weight ?? def.weight });
  });
  return out;
}

/** The shortest max_link_down that an ordinary failover cannot trip: Master_Down_Interval (RFC 5798 §6.1, at most 3 adverts + 1 s) + 0.5 s. */
/**
 * A member is unreachable after two advert intervals without an answer (at least 200 ms, a
 * guard period added stays below Master_Down_Interval): an isolated master refuses writes before
 * the other side can elect a successor.
 */
export function defaultIsolationTimeoutMs(advertIntervalMs: number): number {
  return Math.max(200, Math.min(2 * advertIntervalMs, 3 * advertIntervalMs - 2 * guardPeriodMs(advertIntervalMs)));
}

/** The data guard's period: half an advert interval, within 50..250 ms. */
export function guardPeriodMs(advertIntervalMs: number): number {
  return Math.min(250, Math.max(50, Math.round(advertIntervalMs / 2)));
}

export function minLinkDownMs(advertIntervalMs: number): number {
  return 3 * advertIntervalMs + 1500;
}

/** What peer_addresses is checked against: the instance's family, members, unicast source, witnesses and VIPs. */
export interface PeerAddressContext {
  readonly family: AddressFamily;
  /** Undefined: none configured (multicast without members). */
  readonly members: readonly string[] | undefined;
  readonly unicastSource: string | undefined;
  readonly witnesses: readonly string[];
  readonly virtualAddresses: readonly string[];
}

function isLoopbackOrUnspecified(address: string): boolean {
  return address.startsWith('127.') || address === '0.0.0.0' || address === '::' || address === '::1';
}

/**
 * `peer_addresses = { "192.0.2.11" = "198.51.100.11", ... }`: where each member's Redis is
 * reached by the others. Keys are advert addresses of the instance's family: every member, and
 * besides them at most one more, this host's own (the unicast_source when set). Values are unicast
 * addresses of either family, each used once; a link-local IPv6 one may name its interface
 * ("fe80::11%eth1"), else it is reached through the instance's.
 */
function readPeerAddresses(r: FieldReader, v: unknown, path: string, ctx: PeerAddressContext): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const example = '{ "192.0.2.11" = "198.51.100.11", "192.0.2.12" = "198.51.100.12" } (a member\'s advert address = the address its Redis is reached at)';
  if (!isTable(v)) {
    r.issue(path, `must be a table such as ${example}`);
    return undefined;
  }
  if (ctx.members === undefined) {
    r.issue(path, 'maps the members\' advert addresses to their Redis: it needs members (multicast) or unicast_peers');
    return undefined;
  }
  const members = ctx.members;
  const out: Record<string, string> = {};
  const byValue = new Map<string, string>();
  let own: string | undefined;
  for (const [rawKey, rawValue] of Object.entries(v)) {
    const p = childPath(path, rawKey);
    if (typeof rawValue !== 'string') {
      r.issue(p, isTable(rawValue) ? 'an address as a key goes in quotes, e.g. "192.0.2.11" = "198.51.100.11": unquoted, its dots make nested keys' : `must be an address string, got ${JSON.stringify(rawValue)}`);
      continue;
    }
    const key = canonicalAddress(rawKey);
    if (key === undefined || rawKey.includes('%') || addressFamilyOf(rawKey) !== ctx.family) {
      r.issue(p, `must be a member's advert address (${ctx.family}, no zone), e.g. ${example}`);
      continue;
    }
    if (Object.hasOwn(out, key)) {
      r.issue(p, `${key} is listed twice`);
      continue;
    }
    if (ctx.witnesses.includes(key)) {
      r.issue(p, `${key} is a witness: it holds no Redis and is reached at the address configured in witnesses`);
      continue;
    }
    if (!members.includes(key)) {
      if (ctx.unicastSource !== undefined && key !== ctx.unicastSource) {
        r.issue(p, `${key} is neither a member (${members.join(', ') || 'none'}) nor this host's unicast_source (${ctx.unicastSource})`);
        continue;
      }
      if (own !== undefined) {
        r.issue(p, `${key} is not a member (${members.join(', ') || 'none'}); besides the members only this host's own advert address may be listed, and ${own} is already taken for it`);
        continue;
      }
      own = key;
    }
    const value = readRedisAddress(rawValue);
    if (typeof value !== 'string') {
      r.issue(p, `${value.why}, got "${rawValue}"`);
      continue;
    }
    const taken = byValue.get(splitHost(value));
    if (taken !== undefined) {
      r.issue(p, `${value} is already where ${taken}'s Redis is: each member's Redis has an address of its own`);
      continue;
    }
    if (ctx.virtualAddresses.includes(splitHost(value))) {
      r.issue(p, `${value} is a virtual address of this instance: it moves between hosts, a member's Redis address must not`);
      continue;
    }
    byValue.set(splitHost(value), key);
    out[key] = value;
  }
  const missing = [...members, ...(ctx.unicastSource !== undefined ? [ctx.unicastSource] : [])].filter((m) => !Object.hasOwn(out, m) && !Object.keys(v).some((k) => canonicalAddress(k) === m));
  for (const m of [...new Set(missing)]) r.issue(path, `has no entry for ${m}: when peer_addresses is given, every member (this host's own included) must be mapped`);
  return out;
}

function splitHost(value: string): string {
  const pct = value.indexOf('%');
  return pct < 0 ? value : value.slice(0, pct);
}

/** A member's Redis address: a unicast address (canonical), a link-local IPv6 one with an optional zone. */
function readRedisAddress(text: string): string | { why: string } {
  const pct = text.indexOf('%');
  const address = canonicalAddress(pct < 0 ? text : text.slice(0, pct));
  const zone = pct < 0 ? undefined : text.slice(pct + 1);
  const what = 'must be the unicast address (IPv4 or IPv6) its Redis is reached at by the other members, e.g. "198.51.100.11" or "fe80::11%eth1"';
  if (address === undefined || isLoopbackOrUnspecified(address) || (addressFamilyOf(address) === 'ipv4' ? Number(address.split('.')[0]) >= 224 : address.startsWith('ff'))) return { why: what };
  if (zone !== undefined && !isLinkLocal(address)) return { why: 'only a link-local IPv6 address takes a %zone (the interface it is reached through)' };
  if (zone !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(zone)) return { why: 'the %zone must be an interface name' };
  return zone === undefined ? address : `${address}%${zone}`;
}

export function readRedis(r: FieldReader, v: unknown, path: string, advertIntervalMs: number, peers: PeerAddressContext): RedisSettings | undefined {
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    r.issue(path, 'must be a table: [instance.redis]');
    return undefined;
  }
  r.keys(v, path, REDIS_KEYS);
  const address = r.str(v, path, 'address') ?? '127.0.0.1:6379';
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  let host = '127.0.0.1';
  let port = 6379;
  if (!m || addressFamilyOf(m[1] ?? '') === undefined || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    r.issue(`${path}.address`, `must be host:port with an IP address, e.g. "127.0.0.1:6379" or "[::1]:6379", got "${address}"`);
  } else {
    host = m[1] ?? host;
    port = Number(m[2]);
  }
  const passwordFile = r.str(v, path, 'password_file');
  const passwordEnv = r.str(v, path, 'password_env');
  if (passwordFile !== undefined && passwordEnv !== undefined) r.issue(`${path}.password_env`, 'use password_file or password_env, not both');
  let tls: RedisTlsSettings | undefined;
  if (v.tls !== undefined) {
    const tp = `${path}.tls`;
    if (!isTable(v.tls)) r.issue(tp, 'must be a table, e.g. tls = { ca_file = "/etc/redis/ca.pem" }');
    else {
      r.keys(v.tls, tp, TLS_KEYS);
      tls = {
        caFile: r.str(v.tls, tp, 'ca_file'),
        certFile: r.str(v.tls, tp, 'cert_file'),
        keyFile: r.str(v.tls, tp, 'key_file'),
        serverName: r.str(v.tls, tp, 'server_name'),
        verify: r.bool(v.tls, tp, 'verify', true),
      };
      if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) r.issue(tp, 'cert_file and key_file go together');
    }
  }
  return {
    host,
    port,
    peerPort: r.int(v, path, 'peer_port', 1, 65535, port) ?? port,
    peerAddresses: readPeerAddresses(r, v.peer_addresses, `${path}.peer_addresses`, peers),
    username: r.str(v, path, 'username'),
    passwordFile,
    passwordEnv,
    tls,
    db: r.int(v, path, 'db', 0, 15, 0) ?? 0,
    manageRole: r.bool(v, path, 'manage_role', true),
    switchoverOnStop: r.bool(v, path, 'switchover_on_stop', true),
    guard: {
      memberTimeoutMs: r.duration(v, path, 'isolation_timeout', defaultIsolationTimeoutMs(advertIntervalMs)),
      quorum: v.quorum === undefined ? undefined : r.int(v, path, 'quorum', 1, 255, undefined),
      maxLinkDownMs: r.duration(v, path, 'max_link_down', Math.max(5000, minLinkDownMs(advertIntervalMs))),
      maxLagBytes: r.int(v, path, 'max_lag', 0, Number.MAX_SAFE_INTEGER, 1024 * 1024) ?? 1024 * 1024,
    },
    guardWeight: r.int(v, path, 'guard_weight', -253, 0, -253) ?? -253,
  };
}

export function readHooks(r: FieldReader, v: unknown, path: string): HooksSettings | undefined {
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    r.issue(path, 'must be a table: [instance.hooks]');
    return undefined;
  }
  r.keys(v, path, HOOK_KEYS);
  return {
    master: argv(r, v, path, 'master'),
    backup: argv(r, v, path, 'backup'),
    fault: argv(r, v, path, 'fault'),
    stop: argv(r, v, path, 'stop'),
    notify: argv(r, v, path, 'notify'),
    clientReconfig: argv(r, v, path, 'client_reconfig'),
    timeoutMs: r.duration(v, path, 'timeout', 30_000),
  };
}
