import { PIN_PATTERN, fundingAccount, transfer, userAccount } from '@billetera/domain';
import { MAX_AMOUNT_MINOR, currencyInfo, formatAmount } from '@billetera/protocol';
import {
  balancesOf,
  findUserByPhone,
  insertUser,
  postEntry,
  type Balance,
  type User,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { hashPin } from '../pin-hash.ts';

/** Phone numbers as E.164-like digits with an optional leading +, 6 to 20 characters. */
const PHONE_PATTERN = /^\+?[0-9]{6,20}$/;

export class UserInputError extends Error {}

export async function createUser(
  ctx: WalletContext,
  input: { phone: string; pin: string; displayName?: string | undefined },
): Promise<User> {
  if (!PHONE_PATTERN.test(input.phone))
    throw new UserInputError('the phone number must be 6 to 20 digits, optionally after a +');
  if (!PIN_PATTERN.test(input.pin)) throw new UserInputError('the PIN must be exactly six digits');
  const id = ctx.ids.next('usr');
  const user: User = {
    id,
    phone: input.phone,
    pinHash: hashPin(ctx.secrets.pinKey, id, input.pin),
    pinFailedAttempts: 0,
    pinLockedUntil: null,
    status: 'ACTIVE',
    displayName: input.displayName ?? null,
    createdAt: ctx.clock.now(),
  };
  await ctx.store.transaction(async (tx) => {
    if (await findUserByPhone(tx, input.phone))
      throw new UserInputError(`a user with phone ${input.phone} already exists`);
    await insertUser(tx, user);
  });
  return user;
}

/** Adds money to a user's balance from the platform's funding account (a sandbox top-up). */
export async function topUpUser(
  ctx: WalletContext,
  input: { phone: string; amountMinor: bigint; currency: string },
): Promise<Balance[]> {
  if (!currencyInfo(input.currency))
    throw new UserInputError(`the currency ${input.currency} is not supported`);
  if (input.amountMinor <= 0n || input.amountMinor > MAX_AMOUNT_MINOR) {
    throw new UserInputError(`the amount must be between 1 and ${MAX_AMOUNT_MINOR} minor units`);
  }
  return ctx.store.transaction(async (tx) => {
    const user = await findUserByPhone(tx, input.phone);
    if (!user) throw new UserInputError(`no user with phone ${input.phone}`);
    const now = ctx.clock.now();
    const entry = transfer(
      'TOPUP',
      `topup_${user.id}_${now}`,
      fundingAccount(input.currency),
      userAccount(user.id, input.currency),
      input.amountMinor,
    );
    await postEntry(tx, entry, ctx.ids, now);
    return balancesOf(tx, 'USER', user.id);
  });
}

export async function showUser(
  ctx: WalletContext,
  phone: string,
): Promise<{ user: User; balances: Balance[] } | undefined> {
  const user = await findUserByPhone(ctx.store.db, phone);
  if (!user) return undefined;
  return { user, balances: await balancesOf(ctx.store.db, 'USER', user.id) };
}

export const describeBalance = (b: Balance): string => formatAmount(b.value, b.currency);
