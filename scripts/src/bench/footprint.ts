// Benchmark (not a test): the footprint of redkeep and of keepalived 2.2.7 holding N VRRP
// instances (VRRPv3, multicast, VRIDs 1..N on one interface, one VIP each, no Redis) in the
// namespace lab: h1 master (priority 150), h2 backup (priority 100), a client that captures.
// For each implementation and instance count, in a fresh lab: wait until h1 holds every VIP,
// warm up, then over the window measure
//   CPU (utime+stime from /proc/<pid>/stat, % of one core) and RSS (VmRSS) of the master's and
//     the backup's agent (keepalived: its processes summed, and its VRRP child alone);
//   the adverts the client receives from the master (tcpdump, kernel timestamps): seen against
//     expected, per-VRID interval jitter, late intervals (> 1.5 x the advert interval), the
//     longest silence of any VRID.
// A run is WEDGED when a VRID goes silent for more than 3 advert intervals, the master loses a
// VIP or an election, an agent exits, or an agent uses more than 50 % of a core. It prints
// numbers and asserts nothing.
//
//   node scripts/dist/bench/footprint.js [--instances 1,64,255] [--impl redkeep,keepalived]
//     [--interval 100ms[,1s]] [--seconds 30] [--warmup 6] [--json] [--cpu-prof DIR]
//
// --cpu-prof DIR runs the master's redkeep under `node --cpu-prof --cpu-prof-dir=DIR` (the
// profile is written when it stops on SIGTERM); its CPU numbers then include the profiler.

import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Lab, REDKEEP_BIN, RunDir, sleep } from '../lab/index.js';
import { AdvertCapture, type AdvertTiming, advertTiming } from './advert-capture.js';
import {
  CLOCK_TICKS_PER_S,
  type Snapshot,
  cmdlineOf,
  cpuPercent,
  machineTicks,
  pidsInNamespace,
  pidsWithCmdline,
  rssMb,
  snapshot,
} from './proc-usage.js';

type Impl = 'redkeep' | 'keepalived';

const MASTER = 'h1';
const BACKUP = 'h2';
const PRIORITY: Readonly<Record<string, number>> = { h1: 150, h2: 100 };
const REDKEEP_LOG_LEVEL = 'warn';
const WEDGE_SILENCE_INTERVALS = 3;
const WEDGE_CPU_PERCENT = 50;
const LOG_TAIL_CHARS = 64 * 1024;

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,64,255' },
    impl: { type: 'string', default: 'redkeep,keepalived' },
    interval: { type: 'string', default: '100ms' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '6' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});

function parseIntervalMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  // VRRPv3: centiseconds, 10 ms .. 40.95 s (RFC 5798 §5.2.7).
  if (!Number.isInteger(ms) || ms % 10 !== 0 || ms < 10 || ms > 40_950) {
    throw new Error(`--interval: "${text}" is not an advert interval such as 100ms or 1s (10ms..40950ms in steps of 10 ms)`);
  }
  return ms;
}

const instanceCounts = values.instances.split(',').map((x) => {
  const n = Number(x.trim());
  if (!Number.isInteger(n) || n < 1 || n > 255) throw new Error(`--instances: "${x}" is not a count of 1..255`);
  return n;
});
const impls = values.impl.split(',').map((x) => {
  const i = x.trim();
  if (i !== 'redkeep' && i !== 'keepalived') throw new Error(`--impl: "${i}" is neither redkeep nor keepalived`);
  return i as Impl;
});
const intervals = values.interval.split(',').map((x) => ({ text: x.trim(), ms: parseIntervalMs(x) }));
const windowS = Number(values.seconds);
const warmupS = Number(values.warmup);
if (!(windowS > 0) || !(warmupS >= 0)) throw new Error('--seconds must be > 0 and --warmup >= 0');
const cpuProfDir = values['cpu-prof'];

/**
 * The VIP of a VRID. 255 VIPs do not fit in the lab's 192.0.2.0/24 (it uses .11, .12 and .100):
 * VRIDs 1..254 take 198.51.100.1..254, VRID 255 takes 192.0.2.254. Outside the interface's
 * subnet is fine for both agents.
 */
function vipOf(vrid: number): string {
  return vrid <= 254 ? `198.51.100.${vrid}/24` : `192.0.2.254/24`;
}

function redkeepConfig(host: string, socket: string, n: number, interval: string): string {
  const lines = ['[agent]', `name = "${host}"`, `control_socket = "${socket}"`, `log_level = "${REDKEEP_LOG_LEVEL}"`, ''];
  for (let vrid = 1; vrid <= n; vrid++) {
    lines.push(
      '[[instance]]',
      `name = "vr${vrid}"`,
      'interface = "eth0"',
      `vrid = ${vrid}`,
      `priority = ${PRIORITY[host] ?? 100}`,
      'version = 3',
      `advert_interval = "${interval}"`,
      'preempt = true',
      `virtual_addresses = ["${vipOf(vrid)}"]`,
      '',
    );
  }
  return lines.join('\n');
}

function keepalivedConfig(host: string, n: number, intervalMs: number): string {
  const lines = ['global_defs {', `  router_id ${host}`, '  vrrp_version 3', '  script_user root', '  enable_script_security', '}'];
  for (let vrid = 1; vrid <= n; vrid++) {
    lines.push(
      `vrrp_instance VI_${vrid} {`,
      '  state BACKUP',
      '  interface eth0',
      `  virtual_router_id ${vrid}`,
      `  priority ${PRIORITY[host] ?? 100}`,
      `  advert_int ${intervalMs / 1000}`,
      '  virtual_ipaddress {',
      `    ${vipOf(vrid)}`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The last LOG_TAIL_CHARS of a process' output (its pipes must be drained or it blocks). */
class LogTail {
  text = '';
  attach(child: ChildProcess): void {
    const add = (d: Buffer): void => {
      this.text += d.toString();
      if (this.text.length > 2 * LOG_TAIL_CHARS) this.text = this.text.slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  }
  tail(lines: number): string {
    return this.text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

async function exitedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    new Promise<boolean>((r) => child.once('exit', () => r(true))),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  if (timer) clearTimeout(timer);
  return done;
}

/** One agent on one lab host: its processes are found by the config path on their command line. */
class AgentRun {
  readonly logs = new LogTail();
  readonly child: ChildProcess;

  constructor(
    private readonly lab: Lab,
    readonly impl: Impl,
    readonly host: string,
    readonly config: string,
    argv: readonly string[],
    private readonly vrrpPidFile?: string,
  ) {
    this.child = lab.spawn(host, argv);
    this.logs.attach(this.child);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Every process of this agent, and keepalived's VRRP child (from its pid file). */
  pids(): { all: number[]; vrrp: number | undefined } {
    const all = pidsInNamespace(this.lab.host(this.host).ns).filter((pid) => cmdlineOf(pid).includes(this.config));
    let vrrp: number | undefined;
    if (this.vrrpPidFile && existsSync(this.vrrpPidFile)) {
      const pid = Number(readFileSync(this.vrrpPidFile, 'utf8').trim());
      if (all.includes(pid)) vrrp = pid;
    }
    return { all, vrrp };
  }

  /** How the last stop() went: its duration, and whether SIGKILL was needed. */
  stopped: { ms: number; killed: boolean; exit: string } | undefined;

  /** SIGTERM, then SIGKILL to whatever of it is left after `graceMs`. Never throws. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    const t0 = performance.now();
    const wasRunning = !this.exited;
    if (wasRunning) this.child.kill('SIGTERM');
    const end = Date.now() + graceMs;
    while (Date.now() < end && (!this.exited || this.pids().all.length > 0)) await sleep(50);
    let killed = false;
    for (const pid of this.pids().all) {
      try {
        process.kill(pid, 'SIGKILL');
        killed = true;
      } catch {
        // gone meanwhile
      }
    }
    if (!this.exited) {
      this.child.kill('SIGKILL');
      killed = true;
    }
    await exitedWithin(this.child, 2000);
    const exit = String(this.child.exitCode ?? this.child.signalCode);
    this.stopped = wasRunning ? { ms: performance.now() - t0, killed, exit } : undefined;
  }
}

function startAgent(lab: Lab, dir: RunDir, impl: Impl, host: string, n: number, interval: { text: string; ms: number }): AgentRun {
  if (impl === 'redkeep') {
    const config = dir.file(`${host}.toml`, redkeepConfig(host, join(dir.path, `${host}.sock`), n, interval.text));
    const check = lab.exec(host, [process.execPath, REDKEEP_BIN, 'check-config', config]);
    if (check.status !== 0) throw new Error(`redkeep check-config ${config} failed:\n${check.stdout}${check.stderr}`);
    // Profiled, an unhandled rejection during shutdown must not end the process before the
    // profile is written (it does at 64+ instances: the agent exits with status 7).
    const prof = cpuProfDir !== undefined && host === MASTER ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, '--unhandled-rejections=warn'] : [];
    return new AgentRun(lab, impl, host, config, [process.execPath, ...prof, REDKEEP_BIN, 'run', '--config', config]);
  }
  const config = dir.file(`${host}-keepalived.conf`, keepalivedConfig(host, n, interval.ms));
  const run = dir.dir(`${host}-keepalived-run`);
  const vrrpPid = join(run, 'vrrp.pid');
  return new AgentRun(
    lab,
    impl,
    host,
    config,
    [
      'keepalived',
      '--dont-fork',
      '--log-console',
      '--no-syslog',
      '--vrrp',
      `--use-file=${config}`,
      `--pid=${join(run, 'keepalived.pid')}`,
      `--vrrp_pid=${vrrpPid}`,
    ],
    vrrpPid,
  );
}

function vipsHeld(lab: Lab, host: string, vips: ReadonlySet<string>): number {
  try {
    return lab.addresses(host).filter((a) => vips.has(a)).length;
  } catch {
    return -1;
  }
}

interface HostUsage {
  readonly pids: number[];
  /** keepalived's VRRP child. */
  readonly vrrpPid: number | undefined;
  /** The spawned pid is the agent itself (`ip netns exec` execs). */
  readonly spawnedPidIsAgent: boolean;
  readonly cpuPercent: number;
  /** The busiest one-second sample. */
  readonly cpuMaxPerSecondPercent: number;
  readonly rssMb: number;
  readonly rssMaxMb: number;
  readonly vrrpCpuPercent: number | undefined;
  readonly vrrpRssMb: number | undefined;
  readonly vrrpRssMaxMb: number | undefined;
  /** The set of processes changed during the window (a child respawned or exited). */
  readonly pidsChanged: boolean;
}

interface RunResult {
  readonly impl: Impl;
  readonly instances: number;
  readonly interval: string;
  readonly intervalMs: number;
  readonly redkeepLogLevel: string | undefined;
  readonly cpuProfiled: boolean;
  /** Time from start to h1 holding every VIP; undefined if it never did. */
  readonly convergedMs: number | undefined;
  readonly vipsOnMasterAtWindowStart: number;
  readonly minVipsOnMaster: number;
  readonly maxVipsOnBackup: number;
  readonly master: HostUsage | undefined;
  readonly backup: HostUsage | undefined;
  readonly adverts: AdvertTiming | undefined;
  readonly tcpdumpDroppedByKernel: number | undefined;
  readonly tcpdumpUnparsed: number;
  /** The whole machine's busy CPU during the window, % of all cores (other users included). */
  readonly machineBusyPercent: number;
  readonly cores: number;
  readonly wedged: string[];
  /** SIGTERM to exit, per host, and whether SIGKILL was needed (undefined: it had exited already). */
  readonly stop: Record<string, { ms: number; killed: boolean; exit: string } | undefined>;
  /** VRIDs for which the stopping master's priority-0 advert was captured. */
  readonly resignedVrids: number | undefined;
  readonly error: string | undefined;
  readonly logTail: string | undefined;
}

class UsageTracker {
  private first: Snapshot | undefined;
  private prev: Snapshot | undefined;
  private last: Snapshot | undefined;
  private readonly startPids: number[];
  private readonly spawnedPidIsAgent: boolean;
  private vrrpPid: number | undefined;
  private rssMaxMb = 0;
  private vrrpRssMaxMb = 0;
  private cpuMaxPerSecond = 0;
  private changed = false;

  constructor(private readonly agent: AgentRun) {
    const p = agent.pids();
    this.startPids = p.all;
    this.vrrpPid = p.vrrp;
    const spawned = agent.child.pid;
    this.spawnedPidIsAgent = spawned !== undefined && p.all.includes(spawned) && !/^ip netns/.test(cmdlineOf(spawned));
  }

  sample(): void {
    const now = this.agent.pids().all;
    if (now.length !== this.startPids.length || now.some((p) => !this.startPids.includes(p))) this.changed = true;
    const s = snapshot(this.startPids, performance.now());
    this.first ??= s;
    if (this.prev) this.cpuMaxPerSecond = Math.max(this.cpuMaxPerSecond, cpuPercent(this.prev, s, this.startPids));
    this.rssMaxMb = Math.max(this.rssMaxMb, rssMb(s, this.startPids));
    if (this.vrrpPid !== undefined) this.vrrpRssMaxMb = Math.max(this.vrrpRssMaxMb, rssMb(s, [this.vrrpPid]));
    this.prev = s;
    this.last = s;
  }

  result(): HostUsage {
    const a = this.first;
    const b = this.last;
    if (!a || !b) throw new Error('no samples');
    const vrrp = this.vrrpPid;
    return {
      pids: this.startPids,
      vrrpPid: vrrp,
      spawnedPidIsAgent: this.spawnedPidIsAgent,
      cpuPercent: cpuPercent(a, b, this.startPids),
      cpuMaxPerSecondPercent: this.cpuMaxPerSecond,
      rssMb: rssMb(b, this.startPids),
      rssMaxMb: this.rssMaxMb,
      vrrpCpuPercent: vrrp !== undefined ? cpuPercent(a, b, [vrrp]) : undefined,
      vrrpRssMb: vrrp !== undefined ? rssMb(b, [vrrp]) : undefined,
      vrrpRssMaxMb: vrrp !== undefined ? this.vrrpRssMaxMb : undefined,
      pidsChanged: this.changed,
    };
  }
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function runOne(impl: Impl, n: number, interval: { text: string; ms: number }): Promise<RunResult> {
  const lab = Lab.create({ hosts: 2, ipv6: false });
  const dir = new RunDir();
  const agents: AgentRun[] = [];
  let capture: AdvertCapture | undefined;
  const vips = new Set(Array.from({ length: n }, (_, i) => vipOf(i + 1)));
  const wedged: string[] = [];
  let convergedMs: number | undefined;
  let vipsAtStart = 0;
  let minVipsOnMaster = Infinity;
  let maxVipsOnBackup = 0;
  let master: HostUsage | undefined;
  let backup: HostUsage | undefined;
  let adverts: AdvertTiming | undefined;
  let dropped: number | undefined;
  let unparsed = 0;
  let machineBusyPercent = NaN;
  let resignedVrids: number | undefined;
  let error: string | undefined;
  try {
    const t0 = performance.now();
    const m = startAgent(lab, dir, impl, MASTER, n, interval);
    agents.push(m);
    const b = startAgent(lab, dir, impl, BACKUP, n, interval);
    agents.push(b);

    // h1 must come to hold every VIP; if it never does, the window is measured all the same.
    const settleTimeoutMs = 30_000 + 100 * n;
    let held = 0;
    while (performance.now() - t0 < settleTimeoutMs && !m.exited && !b.exited) {
      held = vipsHeld(lab, MASTER, vips);
      if (held === n) {
        convergedMs = performance.now() - t0;
        break;
      }
      await sleep(100);
    }
    if (convergedMs === undefined) {
      wedged.push(`never became master of all: ${held}/${n} VIPs on ${MASTER} after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    progress(`  ${impl} ${n} x ${interval.text}: ${convergedMs !== undefined ? `master of all in ${(convergedMs / 1000).toFixed(2)} s` : 'NOT master of all'}, warm-up ${warmupS} s, window ${windowS} s`);

    capture = await AdvertCapture.start(lab, 'client', dir.file('adverts.pcap'));
    await sleep(warmupS * 1000);

    const mt = new UsageTracker(m);
    const bt = new UsageTracker(b);
    vipsAtStart = vipsHeld(lab, MASTER, vips);
    const cpu0 = machineTicks();
    const w0S = Date.now() / 1000;
    const w0 = performance.now();
    mt.sample();
    bt.sample();
    for (let k = 1; k <= Math.ceil(windowS); k++) {
      const due = w0 + Math.min(k, windowS) * 1000;
      await sleep(Math.max(0, due - performance.now()));
      mt.sample();
      bt.sample();
      if (k < Math.ceil(windowS)) {
        minVipsOnMaster = Math.min(minVipsOnMaster, vipsHeld(lab, MASTER, vips));
        maxVipsOnBackup = Math.max(maxVipsOnBackup, vipsHeld(lab, BACKUP, vips));
      }
    }
    const w1S = Date.now() / 1000;
    const cpu1 = machineTicks();
    minVipsOnMaster = Math.min(minVipsOnMaster, vipsHeld(lab, MASTER, vips));
    maxVipsOnBackup = Math.max(maxVipsOnBackup, vipsHeld(lab, BACKUP, vips));
    machineBusyPercent = (100 * (cpu1.busy - cpu0.busy)) / (cpu1.total - cpu0.total);
    master = mt.result();
    backup = bt.result();

    // The master stops first, still captured: on shutdown a master sends priority 0 for each of
    // its VRIDs (RFC 5798 §6.4.3), which the client should see.
    const exitedInWindow = agents.filter((a) => a.exited).map((a) => `${a.host} agent exited (${a.child.exitCode ?? a.child.signalCode})`);
    const stopS = Date.now() / 1000;
    await m.stop();
    // tcpdump (TPACKET_V3) hands frames over in blocks, up to its 1 s buffer timeout late: wait
    // for the last frames to reach the file before stopping it.
    await sleep(1500);
    dropped = (await capture.stop()).droppedByKernel;
    const read = capture.read();
    unparsed = read.unparsed;
    const masterAddress = lab.host(MASTER).address;
    adverts = advertTiming(read.adverts, masterAddress, n, interval.ms, w0S, w1S, WEDGE_SILENCE_INTERVALS * interval.ms);
    resignedVrids = new Set(read.adverts.filter((a) => a.src === masterAddress && a.priority === 0 && a.timestamp >= stopS).map((a) => a.vrid)).size;

    // What makes a run wedged.
    if (adverts.silentVrids > 0) {
      wedged.push(`${adverts.silentVrids} VRID(s) silent > ${WEDGE_SILENCE_INTERVALS} intervals (longest: VRID ${adverts.longestSilenceVrid}, ${adverts.longestSilenceMs.toFixed(0)} ms)`);
    }
    if (minVipsOnMaster < n) wedged.push(`${MASTER} held only ${minVipsOnMaster}/${n} VIPs at some sample`);
    if (maxVipsOnBackup > 0) wedged.push(`${BACKUP} held ${maxVipsOnBackup} VIP(s) at some sample`);
    if (adverts.fromOthers > 0) wedged.push(`${adverts.fromOthers} adverts from a router other than ${MASTER} (it lost elections)`);
    if (adverts.priorityZero > 0) wedged.push(`${adverts.priorityZero} priority-0 adverts from ${MASTER}`);
    for (const [host, u] of [[MASTER, master], [BACKUP, backup]] as const) {
      if (u.cpuPercent > WEDGE_CPU_PERCENT) wedged.push(`${host} agent at ${u.cpuPercent.toFixed(1)} % CPU`);
      if (u.pidsChanged) wedged.push(`${host} agent's processes changed during the window (exit or respawn)`);
    }
    wedged.push(...exitedInWindow);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await capture?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    lab.destroy();
    // Nothing of this run may survive it: any process naming the run directory is ours.
    const left = pidsWithCmdline(dir.path);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (left.length > 0) progress(`  left behind and killed: pids ${left.join(', ')}`);
    dir.remove();
  }
  const badExit = agents.some((a) => a.stopped !== undefined && (a.stopped.killed || a.stopped.exit !== '0'));
  const noisy = wedged.length > 0 || error !== undefined || badExit;
  return {
    impl,
    instances: n,
    interval: interval.text,
    intervalMs: interval.ms,
    redkeepLogLevel: impl === 'redkeep' ? REDKEEP_LOG_LEVEL : undefined,
    cpuProfiled: impl === 'redkeep' && cpuProfDir !== undefined,
    convergedMs,
    vipsOnMasterAtWindowStart: vipsAtStart,
    minVipsOnMaster: Number.isFinite(minVipsOnMaster) ? minVipsOnMaster : 0,
    maxVipsOnBackup,
    master,
    backup,
    adverts,
    tcpdumpDroppedByKernel: dropped,
    tcpdumpUnparsed: unparsed,
    machineBusyPercent,
    cores: cpus().length,
    wedged,
    stop: Object.fromEntries(agents.map((a) => [a.host, a.stopped])),
    resignedVrids,
    error,
    logTail: noisy ? agents.map((a) => `[${a.host}]\n${a.logs.tail(40)}`).join('\n') : undefined,
  };
}

// ---- printing ----

function fmt(x: number | undefined, digits = 1): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

function cpuText(x: number | undefined): string {
  return fmt(x, x !== undefined && x < 10 ? 2 : 1);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0)) return '-';
  return `${(a / b).toFixed(2)}x`;
}

function onTimePercent(t: AdvertTiming | undefined): number | undefined {
  return t ? (100 * t.onTime) / t.expected : undefined;
}

function cells(r: RunResult | undefined): string[] {
  if (!r) return ['', '', '', '', '', '', '', ''];
  if (r.error !== undefined) return ['error', '', '', '', '', '', '', 'ERROR'];
  const t = r.adverts;
  return [
    cpuText(r.master?.cpuPercent),
    fmt(r.master?.rssMb),
    cpuText(r.backup?.cpuPercent),
    fmt(r.backup?.rssMb),
    fmt(onTimePercent(t)),
    t ? `${fmt(t.jitterP50Ms, 2)} / ${fmt(t.jitterP99Ms, 2)} / ${fmt(t.jitterMaxMs, 1)}` : '-',
    t ? String(t.late) : '-',
    r.wedged.length > 0 ? 'WEDGED' : 'no',
  ];
}

function printTables(results: readonly RunResult[]): void {
  const out: string[] = [];
  out.push('');
  out.push(
    `footprint: VRRPv3 multicast, N instances on eth0 (VRIDs 1..N, one VIP each), h1 master (priority 150), h2 backup (100), ` +
      `no Redis; warm-up ${warmupS} s, window ${windowS} s; CPU as % of one core (CLK_TCK ${CLOCK_TICKS_PER_S}), ${cpus().length} cores on this machine`,
  );
  out.push(`redkeep runs with log_level = "${REDKEEP_LOG_LEVEL}"; keepalived 2.2.7 with --log-console --no-syslog; keepalived CPU and RSS are its parent and VRRP child summed`);
  if (cpuProfDir !== undefined) out.push(`NOTE: the master's redkeep ran under --cpu-prof (profiler overhead included in its CPU)`);
  out.push('adverts on time: adverts from h1 within 1.5 intervals of the previous one of their VRID, as % of N x window / interval; jitter: |interval - advert interval|');
  for (const iv of intervals) {
    out.push('');
    out.push(`### advert interval ${iv.text}`);
    out.push('');
    const head = ['master CPU %', 'master RSS MB', 'backup CPU %', 'backup RSS MB', 'on time %', 'jitter p50 / p99 / max ms', 'late', 'wedged'];
    out.push(`| N | ${impls.flatMap((i) => head.map((h) => `${i}: ${h}`)).join(' | ')} |`);
    out.push(`|---:|${impls.flatMap(() => head.map(() => '---:')).join('|')}|`);
    for (const n of instanceCounts) {
      const row = impls.flatMap((i) => cells(results.find((r) => r.impl === i && r.instances === n && r.interval === iv.text)));
      out.push(`| ${n} | ${row.join(' | ')} |`);
    }
    if (impls.includes('redkeep') && impls.includes('keepalived')) {
      out.push('');
      out.push('| N | redkeep/keepalived master CPU | master RSS | backup CPU | backup RSS |');
      out.push('|---:|---:|---:|---:|---:|');
      for (const n of instanceCounts) {
        const rk = results.find((r) => r.impl === 'redkeep' && r.instances === n && r.interval === iv.text);
        const ka = results.find((r) => r.impl === 'keepalived' && r.instances === n && r.interval === iv.text);
        out.push(
          `| ${n} | ${ratio(rk?.master?.cpuPercent, ka?.master?.cpuPercent)} | ${ratio(rk?.master?.rssMb, ka?.master?.rssMb)} | ` +
            `${ratio(rk?.backup?.cpuPercent, ka?.backup?.cpuPercent)} | ${ratio(rk?.backup?.rssMb, ka?.backup?.rssMb)} |`,
        );
      }
    }
  }
  out.push('');
  out.push('details:');
  for (const r of results) {
    const name = `${r.impl} ${r.instances} x ${r.interval}`;
    if (r.error !== undefined) {
      out.push(`- ${name}: ERROR ${r.error}`);
      continue;
    }
    const t = r.adverts;
    const usage = (u: HostUsage | undefined): string => {
      if (!u) return '-';
      const base = `CPU ${cpuText(u.cpuPercent)} % (busiest second ${cpuText(u.cpuMaxPerSecondPercent)} %), RSS ${fmt(u.rssMb)} MB (max ${fmt(u.rssMaxMb)}), pids ${u.pids.join('+')}`;
      const vrrp = u.vrrpPid !== undefined ? `; VRRP child ${u.vrrpPid} alone: CPU ${cpuText(u.vrrpCpuPercent)} %, RSS ${fmt(u.vrrpRssMb)} MB (max ${fmt(u.vrrpRssMaxMb)})` : '';
      const spawned = r.impl === 'redkeep' ? `; spawned pid is node: ${u.spawnedPidIsAgent ? 'yes' : 'NO'}` : '';
      return base + vrrp + spawned;
    };
    out.push(`- ${name}: master of all ${r.convergedMs !== undefined ? `after ${(r.convergedMs / 1000).toFixed(2)} s` : 'NEVER'}; VIPs on h1 at window start ${r.vipsOnMasterAtWindowStart}/${r.instances}, min ${r.minVipsOnMaster}; on h2 max ${r.maxVipsOnBackup}; machine busy ${fmt(r.machineBusyPercent)} % of ${r.cores} cores`);
    out.push(`    master: ${usage(r.master)}`);
    out.push(`    backup: ${usage(r.backup)}`);
    if (t) {
      out.push(
        `    adverts from h1: ${t.seen} seen / ${fmt(t.expected, 0)} expected in ${fmt(t.windowS, 2)} s (${fmt((100 * t.seen) / t.expected)} %), on time ${t.onTime}, late ${t.late}, mean interval ${fmt(t.meanIntervalMs, 2)} ms, ` +
          `jitter p50 ${fmt(t.jitterP50Ms, 3)} p99 ${fmt(t.jitterP99Ms, 3)} max ${fmt(t.jitterMaxMs, 3)} ms, longest silence ${fmt(t.longestSilenceMs, 1)} ms (VRID ${t.longestSilenceVrid}), ` +
          `others ${t.fromOthers}, priority 0: ${t.priorityZero}; tcpdump dropped ${r.tcpdumpDroppedByKernel ?? '?'}, unparsed ${r.tcpdumpUnparsed}`,
      );
    }
    const stops = Object.entries(r.stop).map(([h, x]) => `${h} ${x ? `${(x.ms / 1000).toFixed(2)} s (exit ${x.exit}${x.killed ? ', SIGKILLED' : ''})` : 'had exited'}`);
    out.push(`    SIGTERM to exit: ${stops.join(', ')}; priority-0 adverts from the stopping master for ${r.resignedVrids ?? '?'}/${r.instances} VRIDs`);
    if (r.wedged.length > 0) out.push(`    WEDGED: ${r.wedged.join('; ')}`);
    if (r.logTail !== undefined && r.logTail.trim() !== '') {
      if (r.wedged.length > 0) out.push(`    agent output (tail):\n${r.logTail.replace(/^/gm, '      ')}`);
      else {
        // An exit with an error only: its first error line per host (--json has the tail).
        const firsts = r.logTail.split(/^\[(h\d+)\]$/m).slice(1);
        for (let i = 0; i + 1 < firsts.length; i += 2) {
          const line = /^.*Error\b.*$/m.exec(firsts[i + 1] ?? '')?.[0]?.trim();
          if (line) out.push(`    ${firsts[i] ?? ''} output: ${line}`);
        }
      }
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

const results: RunResult[] = [];
for (const iv of intervals) {
  for (const n of instanceCounts) {
    for (const impl of impls) {
      progress(`${impl}, ${n} instance(s), ${iv.text} adverts`);
      const r = await runOne(impl, n, iv);
      if (r.error !== undefined) progress(`  error: ${r.error}`);
      if (r.wedged.length > 0) progress(`  WEDGED: ${r.wedged.join('; ')}`);
      results.push(r);
    }
  }
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else printTables(results);
