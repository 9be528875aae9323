/**
 * Signing in to the wallet (cashier, host app) with phone and PIN. The PIN check and its lockout are the
 * same as for paying: 5 wrong PINs in a row, wherever they were typed, lock the account for 15 minutes.
 */
import type { WalletContext } from '../context.ts';
import { checkPin, type PinFailure } from './confirm-payment.ts';

export type SignInOutcome = { ok: true; userId: string } | PinFailure;

export async function signIn(ctx: WalletContext, phone: string, pin: string): Promise<SignInOutcome> {
  return checkPin(ctx, phone.trim(), pin.trim());
}
