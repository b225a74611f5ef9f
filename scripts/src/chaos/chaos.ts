// The chaos lab: runs a fault schedule against a real cluster (redkeep, or keepalived with the
// usual scripts) in the namespace lab, with a client writing through the VIP, and checks what
// happened to the writes: acknowledged writes lost (and whether each loss is explained by a
// crash's asynchronous window or a cut-off master's minority window), the longest write gap, the
// time two Redis masters were up at once, and the end state (one master every host follows).

import { EtcdCluster } from '../lab/etcd-cluster.js';
import { CLUSTER_VIP, RedisCluster, RoleProbe, Writer } from '../lab/redis-cluster.js';
import { holders, sleep, waitFor } from '../lab/procs.js';
import type { Fault, Schedule } from './schedule.js';

/** Acknowledged just before a crash, not yet on a replica: Redis' asynchronous window. */
export const CRASH_WINDOW_MS = 250;

export interface ChaosOptions {
  /**
   * redkeep-strict: redkeep with `[agent] etcd`, a 3-member etcd cluster on three more lab hosts
   * (the second network, where Redis replicates too; a partition cuts a host off both networks).
   */
  readonly impl: 'redkeep' | 'keepalived' | 'redkeep-strict';
  readonly hosts: number;
  readonly advertInterval: string;
}

export interface ChaosResult {
  readonly schedule: string;
  readonly impl: ChaosOptions['impl'];
  readonly hosts: number;
  readonly acked: number;
  readonly lost: number;
  /** Lost writes outside every crash and minority window. */
  readonly unexplained: number;
  readonly longestGapMs: number;
  /** Time two or more Redis were masters taking writes at once (seen from the client; a master whose min-replicas-to-write is not met does not count). */
  readonly twoMastersMs: number;
  /** "ok", or what was wrong at the end. */
  readonly end: string;
  readonly master: string | undefined;
}

/** Lost writes that no crash window or minority window explains. */
export function unexplainedLosses<T extends { atMs: number }>(lost: readonly T[], windows: readonly (readonly [number, number])[]): T[] {
  return lost.filter((x) => !windows.some(([a, b]) => x.atMs >= a && x.atMs <= b));
}

/** Total time (ms) at least two addresses were master at once, from role changes in order. */
export function twoMastersMs(changes: readonly { address: string; role: string; atMs: number }[], untilMs: number): number {
  const roles = new Map<string, string>();
  let total = 0;
  let since: number | undefined;
  for (const c of changes) {
    roles.set(c.address, c.role);
    const many = [...roles.values()].filter((r) => r === 'master').length >= 2;
    if (many && since === undefined) since = c.atMs;
    if (!many && since !== undefined) {
      total += c.atMs - since;
      since = undefined;
    }
  }
  if (since !== undefined) total += Math.max(0, untilMs - since);
  return total;
}

/** The etcd members of a strict-mode run: the lab hosts after the cluster's. */
const ETCD_MEMBERS = 3;

function cut(c: RedisCluster, host: string): void {
  c.partition(host);
  if (c.lab.replicationNetwork) c.lab.isolateSecond(host);
}

function uncut(c: RedisCluster, host: string): void {
  c.heal(host);
  if (c.lab.replicationNetwork) c.lab.rejoinSecond(host);
}

async function applyFault(c: RedisCluster, f: Fault, windows: [number, number][], etcd: EtcdCluster | undefined): Promise<void> {
  const host = f.target === 'master' ? (holders(c.lab, CLUSTER_VIP)[0] ?? c.hostNames[c.hostNames.length - 1] ?? 'h1') : f.target;
  const crashWindow = (): void => {
    const t = Date.now();
    windows.push([t - CRASH_WINDOW_MS, t]);
  };
  switch (f.kind) {
    case 'partition':
      cut(c, host);
      await sleep(f.durationMs);
      uncut(c, host);
      return;
    case 'one-way':
      c.muteOutput(host);
      await sleep(f.durationMs);
      c.unmuteOutput(host);
      return;
    case 'flap': {
      const end = Date.now() + f.durationMs;
      while (Date.now() < end) {
        cut(c, host);
        await sleep(400);
        uncut(c, host);
        await sleep(600);
      }
      return;
    }
    case 'pause-redis':
      crashWindow();
      c.r(host).signal('SIGSTOP');
      await sleep(f.durationMs);
      c.r(host).signal('SIGCONT');
      return;
    case 'pause-agent':
      c.agentSignal(host, 'SIGSTOP');
      await sleep(f.durationMs);
      c.agentSignal(host, 'SIGCONT');
      return;
    case 'kill-agent':
      c.agentSignal(host, 'SIGKILL');
      await sleep(f.durationMs);
      c.startAgent(host);
      return;
    case 'restart-empty':
      crashWindow();
      c.r(host).kill();
      await sleep(20);
      c.r(host).start();
      return;
    case 'crash':
    case 'crash-aof':
      crashWindow();
      c.lab.cutLink(host);
      c.agentSignal(host, 'SIGKILL');
      c.r(host).kill();
      await sleep(f.durationMs);
      // A reboot: addresses are not kept, Redis comes back empty (crash-aof: from its
      // appendonly file, with a new replication id, at offset 0), the agent starts again.
      c.lab.exec(host, ['ip', 'addr', 'del', `${CLUSTER_VIP}/24`, 'dev', 'eth0']);
      c.lab.healLink(host);
      c.r(host).start();
      c.startAgent(host);
      return;
    case 'etcd-cut':
      if (!etcd) return;
      etcd.cutFromEtcd(host);
      await sleep(f.durationMs);
      etcd.heal(host);
      return;
    case 'etcd-leader': {
      if (!etcd) return;
      const leader = await etcd.waitLeader(5000);
      await etcd.stopMember(leader);
      await sleep(f.durationMs);
      etcd.startMember(leader);
      return;
    }
  }
}

/** Runs one schedule on a fresh cluster and checks it. The cluster is destroyed afterwards. */
export async function runChaos(schedule: Schedule, o: ChaosOptions, log: (line: string) => void = () => undefined): Promise<ChaosResult> {
  const strict = o.impl === 'redkeep-strict';
  const members = Array.from({ length: ETCD_MEMBERS }, (_, i) => `h${o.hosts + i + 1}`);
  const endpoints = members.map((_, i) => `"http://198.51.100.${o.hosts + i + 11}:2379"`);
  const c = new RedisCluster({
    impl: strict ? 'redkeep' : o.impl,
    hosts: o.hosts,
    advertInterval: o.advertInterval,
    ...(strict ? { outsiders: ETCD_MEMBERS, replicationNetwork: true, agentExtra: `etcd = { endpoints = [${endpoints.join(', ')}] }` } : {}),
    ...(schedule.faults.some((f) => f.kind === 'crash-aof') ? { redisAppendOnly: true } : {}),
  });
  const etcd = strict ? new EtcdCluster(c.lab, { members, heartbeatMs: 50, electionTimeoutMs: 500 }) : undefined;
  const top = c.hostNames[c.hostNames.length - 1] ?? 'h3';
  try {
    await etcd?.start();
    await c.start(top);
    await c.settled(top, c.hostNames.filter((h) => h !== top), 20_000);
    const probe = new RoleProbe(c.lab);
    const writer = new Writer(c.lab, 5);
    await waitFor('writes to be acknowledged', 5000, () => writer.acks().length > 100);
    const windows: [number, number][] = [];
    const t0 = Date.now();
    await Promise.all(
      schedule.faults.map(async (f) => {
        await sleep(Math.max(0, t0 + f.atMs - Date.now()));
        log(`  ${Date.now() - t0} ms: ${f.kind} on ${f.target}`);
        await applyFault(c, f, windows, etcd);
      }),
    );
    // Every fault is over: the cluster must settle on one master that every host follows.
    let end = 'ok';
    let master: string | undefined;
    try {
      // Whoever holds the VIP: with preempt on, the preferred host may still take it back.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = await waitFor('one VIP holder', 20_000, () => {
          const h = holders(c.lab, CLUSTER_VIP);
          return h.length === 1 ? h[0] : undefined;
        }, 50);
        try {
          await c.settled(m, c.hostNames.filter((h) => h !== m), 5000);
          master = m;
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
        }
      }
      await writer.flowing(Date.now(), 300, 10_000);
    } catch (e) {
      end = e instanceof Error ? e.message.split('\n')[0] ?? 'not settled' : String(e);
      const state = c.hostNames.map((h) => {
        const i = c.r(h).info('replication');
        return `${h}: ${i.role ?? 'down'}${i.master_host ? ` of ${i.master_host} link ${i.master_link_status ?? '?'}` : ''} offset ${i.master_repl_offset ?? '?'}`;
      });
      log(`  not settled: ${end}\n  ${state.join('\n  ')}`);
      if (process.env.REDKEEP_CHAOS_LOGS) log(c.logs());
    }
    await sleep(100);
    const acks = await writer.stop();
    await probe.stop();
    await sleep(300);
    const finalMaster = master ?? holders(c.lab, CLUSTER_VIP)[0];
    const lost = finalMaster ? c.lostOn(finalMaster, acks) : acks;
    const allWindows = [...windows, ...c.minorityWindows];
    const odd = unexplainedLosses(lost, allWindows);
    if (odd.length > 0) {
      const rel = (t: number): number => t - t0;
      log(`  unexplained losses at ${odd.map((x) => rel(x.atMs)).join(', ')} ms; windows ${allWindows.map(([a, b]) => `${rel(a)}..${rel(b)}`).join(', ')}`);
      if (process.env.REDKEEP_CHAOS_LOGS) log(c.logs());
    }
    let longest = 0;
    for (let i = 1; i < acks.length; i++) longest = Math.max(longest, (acks[i]?.atMs ?? 0) - (acks[i - 1]?.atMs ?? 0));
    return {
      schedule: schedule.name,
      impl: o.impl,
      hosts: o.hosts,
      acked: acks.length,
      lost: lost.length,
      unexplained: odd.length,
      longestGapMs: longest,
      twoMastersMs: twoMastersMs(probe.changes(), Date.now()),
      end,
      master: finalMaster,
    };
  } finally {
    await etcd?.destroy();
    c.destroy();
  }
}
