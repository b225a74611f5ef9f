// Runs one health check on its interval with keepalived's rise/fall hysteresis, and reports
// changes. Tracks start failed: nothing is healthy until a check has said so.

import { open } from 'node:fs/promises';
import { RiseFall } from '@redkeep/redis';
import type { TrackSettings } from '../config/config.js';
import type { Logger } from '../log.js';

/** A check's outcome; `value`: a number track's number (counts at once, no rise or fall). */
export type Check = (def: TrackSettings) => Promise<{ ok: boolean; detail: string; value?: number }>;

export class TrackRunner {
  private rf: RiseFall;
  private current: TrackSettings;
  private value: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A check is out (its result not in yet). */
  private running = false;
  /** Moves on when a reload changes how the track is checked: a run out meanwhile does not count. */
  private generation = 0;
  lastDetail = 'not run yet';
  private lastWarning: string | undefined;
  /**
   * A track starts failed, so one that never passes changes no state: its `fall` first failures
   * are still said once (a warning), or `journalctl -p warning` would never show it.
   */
  private said = false;
  private failsFromStart = 0;

  constructor(
    def: TrackSettings,
    private readonly instance: string,
    private readonly check: Check,
    private readonly onChange: (ok: boolean, value?: number) => void,
    private readonly log: Logger,
  ) {
    this.current = def;
    this.rf = new RiseFall(def.rise, def.fall, 'failed');
  }

  /** How the track is checked now (a reload may change it, see update). */
  get def(): TrackSettings {
    return this.current;
  }

  get ok(): boolean {
    return this.rf.state === 'ok';
  }

  /** A number track's number, once read. */
  get number(): number | undefined {
    return this.value;
  }

  start(): void {
    void this.tick();
  }

  /**
   * A reload changed how the track is checked (command, interval, timeout, rise, fall; never its
   * name, type, file or weight, which restart the instance): its state and number stay, and the new
   * check runs next, at once. A run of the old check still out finishes (an exec one within its
   * timeout) and is not counted.
   */
  update(def: TrackSettings): void {
    if (def.name !== this.current.name || def.type !== this.current.type) throw new Error(`track ${this.current.name}: a reload cannot change its name or type in place`);
    if (JSON.stringify(def) === JSON.stringify(this.current)) return;
    if (def.rise !== this.current.rise || def.fall !== this.current.fall) this.rf = new RiseFall(def.rise, def.fall, this.rf.state);
    // Another command may fail from its first run on: that is said once again.
    if (JSON.stringify(def.command) !== JSON.stringify(this.current.command)) {
      this.said = this.rf.state === 'ok';
      this.failsFromStart = 0;
    }
    this.current = def;
    this.generation++;
    this.log.info('track updated in place: the new check runs next', { instance: this.instance, track: def.name, state: this.rf.state });
    if (this.running || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.timer = undefined;
    const generation = this.generation;
    const def = this.current;
    this.running = true;
    let r: { ok: boolean; detail: string; value?: number };
    try {
      r = await this.check(def);
    } catch (e) {
      r = { ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
    this.running = false;
    if (this.stopped) return;
    // Changed by a reload while this run was out: the new check runs now, this result is dropped.
    if (generation !== this.generation) {
      void this.tick();
      return;
    }
    this.lastDetail = r.detail;
    if (r.value !== undefined) {
      this.lastWarning = undefined;
      if (r.value !== this.value) {
        this.value = r.value;
        this.log.info('track value', { event: 'track', instance: this.instance, track: def.name, value: r.value, detail: r.detail });
        this.onChange(r.ok, r.value);
      }
    } else if (def.type === 'file') {
      // Unreadable or not a number: the last number stands (bad input changes nothing).
      if (r.detail !== this.lastWarning) this.log.warn('track file not read: keeping its last value', { instance: this.instance, track: def.name, value: this.value ?? null, detail: r.detail });
      this.lastWarning = r.detail;
    } else {
      const changed = this.rf.record(r.ok);
      if (changed) this.report(changed === 'ok');
      else if (!this.said && !r.ok && ++this.failsFromStart >= def.fall) {
        this.said = true;
        this.log.warn('track failed', { event: 'track', instance: this.instance, track: def.name, detail: r.detail, since: 'start' });
      }
    }
    this.timer = setTimeout(() => void this.tick(), def.intervalMs);
  }

  /** A failure that counts at once (the connection dropped), whatever `fall` says. */
  failNow(detail: string): void {
    this.lastDetail = detail;
    if (this.rf.failNow()) this.report(false);
  }

  private report(ok: boolean): void {
    this.said = true;
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
