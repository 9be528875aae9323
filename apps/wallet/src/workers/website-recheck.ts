import type { WalletContext } from '../context.ts';
import { recheckStaleSubmissions } from '../services/onboarding.ts';
import { PeriodicWorker } from './periodic.ts';

/** How often licence submissions whose website check never ran (a crash in between) are looked for. */
export const RECHECK_INTERVAL_MS = 60_000;

/**
 * Runs the website check of submissions left PENDING for over a minute: at start, then every minute, so a
 * crash between a submission and its check never strands a merchant in SUBMITTED.
 */
export class WebsiteRecheck extends PeriodicWorker {
  protected readonly done = (n: number): [object, string] => [
    { checked: n },
    'ran website checks left pending',
  ];
  protected readonly failure = 'website recheck failed; retrying in a minute';

  constructor(ctx: WalletContext) {
    super(ctx, RECHECK_INTERVAL_MS, true);
  }

  protected run(): Promise<number> {
    return recheckStaleSubmissions(this.ctx);
  }
}
