/**
 * The shop's orders, in memory: this is a demo, so restarting the shop forgets every order (the wallet
 * still has the payments; `inquiryPayment` by paymentRequestId finds them). A real shop keeps orders in
 * its database and updates them with a conditional write, as `settle` does here.
 */
import { randomBytes } from 'node:crypto';
import type { Amount } from '@billetera/protocol';
import type { Product } from './catalogue.ts';

export type OrderStatus = 'AWAITING_PAYMENT' | 'PAID' | 'FAILED' | 'REFUNDED';
/** How the shop learnt the final status: the signed notification, or its own inquiry. */
export type ConfirmedBy = 'notification' | 'inquiry';

export interface Order {
  /** Also the `paymentRequestId` sent to the wallet: the idempotency key of the payment. */
  orderId: string;
  product: Product;
  amount: Amount;
  /** The wallet's id of the payment (`tradeNO` for `my.tradePay`). */
  paymentId: string;
  status: OrderStatus;
  confirmedBy: ConfirmedBy | null;
  createdAt: number;
  /** When the shop last asked the wallet about this order (epoch ms; 0: never). */
  lastInquiryAt: number;
  /** The wallet's id of the refund, once the order was refunded. */
  refundId?: string;
  /** The signed-in buyer (their Billetera customerId for this shop), sent as `order.buyer.referenceBuyerId`. */
  customerId?: string;
}

export type SettleOutcome = 'updated' | 'unchanged' | 'unknown-order';

export function newOrderId(): string {
  return `ord_${randomBytes(12).toString('base64url')}`;
}

export class OrderBook {
  readonly #orders = new Map<string, Order>();

  /** @param limit the most orders kept; the oldest is forgotten first (a demo must not grow forever). */
  constructor(private readonly limit: number) {}

  add(order: Order): void {
    while (this.#orders.size >= this.limit) {
      const oldest = this.#orders.keys().next();
      if (oldest.done) break;
      this.#orders.delete(oldest.value);
    }
    this.#orders.set(order.orderId, order);
  }

  get(orderId: string): Order | undefined {
    return this.#orders.get(orderId);
  }

  /**
   * Moves an order waiting for payment to its final status. Final statuses never change again, so a
   * duplicate notification, or a notification after the inquiry already said so, is `unchanged`.
   */
  settle(orderId: string, status: 'PAID' | 'FAILED', confirmedBy: ConfirmedBy): SettleOutcome {
    const order = this.#orders.get(orderId);
    if (!order) return 'unknown-order';
    if (order.status !== 'AWAITING_PAYMENT') return 'unchanged';
    order.status = status;
    order.confirmedBy = confirmedBy;
    return 'updated';
  }

  /** A paid order whose refund the wallet confirmed. */
  markRefunded(orderId: string, refundId: string): SettleOutcome {
    const order = this.#orders.get(orderId);
    if (!order) return 'unknown-order';
    if (order.status !== 'PAID') return 'unchanged';
    order.status = 'REFUNDED';
    order.refundId = refundId;
    return 'updated';
  }
}

/**
 * Whether what the wallet says (notification or inquiry) is about this order's payment, for this
 * order's amount. A mismatch is never applied: it means a bug somewhere, not a payment.
 */
export function matchesPayment(
  order: Order,
  payment: { paymentId?: string | undefined; paymentAmount?: Amount | undefined },
): boolean {
  if (payment.paymentId !== order.paymentId) return false;
  const amount = payment.paymentAmount;
  return (
    amount === undefined || (amount.currency === order.amount.currency && amount.value === order.amount.value)
  );
}
