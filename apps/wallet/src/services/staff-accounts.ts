/**
 * Console accounts (a merchant's owner) and operators: passwords and sign-in.
 *
 * Passwords are at least 12 characters, stored as `scrypt$N$r$p$salt$hash` (N = 2^15, r = 8, p = 1, a
 * 16-byte salt, a 32-byte key, base64url), compared in constant time. 5 failed sign-ins in a row lock
 * the account for 15 minutes (the PIN rule, decidePin). An unknown email, a wrong password and a locked
 * account get the same answer and cost the same time (the code LOCKED is for the log, never for the page).
 * Sign-up cannot help telling that an email is taken (without e-mail verification there is no other way
 * to refuse it), so it says so only for a complete, valid form, after the same scrypt work as a success,
 * and the web limits sign-up posts per IP. Emails are trimmed and lowercased, and unique per table.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { decidePin } from '@billetera/domain';
import {
  findStaffAccountByEmail,
  insertMerchantAccount,
  insertMerchant,
  insertMerchantEvent,
  insertOperator,
  updateStaffLockout,
  type Merchant,
  type StaffAccountTable,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { newClientId, newPartnerId } from './merchants.ts';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** scrypt needs 128 * N * r bytes (32 MiB here); node's default limit is exactly that, so raise it. */
const MAX_MEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, keyLength: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLength, o, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, { ...SCRYPT, maxmem: MAX_MEM });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16)
    return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 8 || expected.length < 16) return false;
  const key = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + MAX_MEM });
  return timingSafeEqual(key, expected);
}

/** A hash of nothing in particular, so an unknown email costs what a wrong password costs. */
let decoyHash: Promise<string> | undefined;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,252}\.[^\s@]{1,63}$/;

export function emailProblem(email: string): string | undefined {
  if (!email) return 'Enter an email address.';
  if (email.length > 254 || !EMAIL.test(email)) return 'Enter a valid email address, like name@example.com.';
  return undefined;
}

export function passwordProblem(password: string): string | undefined {
  if ([...password].length < PASSWORD_MIN_LENGTH)
    return `Use at least ${PASSWORD_MIN_LENGTH} characters for the password.`;
  if (password.length > PASSWORD_MAX_LENGTH)
    return `Use at most ${PASSWORD_MAX_LENGTH} characters for the password.`;
  return undefined;
}

export type StaffSignInOutcome =
  | { ok: true; accountId: string; merchantId: string | null }
  | { ok: false; code: 'INVALID_CREDENTIALS'; message: string }
  /** The message is INVALID_CREDENTIALS_MESSAGE too: the lock is never revealed. */
  | { ok: false; code: 'LOCKED'; message: string; lockedUntil: number };

/** The one answer for an unknown email and a wrong password. */
export const INVALID_CREDENTIALS_MESSAGE = 'The email or password is not right.';

/**
 * Checks a password against a console account (`merchant_accounts`) or an operator (`operators`), and
 * counts the failure. The scrypt comparison runs outside the transaction (it takes tens of milliseconds);
 * the count is then applied to the row read again under a lock, so parallel attempts are all counted.
 */
export async function signInStaff(
  ctx: WalletContext,
  table: StaffAccountTable,
  emailInput: string,
  password: string,
): Promise<StaffSignInOutcome> {
  const email = normalizeEmail(emailInput);
  const invalid = { ok: false, code: 'INVALID_CREDENTIALS', message: INVALID_CREDENTIALS_MESSAGE } as const;
  const account =
    email && email.length <= 254 ? await findStaffAccountByEmail(ctx.store.db, table, email) : undefined;
  if (!account || password.length > PASSWORD_MAX_LENGTH) {
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password.slice(0, PASSWORD_MAX_LENGTH), await decoyHash);
    return invalid;
  }
  const correct = await verifyPassword(password, account.passwordHash);
  return ctx.store.transaction(async (tx): Promise<StaffSignInOutcome> => {
    const now = ctx.clock.now();
    const current = await findStaffAccountByEmail(tx, table, email, {
      forUpdate: ctx.store.dialect === 'postgres',
    });
    if (!current) return invalid;
    const check = decidePin(
      { failedAttempts: current.failedAttempts, lockedUntil: current.lockedUntil },
      correct && current.passwordHash === account.passwordHash,
      now,
    );
    if (
      check.next.failedAttempts !== current.failedAttempts ||
      check.next.lockedUntil !== current.lockedUntil
    )
      await updateStaffLockout(tx, table, current.id, check.next.failedAttempts, check.next.lockedUntil);
    if (check.ok) return { ok: true, accountId: current.id, merchantId: current.merchantId };
    // Locked, even for the right password; but answered like a wrong password: a "locked" message would
    // tell anybody who tries five times that the email has an account.
    if (check.code === 'PIN_LOCKED')
      return {
        ok: false,
        code: 'LOCKED',
        lockedUntil: check.lockedUntil,
        message: INVALID_CREDENTIALS_MESSAGE,
      };
    return invalid;
  });
}

export interface SignUpInput {
  /** The name payers see (the merchant's display name). */
  name: string;
  email: string;
  password: string;
}

export type FieldErrors = Record<string, string>;

export type SignUpOutcome =
  { ok: true; merchant: Merchant; accountId: string } | { ok: false; errors: FieldErrors };

export const MERCHANT_NAME_MAX = 100;

/**
 * A merchant signs up in the console: the merchant (DRAFT, Client-Id and partnerId generated, no key
 * yet: its OpenAPI calls answer KEY_NOT_FOUND until a key is added) and its owner's account, in one
 * transaction, with a SIGNED_UP event.
 */
export async function signUpMerchant(ctx: WalletContext, input: SignUpInput): Promise<SignUpOutcome> {
  const name = input.name.trim().replace(/\s+/g, ' ');
  const email = normalizeEmail(input.email);
  const errors: FieldErrors = {};
  if (name.length < 2 || name.length > MERCHANT_NAME_MAX)
    errors['name'] = `Enter the shop's name (2 to ${MERCHANT_NAME_MAX} characters).`;
  const badEmail = emailProblem(email);
  if (badEmail) errors['email'] = badEmail;
  const badPassword = passwordProblem(input.password);
  if (badPassword) errors['password'] = badPassword;
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now();
  const merchant: Merchant = {
    id: ctx.ids.next('mch'),
    clientId: newClientId(),
    partnerId: newPartnerId(),
    name,
    website: null,
    notifyUrl: null,
    status: 'DRAFT',
    createdAt: now,
  };
  const accountId = ctx.ids.next('macc');
  try {
    await ctx.store.transaction(async (tx) => {
      // Checked first so the usual case answers cleanly; the unique index settles a race.
      if (await findStaffAccountByEmail(tx, 'merchant_accounts', email)) throw new EmailTaken();
      await insertMerchant(tx, merchant);
      await insertMerchantAccount(tx, {
        id: accountId,
        merchantId: merchant.id,
        email,
        passwordHash,
        createdAt: now,
      });
      await insertMerchantEvent(tx, {
        id: merchantEventId(now),
        merchantId: merchant.id,
        at: now,
        actor: `merchant:${accountId}`,
        action: 'SIGNED_UP',
        detail: JSON.stringify({ to: 'DRAFT' }),
      });
    });
  } catch (err) {
    if (err instanceof EmailTaken || isUniqueViolation(err))
      return { ok: false, errors: { email: 'An account with this email already exists. Sign in instead.' } };
    throw err;
  }
  return { ok: true, merchant, accountId };
}

export type CreateOperatorOutcome =
  { ok: true; operatorId: string; email: string } | { ok: false; message: string };

/** An operator (the first one comes from `billetera operator create`). */
export async function createOperator(
  ctx: WalletContext,
  input: { email: string; password: string },
): Promise<CreateOperatorOutcome> {
  const email = normalizeEmail(input.email);
  const problem = emailProblem(email) ?? passwordProblem(input.password);
  if (problem) return { ok: false, message: problem };
  const passwordHash = await hashPassword(input.password);
  const operatorId = ctx.ids.next('op');
  try {
    await ctx.store.transaction(async (tx) => {
      if (await findStaffAccountByEmail(tx, 'operators', email)) throw new EmailTaken();
      await insertOperator(tx, { id: operatorId, email, passwordHash, createdAt: ctx.clock.now() });
    });
  } catch (err) {
    if (err instanceof EmailTaken || isUniqueViolation(err))
      return { ok: false, message: `an operator with the email ${email} already exists` };
    throw err;
  }
  return { ok: true, operatorId, email };
}

/** A strong password for a new operator: 20 characters from a 56-letter alphabet (116 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const out: string[] = [];
  while (out.length < 20) {
    for (const b of randomBytes(32)) {
      // Rejection sampling: no bias towards the first letters.
      if (b < 224 && out.length < 20) out.push(alphabet[b % 56] ?? '');
    }
  }
  return out.join('');
}

let eventSeq = 0;

/**
 * A merchant_events id that sorts in creation order: the time, then a per-process sequence, then random
 * bits (events of one merchant often share a millisecond: a submission and its check, a check and a verify).
 */
export function merchantEventId(at: number): string {
  eventSeq = (eventSeq + 1) % 1_000_000;
  const time = Math.max(0, Math.floor(at)).toString(36).padStart(9, '0');
  return `mev_${time}${eventSeq.toString(36).padStart(4, '0')}_${randomBytes(12).toString('base64url')}`;
}

class EmailTaken extends Error {}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
