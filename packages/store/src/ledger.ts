/**
 * The ledger's storage: accounts with cached balances, an append-only journal, postings. Every entry is
 * checked to balance before it is written; every balance change is a conditional UPDATE that refuses to
 * take a non-platform account below zero, inside the caller's transaction (so the check and the debit
 * cannot be separated). Accounts are touched in id order, so two transactions never lock them crosswise.
 */
import {
  isBalanced,
  mayGoNegative,
  type AccountRef,
  type IdGenerator,
  type JournalEntryDraft,
  type OwnerType,
} from '@billetera/domain';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export class InsufficientFundsError extends Error {
  constructor(
    readonly account: AccountRef,
    readonly amount: bigint,
  ) {
    super(`insufficient funds in ${account.ownerType}:${account.ownerId}:${account.currency} for ${-amount}`);
  }
}

export async function ensureAccount(tx: Tx, ref: AccountRef, ids: IdGenerator, now: number): Promise<string> {
  const existing = await findAccountId(tx, ref);
  if (existing) return existing;
  await tx
    .insertInto('accounts')
    .values({
      id: ids.next('acc'),
      owner_type: ref.ownerType,
      owner_id: ref.ownerId,
      currency: ref.currency,
      balance: 0n,
      created_at: BigInt(now),
    })
    .onConflict((oc) => oc.columns(['owner_type', 'owner_id', 'currency']).doNothing())
    .execute();
  const id = await findAccountId(tx, ref);
  if (!id) throw new Error('invariant: account vanished after insert');
  return id;
}

async function findAccountId(tx: Tx, ref: AccountRef): Promise<string | undefined> {
  const row = await tx
    .selectFrom('accounts')
    .select('id')
    .where('owner_type', '=', ref.ownerType)
    .where('owner_id', '=', ref.ownerId)
    .where('currency', '=', ref.currency)
    .executeTakeFirst();
  return row?.id;
}

/**
 * Writes a balanced journal entry and applies its postings. Throws InsufficientFundsError (the caller's
 * transaction must then roll back) when a posting would take a non-platform account below zero.
 */
export async function postEntry(
  tx: Tx,
  entry: JournalEntryDraft,
  ids: IdGenerator,
  now: number,
): Promise<string> {
  if (!isBalanced(entry)) throw new Error('invariant: journal entry does not balance');
  const resolved = [];
  for (const p of entry.postings)
    resolved.push({ ...p, accountId: await ensureAccount(tx, p.account, ids, now) });
  const ordered = [...resolved].sort((a, b) =>
    a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
  );
  for (const p of ordered) {
    const result = await tx
      .updateTable('accounts')
      .set({ balance: sql<bigint>`balance + ${p.amount}` })
      .where('id', '=', p.accountId)
      .$if(!mayGoNegative(p.account.ownerType), (q) => q.where(sql<boolean>`balance + ${p.amount} >= 0`))
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new InsufficientFundsError(p.account, p.amount);
  }
  const entryId = ids.next('jnl');
  await tx
    .insertInto('journal_entries')
    .values({ id: entryId, kind: entry.kind, reference_id: entry.referenceId, created_at: BigInt(now) })
    .execute();
  await tx
    .insertInto('postings')
    .values(
      resolved.map((p, i) => ({
        entry_id: entryId,
        line: BigInt(i + 1),
        account_id: p.accountId,
        currency: p.account.currency,
        amount: p.amount,
      })),
    )
    .execute();
  return entryId;
}

export interface Balance {
  currency: string;
  value: bigint;
}

export async function balancesOf(tx: Tx, ownerType: OwnerType, ownerId: string): Promise<Balance[]> {
  const rows = await tx
    .selectFrom('accounts')
    .select(['currency', 'balance'])
    .where('owner_type', '=', ownerType)
    .where('owner_id', '=', ownerId)
    .orderBy('currency')
    .execute();
  return rows.map((r) => ({ currency: r.currency, value: BigInt(r.balance) }));
}

export async function balanceOf(tx: Tx, ref: AccountRef): Promise<bigint> {
  const row = await tx
    .selectFrom('accounts')
    .select('balance')
    .where('owner_type', '=', ref.ownerType)
    .where('owner_id', '=', ref.ownerId)
    .where('currency', '=', ref.currency)
    .executeTakeFirst();
  return row ? BigInt(row.balance) : 0n;
}

export interface LedgerProblem {
  kind: 'unbalanced-currency' | 'balance-mismatch' | 'negative-balance' | 'unbalanced-entry';
  detail: string;
}

/**
 * Checks the ledger's invariants: balances sum to zero per currency, each balance equals the sum of its
 * postings, no non-platform balance is negative, each entry sums to zero. Empty when all hold.
 */
export async function checkLedger(tx: Tx): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const perCurrency = await tx
    .selectFrom('accounts')
    .select(['currency', sql<bigint>`sum(balance)`.as('total')])
    .groupBy('currency')
    .execute();
  for (const row of perCurrency) {
    if (BigInt(row.total) !== 0n)
      problems.push({ kind: 'unbalanced-currency', detail: `${row.currency} sums to ${row.total}` });
  }
  const mismatched = await tx
    .selectFrom('accounts as a')
    .leftJoin('postings as p', 'p.account_id', 'a.id')
    .select(['a.id', 'a.balance', sql<bigint>`coalesce(sum(p.amount), 0)`.as('posted')])
    .groupBy(['a.id', 'a.balance'])
    .execute();
  for (const row of mismatched) {
    if (BigInt(row.balance) !== BigInt(row.posted)) {
      problems.push({
        kind: 'balance-mismatch',
        detail: `${row.id} balance ${row.balance} != postings ${row.posted}`,
      });
    }
  }
  const negative = await tx
    .selectFrom('accounts')
    .select(['id', 'balance'])
    .where('owner_type', '!=', 'PLATFORM')
    .where('balance', '<', 0n)
    .execute();
  for (const row of negative)
    problems.push({ kind: 'negative-balance', detail: `${row.id} is ${row.balance}` });
  const entries = await tx
    .selectFrom('postings')
    .select(['entry_id', 'currency', sql<bigint>`sum(amount)`.as('total')])
    .groupBy(['entry_id', 'currency'])
    .execute();
  for (const row of entries) {
    if (BigInt(row.total) !== 0n)
      problems.push({
        kind: 'unbalanced-entry',
        detail: `${row.entry_id} ${row.currency} sums to ${row.total}`,
      });
  }
  return problems;
}
