/**
 * Guards for console (/console) and ops (/ops) pages. Each loads the signed-in subject from its staff
 * session, or, signed out, sends the sign-in redirect itself (with `next` back to this page) and returns
 * undefined: the caller just returns.
 *
 *   const who = await requireMerchant(ctx, req, reply);
 *   if (!who) return reply;
 *   // every query below is scoped by who.merchant.id
 *
 * POST handlers must also check the CSRF token: `staffCsrfValid(who.staff, req.body._csrf)`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findMerchantById, type Merchant } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { safeNext } from './session.ts';
import { currentStaff, type StaffSession } from './staff-session.ts';

export interface MerchantStaff {
  staff: StaffSession;
  merchant: Merchant;
  accountEmail: string;
}

export interface OperatorStaff {
  staff: StaffSession;
  operatorId: string;
  email: string;
}

/** Where a signed-out visitor goes: the area's sign-in page, back here afterwards (GET pages only). */
function signInRedirect(req: FastifyRequest, reply: FastifyReply, area: 'console' | 'ops'): void {
  const here = req.method === 'GET' ? safeNext(req.url, `/${area}`) : `/${area}`;
  const query = here === `/${area}` ? '' : `?next=${encodeURIComponent(here)}`;
  void reply.header('cache-control', 'no-store').redirect(`/${area}/sign-in${query}`, 303);
}

/** The signed-in merchant account and its merchant, or undefined after redirecting to /console/sign-in. */
export async function requireMerchant(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<MerchantStaff | undefined> {
  const found = await loadMerchantStaff(ctx, req);
  if (!found) signInRedirect(req, reply, 'console');
  return found;
}

/** The same as requireMerchant without redirecting (for pages that also show something signed out). */
export async function loadMerchantStaff(
  ctx: WalletContext,
  req: FastifyRequest,
): Promise<MerchantStaff | undefined> {
  const staff = await currentStaff(ctx, req, 'MERCHANT');
  if (!staff) return undefined;
  const account = await ctx.store.db
    .selectFrom('merchant_accounts')
    .select(['merchant_id', 'email'])
    .where('id', '=', staff.subjectId)
    .executeTakeFirst();
  if (!account) return undefined;
  const merchant = await findMerchantById(ctx.store.db, account.merchant_id);
  return merchant && { staff, merchant, accountEmail: account.email };
}

/** The signed-in operator, or undefined after redirecting to /ops/sign-in. */
export async function requireOperator(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<OperatorStaff | undefined> {
  const found = await loadOperatorStaff(ctx, req);
  if (!found) signInRedirect(req, reply, 'ops');
  return found;
}

export async function loadOperatorStaff(
  ctx: WalletContext,
  req: FastifyRequest,
): Promise<OperatorStaff | undefined> {
  const staff = await currentStaff(ctx, req, 'OPERATOR');
  if (!staff) return undefined;
  const operator = await ctx.store.db
    .selectFrom('operators')
    .select(['id', 'email'])
    .where('id', '=', staff.subjectId)
    .executeTakeFirst();
  return operator && { staff, operatorId: operator.id, email: operator.email };
}
