// The shape every reconciler here shares: one pass at a time; a kick during a pass asks for one
// more pass after it (kicks coalesce); optionally a pass every `periodMs` as well.

export class ReconcileLoop {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly pass: () => Promise<void>) {}

  /** Runs a pass now, or right after the one in progress; resolves when that pass is done. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  every(periodMs: number): void {
    const tick = (): void => {
      if (this.stopped) return;
      void this.kick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, periodMs);
      });
    };
    this.timer = setTimeout(tick, periodMs);
  }

  /** Stops the periodic passes (a pass in progress finishes). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
