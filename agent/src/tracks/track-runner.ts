// Runs one health check on its interval with keepalived's rise/fall hysteresis, and reports
// changes. Tracks start failed: nothing is healthy until a check has said so.

import { open } from 'node:fs/promises';
import { RiseFall } from '@redkeep/redis';
import type { TrackSettings } from '../config/config.js';
import type { Logger } from '../log.js';

/** A check's outcome; `value`: a number track's number (counts at once, no rise or fall). */
export type Check = () => Promise<{ ok: boolean; detail: string; value?: number }>;

export class TrackRunner {
  private readonly rf: RiseFall;
  private value: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  lastDetail = 'not run yet';
  private lastWarning: string | undefined;

  constructor(
    readonly def: TrackSettings,
    private readonly instance: string,
    private readonly check: Check,
    private readonly onChange: (ok: boolean, value?: number) => void,
    private readonly log: Logger,
  ) {
    this.rf = new RiseFall(def.rise, def.fall, 'failed');
  }

  get ok(): boolean {
    return this.rf.state === 'ok';
  }

  /** A number track's number, once read. */
  get number(): number | undefined {
    return this.value;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      let r: { ok: boolean; detail: string; value?: number };
      try {
        r = await this.check();
      } catch (e) {
        r = { ok: false, detail: e instanceof Error ? e.message : String(e) };
      }
      if (this.stopped) return;
      this.lastDetail = r.detail;
      if (r.value !== undefined) {
        this.lastWarning = undefined;
        if (r.value !== this.value) {
          this.value = r.value;
          this.log.info('track value', { event: 'track', instance: this.instance, track: this.def.name, value: r.value, detail: r.detail });
          this.onChange(r.ok, r.value);
        }
      } else if (this.def.type === 'file') {
        // Unreadable or not a number: the last number stands (bad input changes nothing).
        if (r.detail !== this.lastWarning) this.log.warn('track file not read: keeping its last value', { instance: this.instance, track: this.def.name, value: this.value ?? null, detail: r.detail });
        this.lastWarning = r.detail;
      } else {
        const changed = this.rf.record(r.ok);
        if (changed) this.report(changed === 'ok');
      }
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
    const meta = { event: 'track', instance: this.instance, track: this.def.name, detail: this.lastDetail };
    if (ok) this.log.info('track ok', meta);
    else this.log.warn('track failed', meta);
    this.onChange(ok);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The most a track file may hold that is read: a number, with spaces and a newline. */
const TRACK_FILE_READ_BYTES = 64;
/** keepalived's bounds for a track_file number. */
const TRACK_FILE_LIMIT = 254;

/**
 * A file track's check: the number in the file (keepalived's track_file), clamped to -254..254;
 * a missing file is 0 (a drain file removed is a host back in service). Anything else that is
 * not a number is an error, and the caller keeps the last number.
 */
export async function readTrackFile(path: string): Promise<{ ok: boolean; detail: string; value?: number }> {
  let text: string;
  try {
    const h = await open(path, 'r');
    try {
      const buf = Buffer.alloc(TRACK_FILE_READ_BYTES);
      const { bytesRead } = await h.read(buf, 0, buf.length, 0);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await h.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, detail: `${path} does not exist: 0`, value: 0 };
    return { ok: false, detail: `${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const m = /^\s*([+-]?\d{1,6})\s*$/.exec(text);
  if (!m) return { ok: false, detail: `${path} does not hold a number: ${JSON.stringify(text.slice(0, 20))}` };
  const value = Math.max(-TRACK_FILE_LIMIT, Math.min(TRACK_FILE_LIMIT, Number(m[1])));
  return { ok: true, detail: `${path}: ${value}`, value };
}
