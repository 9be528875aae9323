import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface HistoryItem {
  entryId: string;
  kind: 'TOPUP' | 'PAYMENT' | 'REFUND';
  referenceId: string;
  currency: string;
  /** Signed: negative left the user's account. */
  amount: bigint;
  at: number;
  /** The payment's merchant and title, for PAYMENT and REFUND entries. */
  merchantName: string | null;
  orderTitle: string | null;
}

/** A user's ledger history, newest first. */
export async function userHistory(tx: Tx, userId: string, limit: number): Promise<HistoryItem[]> {
  const rows = await tx
    .selectFrom('postings as p')
    .innerJoin('accounts as a', 'a.id', 'p.account_id')
    .innerJoin('journal_entries as j', 'j.id', 'p.entry_id')
    // A PAYMENT entry references its payment; a REFUND entry its refund, which references the payment.
    .leftJoin('refunds as rf', 'rf.id', 'j.reference_id')
    .leftJoin('payments as pay', (join) =>
      join.on((eb) =>
        eb.or([eb('pay.id', '=', eb.ref('j.reference_id')), eb('pay.id', '=', eb.ref('rf.payment_id'))]),
      ),
    )
    .leftJoin('merchants as m', 'm.id', 'pay.merchant_id')
    .select([
      'j.id as entryId',
      'j.kind',
      'j.reference_id',
      'p.currency',
      'p.amount',
      'j.created_at',
      'm.name as merchantName',
      'pay.order_title',
    ])
    .where('a.owner_type', '=', 'USER')
    .where('a.owner_id', '=', userId)
    .orderBy('j.created_at', 'desc')
    .orderBy('j.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    entryId: r.entryId,
    kind: r.kind as HistoryItem['kind'],
    referenceId: r.reference_id,
    currency: r.currency,
    amount: BigInt(r.amount),
    at: Number(r.created_at),
    merchantName: r.merchantName,
    orderTitle: r.order_title,
  }));
}
