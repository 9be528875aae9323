import type { WalletContext } from '../context.ts';
import { recheckStaleSubmissions } from '../services/onboarding.ts';

/** How often licence submissions whose website check never ran (a crash in between) are looked for. */
export const RECHECK_INTERVAL_MS = 60_000;

/**
 * Runs the website check of submissions left PENDING for over a minute: at start, then every minute, so a
 * crash between a submission and its check never strands a merchant in SUBMITTED.
 */
export class WebsiteRecheck {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

  constructor(private readonly ctx: WalletContext) {}

  start(): void {
    this.running = true;
    this.current = this.sweep().finally(() => this.schedule());
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.sweep().finally(() => this.schedule());
    }, RECHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async sweep(): Promise<number> {
    try {
      const n = await recheckStaleSubmissions(this.ctx);
      if (n > 0) this.ctx.logger.info({ checked: n }, 'ran website checks left pending');
      return n;
    } catch (err) {
      this.ctx.logger.error({ err }, 'website recheck failed; retrying in a minute');
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }
}
