// Runs one health check on its interval with keepalived's rise/fall hysteresis, and reports
// changes. Tracks start failed: nothing is healthy until a check has said so.

import { RiseFall } from '@redkeep/redis';
import type { TrackSettings } from '../config/config.js';
import type { Logger } from '../log.js';

export type Check = () => Promise<{ ok: boolean; detail: string }>;

export class TrackRunner {
  private readonly rf: RiseFall;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  lastDetail = 'not run yet';

  constructor(
    readonly def: TrackSettings,
    private readonly instance: string,
    private readonly check: Check,
    private readonly onChange: (ok: boolean) => void,
    private readonly log: Logger,
  ) {
    this.rf = new RiseFall(def.rise, def.fall, 'failed');
  }

  get ok(): boolean {
    return this.rf.state === 'ok';
  }

  start(): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      let r: { ok: boolean; detail: string };
      try {
        r = await this.check();
      } catch (e) {
        r = { ok: false, detail: e instanceof Error ? e.message : String(e) };
      }
      if (this.stopped) return;
      this.lastDetail = r.detail;
      const changed = this.rf.record(r.ok);
      if (changed) this.report(changed === 'ok');
      this.timer = setTimeout(() => void tick(), this.def.intervalMs);
    };
    void tick();
  }

  /** A failure that counts at once (the connection dropped), whatever `fall` says. */
  failNow(detail: string): void {
    this.lastDetail = detail;
    if (this.rf.failNow()) this.report(false);
  }

  private report(ok: boolean): void {
    const meta = { instance: this.instance, track: this.def.name, detail: this.lastDetail };
    if (ok) this.log.info('track ok', meta);
    else this.log.warn('track failed', meta);
    this.onChange(ok);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
