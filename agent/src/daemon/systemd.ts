// sd_notify(3) for Type=notify units: READY=1 once every instance runs, STATUS= on each change
// ("MASTER on redis-write"), WATCHDOG=1 every half WatchdogSec while the event loop turns,
// RELOADING=1 (with MONOTONIC_USEC) when a reload begins and READY=1 when it ends, refused or not,
// and STOPPING=1 when the one shutdown path begins, then EXTEND_TIMEOUT_USEC every few seconds
// while it runs, so that a long hand-over is not cut short by TimeoutStopSec. Off (every call a
// no-op) when NOTIFY_SOCKET is not set. NOTIFY_SOCKET and the WATCHDOG_* variables are removed
// from the environment, so hooks and other children never inherit them.

import { sendUnixDatagram } from '@redkeep/afpacket';
import type { Logger } from '../log.js';

export type DatagramSender = (path: string, data: Uint8Array) => void;

/** During the shutdown path: every STOP_EXTEND_EVERY_MS, ask for STOP_EXTEND_BY_MS more. */
export const STOP_EXTEND_EVERY_MS = 5000;
export const STOP_EXTEND_BY_MS = 15_000;
/**
 * A shutdown still running after this long asks for no more time, and TimeoutStopSec ends it,
 * unless the agent gives its own budget (Agent.stopBudgetMs: its longest hook timeout and the
 * hand-over): a hung shutdown should not hang on.
 */
export const STOP_EXTEND_MAX_MS = 300_000;

/** CLOCK_MONOTONIC in microseconds (process.hrtime is CLOCK_MONOTONIC on Linux), as systemd reads MONOTONIC_USEC. */
const monotonicUsec = (): bigint => process.hrtime.bigint() / 1000n;

export class SystemdNotifier {
  private readonly socket: string | undefined;
  /** Half of WatchdogSec (what systemd asks for), if the watchdog is on for this process. */
  readonly watchdogIntervalMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private extendTimer: NodeJS.Timeout | undefined;
  private lastStatus: string | undefined;
  private lastError: string | undefined;
  private readySent = false;
  private stopSent = false;

  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    private readonly send: DatagramSender = sendUnixDatagram,
    pid = process.pid,
    private readonly clock: () => bigint = monotonicUsec,
  ) {
    this.socket = env.NOTIFY_SOCKET || undefined;
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
    this.watchdogIntervalMs = this.socket && forUs && Number.isFinite(usec) && usec > 0 ? Math.max(1, Math.floor(usec / 2000)) : undefined;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Start-up finished: every instance runs. Starts the watchdog pings. */
  ready(status: string): void {
    if (this.stopSent) return;
    this.notify(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
    this.readySent = true;
    this.lastStatus = status;
    if (this.watchdogIntervalMs !== undefined && !this.timer) {
      this.timer = setInterval(() => this.notify('WATCHDOG=1'), this.watchdogIntervalMs);
      this.timer.unref();
    }
  }

  /** A one-line summary for `systemctl status`; sent only when it changes. */
  status(text: string): void {
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.notify(`STATUS=${text}`);
  }

  /** A reload begins (SIGHUP, `redkeep reload`); `systemctl reload` waits for reloaded(). Only once ready. */
  reloading(): void {
    if (!this.readySent || this.stopSent) return;
    this.lastStatus = 'reloading';
    this.notify(`RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=${this.clock()}`);
  }

  /** The reload ended, whether the new configuration runs or was refused: running again. */
  reloaded(status: string): void {
    if (!this.readySent || this.stopSent) return;
    this.lastStatus = status;
    this.notify(`READY=1\nSTATUS=${status}`);
  }

  /** The shutdown path begins; until stopped(), systemd is asked for more time every few seconds. */
  stopping(budgetMs = STOP_EXTEND_MAX_MS): void {
    if (this.stopSent) return;
    this.stopSent = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const extend = `EXTEND_TIMEOUT_USEC=${STOP_EXTEND_BY_MS * 1000}`;
    this.notify(`STOPPING=1\nSTATUS=stopping\n${extend}`);
    if (!this.socket) return;
    let askedMs = 0;
    this.extendTimer = setInterval(() => {
      askedMs += STOP_EXTEND_EVERY_MS;
      if (askedMs <= budgetMs) this.notify(extend);
      else this.stopped();
    }, STOP_EXTEND_EVERY_MS);
    this.extendTimer.unref();
  }

  /** The shutdown path has ended: no more time asked for. */
  stopped(): void {
    if (this.extendTimer) clearInterval(this.extendTimer);
    this.extendTimer = undefined;
  }

  private notify(message: string): void {
    if (!this.socket) return;
    try {
      this.send(this.socket, Buffer.from(message));
      this.lastError = undefined;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.log.warn('cannot notify systemd', { socket: this.socket, error: msg });
      this.lastError = msg;
    }
  }
}
