import type { BilleteraClient } from '@billetera/sdk-node';
import type { OrderBook } from './order-book.ts';
import type { SessionBook } from './session-book.ts';

/** What the shop's routes share. */
export interface ShopContext {
  client: BilleteraClient;
  partnerId: string;
  /** The shop's mini program, sent with `pay` so the wallet answers a `miniProgramUrl`. */
  appId: string | undefined;
  /** The shop's base URL as the wallet reaches it (notify URL), without a trailing slash. */
  publicUrl: string;
  orders: OrderBook;
  /** Who signed in with Billetera (sessionId -> customerId, nickname). */
  sessions: SessionBook;
}
