// Benchmark (not a test): decode throughput on the keepalived captures, and state-machine
// events per second in a simulated cluster. Prints numbers; asserts nothing.
//
//   pnpm bench            (after a build)   or   node scripts/dist/bench/vrrp-core.js [--seconds 2]

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  type VrrpAdvert,
  VrrpInstance,
  decodeIpv4Datagram,
  encodeVrrp,
  KEEPALIVED_GARP_DEFAULTS,
} from '@redkeep/vrrp';
import { SimCluster, simNodeConfig } from '@redkeep/vrrp/sim';
import { parsePcap } from '@redkeep/pcap';
import { ETHERTYPE_IPV4, parseEthernet } from '@redkeep/wire';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2;
const VECTORS = fileURLToPath(new URL('../../../test/vectors/keepalived-2.2.7', import.meta.url));

function vrrpDatagrams(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of readdirSync(VECTORS).filter((n) => n.endsWith('.pcap'))) {
    const p = parsePcap(new Uint8Array(readFileSync(join(VECTORS, f))));
    if (!p.ok) throw new Error(`${f}: ${p.reason}`);
    for (const r of p.file.records) {
      const e = parseEthernet(r.data);
      if (e.ok && e.link.etherType === ETHERTYPE_IPV4 && e.payload[9] === 112) out.push(e.payload);
    }
  }
  return out;
}

/** Runs fn in batches until `seconds` of wall time pass; returns operations per second. */
function rate(seconds: number, batch: number, fn: () => number): { perSecond: number; total: number } {
  let total = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) total += fn();
    now = performance.now();
  }
  return { perSecond: (total * 1000) / (now - start), total };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const datagrams = vrrpDatagrams();
let k = 0;
const decode = rate(SECONDS, 1000, () => {
  const r = decodeIpv4Datagram(datagrams[k++ % datagrams.length] ?? new Uint8Array());
  return r.ok ? 1 : 0;
});

const advert: VrrpAdvert = {
  version: 3,
  vrid: 51,
  priority: 100,
  advertIntervalCs: 10,
  family: 'ipv4',
  addresses: ['192.0.2.50'],
  authType: 'none',
};
const encode = rate(SECONDS, 1000, () => encodeVrrp(advert, { src: '192.0.2.11', dst: '224.0.0.18' }).length > 0 ? 1 : 0);

// One backup instance fed adverts from a higher-priority master: the hot path of a real agent.
const inst = new VrrpInstance({
  name: 'bench',
  vrid: 51,
  version: 3,
  family: 'ipv4',
  priority: 100,
  advertIntervalCs: 10,
  preempt: true,
  preemptDelayMs: 0,
  primaryAddress: '192.0.2.10',
  virtualAddresses: ['192.0.2.50'],
  garp: KEEPALIVED_GARP_DEFAULTS,
  tracks: [],
});
inst.handle({ type: 'start' }, 0);
const master = { ...advert, priority: 200 };
let t = 0;
const handle = rate(SECONDS, 1000, () => {
  t += 100;
  inst.handle({ type: 'advert', advert: master, source: '192.0.2.20' }, t);
  return 1;
});

// A five-node cluster at 100 ms adverts, with a failover every simulated 10 s.
function simRate(wire: boolean): { eventsPerSecond: number; simSecondsPerSecond: number } {
  const sim = new SimCluster({
    nodes: [0, 1, 2, 3, 4].map((i) => simNodeConfig(i, { advertIntervalCs: 10, priority: 100 + 10 * i })),
    latency: { minMs: 0.05, maxMs: 0.5 },
    wire,
  });
  sim.startAll();
  const start = performance.now();
  let round = 0;
  while (performance.now() - start < SECONDS * 1000) {
    const victim = `n${4 - (round % 5)}`;
    sim.shutdown(victim);
    sim.runFor(5000);
    sim.start(victim);
    sim.runFor(5000);
    round++;
  }
  const wall = (performance.now() - start) / 1000;
  return { eventsPerSecond: sim.inputs / wall, simSecondsPerSecond: sim.nowMs / 1000 / wall };
}
const simWire = simRate(true);
const simBare = simRate(false);

console.log(`redkeep VRRP core benchmark (${SECONDS} s per measurement, node ${process.version})`);
console.log(`decode  IPv4 datagram (keepalived captures): ${fmt(decode.perSecond)} packets/s`);
console.log(`encode  VRRPv3 advert:                       ${fmt(encode.perSecond)} packets/s`);
console.log(`state machine, backup receiving adverts:     ${fmt(handle.perSecond)} events/s`);
console.log(
  `simulated 5-node cluster, 100 ms adverts, bytes on the wire: ${fmt(simWire.eventsPerSecond)} events/s (${fmt(simWire.simSecondsPerSecond)} simulated s per s)`,
);
console.log(
  `simulated 5-node cluster, 100 ms adverts, adverts as objects: ${fmt(simBare.eventsPerSecond)} events/s (${fmt(simBare.simSecondsPerSecond)} simulated s per s)`,
);
