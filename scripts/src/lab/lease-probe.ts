// Strict mode's lease machinery (the LeaseGuard core, the agent's LeaseRunner and its etcd3 store)
// against a real etcd, without Redis: a host that is VRRP master all along, whose "write gate"
// follows the verdict at once. Run in a lab namespace:
//   node scripts/dist/lab/lease-probe.js '{"endpoints":["http://198.51.100.11:2379"],"holder":"h4","ttlMs":3000,"forMs":10000}'
// Prints one JSON line per verdict change ({ t, verdict }) and per answered request ({ t, request,
// result }), and { t, leaderChanged: true } each time the store's watch sees the leader key change,
// t in ms since start on the monotonic clock; releases the lease and exits after forMs or on SIGTERM.

import { performance } from 'node:perf_hooks';
import { LeaseGuard } from '@redkeep/failover';
import { LeaseRunner, openLeaseStore } from 'redkeep';

interface ProbeArgs {
  readonly endpoints: string[];
  readonly holder: string;
  readonly instance?: string;
  readonly ttlMs: number;
  readonly forMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ProbeArgs;
const t0 = performance.now();
const print = (o: object): void => {
  process.stdout.write(`${JSON.stringify({ t: Math.round(performance.now() - t0), ...o })}\n`);
};
const store = await openLeaseStore(
  { endpoints: args.endpoints, prefix: '/redkeep/', tls: undefined, username: undefined, passwordFile: undefined, leaseTtlMs: args.ttlMs, onLoss: 'fence' },
  args.instance ?? 'probe',
  Math.max(100, Math.floor(args.ttlMs / 6)),
);
const watch = store.watchLeader?.bind(store);
if (watch) {
  store.watchLeader = (changed) =>
    watch(() => {
      print({ leaderChanged: true });
      changed();
    });
}
const guard = new LeaseGuard({ ttlMs: args.ttlMs, onLoss: 'fence', maxDriftRatio: 0.01, applyMs: 200, self: { holder: args.holder, advert: args.holder, redis: `${args.holder}:6379` } });
const runner: LeaseRunner = new LeaseRunner(guard, store, {
  onVerdict: (v) => {
    print({ verdict: v });
    // No Redis here: the gate is applied the moment it is decided.
    queueMicrotask(() => runner.handle({ type: 'gate', closed: v.writes === 'refuse' }));
  },
  onResult: (request, result) => print({ request: request.type, result }),
});
runner.handle({ type: 'local', facts: { role: 'master', runId: undefined, replId: `probe-${args.holder}`, replId2: undefined, secondReplOffset: undefined, replOffset: 1, masterHost: undefined, masterPort: undefined, masterLinkUp: false, syncInProgress: false, keys: 0, replicas: [] } });
runner.handle({ type: 'vrrp', state: 'master' });
runner.start();
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  runner.handle({ type: 'gate', closed: true });
  await runner.stop();
  print({ stopped: true, counters: guard.counters });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
setTimeout(() => void stop(), args.forMs);
