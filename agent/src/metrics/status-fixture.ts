// A status as a busy master reports it, for the metrics and `redkeep status` tests.

import type { AgentStatus, RunnerStatus } from '../status-types.js';

export const INSTANCE: RunnerStatus = {
  name: 'redis-write',
  interface: 'eth0',
  vrid: 51,
  version: 3,
  family: 'ipv4',
  state: 'master',
  waitingFor: undefined,
  basePriority: 130,
  effectivePriority: 130,
  masterAddress: undefined,
  masterPriority: undefined,
  advertIntervalCs: 10,
  masterAdverIntervalCs: undefined,
  primaryAddress: '192.0.2.13',
  unicastPeers: [],
  virtualAddresses: ['192.0.2.50/24'],
  vipsHeld: ['192.0.2.50/24'],
  lastTransition: { at: '2026-01-02T03:04:05.250Z', from: 'backup', to: 'master', reason: 'master-down-timer', detail: undefined },
  tracks: [
    { name: 'track:redis-alive', weight: 0, ok: true, value: undefined },
    { name: 'track:redis-data', weight: -253, ok: false, value: undefined },
  ],
  counters: { advertsRx: 3, advertsTx: 120, priorityZeroRx: 1, priorityZeroTx: 0, drops: { 'bad-checksum': 2, 'not-a-peer': 5 }, transitions: 4, becameMaster: 2, garpsRequested: 10, unexpectedInputs: 0, unheardStepDowns: 0, designationsRx: 1, designationsIgnored: 0, designatedTakeovers: 1, designationsTx: 0, garpsSent: 10 },
  redis: {
    address: '127.0.0.1:6379',
    up: true,
    role: 'master',
    masterHost: undefined,
    masterLinkUp: undefined,
    offset: 5000,
    replicas: [
      { address: '192.0.2.11:6379', offset: 4900, lagS: 0 },
      { address: '192.0.2.12:6379', offset: 5000, lagS: 1 },
    ],
    desired: 'master',
    lastError: undefined,
  },
  guard: { ok: false, why: 'isolated', writesRefused: true, quorum: { ok: false, reachable: 1, needed: 2, why: 'only 1 of 3 members reachable' }, peers: ['192.0.2.11'], lease: undefined },
  hooks: { runs: 7, failures: 1 },
  maintenance: false,
  serve: 'write',
  readServe: undefined,
  recentTransitions: [],
};

export const STATUS: AgentStatus = {
  agent: { name: 'h3', version: '0.1.0', pid: 1, uptimeMs: 12_500, config: '/etc/redkeep/redkeep.toml', lastReload: { ok: false, at: '2026-01-02T03:05:00.000Z' } },
  process: { cpuSeconds: 1.25, residentBytes: 50_331_648, openFds: 23, startTimeS: 1_767_322_000.5 },
  interfaces: [{ name: 'eth0', index: 2, mac: undefined, packetsRx: 200, drops: { 'unknown-vrid': 3 }, sendErrors: 0, garpsSent: 10 }],
  instances: [INSTANCE],
};

/** A backup whose Redis follows the master, serving reads: what the master above does not show. */
export const READ_REPLICA: RunnerStatus = {
  ...INSTANCE,
  name: 'redis-read',
  vrid: 52,
  state: 'backup',
  masterAddress: '192.0.2.11',
  masterPriority: 150,
  vipsHeld: [],
  serve: 'read',
  readServe: { serving: 'replica', why: 'in sync' },
  redis: { ...(INSTANCE.redis as NonNullable<RunnerStatus['redis']>), role: 'replica', masterHost: '192.0.2.11', masterLinkUp: true, replicas: [], desired: 'replica' },
};

