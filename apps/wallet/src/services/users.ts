import { PIN_PATTERN, fundingAccount, transfer, userAccount } from '@billetera/domain';
import { MAX_AMOUNT_MINOR, currencyInfo, formatAmount } from '@billetera/protocol';
import {
  balancesOf,
  findUserByPhone,
  insertUser,
  postEntry,
  EMPTY_PROFILE,
  type Balance,
  type User,
  type UserProfile,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { hashPin } from '../pin-hash.ts';

/** Phone numbers as E.164-like digits with an optional leading +, 6 to 20 characters. */
const PHONE_PATTERN = /^\+?[0-9]{6,20}$/;

export class UserInputError extends Error {}

export async function createUser(
  ctx: WalletContext,
  input: {
    phone: string;
    pin: string;
    displayName?: string | undefined;
    profile?: Partial<UserProfile> | undefined;
  },
): Promise<User> {
  if (!PHONE_PATTERN.test(input.phone))
    throw new UserInputError('the phone number must be 6 to 20 digits, optionally after a +');
  if (!PIN_PATTERN.test(input.pin)) throw new UserInputError('the PIN must be exactly six digits');
  const profile = checkProfile({ ...EMPTY_PROFILE, ...input.profile });
  if (input.displayName !== undefined && !/^[^\p{C}]{1,64}$/u.test(input.displayName))
    throw new UserInputError('the nickname must be 1 to 64 printable characters');
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
    profile,
  };
  await ctx.store.transaction(async (tx) => {
    if (await findUserByPhone(tx, input.phone))
      throw new UserInputError(`a user with phone ${input.phone} already exists`);
    await insertUser(tx, user);
  });
  return user;
}

function checkProfile(p: UserProfile): UserProfile {
  if (p.fullName !== null && !/^[^\p{C}]{1,128}$/u.test(p.fullName))
    throw new UserInputError('the full name must be 1 to 128 printable characters');
  if (p.gender !== null && p.gender !== 'F' && p.gender !== 'M')
    throw new UserInputError('the gender must be F or M');
  if (p.birthDate !== null && !isCalendarDate(p.birthDate))
    throw new UserInputError('the birth date must be a real date, YYYY-MM-DD');
  if (p.nationality !== null && !/^[A-Z]{2}$/.test(p.nationality))
    throw new UserInputError('the nationality must be an ISO 3166 alpha-2 code, e.g. ES');
  if (p.avatarUrl !== null && !/^https?:\/\/\S{1,1000}$/.test(p.avatarUrl))
    throw new UserInputError('the avatar must be an absolute http(s) URL');
  return p;
}

function isCalendarDate(value: string): boolean {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
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
