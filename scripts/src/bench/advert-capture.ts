// VRRP adverts as a lab host sees them: tcpdump in the host's namespace writes a pcap (kernel
// timestamps, microseconds), stopped and read afterwards. The capture is always ended by stop():
// SIGINT so tcpdump flushes and reports its drops, SIGKILL if it does not exit in time.

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parsePcap, LINKTYPE_ETHERNET } from '@redkeep/pcap';
import type { Lab } from '../lab/index.js';

export interface CapturedAdvert {
  /** Kernel receive time, seconds since the epoch. */
  readonly timestamp: number;
  readonly src: string;
  readonly vrid: number;
  readonly priority: number;
}

export interface CaptureCounts {
  /** tcpdump's own report at exit ("N packets dropped by kernel"); undefined if it printed none. */
  readonly droppedByKernel: number | undefined;
  readonly receivedByFilter: number | undefined;
  /** Records that are not an Ethernet/IPv4/VRRP frame (should be 0). */
  readonly unparsed: number;
}

const IP_PROTO_VRRP = 112;

export class AdvertCapture {
  private stderr = '';
  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdout?.resume();
  }

  /** Starts tcpdump on the host's eth0 and resolves once it is listening (or rejects after `timeoutMs`). */
  static async start(lab: Lab, host: string, file: string, timeoutMs = 5000): Promise<AdvertCapture> {
    const child = lab.spawn(host, [
      'tcpdump',
      '-i', 'eth0',
      '-n',
      '-U',
      '-s', '128',
      '-B', '8192',
      '--time-stamp-precision=micro',
      '-w', file,
      'ip proto 112',
    ]);
    const cap = new AdvertCapture(child, file);
    const end = Date.now() + timeoutMs;
    while (!/listening on/.test(cap.stderr)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tcpdump on ${host} exited: ${cap.stderr.trim()}`);
      if (Date.now() > end) {
        await cap.stop();
        throw new Error(`tcpdump on ${host} did not start within ${timeoutMs} ms: ${cap.stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return cap;
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends tcpdump (SIGINT, then SIGKILL after `graceMs`) and returns its counts. Safe to call twice. */
  async stop(graceMs = 3000): Promise<{ droppedByKernel: number | undefined; receivedByFilter: number | undefined }> {
    if (this.running) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      if (timer) clearTimeout(timer);
      if (this.running) this.child.kill('SIGKILL');
    }
    const dropped = /(\d+) packets? dropped by kernel/.exec(this.stderr);
    const received = /(\d+) packets? received by filter/.exec(this.stderr);
    return {
      droppedByKernel: dropped ? Number(dropped[1]) : undefined,
      receivedByFilter: received ? Number(received[1]) : undefined,
    };
  }

  /** The adverts in the pcap written so far (call after stop() for all of them). */
  read(): { adverts: CapturedAdvert[]; unparsed: number } {
    const parsed = parsePcap(readFileSync(this.file));
    if (!parsed.ok) throw new Error(`${this.file}: ${parsed.reason}`);
    const other = parsed.file.interfaces.find((i) => i.linkType !== LINKTYPE_ETHERNET);
    if (other) throw new Error(`${this.file}: link type ${other.linkType}, expected Ethernet`);
    const adverts: CapturedAdvert[] = [];
    let unparsed = 0;
    for (const rec of parsed.file.records) {
      // tcpdump writes classic pcap: every packet has its time.
      const a = advertOf(rec.data, rec.timestamp ?? Number.NaN);
      if (a) adverts.push(a);
      else unparsed++;
    }
    return { adverts, unparsed };
  }
}

/** Reads only what timing needs, straight from the bytes (not through the codec under test). */
function advertOf(frame: Uint8Array, timestamp: number): CapturedAdvert | undefined {
  if (frame.length < 14 + 20 + 4) return undefined;
  if (frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  const ip = 14;
  const b0 = frame[ip] ?? 0;
  if (b0 >> 4 !== 4) return undefined;
  const ihl = (b0 & 0x0f) * 4;
  if (frame[ip + 9] !== IP_PROTO_VRRP) return undefined;
  const vrrp = ip + ihl;
  if (frame.length < vrrp + 3) return undefined;
  return {
    timestamp,
    src: `${frame[ip + 12]}.${frame[ip + 13]}.${frame[ip + 14]}.${frame[ip + 15]}`,
    vrid: frame[vrrp + 1] ?? 0,
    priority: frame[vrrp + 2] ?? 0,
  };
}

export interface AdvertTiming {
  readonly vrids: number;
  readonly windowS: number;
  /** Adverts from the master with priority > 0 inside the window. */
  readonly seen: number;
  /** vrids × window / advert interval. */
  readonly expected: number;
  /** Adverts in the window that came at most 1.5 intervals after the previous one of their VRID. */
  readonly onTime: number;
  /** Intervals longer than 1.5 × the advert interval. */
  readonly late: number;
  /** Mean interval between consecutive adverts of a VRID (above the advert interval: a slow timer). */
  readonly meanIntervalMs: number;
  readonly jitterP50Ms: number;
  readonly jitterP99Ms: number;
  readonly jitterMaxMs: number;
  /** Longest time any VRID went without an advert from the master, window edges included. */
  readonly longestSilenceMs: number;
  readonly longestSilenceVrid: number;
  /** VRIDs silent for longer than `silenceLimitMs` at some point of the window. */
  readonly silentVrids: number;
  /** Adverts with priority > 0 from anyone but the master (the backup became master). */
  readonly fromOthers: number;
  /** Priority-0 adverts from the master (it resigned). */
  readonly priorityZero: number;
  /** Adverts for VRIDs outside 1..vrids. */
  readonly foreignVrid: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/**
 * Per VRID, the intervals between consecutive adverts from `master` whose later advert falls in
 * [t0S, t1S]; the last advert before the window counts as the predecessor of the first one in it.
 */
export function advertTiming(
  adverts: readonly CapturedAdvert[],
  master: string,
  vrids: number,
  intervalMs: number,
  t0S: number,
  t1S: number,
  silenceLimitMs: number,
): AdvertTiming {
  const byVrid = new Map<number, number[]>();
  for (let v = 1; v <= vrids; v++) byVrid.set(v, []);
  let fromOthers = 0;
  let priorityZero = 0;
  let foreignVrid = 0;
  for (const a of adverts) {
    if (a.timestamp > t1S) continue;
    const inWindow = a.timestamp >= t0S;
    const list = byVrid.get(a.vrid);
    if (!list) {
      if (inWindow) foreignVrid++;
      continue;
    }
    if (a.src !== master) {
      if (inWindow && a.priority > 0) fromOthers++;
      continue;
    }
    if (a.priority === 0) {
      if (inWindow) priorityZero++;
      continue;
    }
    list.push(a.timestamp);
  }
  const jitters: number[] = [];
  let gapSumMs = 0;
  let seen = 0;
  let onTime = 0;
  let late = 0;
  let longestSilenceMs = 0;
  let longestSilenceVrid = 0;
  let silentVrids = 0;
  const lateMs = 1.5 * intervalMs;
  for (const [vrid, times] of byVrid) {
    times.sort((a, b) => a - b);
    let prev: number | undefined;
    let silenceMs = 0;
    for (const t of times) {
      if (t < t0S) {
        prev = t;
        continue;
      }
      seen++;
      const gapMs = (t - (prev ?? t0S)) * 1000;
      silenceMs = Math.max(silenceMs, gapMs);
      if (prev !== undefined) {
        jitters.push(Math.abs(gapMs - intervalMs));
        gapSumMs += gapMs;
        if (gapMs > lateMs) late++;
        else onTime++;
      } else if (gapMs <= lateMs) {
        onTime++;
      }
      prev = t;
    }
    silenceMs = Math.max(silenceMs, (t1S - Math.max(prev ?? t0S, t0S)) * 1000);
    if (silenceMs > silenceLimitMs) silentVrids++;
    if (silenceMs > longestSilenceMs) {
      longestSilenceMs = silenceMs;
      longestSilenceVrid = vrid;
    }
  }
  jitters.sort((a, b) => a - b);
  const windowS = t1S - t0S;
  return {
    vrids,
    windowS,
    seen,
    expected: (vrids * windowS * 1000) / intervalMs,
    onTime,
    late,
    meanIntervalMs: jitters.length ? gapSumMs / jitters.length : NaN,
    jitterP50Ms: quantile(jitters, 0.5),
    jitterP99Ms: quantile(jitters, 0.99),
    jitterMaxMs: jitters.length ? (jitters[jitters.length - 1] ?? NaN) : NaN,
    longestSilenceMs,
    longestSilenceVrid,
    silentVrids,
    fromOthers,
    priorityZero,
    foreignVrid,
  };
}
