/**
 * The user confirms a payment with their PIN (the cashier's use case; `billetera sandbox pay` runs the
 * same code). Two steps:
 *   1. read the payment: unknown, final or expired orders are refused before a PIN is spent;
 *   2. ONE transaction: check the PIN and count the attempt (this part always commits, so a wrong PIN is
 *      counted even though we refuse); then, inside a savepoint: claim the payment (PROCESSING ->
 *      SUCCESS, only if not expired), debit the user (refused if it would go below zero), credit the
 *      merchant, journal, outbox row. Any refusal there rolls back to the savepoint, so no debit ever
 *      happens without the status change, or twice. One transaction means one durable commit per
 *      confirm (shared with others under SQLite's group commit, see open-store.ts).
 */
import {
  ORDER_EXPIRED_REASON,
  decideConfirm,
  decidePin,
  merchantAccount,
  transfer,
  userAccount,
} from '@billetera/domain';
import { formatAmount, resultOf, type Result, type ResultCode } from '@billetera/protocol';
import {
  InsufficientFundsError,
  findMerchantById,
  findPaymentById,
  findUserByPhone,
  finishPayment,
  postEntry,
  updatePinState,
  withSavepoint,
  type Merchant,
  type Payment,
  type Tx,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { pinMatches } from '../pin-hash.ts';
import { expirePaymentInTx } from './expire-payment.ts';
import { enqueuePaymentNotification } from './notify-body.ts';
import { Refusal } from './refusal.ts';

export interface ConfirmInput {
  paymentId: string;
  phone: string;
  pin: string;
}

export type ConfirmOutcome =
  | { ok: true; payment: Payment; merchant: Merchant }
  | {
      ok: false;
      result: Result;
      code: ResultCode;
      payment?: Payment | undefined;
      attemptsLeft?: number;
      lockedUntil?: number;
    };

export async function confirmPayment(ctx: WalletContext, input: ConfirmInput): Promise<ConfirmOutcome> {
  const payment = await findPaymentById(ctx.store.db, input.paymentId);
  if (!payment) return refuse('ORDER_NOT_EXIST');
  const early = decideConfirm(payment, ctx.clock.now());
  if (!early.ok) return refuseFor(ctx, payment, early.code);

  try {
    const done = await ctx.store.transaction(async (tx) => {
      const pin = await checkPinInTx(ctx, tx, input.phone, input.pin);
      if (!pin.ok) return { pinFailure: pin } as const;
      // The PIN attempt above commits whatever happens here; the payment's writes only all together.
      return withSavepoint(tx, 'confirm', async () => {
        const now = ctx.clock.now();
        const current = await findPaymentById(tx, payment.id);
        if (!current) throw new Refusal('ORDER_NOT_EXIST');
        const decision = decideConfirm(current, now);
        if (!decision.ok) {
          // Expired but still PROCESSING: fail it here, with its notification, and report it as failed so
          // the refusal below does not try to expire it a second time.
          if (
            decision.code === 'ORDER_EXPIRED' &&
            decision.expireNow &&
            (await expirePaymentInTx(ctx, tx, current.id))
          ) {
            return {
              refused: decision.code,
              payment: { ...current, status: 'FAIL', failReason: ORDER_EXPIRED_REASON },
            } as const;
          }
          return { refused: decision.code, payment: current } as const;
        }
        if (!(await finishPayment(tx, current.id, { status: 'SUCCESS', userId: pin.userId, paidAt: now }))) {
          // Lost a race (another confirm, a cancel or the expiry sweeper): nothing was changed.
          throw new Refusal('ORDER_STATUS_INVALID');
        }
        const entry = transfer(
          'PAYMENT',
          current.id,
          userAccount(pin.userId, current.currency),
          merchantAccount(current.merchantId, current.currency),
          current.amount,
        );
        await postEntry(tx, entry, ctx.ids, now);
        const paid = await findPaymentById(tx, current.id);
        const merchant = await findMerchantById(tx, current.merchantId);
        if (!paid || !merchant) throw new Error('invariant: paid payment or merchant vanished');
        await enqueuePaymentNotification(ctx, tx, paid, merchant);
        return { refused: undefined, payment: paid, merchant } as const;
      }).catch((err: unknown) => {
        // Refusals end the payment part only (rolled back to the savepoint); the PIN attempt stays.
        if (err instanceof InsufficientFundsError || err instanceof Refusal) return { error: err } as const;
        throw err;
      });
    });
    if ('pinFailure' in done) return done.pinFailure;
    if ('error' in done) throw done.error;
    ctx.onOutbox();
    if (done.refused !== undefined) return refuseFor(ctx, done.payment, done.refused);
    return { ok: true, payment: done.payment, merchant: done.merchant };
  } catch (err) {
    if (err instanceof InsufficientFundsError) {
      return refuse(
        'USER_BALANCE_NOT_ENOUGH',
        `Your balance is too low to pay ${formatAmount(payment.amount, payment.currency)}`,
        payment,
      );
    }
    if (err instanceof Refusal) {
      const latest = await findPaymentById(ctx.store.db, payment.id);
      return latest ? refuseFor(ctx, latest, err.code) : refuse(err.code);
    }
    throw err;
  }
}

export type PinFailure = Extract<ConfirmOutcome, { ok: false }>;
type PinResult = { ok: true; userId: string } | PinFailure;

/** Checks a user's PIN in its own transaction, counting wrong attempts and applying the lockout. */
export async function checkPin(ctx: WalletContext, phone: string, pin: string): Promise<PinResult> {
  return ctx.store.transaction((tx) => checkPinInTx(ctx, tx, phone, pin));
}

/** The PIN check inside the caller's transaction; the attempt counter is written there. */
async function checkPinInTx(ctx: WalletContext, tx: Tx, phone: string, pin: string): Promise<PinResult> {
  const user = await findUserByPhone(tx, phone, { forUpdate: ctx.store.dialect === 'postgres' });
  if (!user) return refuse('USER_NOT_EXIST', 'No wallet user with this phone number');
  if (user.status !== 'ACTIVE') return refuse('USER_STATUS_ABNORMAL', 'This wallet account is not active');
  const now = ctx.clock.now();
  const correct = pinMatches(ctx.secrets.pinKey, user.id, pin, user.pinHash);
  const check = decidePin(
    { failedAttempts: user.pinFailedAttempts, lockedUntil: user.pinLockedUntil },
    correct,
    now,
  );
  if (
    check.next.failedAttempts !== user.pinFailedAttempts ||
    check.next.lockedUntil !== user.pinLockedUntil
  ) {
    await updatePinState(tx, user.id, check.next.failedAttempts, check.next.lockedUntil);
  }
  if (check.ok) return { ok: true, userId: user.id };
  if (check.code === 'PIN_LOCKED') {
    const minutes = Math.ceil((check.lockedUntil - now) / 60_000);
    return {
      ...refuse('PIN_LOCKED', `Too many wrong PINs: payments are locked for ${minutes} more minutes`),
      lockedUntil: check.lockedUntil,
    };
  }
  const plural = check.attemptsLeft === 1 ? 'attempt' : 'attempts';
  return {
    ...refuse('INVALID_PIN', `Wrong PIN, ${check.attemptsLeft} ${plural} left`),
    attemptsLeft: check.attemptsLeft,
  };
}

function refuse(
  code: ResultCode,
  message?: string,
  payment?: Payment,
): Extract<ConfirmOutcome, { ok: false }> {
  return { ok: false, code, result: resultOf(code, message), payment };
}

async function refuseFor(
  ctx: WalletContext,
  payment: Payment,
  code: ResultCode,
): Promise<Extract<ConfirmOutcome, { ok: false }>> {
  if (code === 'ORDER_EXPIRED') {
    // An expired order seen before the sweeper got to it is failed here (and its merchant notified).
    if (payment.status === 'PROCESSING') {
      const moved = await ctx.store.transaction((tx) => expirePaymentInTx(ctx, tx, payment.id));
      if (moved) ctx.onOutbox();
    }
    return refuse('ORDER_EXPIRED', 'This order has expired and can no longer be paid', payment);
  }
  if (code !== 'ORDER_STATUS_INVALID') return refuse(code, undefined, payment);
  const why: Record<Payment['status'], string> = {
    SUCCESS: 'This order has already been paid',
    CANCELLED: 'This order was cancelled by the merchant',
    FAIL: 'This order has failed and can no longer be paid',
    PROCESSING: 'This order is being paid in another session',
  };
  return refuse('ORDER_STATUS_INVALID', why[payment.status], payment);
}
