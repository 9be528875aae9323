/**
 * Double-entry ledger postings. An account is identified by (ownerType, ownerId, currency); a journal
 * entry is a list of postings whose amounts sum to zero per currency. Balances are the sum of their
 * postings; only platform accounts (the funding account that issues top-ups) may go below zero.
 */
export type OwnerType = 'USER' | 'MERCHANT' | 'PLATFORM';

export interface AccountRef {
  ownerType: OwnerType;
  ownerId: string;
  currency: string;
}

export interface Posting {
  account: AccountRef;
  /** Signed minor units: negative takes money out of the account, positive puts it in. */
  amount: bigint;
}

/**
 * TOPUP: funding -> user (sandbox money). PAYMENT: user -> merchant. REFUND: merchant -> the user who
 * paid. PAYOUT: merchant -> funding, money leaving the wallet to the merchant's bank (settlement).
 */
export type EntryKind = 'TOPUP' | 'PAYMENT' | 'REFUND' | 'PAYOUT';

export interface JournalEntryDraft {
  kind: EntryKind;
  /** What the entry is about: the payment id, the refund id, or a top-up reference. */
  referenceId: string;
  postings: Posting[];
}

export const FUNDING_ACCOUNT_OWNER = 'funding';

export function mayGoNegative(ownerType: OwnerType): boolean {
  return ownerType === 'PLATFORM';
}

/** Moves `amount` from one account to another: the shape of every payment, refund and top-up. */
export function transfer(
  kind: EntryKind,
  referenceId: string,
  from: AccountRef,
  to: AccountRef,
  amount: bigint,
): JournalEntryDraft {
  if (amount <= 0n) throw new Error(`invariant: transfer amount must be positive, got ${amount}`);
  if (from.currency !== to.currency) throw new Error('invariant: transfer across currencies');
  return {
    kind,
    referenceId,
    postings: [
      { account: from, amount: -amount },
      { account: to, amount },
    ],
  };
}

/** True when the entry's postings sum to zero in every currency and none is zero. */
export function isBalanced(entry: JournalEntryDraft): boolean {
  const sums = new Map<string, bigint>();
  for (const p of entry.postings) {
    if (p.amount === 0n) return false;
    sums.set(p.account.currency, (sums.get(p.account.currency) ?? 0n) + p.amount);
  }
  return entry.postings.length >= 2 && [...sums.values()].every((s) => s === 0n);
}

export const userAccount = (userId: string, currency: string): AccountRef => ({
  ownerType: 'USER',
  ownerId: userId,
  currency,
});
export const merchantAccount = (merchantId: string, currency: string): AccountRef => ({
  ownerType: 'MERCHANT',
  ownerId: merchantId,
  currency,
});
export const fundingAccount = (currency: string): AccountRef => ({
  ownerType: 'PLATFORM',
  ownerId: FUNDING_ACCOUNT_OWNER,
  currency,
});
