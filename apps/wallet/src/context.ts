import type { Clock, IdGenerator } from '@billetera/domain';
import type { Store } from '@billetera/store';
import type { FastifyBaseLogger } from 'fastify';
import type { RateLimitSettings } from './http/rate-limit.ts';
import type { WalletSecrets } from './secrets.ts';

/** Everything a use case needs, injected: storage, time, ids, secrets, and where the wallet is reached. */
export interface WalletContext {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  secrets: WalletSecrets;
  /** Public base URL of the wallet (cashier links), without a trailing slash. */
  publicUrl: string;
  logger: FastifyBaseLogger;
  /** Called after a transaction that wrote outbox rows commits, so the notifier sends at once. */
  onOutbox: () => void;
  /**
   * Website checks may fetch loopback, private and link-local addresses (local use and tests). Off by
   * default: a merchant's website URL must not reach the wallet's own network (SSRF).
   */
  allowPrivateWebsites: boolean;
  /**
   * Tells this process's caches that a merchant's status or keys changed (verify, reject, freeze, key
   * rotation), so the OpenAPI stops using its cached copy at once. Other processes (the CLI) are seen
   * when their cache entry expires (30 s).
   */
  merchantChanged: (clientId: string) => void;
  /** Subscribes to merchantChanged; returns the unsubscribe function. */
  onMerchantChanged: (listener: (clientId: string) => void) => () => void;
  /** The HTTP server's rate limits (http/rate-limit.ts), in memory per process. */
  rateLimits: RateLimitSettings;
}
