// What `status` reports: the agent, its interfaces and each instance. The daemon builds it, the
// metrics endpoint and the CLI read it; this module imports neither of them.

import type { InstanceCounters, VrrpState } from '@redkeep/vrrp';
import type { GuardStatus } from './redis/guard-runner.js';
import type { RedisStatus } from './redis/supervisor.js';

export type { GuardStatus, RedisStatus };

export interface Transition {
  readonly at: string;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: string;
  readonly detail: string | undefined;
}

export interface TrackStatus {
  readonly name: string;
  readonly weight: number;
  readonly ok: boolean;
  /** A number track's number. */
  readonly value: number | undefined;
}

export type RunnerCounters = Omit<InstanceCounters, 'drops'> & {
  /** Dropped adverts by reason (only reasons that happened). */
  readonly drops: Readonly<Record<string, number>>;
  readonly garpsSent: number;
};

export interface RunnerStatus {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly family: string;
  readonly state: VrrpState | 'waiting';
  /** Why the instance is not running yet, e.g. no address on its interface. */
  readonly waitingFor: string | undefined;
  readonly basePriority: number;
  readonly effectivePriority: number | undefined;
  readonly masterAddress: string | undefined;
  readonly masterPriority: number | undefined;
  readonly advertIntervalCs: number;
  readonly masterAdverIntervalCs: number | undefined;
  readonly primaryAddress: string | undefined;
  readonly unicastPeers: readonly string[];
  readonly virtualAddresses: readonly string[];
  readonly vipsHeld: readonly string[];
  readonly lastTransition: Transition | undefined;
  /** The last few transitions with their reasons, oldest first. */
  readonly recentTransitions: readonly Transition[];
  readonly tracks: readonly TrackStatus[];
  readonly counters: RunnerCounters | undefined;
  /** `redkeep maintenance on`: the lowest priority until off. */
  readonly maintenance: boolean;
  readonly serve: 'write' | 'read';
  /** serve = "read": whether this host's Redis serves reads, and why. */
  readonly readServe: { readonly serving: string; readonly why: string } | undefined;
  readonly redis: RedisStatus | undefined;
  /** The data guard (isolation, staleness) and the peers it watches. */
  readonly guard: GuardStatus | undefined;
  readonly hooks: { readonly runs: number; readonly failures: number } | undefined;
}

export interface InterfaceStatus {
  readonly name: string;
  readonly index: number;
  readonly mac: string | undefined;
  readonly packetsRx: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly sendErrors: number;
  readonly garpsSent: number;
}

/** The process's own numbers (metrics/process.ts samples them). */
export interface ProcessSample {
  /** User and system CPU time of every thread (`process_cpu_seconds_total`). */
  readonly cpuSeconds: number;
  readonly residentBytes: number;
  /** Undefined where /proc/self/fd cannot be read. */
  readonly openFds: number | undefined;
  /** Wall-clock start of the process, seconds since the epoch. */
  readonly startTimeS: number;
}

export interface AgentStatus {
  /** uptimeMs: since the agent started (monotonic clock); config: the file it runs. */
  readonly agent: {
    readonly name: string;
    readonly version: string;
    readonly pid: number;
    readonly uptimeMs: number;
    readonly config: string;
    /** The last load of the configuration: at start (it succeeded, or there is no agent), or a reload. */
    readonly lastReload: { readonly ok: boolean; readonly at: string };
  };
  readonly process: ProcessSample;
  readonly interfaces: readonly InterfaceStatus[];
  readonly instances: readonly RunnerStatus[];
}
