// What redkeep's Sentinel endpoint says, as Redis Sentinel says it: the master clients may write
// to, its replicas, the other agents (as sentinels), and the events of a change (+switch-master,
// +sdown, -sdown). Pure: a view of each instance in, replies and event messages out. The agent
// builds the views from what it knows (VRRP, its Redis, the members' Redis); this module never
// decides who is master, it only words it the way client libraries expect.

import { hostPortText } from '@redkeep/vrrp';
import { type Reply, array, bulk, bulks, error, fields, int, map } from './resp.js';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

export interface ReplicaView extends Endpoint {
  /** Its host answers (its Redis, or at least its TCP stack). */
  readonly reachable: boolean;
  /** Its Redis streams from the master now. */
  readonly linkUp: boolean;
  readonly offset: number;
  readonly runId: string | undefined;
  readonly masterHost: string | undefined;
  readonly masterPort: number | undefined;
  readonly priority: number;
}

export interface SentinelPeerView extends Endpoint {
  readonly runId: string;
  readonly reachable: boolean;
}

export interface MasterView {
  /** The master name clients ask for: the instance's name. */
  readonly name: string;
  /**
   * The master whose Redis may acknowledge writes now, by the failover policy; undefined while
   * none may (a failover under way, a fence, no quorum): then get-master-addr-by-name answers nil.
   */
  readonly master: (Endpoint & { readonly runId: string | undefined }) | undefined;
  /** The last master reported; SENTINEL master shows it flagged s_down while `master` is undefined. */
  readonly lastMaster: Endpoint | undefined;
  readonly replicas: readonly ReplicaView[];
  /** The other agents, by their Sentinel endpoints. */
  readonly sentinels: readonly SentinelPeerView[];
  readonly quorum: number;
  /** Master_Down_Interval, Sentinel's down-after-milliseconds. */
  readonly downAfterMs: number;
  /** Changes of master seen by this agent since it started (Sentinel's config-epoch). */
  readonly configEpoch: number;
}

export interface SentinelIdentity {
  readonly myId: string;
  readonly port: number;
  readonly version: string;
}

/** The link fields every Sentinel entry has: redkeep keeps no Sentinel-to-instance link of its own, so they are constant. */
const LINK_FIELDS: readonly [string, string][] = [
  ['link-pending-commands', '0'],
  ['link-refcount', '1'],
  ['last-ping-sent', '0'],
  ['last-ok-ping-reply', '0'],
  ['last-ping-reply', '0'],
];

/** down_after and failover_timeout as Sentinel prints them; the rest of a master's fields as a fresh Sentinel would. */
function masterFields(v: MasterView): [string, string][] {
  const at = v.master ?? v.lastMaster ?? { ip: '', port: 0 };
  const flags = v.master ? 'master' : 'master,s_down,o_down';
  return [
    ['name', v.name],
    ['ip', at.ip],
    ['port', String(at.port)],
    ['runid', v.master?.runId ?? ''],
    ['flags', flags],
    ...LINK_FIELDS,
    ...(v.master ? [] : ([['s-down-time', '0'], ['o-down-time', '0']] as [string, string][])),
    ['down-after-milliseconds', String(v.downAfterMs)],
    ['info-refresh', '0'],
    ['role-reported', 'master'],
    ['role-reported-time', '0'],
    ['config-epoch', String(v.configEpoch)],
    ['num-slaves', String(v.replicas.length)],
    ['num-other-sentinels', String(v.sentinels.length)],
    ['quorum', String(v.quorum)],
    ['failover-timeout', String(Math.max(v.downAfterMs * 2, 1000))],
    ['parallel-syncs', '1'],
  ];
}

function replicaFields(r: ReplicaView): [string, string][] {
  const flags = r.reachable ? (r.linkUp ? 'slave' : 'slave,disconnected') : 'slave,s_down';
  return [
    ['name', hostPortText(r.ip, r.port)],
    ['ip', r.ip],
    ['port', String(r.port)],
    ['runid', r.runId ?? ''],
    ['flags', flags],
    ...LINK_FIELDS,
    ['down-after-milliseconds', '0'],
    ['info-refresh', '0'],
    ['role-reported', 'slave'],
    ['role-reported-time', '0'],
    ['master-link-down-time', '0'],
    ['master-link-status', r.linkUp ? 'ok' : 'err'],
    ['master-host', r.masterHost ?? '?'],
    ['master-port', String(r.masterPort ?? 0)],
    ['slave-priority', String(r.priority)],
    ['slave-repl-offset', String(r.offset)],
    ['replica-announced', '1'],
  ];
}

function sentinelFields(s: SentinelPeerView): [string, string][] {
  return [
    ['name', s.runId],
    ['ip', s.ip],
    ['port', String(s.port)],
    ['runid', s.runId],
    ['flags', s.reachable ? 'sentinel' : 's_down,sentinel'],
    ...LINK_FIELDS,
    ['down-after-milliseconds', '0'],
    ['last-hello-message', '0'],
    ['voted-leader', '?'],
    ['voted-leader-epoch', '0'],
  ];
}

const UNKNOWN_MASTER = error('ERR No such master with that name');

/** The reply to `SENTINEL <sub> ...` (args after SENTINEL). */
export function sentinelCommand(args: readonly string[], views: readonly MasterView[], id: SentinelIdentity): Reply {
  const sub = (args[0] ?? '').toLowerCase();
  const named = (): MasterView | undefined => views.find((v) => v.name === args[1]);
  const needName = (n: number): Reply | undefined => (args.length !== n ? error(`ERR wrong number of arguments for 'sentinel|${sub}' command`) : undefined);
  switch (sub) {
    case 'get-master-addr-by-name': {
      const bad = needName(2);
      if (bad) return bad;
      const v = named();
      if (!v?.master) return array(null);
      return bulks([v.master.ip, String(v.master.port)]);
    }
    case 'masters':
      return array(views.map((v) => fields(masterFields(v))));
    case 'master': {
      const bad = needName(2);
      if (bad) return bad;
      const v = named();
      return v ? fields(masterFields(v)) : UNKNOWN_MASTER;
    }
    case 'replicas':
    case 'slaves': {
      const bad = needName(2);
      if (bad) return bad;
      const v = named();
      return v ? array(v.replicas.map((r) => fields(replicaFields(r)))) : UNKNOWN_MASTER;
    }
    case 'sentinels': {
      const bad = needName(2);
      if (bad) return bad;
      const v = named();
      return v ? array(v.sentinels.map((s) => fields(sentinelFields(s)))) : UNKNOWN_MASTER;
    }
    case 'myid':
      return bulk(id.myId);
    case 'ckquorum': {
      const bad = needName(2);
      if (bad) return bad;
      const v = named();
      if (!v) return UNKNOWN_MASTER;
      const usable = 1 + v.sentinels.filter((s) => s.reachable).length;
      const total = 1 + v.sentinels.length;
      const majority = Math.floor(total / 2) + 1;
      if (usable >= v.quorum && usable >= majority) return { t: 'simple', v: `OK ${usable} usable Sentinels. Quorum and failover authorization can be reached` };
      return error(`NOQUORUM ${usable} usable Sentinels. ${usable < v.quorum ? 'Not enough available Sentinels to reach the specified quorum for this master' : 'Not enough available Sentinels to reach the majority and authorize a failover'}`);
    }
    case 'is-master-down-by-addr':
    case 'failover':
    case 'monitor':
    case 'remove':
    case 'set':
    case 'reset':
    case 'flushconfig':
    case 'config':
      return error(`ERR SENTINEL ${sub.toUpperCase()} is not supported by redkeep: failover and configuration are redkeep's own (see redkeep switchover and redkeep.toml)`);
    default:
      return error(`ERR Unknown sentinel subcommand '${args[0] ?? ''}'`);
  }
}

/** `ROLE` of a Sentinel: the names of the masters it watches. */
export function roleReply(views: readonly MasterView[]): Reply {
  return array([bulk('sentinel'), bulks(views.map((v) => v.name))]);
}

/** `HELLO` fields. */
export function helloReply(id: SentinelIdentity, proto: 2 | 3, clientId: number): Reply {
  return map([
    ['server', bulk('redis')],
    ['version', bulk(id.version)],
    ['proto', int(proto)],
    ['id', int(clientId)],
    ['mode', bulk('sentinel')],
    ['role', bulk('master')],
    ['modules', array([])],
  ]);
}

/** `INFO [section]`, in Sentinel's sections. */
export function infoText(views: readonly MasterView[], id: SentinelIdentity, uptimeS: number, section: string | undefined): string {
  const want = (s: string): boolean => section === undefined || ['all', 'everything', 'default', s].includes(section.toLowerCase());
  const parts: string[] = [];
  if (want('server')) {
    parts.push(['# Server', `redis_version:${id.version}`, 'redis_mode:sentinel', `tcp_port:${id.port}`, `uptime_in_seconds:${Math.floor(uptimeS)}`, `run_id:${id.myId}`, 'executable:redkeep'].join('\r\n'));
  }
  if (want('sentinel')) {
    const lines = ['# Sentinel', `sentinel_masters:${views.length}`, 'sentinel_tilt:0', 'sentinel_running_scripts:0', 'sentinel_scripts_queue_length:0', 'sentinel_simulate_failure_flags:0'];
    views.forEach((v, i) => {
      const at = v.master ?? v.lastMaster;
      const addr = at ? `${at.ip}:${at.port}` : ':0';
      lines.push(`master${i}:name=${v.name},status=${v.master ? 'ok' : 'sdown'},address=${addr},slaves=${v.replicas.length},sentinels=${v.sentinels.length + 1}`);
    });
    parts.push(lines.join('\r\n'));
  }
  return `${parts.join('\r\n\r\n')}\r\n`;
}

/** A Sentinel event: its channel and its message (`<type> <name> <ip> <port> [@ <master> <ip> <port>]`). */
export interface SentinelEvent {
  readonly channel: string;
  readonly message: string;
}

function where(e: Endpoint): string {
  return `${e.ip} ${e.port}`;
}

const same = (a: Endpoint | undefined, b: Endpoint | undefined): boolean => a?.ip === b?.ip && a?.port === b?.port;

/** The events between two views of one instance, in Sentinel's order (a master's +sdown before its +switch-master). */
export function sentinelEvents(prev: MasterView | undefined, next: MasterView): SentinelEvent[] {
  const out: SentinelEvent[] = [];
  const was = prev?.master;
  const was2 = was ?? prev?.lastMaster;
  const now = next.master;
  if (was && !now) out.push({ channel: '+sdown', message: `master ${next.name} ${where(was)}` });
  if (now) {
    if (was2 && !same(was2, now)) {
      out.push({ channel: '+switch-master', message: `${next.name} ${where(was2)} ${where(now)}` });
    } else if (prev && !was && was2 && same(was2, now)) {
      out.push({ channel: '-sdown', message: `master ${next.name} ${where(now)}` });
    }
  }
  // Replicas as the current (or last) master sees them.
  const m = now ?? next.lastMaster;
  if (prev && m) {
    const before = new Map(prev.replicas.map((r) => [`${r.ip}:${r.port}`, r]));
    for (const r of next.replicas) {
      const b = before.get(`${r.ip}:${r.port}`);
      const tail = `slave ${hostPortText(r.ip, r.port)} ${where(r)} @ ${next.name} ${where(m)}`;
      if (!b) out.push({ channel: '+slave', message: tail });
      else if (b.reachable && !r.reachable) out.push({ channel: '+sdown', message: tail });
      else if (!b.reachable && r.reachable) out.push({ channel: '-sdown', message: tail });
    }
  }
  return out;
}
