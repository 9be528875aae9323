/**
 * The invariants money and notifications must keep, checked against the database as it is: what
 * `billetera check` runs, and what the crash, race and fuzz tests end with. Each check is ONE set-based
 * statement (GROUP BY and joins on indexed columns, no per-row loop), so it runs on a million payments,
 * and each sees a consistent snapshot of its own rows even while a server writes (every state change
 * commits its status, ledger entry and outbox row together). The statement returns the offending rows
 * only, the first MAX_OFFENDING_ROWS of them, with their total.
 *
 * Money is double entry (ledger.ts): accounts per (owner, currency) with cached balances, journal
 * entries of postings that sum to zero. A payment moves its amount user -> merchant in one PAYMENT entry
 * (reference = payment id) when it becomes SUCCESS; a refund moves its amount merchant -> the payer in one
 * REFUND entry (reference = refund id); top-ups move money from the platform's funding account, the only
 * account allowed below zero.
 */
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from './schema.ts';

/** The invariants, in the order they are checked and reported. */
export const INVARIANTS = [
  'ledger-balanced',
  'entries-balanced',
  'balance-equals-postings',
  'no-negative-balance',
  'payment-states',
  'payment-money-moved',
  'refunds-within-payment',
  'refund-money-moved',
  'notification-owed',
  'notification-attempts-recorded',
  'idempotency-keys-unique',
] as const;
export type InvariantName = (typeof INVARIANTS)[number];

export interface InvariantViolation {
  invariant: string;
  /** Starts with how many rows offend, then what is wrong with them. */
  message: string;
  /** The offending rows, at most MAX_OFFENDING_ROWS; integers as decimal strings. */
  rows: unknown[];
}

export interface InvariantReport {
  ok: boolean;
  /** Rows looked at per invariant. */
  checked: Record<string, number>;
  violations: InvariantViolation[];
}

/** How many offending rows a violation lists (the message gives the total). */
export const MAX_OFFENDING_ROWS = 20;

type Db = Kysely<Database>;

interface Check {
  invariant: InvariantName;
  /** What is wrong with each row the query returns. */
  problem: string;
  /** Returns only offending rows. */
  query: (db: Db) => Expression<unknown>;
}

const FINAL_PAYMENT_STATUSES = ['SUCCESS', 'FAIL'] as const;
const PAYMENT_STATUSES = ['PROCESSING', 'SUCCESS', 'FAIL', 'CANCELLED'] as const;
const NOTIFICATION_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

const CHECKS: Check[] = [
  {
    invariant: 'ledger-balanced',
    problem: 'currencies whose account balances do not sum to zero (money made or lost)',
    query: (db) =>
      db
        .selectFrom('accounts')
        .select([
          'currency',
          sql<bigint>`sum(balance)`.as('total_balance'),
          sql<bigint>`count(*)`.as('accounts'),
        ])
        .groupBy('currency')
        .having(sql<SqlBool>`sum(balance) <> 0`),
  },
  {
    invariant: 'ledger-balanced',
    problem: "postings in another currency than their account's",
    query: (db) =>
      db
        .selectFrom('postings as po')
        .innerJoin('accounts as a', 'a.id', 'po.account_id')
        .select([
          'po.entry_id',
          'po.line',
          'po.account_id',
          'po.currency as posting_currency',
          'a.currency as account_currency',
          'po.amount',
        ])
        .whereRef('po.currency', '<>', 'a.currency'),
  },
  {
    invariant: 'entries-balanced',
    problem:
      'journal entries whose postings do not sum to zero per currency, or have fewer than two, or a zero amount',
    query: (db) =>
      db
        .selectFrom('postings')
        .select([
          'entry_id',
          'currency',
          sql<bigint>`sum(amount)`.as('total'),
          sql<bigint>`count(*)`.as('postings'),
        ])
        .groupBy(['entry_id', 'currency'])
        .having(
          sql<SqlBool>`sum(amount) <> 0 OR count(*) < 2 OR sum(CASE WHEN amount = 0 THEN 1 ELSE 0 END) > 0`,
        ),
  },
  {
    invariant: 'entries-balanced',
    problem: 'journal entries without postings',
    query: (db) =>
      db
        .selectFrom('journal_entries as je')
        .select(['je.id', 'je.kind', 'je.reference_id'])
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('postings as po').select('po.line').whereRef('po.entry_id', '=', 'je.id'))),
        ),
  },
  {
    invariant: 'balance-equals-postings',
    problem: 'accounts whose balance is not the sum of their postings',
    query: (db) =>
      db
        .selectFrom('accounts as a')
        .leftJoin(
          db
            .selectFrom('postings')
            .select(['account_id', sql<bigint>`sum(amount)`.as('posted')])
            .groupBy('account_id')
            .as('s'),
          's.account_id',
          'a.id',
        )
        .select([
          'a.id',
          'a.owner_type',
          'a.owner_id',
          'a.currency',
          'a.balance',
          sql<bigint>`coalesce(s.posted, 0)`.as('posted'),
        ])
        .where(sql<SqlBool>`a.balance <> coalesce(s.posted, 0)`),
  },
  {
    invariant: 'no-negative-balance',
    problem: "user or merchant accounts below zero (only the platform's funding account may be)",
    query: (db) =>
      db
        .selectFrom('accounts')
        .select(['id', 'owner_type', 'owner_id', 'currency', 'balance'])
        .where('owner_type', '<>', 'PLATFORM')
        .where('balance', '<', 0n),
  },
  {
    invariant: 'payment-states',
    problem:
      'payments in an unknown status, SUCCESS without a payer or paid at or after their expiry, paid_at on an unpaid payment, or FAIL without a reason',
    query: (db) =>
      db
        .selectFrom('payments')
        .select(['id', 'merchant_id', 'status', 'user_id', 'paid_at', 'expires_at', 'fail_reason'])
        .where(({ eb, or, and }) =>
          or([
            eb('status', 'not in', [...PAYMENT_STATUSES]),
            and([
              eb('status', '=', 'SUCCESS'),
              or([
                eb('user_id', 'is', null),
                eb('paid_at', 'is', null),
                eb('paid_at', '>=', eb.ref('expires_at')),
              ]),
            ]),
            and([eb('status', '<>', 'SUCCESS'), eb('paid_at', 'is not', null)]),
            and([eb('status', '=', 'FAIL'), eb('fail_reason', 'is', null)]),
          ]),
        ),
  },
  {
    invariant: 'payment-money-moved',
    problem:
      'payments whose money did not move exactly once: a SUCCESS payment needs one PAYMENT entry debiting the payer and crediting the merchant by its amount, any other payment none',
    query: (db) =>
      db
        .selectFrom(
          // Grouped by the primary key alone (the other columns depend on it), so SQLite streams the groups
          // in index order; min/max of the entry id tell none, one or several entries without a DISTINCT.
          db
            .selectFrom('payments as p')
            .leftJoin('journal_entries as je', (j) =>
              j.onRef('je.reference_id', '=', 'p.id').on('je.kind', '=', 'PAYMENT'),
            )
            .leftJoin('postings as po', 'po.entry_id', 'je.id')
            .leftJoin('accounts as a', 'a.id', 'po.account_id')
            .select([
              'p.id as payment_id',
              'p.status',
              'p.currency',
              'p.amount',
              'p.user_id',
              'p.merchant_id',
              sql<string | null>`min(je.id)`.as('first_entry'),
              sql<string | null>`max(je.id)`.as('last_entry'),
              sql<bigint>`count(po.entry_id)`.as('postings'),
              sql<bigint>`sum(CASE WHEN a.owner_type = 'USER' AND a.owner_id = p.user_id
                AND a.currency = p.currency AND po.amount = -p.amount THEN 1 ELSE 0 END)`.as('debits'),
              sql<bigint>`sum(CASE WHEN a.owner_type = 'MERCHANT' AND a.owner_id = p.merchant_id
                AND a.currency = p.currency AND po.amount = p.amount THEN 1 ELSE 0 END)`.as('credits'),
            ])
            .groupBy('p.id')
            .as('m'),
        )
        .select((eb) => [
          'm.payment_id',
          'm.status',
          'm.currency',
          'm.amount',
          'm.user_id',
          'm.merchant_id',
          eb
            .selectFrom('journal_entries as je')
            .select(sql<bigint>`count(*)`.as('n'))
            .whereRef('je.reference_id', '=', 'm.payment_id')
            .where('je.kind', '=', 'PAYMENT')
            .as('entries'),
          'm.postings',
          'm.debits',
          'm.credits',
        ])
        .where(
          sql<SqlBool>`(m.status = 'SUCCESS' AND NOT (m.first_entry = m.last_entry AND m.postings = 2
              AND m.debits = 1 AND m.credits = 1))
            OR (m.status <> 'SUCCESS' AND m.first_entry IS NOT NULL)`,
        ),
  },
  {
    invariant: 'payment-money-moved',
    problem: 'PAYMENT journal entries about no payment',
    query: (db) =>
      db
        .selectFrom('journal_entries as je')
        .leftJoin('payments as p', 'p.id', 'je.reference_id')
        .select(['je.id', 'je.kind', 'je.reference_id'])
        .where('je.kind', '=', 'PAYMENT')
        .where('p.id', 'is', null),
  },
  {
    invariant: 'refunds-within-payment',
    problem:
      'payments whose refunded total is not the sum of their SUCCESS refunds, exceeds the amount paid, or whose refunds are not of a SUCCESS payment in its currency and merchant',
    query: (db) =>
      db
        .selectFrom(
          db
            .selectFrom('payments as p')
            .leftJoin('refunds as r', 'r.payment_id', 'p.id')
            .select([
              'p.id as payment_id',
              'p.status',
              'p.currency',
              'p.amount',
              'p.refunded_amount',
              sql<bigint>`count(r.id)`.as('refunds'),
              sql<bigint>`coalesce(sum(CASE WHEN r.status = 'SUCCESS' THEN r.amount ELSE 0 END), 0)`.as(
                'refunded',
              ),
              sql<bigint>`sum(CASE WHEN r.currency <> p.currency OR r.merchant_id <> p.merchant_id
                THEN 1 ELSE 0 END)`.as('mismatched'),
            ])
            .where((eb) => eb.or([eb('p.refunded_amount', '<>', 0n), eb('r.id', 'is not', null)]))
            .groupBy(['p.id', 'p.status', 'p.currency', 'p.amount', 'p.refunded_amount'])
            .as('f'),
        )
        .selectAll()
        .where(
          sql<SqlBool>`refunded <> refunded_amount OR refunded_amount > amount OR refunded_amount < 0
            OR (refunds > 0 AND status <> 'SUCCESS') OR mismatched > 0`,
        ),
  },
  {
    invariant: 'refund-money-moved',
    problem:
      'refunds whose money did not move exactly once: a SUCCESS refund needs one REFUND entry debiting the merchant and crediting the payer by its amount, any other refund none',
    query: (db) =>
      db
        .selectFrom(
          db
            .selectFrom('refunds as r')
            .innerJoin('payments as p', 'p.id', 'r.payment_id')
            .leftJoin('journal_entries as je', (j) =>
              j.onRef('je.reference_id', '=', 'r.id').on('je.kind', '=', 'REFUND'),
            )
            .leftJoin('postings as po', 'po.entry_id', 'je.id')
            .leftJoin('accounts as a', 'a.id', 'po.account_id')
            .select([
              'r.id as refund_id',
              'r.payment_id',
              'r.status',
              'r.currency',
              'r.amount',
              sql<string | null>`min(je.id)`.as('first_entry'),
              sql<string | null>`max(je.id)`.as('last_entry'),
              sql<bigint>`count(po.entry_id)`.as('postings'),
              sql<bigint>`sum(CASE WHEN a.owner_type = 'MERCHANT' AND a.owner_id = r.merchant_id
                AND a.currency = r.currency AND po.amount = -r.amount THEN 1 ELSE 0 END)`.as('debits'),
              sql<bigint>`sum(CASE WHEN a.owner_type = 'USER' AND a.owner_id = p.user_id
                AND a.currency = r.currency AND po.amount = r.amount THEN 1 ELSE 0 END)`.as('credits'),
            ])
            .groupBy('r.id')
            .as('m'),
        )
        .select((eb) => [
          'm.refund_id',
          'm.payment_id',
          'm.status',
          'm.currency',
          'm.amount',
          eb
            .selectFrom('journal_entries as je')
            .select(sql<bigint>`count(*)`.as('n'))
            .whereRef('je.reference_id', '=', 'm.refund_id')
            .where('je.kind', '=', 'REFUND')
            .as('entries'),
          'm.postings',
          'm.debits',
          'm.credits',
        ])
        .where(
          sql<SqlBool>`(m.status = 'SUCCESS' AND NOT (m.first_entry = m.last_entry AND m.postings = 2
              AND m.debits = 1 AND m.credits = 1))
            OR (m.status <> 'SUCCESS' AND m.first_entry IS NOT NULL)`,
        ),
  },
  {
    invariant: 'refund-money-moved',
    problem: 'REFUND journal entries about no refund',
    query: (db) =>
      db
        .selectFrom('journal_entries as je')
        .leftJoin('refunds as r', 'r.id', 'je.reference_id')
        .select(['je.id', 'je.kind', 'je.reference_id'])
        .where('je.kind', '=', 'REFUND')
        .where('r.id', 'is', null),
  },
  {
    invariant: 'notification-owed',
    problem:
      "final payments (SUCCESS, FAIL) with a notify URL (their own or their merchant's) and no notifyPayment in the outbox",
    query: (db) =>
      db
        .selectFrom('payments as p')
        .innerJoin('merchants as m', 'm.id', 'p.merchant_id')
        .select([
          'p.id as payment_id',
          'p.merchant_id',
          'p.status',
          sql<string>`coalesce(p.notify_url, m.notify_url)`.as('url'),
        ])
        .where('p.status', 'in', [...FINAL_PAYMENT_STATUSES])
        .where(sql<SqlBool>`coalesce(p.notify_url, m.notify_url) IS NOT NULL`)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('notifications as n')
                .select('n.seq')
                .whereRef('n.payment_id', '=', 'p.id')
                .where('n.kind', '=', 'PAYMENT'),
            ),
          ),
        ),
  },
  {
    invariant: 'notification-owed',
    problem: 'SUCCESS refunds with a refundNotifyUrl and no notifyRefund in the outbox',
    query: (db) =>
      db
        .selectFrom('refunds as r')
        .select(['r.id as refund_id', 'r.payment_id', 'r.merchant_id', 'r.notify_url'])
        .where('r.status', '=', 'SUCCESS')
        .where('r.notify_url', 'is not', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('notifications as n')
                .select('n.seq')
                // payment_id first: (payment_id, seq) is indexed, refund_id is not.
                .whereRef('n.payment_id', '=', 'r.payment_id')
                .whereRef('n.refund_id', '=', 'r.id')
                .where('n.kind', '=', 'REFUND'),
            ),
          ),
        ),
  },
  {
    invariant: 'notification-owed',
    problem:
      'notifications neither delivered, pending nor failed, of an unknown kind, a notifyPayment for an unfinished payment, or a notifyRefund for no refund',
    query: (db) =>
      db
        .selectFrom('notifications as n')
        .innerJoin('payments as p', 'p.id', 'n.payment_id')
        .leftJoin('refunds as r', 'r.id', 'n.refund_id')
        .select(['n.id', 'n.payment_id', 'n.kind', 'n.status', 'n.refund_id', 'p.status as payment_status'])
        .where(({ eb, or, and }) =>
          or([
            eb('n.status', 'not in', [...NOTIFICATION_STATUSES]),
            eb('n.kind', 'not in', ['PAYMENT', 'REFUND']),
            and([eb('n.kind', '=', 'PAYMENT'), eb('p.status', 'not in', [...FINAL_PAYMENT_STATUSES])]),
            and([
              eb('n.kind', '=', 'REFUND'),
              or([eb('r.id', 'is', null), eb('r.payment_id', '<>', eb.ref('n.payment_id'))]),
            ]),
          ]),
        ),
  },
  {
    invariant: 'notification-owed',
    problem:
      'payments notified twice for the same change (more than one notifyPayment, or notifyRefund per refund)',
    query: (db) =>
      db
        .selectFrom('notifications')
        .select(['payment_id', 'kind', 'refund_id', sql<bigint>`count(*)`.as('notifications')])
        .groupBy(['payment_id', 'kind', 'refund_id'])
        .having(sql<SqlBool>`count(*) > 1`),
  },
  {
    invariant: 'notification-attempts-recorded',
    problem:
      "notifications whose attempt counter is not their number of recorded attempts and the last one's number, or DELIVERED without a delivery time and an acknowledged attempt",
    query: (db) =>
      db
        .selectFrom(
          db
            .selectFrom('notifications as n')
            .leftJoin('notification_attempts as t', 't.notification_id', 'n.id')
            .select([
              'n.id',
              'n.payment_id',
              'n.status',
              'n.attempts',
              'n.delivered_at',
              sql<bigint>`count(t.id)`.as('recorded'),
              sql<bigint>`coalesce(max(t.attempt_no), 0)`.as('last_attempt_no'),
              sql<bigint>`sum(CASE WHEN t.outcome = 'ACKNOWLEDGED' THEN 1 ELSE 0 END)`.as('acknowledged'),
            ])
            .groupBy('n.id')
            .as('c'),
        )
        .selectAll()
        .where(
          sql<SqlBool>`recorded <> attempts OR last_attempt_no <> attempts
            OR (status = 'DELIVERED' AND (delivered_at IS NULL OR acknowledged = 0))`,
        ),
  },
  {
    invariant: 'idempotency-keys-unique',
    problem: 'paymentRequestIds used twice by one merchant (two orders for one request)',
    query: (db) =>
      db
        .selectFrom('payments')
        .select(['merchant_id', 'payment_request_id', sql<bigint>`count(*)`.as('payments')])
        .groupBy(['merchant_id', 'payment_request_id'])
        .having(sql<SqlBool>`count(*) > 1`),
  },
  {
    invariant: 'idempotency-keys-unique',
    problem: 'refundRequestIds used twice by one merchant (two refunds for one request)',
    query: (db) =>
      db
        .selectFrom('refunds')
        .select(['merchant_id', 'refund_request_id', sql<bigint>`count(*)`.as('refunds')])
        .groupBy(['merchant_id', 'refund_request_id'])
        .having(sql<SqlBool>`count(*) > 1`),
  },
];

/**
 * Checks every invariant; `ok` when none is broken. Pass `store.db` (or a transaction, to check what it
 * sees). Read-only: it never writes.
 */
export async function checkInvariants(db: Db): Promise<InvariantReport> {
  const violations: InvariantViolation[] = [];
  for (const check of CHECKS) {
    const found = await offending(db, check.query(db));
    if (found.total > 0) {
      violations.push({
        invariant: check.invariant,
        message: `${found.total} ${check.problem}`,
        rows: found.rows,
      });
    }
  }
  return { ok: violations.length === 0, checked: await checkedCounts(db), violations };
}

/** The first offending rows, and how many there are, in one statement. */
async function offending(db: Db, query: Expression<unknown>): Promise<{ total: number; rows: unknown[] }> {
  const { rows } = await sql<Record<string, unknown>>`SELECT v.*, count(*) OVER () AS offending_total
    FROM (${query}) v ORDER BY 1 LIMIT ${sql.lit(MAX_OFFENDING_ROWS)}`.execute(db);
  const total = rows[0] ? Number(rows[0]['offending_total']) : 0;
  return {
    total,
    rows: rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key !== 'offending_total') out[key] = plain(value);
      }
      return out;
    }),
  };
}

/** Integers as decimal strings on both databases (bigint from SQLite and int8, numeric sums from pg). */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint' || typeof value === 'number') return value.toString();
  return value;
}

async function checkedCounts(db: Db): Promise<Record<InvariantName, number>> {
  const count = async (table: 'accounts' | 'journal_entries' | 'payments' | 'refunds' | 'notifications') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select(sql<bigint>`count(*)`.as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const accounts = await count('accounts');
  const entries = await count('journal_entries');
  const payments = await count('payments');
  const refunds = await count('refunds');
  const notifications = await count('notifications');
  return {
    'ledger-balanced': accounts,
    'entries-balanced': entries,
    'balance-equals-postings': accounts,
    'no-negative-balance': accounts,
    'payment-states': payments,
    'payment-money-moved': payments,
    'refunds-within-payment': payments,
    'refund-money-moved': refunds,
    'notification-owed': payments + refunds,
    'notification-attempts-recorded': notifications,
    'idempotency-keys-unique': payments + refunds,
  };
}
