import type { WalletContext } from '../context.ts';
import { expireDuePayments } from '../services/expire-payment.ts';
import { PeriodicWorker } from './periodic.ts';

/** How often unpaid orders past their expiry time are looked for. */
export const SWEEP_INTERVAL_MS = 1_000;

/** Moves expired unpaid orders to FAIL within about a second of their time, and owes their notifications. */
export class ExpirySweeper extends PeriodicWorker {
  protected readonly done = (n: number): [object, string] => [{ expired: n }, 'expired unpaid orders'];
  protected readonly failure = 'expiry sweep failed; retrying';

  constructor(ctx: WalletContext) {
    super(ctx, SWEEP_INTERVAL_MS);
  }

  protected run(): Promise<number> {
    return expireDuePayments(this.ctx);
  }
}
