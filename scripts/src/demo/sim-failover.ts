// Demo (until the namespace lab exists): three redkeep VRRP cores on a simulated LAN with
// 100 ms adverts. Prints the election, a crash of the master, a graceful stop, and the return.

import { SimCluster, simNodeConfig } from '@redkeep/vrrp/sim';

const sim = new SimCluster({
  nodes: [
    simNodeConfig(1, { name: 'redis-a', priority: 150, advertIntervalCs: 10 }),
    simNodeConfig(2, { name: 'redis-b', priority: 120, advertIntervalCs: 10 }),
    simNodeConfig(3, { name: 'redis-c', priority: 100, advertIntervalCs: 10 }),
  ],
  latency: { minMs: 0.1, maxMs: 0.4 },
  seed: 7,
});

let shown = 0;
function show(title: string): void {
  console.log(`\n== ${title}`);
  for (const e of sim.stateLog.slice(shown)) {
    console.log(`  ${e.atMs.toFixed(1).padStart(9)} ms  ${e.node}: ${e.from} -> ${e.to} (${e.reason})`);
  }
  shown = sim.stateLog.length;
  const masters = sim.masters();
  console.log(`  master now: ${masters.join(', ') || 'none'}; VIP 192.0.2.50 on: ${sim.vipHolders().join(', ') || 'nobody'}`);
}

sim.startAll();
sim.runFor(2000);
show('three agents start (priorities 150, 120, 100; adverts every 100 ms)');

let t0 = sim.nowMs;
sim.crash('redis-a');
sim.runFor(2000);
const takeover = sim.stateLog.find((e) => e.atMs >= t0 && e.to === 'master');
show('kill -9 of the master agent (no goodbye advert)');
console.log(`  takeover after ${((takeover?.atMs ?? NaN) - t0).toFixed(1)} ms (Master_Down_Interval)`);

sim.restart('redis-a');
sim.runFor(2000);
show('redis-a comes back and preempts (preempt on)');

t0 = sim.nowMs;
sim.shutdown('redis-a');
sim.runFor(2000);
const handover = sim.stateLog.find((e) => e.atMs >= t0 && e.to === 'master');
show('graceful stop of the master (priority-0 advert)');
console.log(`  takeover after ${((handover?.atMs ?? NaN) - t0).toFixed(1)} ms (Skew_Time)`);
