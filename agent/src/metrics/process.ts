// The process's own numbers for /metrics and `redkeep status`, under the names Prometheus client
// libraries use. Read when asked (a scrape, a status request), never on a timer: CPU and resident
// memory from the kernel's accounting, open descriptors from /proc/self/fd.

import { readdirSync } from 'node:fs';
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ProcessSample } from '../status-types.js';

export type { ProcessSample };

export function sampleProcess(): ProcessSample {
  const cpu = process.cpuUsage();
  let openFds: number | undefined;
  try {
    // The listing holds the descriptor readdir opened for it.
    openFds = readdirSync('/proc/self/fd').length - 1;
  } catch {
    openFds = undefined;
  }
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: process.memoryUsage.rss(),
    openFds,
    startTimeS: performance.timeOrigin / 1000,
  };
}

/**
 * How late the event loop runs a timer due every RESOLUTION_MS: the longest delay since the last
 * read (a scrape), in seconds. The longest, not a percentile: one stall longer than
 * Master_Down_Interval is what makes a backup take over, and a p99 of the few samples in a scrape
 * interval would hide it. Runs only with the metrics endpoint; one wakeup per 100 ms costs about
 * 0.15 % of a core (10 ms, Node's default, about 0.8 %). Stalls shorter than the resolution show
 * only in part.
 */
export class EventLoopLag {
  static readonly RESOLUTION_MS = 100;
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: EventLoopLag.RESOLUTION_MS });

  constructor() {
    this.h.enable();
  }

  /** The longest delay since the last call, and start over. */
  takeMaxS(): number {
    // The histogram records the time between wakeups, the resolution included; none yet: 0.
    const maxNs = this.h.count > 0 ? this.h.max : 0;
    this.h.reset();
    return Math.max(0, maxNs / 1e6 - EventLoopLag.RESOLUTION_MS) / 1000;
  }

  stop(): void {
    this.h.disable();
  }
}
