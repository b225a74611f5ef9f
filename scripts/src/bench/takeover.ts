// Benchmark (not a test): takeover time after kill -9 of the master, VRRPv3 at 100 ms adverts,
// three hosts (priorities 100, 120, 130) on the namespace lab. For redkeep and, in the same lab,
// keepalived 2.2.7 with keepalived. Prints min / median / max over N runs of:
//   kill -> VIP up on the new master (kernel address event, `ip -ts monitor address`)
//   kill -> first gratuitous ARP from the new master seen by the client (`redkeep watch`)
//
//   node scripts/dist/bench/takeover.js [--runs 20] [--only redkeep|keepalived]

import type { ChildProcess } from 'node:child_process';
import { AgentProc, KeepalivedProc, Lab, REDKEEP_BIN, RunDir, holders, waitFor } from '../lab/index.js';

const VIP = '192.0.2.50';
const PRIORITIES: Record<string, number> = { h1: 100, h2: 120, h3: 130 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const RUNS = Number(arg('runs') ?? 20);
const ONLY = arg('only');

type Impl = 'redkeep' | 'keepalived';

interface Sample {
  vipUpMs: number;
  garpMs: number;
}

function lines(child: ChildProcess, onLine: (l: string) => void): void {
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

async function once(impl: Impl): Promise<Sample> {
  const lab = Lab.create({ hosts: 3, ipv6: false });
  const dir = new RunDir();
  try {
    const procs = lab.hosts.map((h) => {
      const o = { priority: PRIORITIES[h.name] ?? 100, advertInterval: '100ms' };
      return impl === 'redkeep' ? new AgentProc(lab, h.name, dir, o).start() : new KeepalivedProc(lab, h.name, dir, o).start();
    });
    await waitFor('h3 to settle as master', 10_000, () => {
      const hs = holders(lab, VIP);
      return hs.length === 1 && hs[0] === 'h3';
    });
    // Watchers: the kernel's address events on h2, and frames seen by the client.
    let vipUpAt: number | undefined;
    const mon = lab.spawn('h2', ['ip', '-ts', '-o', 'monitor', 'address', 'dev', 'eth0'], { env: { ...process.env, TZ: 'UTC' } });
    lines(mon, (l) => {
      const m = /^\[(\S+)\]\s+(?!Deleted).*inet (\S+)\//.exec(l);
      if (m && m[2] === VIP && vipUpAt === undefined) vipUpAt = Date.parse(`${m[1]?.slice(0, 23)}Z`);
    });
    let garpAt: number | undefined;
    const h2mac = lab.host('h2').mac;
    const watch = lab.spawn('client', [process.execPath, REDKEEP_BIN, 'watch', '--interface', 'eth0', '--json']);
    lines(watch, (l) => {
      const j = JSON.parse(l) as { kind: string; srcMac: string; timestamp: number; arp?: { senderIp: string } };
      if (garpAt === undefined && j.kind === 'arp' && j.srcMac === h2mac && j.arp?.senderIp === VIP) garpAt = j.timestamp * 1000;
    });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    if (impl === 'redkeep') (procs[2] as AgentProc).signal('SIGKILL');
    else (procs[2] as KeepalivedProc).kill();
    await waitFor('h2 to take over and announce', 10_000, () => vipUpAt !== undefined && garpAt !== undefined, 5);
    mon.kill();
    watch.kill();
    return { vipUpMs: (vipUpAt ?? NaN) - t0, garpMs: (garpAt ?? NaN) - t0 };
  } finally {
    lab.destroy();
    dir.remove();
  }
}

function summary(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] ?? NaN : ((s[s.length / 2 - 1] ?? NaN) + (s[s.length / 2] ?? NaN)) / 2;
  return `min ${s[0]?.toFixed(0)} ms, median ${med.toFixed(0)} ms, max ${s[s.length - 1]?.toFixed(0)} ms`;
}

const impls: Impl[] = ONLY === 'redkeep' || ONLY === 'keepalived' ? [ONLY] : ['redkeep', 'keepalived'];
console.log(`takeover after kill -9 of the master: VRRPv3, 100 ms adverts, 3 hosts (priorities 100/120/130), ${RUNS} runs`);
console.log('expected floor: Master_Down_Interval of the 120 backup = 3 x 100 ms + Skew_Time 53 ms = 353 ms after its last advert');
for (const impl of impls) {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(impl));
  console.log(`${impl.padEnd(10)} kill -> VIP up on new master:  ${summary(samples.map((s) => s.vipUpMs))}`);
  console.log(`${impl.padEnd(10)} kill -> first GARP on the wire: ${summary(samples.map((s) => s.garpMs))}`);
}
