import type { Clock, IdGenerator } from '@billetera/domain';
import type { Store } from '@billetera/store';
import type { FastifyBaseLogger } from 'fastify';
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
}
