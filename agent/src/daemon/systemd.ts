// sd_notify(3) for Type=notify units: READY=1 once every instance runs, STATUS= on each change
// ("MASTER on redis-write"), WATCHDOG=1 every half WatchdogSec while the event loop turns, and
// STOPPING=1 when the one shutdown path begins. Off (every call a no-op) when NOTIFY_SOCKET is
// not set. NOTIFY_SOCKET and the WATCHDOG_* variables are removed from the environment, so hooks
// and other children never inherit them.

import { sendUnixDatagram } from '@redkeep/afpacket';
import type { Logger } from '../log.js';

export type DatagramSender = (path: string, data: Uint8Array) => void;

export class SystemdNotifier {
  private readonly socket: string | undefined;
  /** Half of WatchdogSec (what systemd asks for), if the watchdog is on for this process. */
  readonly watchdogIntervalMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStatus: string | undefined;
  private lastError: string | undefined;
  private stopSent = false;

  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    private readonly send: DatagramSender = sendUnixDatagram,
    pid = process.pid,
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

  stopping(): void {
    if (this.stopSent) return;
    this.stopSent = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.notify('STOPPING=1\nSTATUS=stopping');
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
