// The TOML configuration, turned into a validated, typed, frozen object. Every problem is
// reported with file, line and key, and says what would be accepted; all problems are reported
// at once. Unknown keys are refused with a suggestion.

import { readFileSync } from 'node:fs';
import { type AddressFamily, type Cidr, addressFamilyOf, canonicalAddress, parseCidr } from '@redkeep/vrrp';
import { MAX_SOCKET_PATH, groupId } from '../control/server.js';
import { type LineMap, childPath, lineOf, locateKeys, parseToml } from './locate.js';
import { ETCD_KEYS, ETCD_TLS_KEYS, type EtcdSettings, readEtcd } from './etcd-config.js';
import {
  type HooksSettings,
  type RedisSettings,
  type TrackRef,
  type TrackSettings,
  HOOK_KEYS,
  REDIS_KEYS,
  TLS_KEYS,
  TRACK_KEYS,
  TRACK_REF_KEYS,
  guardPeriodMs,
  minLinkDownMs,
  readHooks,
  readRedis,
  readTrack,
  readTrackRefs,
} from './redis-config.js';

export type { EtcdSettings, EtcdTlsSettings } from './etcd-config.js';
export type { HooksSettings, RedisSettings, TrackRef, TrackSettings } from './redis-config.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';

export interface AgentSettings {
  readonly name: string;
  readonly controlSocket: string;
  /** Group allowed to use the control socket besides root (mode 0660), or undefined (0600). */
  readonly controlGroup: string | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Prometheus endpoint (GET /metrics), off when undefined. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** Where state kept across restarts lives (maintenance). */
  readonly stateDir: string;
  /** Sentinel-protocol endpoint for Sentinel-aware clients, off when undefined. */
  readonly sentinel: { readonly host: string; readonly port: number; readonly passwordFile: string | undefined } | undefined;
  /** Strict mode: an etcd lease decides who may acknowledge writes; off when undefined. */
  readonly etcd: EtcdSettings | undefined;
}

export interface GarpSettings {
  readonly repeat: number;
  readonly delayMs: number;
  readonly refreshMs: number;
  readonly refreshRepeat: number;
  readonly lowerPriorityRepeat: number;
  /** Gap between two gratuitous ARPs / NAs of one burst (keepalived vrrp_garp_interval). */
  readonly intervalMs: number;
}

export interface TrackInterfaceSettings {
  readonly name: string;
  readonly weight: number;
}

export interface InstanceSettings {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly priority: number;
  readonly version: 2 | 3;
  readonly family: AddressFamily;
  readonly advertIntervalCs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly virtualAddresses: readonly Cidr[];
  /** Label for IPv4 virtual addresses (e.g. "eth0:vip"); must start with the interface name. */
  readonly addressLabel: string | undefined;
  readonly unicastSource: string | undefined;
  readonly unicastPeers: readonly string[];
  /**
   * The configured members (this host's address may be among them): the only routers whose
   * adverts count and whose Redis is read, sent AUTH or followed. Unicast: the unicast peers.
   * Undefined: not configured (multicast without Redis role control), adverts from anyone.
   */
  readonly members: readonly string[] | undefined;
  /** Witnesses (`redkeep witness` on a host without Redis): they vote for the quorum, hold no Redis. */
  readonly witnesses: readonly string[];
  /** VRRPv2 PASS authentication. Secret: never logged, never in status. */
  readonly authPass: string | undefined;
  readonly garp: GarpSettings;
  readonly trackInterfaces: readonly TrackInterfaceSettings[];
  /** Health tracks this instance follows, with the weight it gives each. */
  readonly tracks: readonly TrackRef[];
  /**
   * "write" (default): the VIP follows the Redis master. "read": the VIP is held by the best
   * in-sync replica of the master (priority decides among them), by the master only when no
   * replica qualifies; a read instance never changes a Redis role.
   */
  readonly serve: 'write' | 'read';
  /** The local Redis this instance looks after (role control, redis-* tracks). */
  readonly redis: RedisSettings | undefined;
  readonly hooks: HooksSettings | undefined;
}

export interface RedkeepConfig {
  readonly file: string;
  readonly agent: AgentSettings;
  readonly tracks: readonly TrackSettings[];
  readonly instances: readonly InstanceSettings[];
}

export interface ConfigIssue {
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}` : i.file;
  return i.key ? `${where}: ${i.key}: ${i.message}` : `${where}: ${i.message}`;
}

export const DEFAULT_CONTROL_SOCKET = '/run/redkeep/redkeep.sock';
export const DEFAULT_CONFIG_FILE = '/etc/redkeep/redkeep.toml';

/** The file `run` and `check-config` read when none is given: `$REDKEEP_CONFIG`, else the default. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env['REDKEEP_CONFIG'] || DEFAULT_CONFIG_FILE;
}

export const DEFAULT_STATE_DIR = '/var/lib/redkeep';
const AGENT_KEYS = ['name', 'control_socket', 'control_group', 'log_level', 'log_format', 'metrics_address', 'sentinel_address', 'sentinel_password_file', 'state_dir', 'etcd'] as const;
const INSTANCE_KEYS = [
  'name',
  'serve',
  'interface',
  'vrid',
  'priority',
  'version',
  'advert_interval',
  'preempt',
  'preempt_delay',
  'virtual_addresses',
  'address_label',
  'unicast_source',
  'unicast_peers',
  'members',
  'witnesses',
  'auth_pass',
  'garp',
  'track_interfaces',
  'tracks',
  'redis',
  'hooks',
] as const;
const GARP_KEYS = ['repeat', 'delay', 'refresh', 'refresh_repeat', 'lower_prio_repeat', 'interval'] as const;
const TRACK_IF_KEYS = ['name', 'weight'] as const;
const TOP_KEYS = ['agent', 'track', 'instance'] as const;

/**
 * The keys each table accepts, by its path ('' is the file's top level; `instance.redis` is every
 * [[instance]]'s redis table). redkeep.toml(5) and the README document exactly these (reference.ts).
 */
export const ACCEPTED_KEYS = {
  '': TOP_KEYS,
  agent: AGENT_KEYS,
  'agent.etcd': ETCD_KEYS,
  'agent.etcd.tls': ETCD_TLS_KEYS,
  instance: INSTANCE_KEYS,
  'instance.garp': GARP_KEYS,
  'instance.track_interfaces': TRACK_IF_KEYS,
  'instance.tracks': TRACK_REF_KEYS,
  'instance.redis': REDIS_KEYS,
  'instance.redis.tls': TLS_KEYS,
  'instance.hooks': HOOK_KEYS,
  track: TRACK_KEYS,
} as const satisfies Record<string, readonly string[]>;
export type ConfigTable = keyof typeof ACCEPTED_KEYS;

/** Parses "100ms", "1s", "1.5s", "2m", "1h" into milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return n * scale;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] ?? 0;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] ?? 0;
      d[j] = Math.min((d[j] ?? 0) + 1, (d[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] ?? 0;
}

function suggest(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const dist = levenshtein(key, a);
    if (dist < bestD) {
      bestD = dist;
      best = a;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3))) return ` (did you mean ${best}?)`;
  return ` (known keys: ${allowed.join(', ')})`;
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects issues while reading one document. */
class Reader {
  readonly issues: ConfigIssue[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineMap,
  ) {}

  issue(path: string, message: string): void {
    this.issues.push({ file: this.file, line: lineOf(this.lines, path), key: path, message });
  }

  keys(t: Table, path: string, allowed: readonly string[]): void {
    for (const k of Object.keys(t)) {
      if (!allowed.includes(k)) {
        this.issue(childPath(path, k), `unknown key${suggest(k, allowed)}`);
      }
    }
  }

  str(t: Table, path: string, key: string, opts: { required?: boolean; secret?: boolean } = {}): string | undefined {
    const v = t[key];
    const p = `${path}.${key}`;
    if (v === undefined) {
      if (opts.required) this.issue(p, 'is required (a string)');
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      // A secret's value is never repeated, not even in an error.
      this.issue(p, opts.secret ? 'must be a non-empty string (in quotes)' : `must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  int(t: Table, path: string, key: string, min: number, max: number, dflt: number | undefined): number | undefined {
    const v = t[key];
    const p = `${path}.${key}`;
    if (v === undefined) {
      if (dflt === undefined) this.issue(p, `is required (an integer ${min}..${max})`);
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.issue(p, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v;
  }

  bool(t: Table, path: string, key: string, dflt: boolean): boolean {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') {
      this.issue(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v;
  }

  duration(t: Table, path: string, key: string, dfltMs: number): number {
    const v = t[key];
    const p = `${path}.${key}`;
    if (v === undefined) return dfltMs;
    const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
    if (ms === undefined) {
      this.issue(p, `must be a duration string such as "100ms", "1s" or "1.5s", got ${JSON.stringify(v)}`);
      return dfltMs;
    }
    return ms;
  }

  oneOf<T extends string>(t: Table, path: string, key: string, allowed: readonly T[], dflt: T): T {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.issue(`${path}.${key}`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(v)}`);
      return dflt;
    }
    return v as T;
  }

  stringList(t: Table, path: string, key: string): string[] {
    const v = t[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      this.issue(`${path}.${key}`, `must be an array of strings, got ${JSON.stringify(v)}`);
      return [];
    }
    return v as string[];
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function isUnicast(address: string): boolean {
  if (address === '0.0.0.0' || address === '255.255.255.255' || address === '::') return false;
  const first = Number(address.split('.')[0]);
  if (addressFamilyOf(address) === 'ipv4') return first < 224;
  return !address.startsWith('ff');
}

/** Longest gap between two packets of a burst: longer would delay stepping down noticeably. */
const MAX_GARP_INTERVAL_MS = 1000;

function readGarp(r: Reader, v: unknown, path: string): GarpSettings {
  const t: Table = v === undefined ? {} : isTable(v) ? v : {};
  if (v !== undefined && !isTable(v)) r.issue(path, 'must be a table, e.g. garp = { repeat = 5, delay = "5s" }');
  r.keys(t, path, GARP_KEYS);
  return {
    repeat: r.int(t, path, 'repeat', 0, 1000, 5) ?? 5,
    delayMs: r.duration(t, path, 'delay', 5000),
    refreshMs: r.duration(t, path, 'refresh', 0),
    refreshRepeat: r.int(t, path, 'refresh_repeat', 0, 1000, 1) ?? 1,
    lowerPriorityRepeat: r.int(t, path, 'lower_prio_repeat', 0, 1000, 5) ?? 5,
    intervalMs: (() => {
      const ms = r.duration(t, path, 'interval', 0);
      if (ms > MAX_GARP_INTERVAL_MS) r.issue(`${path}.interval`, `is at most "${MAX_GARP_INTERVAL_MS}ms", got ${ms} ms`);
      return ms;
    })(),
  };
}

function readInstance(r: Reader, t: Table, path: string, knownTracks: readonly TrackSettings[]): InstanceSettings | undefined {
  r.keys(t, path, INSTANCE_KEYS);
  const name = r.str(t, path, 'name', { required: true });
  const ifname = r.str(t, path, 'interface', { required: true });
  const vrid = r.int(t, path, 'vrid', 1, 255, undefined);
  const priority = r.int(t, path, 'priority', 1, 255, 100) ?? 100;
  const versionRaw = r.int(t, path, 'version', 2, 3, 3) ?? 3;
  const version: 2 | 3 = versionRaw === 2 ? 2 : 3;
  const intervalMs = r.duration(t, path, 'advert_interval', 1000);
  const preempt = r.bool(t, path, 'preempt', true);
  const preemptDelayMs = r.duration(t, path, 'preempt_delay', 0);
  const addressLabel = r.str(t, path, 'address_label');
  const unicastSourceRaw = r.str(t, path, 'unicast_source');
  const peersRaw = r.stringList(t, path, 'unicast_peers');
  const membersRaw = t.members === undefined ? undefined : r.stringList(t, path, 'members');
  const witnessesRaw = r.stringList(t, path, 'witnesses');
  const authPass = r.str(t, path, 'auth_pass', { secret: true });
  const garp = readGarp(r, t.garp, `${path}.garp`);

  let advertIntervalCs = 100;
  if (version === 2) {
    if (intervalMs % 1000 !== 0 || intervalMs < 1000 || intervalMs > 255_000) {
      r.issue(`${path}.advert_interval`, `VRRPv2 adverts are whole seconds, "1s".."255s"; got ${intervalMs} ms`);
    } else advertIntervalCs = intervalMs / 10;
  } else if (intervalMs % 10 !== 0 || intervalMs < 10 || intervalMs > 40_950) {
    r.issue(`${path}.advert_interval`, `VRRPv3 adverts are "10ms".."40950ms" in steps of 10 ms; got ${intervalMs} ms`);
  } else advertIntervalCs = intervalMs / 10;

  const vips: Cidr[] = [];
  const seenVip = new Set<string>();
  const vipRaw = t.virtual_addresses;
  if (vipRaw === undefined) r.issue(`${path}.virtual_addresses`, 'is required, e.g. ["192.0.2.50/24"]');
  const vipList = r.stringList(t, path, 'virtual_addresses');
  vipList.forEach((s, i) => {
    const c = parseCidr(s);
    if (!c) r.issue(`${path}.virtual_addresses[${i}]`, `must be an address with prefix such as "192.0.2.50/24" or "2001:db8::50/64", got "${s}"`);
    else if (seenVip.has(c.address)) r.issue(`${path}.virtual_addresses[${i}]`, `${c.address} is listed twice`);
    else {
      seenVip.add(c.address);
      vips.push(c);
    }
  });
  if (vipRaw !== undefined && vipList.length === 0) r.issue(`${path}.virtual_addresses`, 'needs at least one address');
  const family: AddressFamily = vips[0]?.family ?? 'ipv4';
  // An advert must fit one 1500-octet frame: 255 IPv4 addresses do, 90 IPv6 addresses do.
  const maxVips = family === 'ipv4' ? 255 : 90;
  if (vipList.length > maxVips) r.issue(`${path}.virtual_addresses`, `at most ${maxVips} ${family} addresses fit in one advert`);
  if (vips.some((v) => v.family !== family)) {
    r.issue(`${path}.virtual_addresses`, 'must all be IPv4 or all IPv6 (use one instance per family)');
  }
  if (version === 2 && family !== 'ipv4') r.issue(`${path}.version`, 'VRRPv2 carries IPv4 only: use version = 3 for IPv6');
  if (authPass !== undefined) {
    if (version !== 2) r.issue(`${path}.auth_pass`, 'authentication exists in VRRPv2 only (RFC 5798 removed it): set version = 2 or remove auth_pass');
    if (new TextEncoder().encode(authPass).length > 8) r.issue(`${path}.auth_pass`, 'is at most 8 bytes (keepalived truncates longer ones; redkeep refuses them)');
  }
  if (addressLabel !== undefined && ifname !== undefined && !addressLabel.startsWith(ifname)) {
    r.issue(`${path}.address_label`, `must start with the interface name, e.g. "${ifname}:vip"`);
  }
  if (addressLabel !== undefined && addressLabel.length > 15) r.issue(`${path}.address_label`, 'is at most 15 characters');

  let unicastSource: string | undefined;
  if (unicastSourceRaw !== undefined) {
    if (addressFamilyOf(unicastSourceRaw) !== family) r.issue(`${path}.unicast_source`, `must be an ${family} address, got "${unicastSourceRaw}"`);
    else unicastSource = canonicalAddress(unicastSourceRaw);
  }
  const unicastPeers: string[] = [];
  peersRaw.forEach((p, i) => {
    const canon = canonicalAddress(p) ?? p;
    if (addressFamilyOf(p) !== family) r.issue(`${path}.unicast_peers[${i}]`, `must be an ${family} address, got "${p}"`);
    else if (!isUnicast(canon)) r.issue(`${path}.unicast_peers[${i}]`, `must be a unicast address (not multicast, broadcast or unspecified), got "${p}"`);
    else if (unicastPeers.includes(canon)) r.issue(`${path}.unicast_peers[${i}]`, `${p} is listed twice`);
    else unicastPeers.push(canon);
  });
  let members: string[] | undefined;
  if (membersRaw !== undefined) {
    members = [];
    if (peersRaw.length > 0) r.issue(`${path}.members`, 'unicast_peers already are the members in unicast mode: remove members');
    membersRaw.forEach((p, i) => {
      const canon = canonicalAddress(p) ?? p;
      if (addressFamilyOf(p) !== family) r.issue(`${path}.members[${i}]`, `must be an ${family} address (a member's advert source), got "${p}"`);
      else if (!isUnicast(canon)) r.issue(`${path}.members[${i}]`, `must be a unicast address, got "${p}"`);
      else if (members?.includes(canon)) r.issue(`${path}.members[${i}]`, `${p} is listed twice`);
      else members?.push(canon);
    });
  }
  if (peersRaw.length > 0) members = unicastPeers;
  const witnesses: string[] = [];
  witnessesRaw.forEach((p, i) => {
    const canon = canonicalAddress(p) ?? p;
    if (addressFamilyOf(p) === undefined || !isUnicast(canon)) r.issue(`${path}.witnesses[${i}]`, `must be a unicast address, got "${p}"`);
    else if (witnesses.includes(canon) || members?.includes(canon)) r.issue(`${path}.witnesses[${i}]`, `${p} is listed twice (a witness is not also a member)`);
    else witnesses.push(canon);
  });
  if (unicastSource !== undefined && peersRaw.length === 0) {
    r.issue(`${path}.unicast_source`, 'is set but unicast_peers is empty: list the peers, or remove unicast_source for multicast');
  }

  const tracks: TrackInterfaceSettings[] = [];
  const tiRaw = t.track_interfaces;
  if (tiRaw !== undefined) {
    if (!Array.isArray(tiRaw)) r.issue(`${path}.track_interfaces`, 'must be an array such as [{ name = "eth1", weight = -20 }]');
    else
      tiRaw.forEach((e, i) => {
        const p = `${path}.track_interfaces[${i}]`;
        if (!isTable(e)) {
          r.issue(p, 'must be a table such as { name = "eth1", weight = -20 }');
          return;
        }
        r.keys(e, p, TRACK_IF_KEYS);
        const n = r.str(e, p, 'name', { required: true });
        const w = r.int(e, p, 'weight', -253, 253, 0) ?? 0;
        if (n !== undefined) {
          if (tracks.some((x) => x.name === n)) r.issue(`${p}.name`, `interface ${n} is tracked twice`);
          else tracks.push({ name: n, weight: w });
        }
      });
  }
  const trackRefs = readTrackRefs(r, t.tracks, `${path}.tracks`, knownTracks);
  const serve = r.oneOf(t, path, 'serve', ['write', 'read'] as const, 'write');
  let redis = readRedis(r, t.redis, `${path}.redis`, advertIntervalCs * 10, { family, members, unicastSource, witnesses, virtualAddresses: vips.map((v) => v.address) });
  if (serve === 'read') {
    if (redis === undefined) r.issue(`${path}.serve`, 'a read instance needs [instance.redis]: the Redis whose replica state places its VIP');
    else {
      const rt = t.redis as Table;
      if (rt.manage_role === true) r.issue(`${path}.redis.manage_role`, 'a read instance never changes a Redis role: remove manage_role (the write instance of this Redis steers its role)');
      for (const k of ['switchover_on_stop', 'isolation_timeout', 'max_link_down', 'guard_weight', 'quorum'] as const) {
        if (rt[k] !== undefined) r.issue(`${path}.redis.${k}`, `applies to a write instance only (a read instance has no data guard; max_lag bounds how far behind its replica may be)`);
      }
      // No role control, no data guard: only max_lag is used, as the read VIP's lag bound.
      redis = { ...redis, manageRole: false, switchoverOnStop: false, guard: { ...redis.guard, memberTimeoutMs: 0, quorum: undefined, maxLinkDownMs: 0 } };
    }
    for (const ref of trackRefs) {
      const def = knownTracks.find((k) => k.name === ref.name);
      if (def && (def.type === 'redis-ping' || def.type === 'redis-role')) r.issue(`${path}.tracks`, `track "${ref.name}" (${def.type}): a read instance follows its Redis by itself (it leaves a replica that falls behind or stops answering)`);
    }
    if (isTable(t.hooks) && t.hooks.client_reconfig !== undefined) r.issue(`${path}.hooks.client_reconfig`, 'the master moves with the write instance: put client_reconfig there');
  }
  const hooks = readHooks(r, t.hooks, `${path}.hooks`);
  if (hooks?.clientReconfig !== undefined && redis === undefined) r.issue(`${path}.hooks.client_reconfig`, "names the masters' Redis (address and port): it needs this instance's [instance.redis] section");
  for (const ref of trackRefs) {
    const def = knownTracks.find((k) => k.name === ref.name);
    if (def && (def.type === 'redis-ping' || def.type === 'redis-role') && redis === undefined) {
      r.issue(`${path}.tracks`, `track "${ref.name}" (${def.type}) needs this instance's [instance.redis] section`);
    }
  }
  if (redis) {
    if (priority === 255 && redis.guard.memberTimeoutMs + redis.guard.maxLinkDownMs + redis.guard.maxLagBytes > 0) {
      r.issue(`${path}.priority`, 'an address owner (255) always wins, so the Redis data guard could not lower it: use 1..254, or turn the guard off (isolation_timeout = "0s", max_link_down = "0s", max_lag = 0)');
    }
    if (redis.manageRole && members === undefined) {
      r.issue(`${path}.members`, 'is required with Redis role control in multicast mode: the advert source of every redkeep host of this instance (its own may be listed), e.g. ["192.0.2.11", "192.0.2.12", "192.0.2.13"], or [] for a single host');
    }
    const n = (members === undefined ? 1 : members.length + 1) + witnesses.length;
    if (redis.guard.quorum !== undefined && redis.guard.quorum > n) {
      r.issue(`${path}.redis.quorum`, `is ${redis.guard.quorum}, more than the ${n} members there can be (the members listed and this host)`);
    }
    const mdi = 3 * advertIntervalCs * 10;
    if (isTable(t.redis) && t.redis.isolation_timeout !== undefined && redis.guard.memberTimeoutMs > 0 && redis.guard.memberTimeoutMs + guardPeriodMs(advertIntervalCs * 10) >= mdi) {
      r.issue(`${path}.redis.isolation_timeout`, `must be shorter than 3 advert intervals less one guard period (${mdi - guardPeriodMs(advertIntervalCs * 10)} ms with ${advertIntervalCs * 10} ms adverts), so that an isolated master refuses writes before the others elect a successor; or "0s" to turn quorum and isolation off`);
    }
    // A backup must not call itself stale during an ordinary failover.
    const min = minLinkDownMs(advertIntervalCs * 10);
    if (redis.guard.maxLinkDownMs > 0 && redis.guard.maxLinkDownMs < min) {
      r.issue(`${path}.redis.max_link_down`, `must be at least ${min} ms with ${advertIntervalCs * 10} ms adverts (3 advert intervals + 1.5 s), or "0s" to turn it off`);
    }
  }
  if (name === undefined || ifname === undefined || vrid === undefined) return undefined;
  return {
    name,
    interface: ifname,
    vrid,
    priority,
    version,
    family,
    advertIntervalCs,
    preempt,
    preemptDelayMs,
    virtualAddresses: vips,
    addressLabel,
    unicastSource,
    unicastPeers,
    members,
    witnesses,
    authPass,
    garp,
    trackInterfaces: tracks,
    tracks: trackRefs,
    serve,
    redis,
    hooks,
  };
}

/** "host:port", ":port" (localhost), or "[v6]:port"; the host must be an IP address. */
function readListenAddress(r: Reader, t: Table, path: string, key: string): { host: string; port: number } | undefined {
  const v = r.str(t, path, key);
  if (v === undefined) return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v);
  const host = m ? (m[1] ?? m[2] ?? '') || '127.0.0.1' : '';
  const port = m ? Number(m[3]) : 0;
  if (!m || addressFamilyOf(host) === undefined || port < 1 || port > 65535) {
    r.issue(`${path}.${key}`, `must be an IP address and port such as "127.0.0.1:9064", "[::1]:9064" or ":9064" (localhost), got "${v}"`);
    return undefined;
  }
  return { host, port };
}

/** Validates parsed TOML. Throws ConfigError listing every problem. */
export function validateConfig(doc: unknown, file: string, text: string): RedkeepConfig {
  const r = new Reader(file, locateKeys(text));
  const root: Table = isTable(doc) ? doc : {};
  r.keys(root, '', TOP_KEYS);
  const agentRaw = root.agent;
  const a: Table = isTable(agentRaw) ? agentRaw : {};
  if (agentRaw !== undefined && !isTable(agentRaw)) r.issue('agent', 'must be a table: [agent]');
  r.keys(a, 'agent', AGENT_KEYS);
  const socketPath = r.str(a, 'agent', 'control_socket') ?? DEFAULT_CONTROL_SOCKET;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) r.issue('agent.control_socket', `is longer than ${MAX_SOCKET_PATH} bytes, the limit of a unix socket path`);
  const group = r.str(a, 'agent', 'control_group');
  if (group !== undefined && groupId(group) === undefined) r.issue('agent.control_group', `group "${group}" does not exist on this host`);
  const agent: AgentSettings = {
    name: r.str(a, 'agent', 'name') ?? 'redkeep',
    controlSocket: socketPath,
    controlGroup: group,
    logLevel: r.oneOf(a, 'agent', 'log_level', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    logFormat: r.oneOf(a, 'agent', 'log_format', ['text', 'json'] as const, 'text'),
    metrics: readListenAddress(r, a, 'agent', 'metrics_address'),
    stateDir: r.str(a, 'agent', 'state_dir') ?? DEFAULT_STATE_DIR,
    sentinel: undefined,
    etcd: readEtcd(r, a.etcd, 'agent.etcd'),
  };
  if (!agent.stateDir.startsWith('/')) r.issue('agent.state_dir', `must be an absolute path, got "${agent.stateDir}"`);
  const sentinelAt = readListenAddress(r, a, 'agent', 'sentinel_address');
  const sentinelPasswordFile = r.str(a, 'agent', 'sentinel_password_file');
  if (sentinelPasswordFile !== undefined && sentinelAt === undefined) r.issue('agent.sentinel_password_file', 'needs sentinel_address (the Sentinel endpoint it protects)');
  if (sentinelPasswordFile !== undefined && !sentinelPasswordFile.startsWith('/')) r.issue('agent.sentinel_password_file', `must be an absolute path, got "${sentinelPasswordFile}"`);
  const tracks: TrackSettings[] = [];
  const trackRaw = root.track;
  if (trackRaw !== undefined && !Array.isArray(trackRaw)) r.issue('track', 'must be an array of tables: [[track]]');
  else
    (trackRaw ?? []).forEach((tt: unknown, i: number) => {
      const path = `track[${i}]`;
      if (!isTable(tt)) {
        r.issue(path, 'must be a table');
        return;
      }
      const t = readTrack(r, tt, path);
      if (!t) return;
      if (tracks.some((x) => x.name === t.name)) r.issue(`${path}.name`, `track name "${t.name}" is used twice`);
      else tracks.push(t);
    });
  const instRaw = root.instance;
  const instances: InstanceSettings[] = [];
  if (instRaw === undefined) r.issue('instance', 'at least one [[instance]] is required');
  else if (!Array.isArray(instRaw)) r.issue('instance', 'must be an array of tables: [[instance]]');
  else
    instRaw.forEach((it, i) => {
      const path = `instance[${i}]`;
      if (!isTable(it)) {
        r.issue(path, 'must be a table');
        return;
      }
      const inst = readInstance(r, it, path, tracks);
      if (!inst) return;
      if (instances.some((x) => x.name === inst.name)) r.issue(`${path}.name`, `instance name "${inst.name}" is used twice`);
      const clash = instances.find((x) => x.interface === inst.interface && x.vrid === inst.vrid && x.family === inst.family);
      if (clash) r.issue(`${path}.vrid`, `VRID ${inst.vrid} is already used on ${inst.interface} by instance "${clash.name}"`);
      for (const v of inst.virtualAddresses) {
        const owner = instances.find((x) => x.interface === inst.interface && x.virtualAddresses.some((w) => w.address === v.address));
        if (owner) r.issue(`${path}.virtual_addresses`, `${v.address} on ${inst.interface} belongs to instance "${owner.name}" already`);
      }
      instances.push(inst);
    });
  // One Redis, one write instance: two would both steer its role. A read instance places its
  // VIP by the write instance of its Redis (its master and the master's offset).
  const redisKey = (i: InstanceSettings): string | undefined => (i.redis ? `${i.redis.host.includes(":") ? `[${i.redis.host}]` : i.redis.host}:${i.redis.port}` : undefined);
  instances.forEach((inst, k) => {
    const key = redisKey(inst);
    if (key === undefined) return;
    const writers = instances.filter((x) => x.serve === 'write' && redisKey(x) === key);
    if (inst.serve === 'write' && writers.length > 1 && writers[0] !== inst) r.issue(`instance[${k}].redis.address`, `Redis ${key} has a write instance already ("${writers[0]?.name ?? ''}"): one write instance per Redis (a second VIP for reads is serve = "read")`);
    if (inst.serve === 'read') {
      const w = writers[0];
      if (!w || !w.redis?.manageRole) r.issue(`instance[${k}].serve`, `a read instance needs the write instance of its Redis (${key}) in this file, with manage_role on: it follows that instance's master`);
      else if (w.interface !== inst.interface || w.family !== inst.family) r.issue(`instance[${k}].interface`, `must be the interface and address family of the write instance "${w.name}" (${w.interface}, ${w.family}): the same members advertise both`);
    }
  });
  if (sentinelAt !== undefined && instRaw !== undefined && !instances.some((i) => i.redis?.manageRole)) {
    r.issue('agent.sentinel_address', 'serves instances with [instance.redis] and manage_role = true (their names are the master names), and there is none');
  }
  if (agent.etcd !== undefined && instRaw !== undefined && !instances.some((i) => i.serve === 'write' && i.redis?.manageRole)) {
    r.issue('agent.etcd', 'guards the writes of instances with [instance.redis] and manage_role = true, and there is none');
  }
  if (r.issues.length > 0) throw new ConfigError(r.issues);
  return deepFreeze({ file, agent: { ...agent, sentinel: sentinelAt && { ...sentinelAt, passwordFile: sentinelPasswordFile } }, tracks, instances });
}

/** Reads, parses and validates a config file. Throws ConfigError (never anything else). */
export function loadConfig(file: string): RedkeepConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, line: undefined, key: '', message: `cannot read: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  const parsed = parseToml(text);
  if (!parsed.ok) throw new ConfigError([{ file, ...parsed.problem }]);
  return validateConfig(parsed.doc, file, text);
}
