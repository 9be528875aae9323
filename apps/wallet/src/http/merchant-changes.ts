/**
 * Merchant changes made by OTHER processes (the CLI's `merchant verify | freeze | unfreeze`, a second
 * server), seen within about a second: every status or key change writes a merchant_events row, and this
 * watcher looks for new rows once a second and tells the OpenAPI's merchant cache to forget those
 * merchants. Changes made in this process reach the cache at once through ctx.merchantChanged.
 */
import type { WalletContext } from '../context.ts';

/** How often merchant_events is looked at. */
export const MERCHANT_CHANGES_POLL_MS = 1_000;
/**
 * An event is stamped before its transaction commits: events up to this much older than the last look
 * are looked at again (forgetting a cache entry twice costs one reload).
 */
const COMMIT_MARGIN_MS = 5_000;

export class MerchantChangeWatcher {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private since: number;

  constructor(
    private readonly ctx: WalletContext,
    private readonly onChange: (clientId: string) => void,
  ) {
    this.since = ctx.clock.now();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.current ??= this.poll().finally(() => (this.current = undefined));
    }, MERCHANT_CHANGES_POLL_MS);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    const now = this.ctx.clock.now();
    try {
      const rows = await this.ctx.store.db
        .selectFrom('merchant_events')
        .innerJoin('merchants', 'merchants.id', 'merchant_events.merchant_id')
        .select('merchants.client_id')
        .distinct()
        .where('merchant_events.at', '>', BigInt(this.since - COMMIT_MARGIN_MS))
        .execute();
      this.since = now;
      for (const r of rows) this.onChange(r.client_id);
    } catch (err) {
      this.ctx.logger.warn({ err }, 'could not look for merchant changes; trying again');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.current;
  }
}
