import type { WalletContext } from '../context.ts';

/**
 * A background task run every `intervalMs` (the next run is scheduled when the last one ends, so runs
 * never overlap); `stop()` waits for a run in progress. A failed run is logged and retried next time.
 */
export abstract class PeriodicWorker {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

  constructor(
    protected readonly ctx: WalletContext,
    private readonly intervalMs: number,
    /** Run once at start instead of waiting a whole interval first. */
    private readonly runAtStart = false,
  ) {}

  /** One run: how many items it handled. */
  protected abstract run(): Promise<number>;
  protected abstract readonly done: (n: number) => [object, string];
  protected abstract readonly failure: string;

  start(): void {
    this.running = true;
    if (this.runAtStart) this.current = this.sweep().finally(() => this.schedule());
    else this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.sweep().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  async sweep(): Promise<number> {
    try {
      const n = await this.run();
      if (n > 0) this.ctx.logger.info(...this.done(n));
      return n;
    } catch (err) {
      this.ctx.logger.error({ err }, this.failure);
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }
}
