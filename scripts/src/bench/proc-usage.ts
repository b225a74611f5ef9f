// CPU time and resident memory of processes, read from /proc: what a footprint benchmark samples.
// Linux only. Reads never throw: a process that is gone reads as undefined.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`), the unit of utime and stime in /proc/<pid>/stat. */
export const CLOCK_TICKS_PER_S = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

export interface ProcReading {
  readonly pid: number;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  /** VmRSS, in KiB. */
  readonly rssKb: number;
  readonly ppid: number;
}

export function readProc(pid: number): ProcReading | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  // proc(5): state is field 3, ppid 4, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { pid, cpuTicks: utime + stime, rssKb: rss ? Number(rss[1]) : 0, ppid };
}

/** The process' argv joined by spaces ('' if it is gone). */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Every process whose network namespace is `ns`. */
export function pidsInNamespace(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
}

/** Every process on the machine whose command line contains `text`. */
export function pidsWithCmdline(text: string): number[] {
  const out = spawnSync('ls', ['/proc'], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .filter((x) => /^\d+$/.test(x))
    .map(Number)
    .filter((pid) => pid !== process.pid && cmdlineOf(pid).includes(text));
}

/** The whole machine's CPU time from /proc/stat, in clock ticks: busy (not idle nor iowait) and total. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** A set of processes read at one moment (performance.now() milliseconds). */
export interface Snapshot {
  readonly atMs: number;
  readonly procs: ReadonlyMap<number, ProcReading>;
}

export function snapshot(pids: readonly number[], atMs: number): Snapshot {
  const procs = new Map<number, ProcReading>();
  for (const pid of pids) {
    const r = readProc(pid);
    if (r) procs.set(pid, r);
  }
  return { atMs, procs };
}

/**
 * CPU use between two snapshots as % of one core, over the processes in `pids` that are in both
 * (a process that started or ended between them is left out, and reported by the caller).
 */
export function cpuPercent(a: Snapshot, b: Snapshot, pids: readonly number[]): number {
  const wallS = (b.atMs - a.atMs) / 1000;
  if (wallS <= 0) return NaN;
  let ticks = 0;
  for (const pid of pids) {
    const x = a.procs.get(pid);
    const y = b.procs.get(pid);
    if (x && y) ticks += y.cpuTicks - x.cpuTicks;
  }
  return (100 * ticks) / CLOCK_TICKS_PER_S / wallS;
}

/** Sum of VmRSS over `pids` in a snapshot, in MiB. */
export function rssMb(s: Snapshot, pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) kb += s.procs.get(pid)?.rssKb ?? 0;
  return kb / 1024;
}
