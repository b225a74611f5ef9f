// keepalived's rise/fall hysteresis for a health check: `rise` consecutive successes make a
// failing check OK, `fall` consecutive failures make an OK check fail.

export type CheckState = 'ok' | 'failed';

export class RiseFall {
  private okRun = 0;
  private failRun = 0;
  private current: CheckState;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
    initial: CheckState,
  ) {
    if (!Number.isInteger(rise) || rise < 1 || !Number.isInteger(fall) || fall < 1) {
      throw new RangeError('rise and fall are whole numbers >= 1');
    }
    this.current = initial;
  }

  get state(): CheckState {
    return this.current;
  }

  /** Records one result; returns the new state if it changed. */
  record(ok: boolean): CheckState | undefined {
    if (ok) {
      this.okRun++;
      this.failRun = 0;
      if (this.current === 'failed' && this.okRun >= this.rise) return (this.current = 'ok');
    } else {
      this.failRun++;
      this.okRun = 0;
      if (this.current === 'ok' && this.failRun >= this.fall) return (this.current = 'failed');
    }
    return undefined;
  }

  /** A failure that counts at once (e.g. the connection dropped): fail now, whatever `fall` says. */
  failNow(): CheckState | undefined {
    this.okRun = 0;
    this.failRun = Math.max(this.failRun + 1, this.fall);
    if (this.current === 'ok') return (this.current = 'failed');
    return undefined;
  }
}
