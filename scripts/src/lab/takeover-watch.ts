// What the takeover host sees of a failover, from its own namespace: when a VIP comes up on its
// eth0 (the kernel's address event, `ip -ts monitor address`, as the takeover benchmark reads
// it) and every VRRP advert on the wire with its source and priority (tcpdump, kernel capture
// timestamps). Times are wall-clock ms, like the writer's and the role probe's.

import type { ChildProcess } from 'node:child_process';
import type { Lab } from './lab.js';
import { waitFor } from './procs.js';

export interface AdvertSeen {
  readonly atMs: number;
  readonly source: string;
  readonly priority: number;
}

export class TakeoverWatch {
  private readonly monitor: ChildProcess;
  private readonly capture: ChildProcess;
  private monitorText = '';
  private captureText = '';
  private captureErr = '';
  private failure: string | undefined;

  constructor(lab: Lab, readonly host: string, readonly vip: string) {
    this.monitor = lab.spawn(host, ['ip', '-ts', '-o', 'monitor', 'address', 'dev', 'eth0'], { env: { ...process.env, TZ: 'UTC' } });
    this.monitor.stdout?.on('data', (d: Buffer) => (this.monitorText += d.toString()));
    this.monitor.on('error', (e) => (this.failure = `ip monitor: ${e.message}`));
    this.capture = lab.spawn(host, ['tcpdump', '-i', 'eth0', '-n', '-l', '-tt', '-p', '--immediate-mode', 'ip proto 112']);
    this.capture.stdout?.on('data', (d: Buffer) => (this.captureText += d.toString()));
    this.capture.stderr?.on('data', (d: Buffer) => (this.captureErr += d.toString()));
    this.capture.on('error', (e) => (this.failure = `tcpdump: ${e.message}`));
  }

  /** Resolves once tcpdump captures (it says "listening on"). */
  async ready(timeoutMs = 5000): Promise<void> {
    await waitFor(`tcpdump on ${this.host} to listen`, timeoutMs, () => {
      if (this.failure !== undefined) throw new Error(this.failure);
      if (this.capture.exitCode !== null) throw new Error(`tcpdump exited: ${this.captureErr.trim()}`);
      return /listening on/.test(this.captureErr);
    }, 20);
  }

  /** The first time at or after `sinceMs` the VIP was added to the host's eth0. */
  vipUpAt(sinceMs: number): number | undefined {
    for (const m of this.monitorText.matchAll(/^\[(\S+)\]\s+(?!Deleted)\S+\s+\S+\s+inet (\S+)\//gm)) {
      const at = Date.parse(`${m[1]?.slice(0, 23)}Z`);
      if (m[2] === this.vip && at >= sinceMs) return at;
    }
    return undefined;
  }

  /** Every VRRP advert captured, in order. */
  adverts(): AdvertSeen[] {
    return [...this.captureText.matchAll(/^(\d+\.\d+) IP (\S+) > \S+: VRRPv\d, Advertisement, vrid \d+, prio (\d+)/gm)].map((m) => ({
      atMs: Number(m[1]) * 1000,
      source: m[2] ?? '',
      priority: Number(m[3]),
    }));
  }

  stop(): void {
    this.monitor.kill();
    this.capture.kill();
  }
}
