import type { WalletContext } from '../context.ts';
import { expireDuePayments } from '../services/expire-payment.ts';

/** How often unpaid orders past their expiry time are looked for. */
export const SWEEP_INTERVAL_MS = 1_000;

/** Moves expired unpaid orders to FAIL within about a second of their time, and owes their notifications. */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;
  private running = false;

  constructor(private readonly ctx: WalletContext) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.current = this.sweep().finally(() => this.schedule());
    }, SWEEP_INTERVAL_MS);
  }

  async sweep(): Promise<number> {
    try {
      const n = await expireDuePayments(this.ctx);
      if (n > 0) this.ctx.logger.info({ expired: n }, 'expired unpaid orders');
      return n;
    } catch (err) {
      this.ctx.logger.error({ err }, 'expiry sweep failed; retrying');
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }
}
