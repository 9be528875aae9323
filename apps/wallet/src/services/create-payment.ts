/**
 * `payments/pay` (cashier flow): validates, creates the order in PROCESSING and answers A/ACCEPT with the
 * cashier URL. Idempotent by (merchant, paymentRequestId): the same payload replays the stored reply,
 * another payload is REPEAT_REQ_INCONSISTENT, and concurrent duplicates create one order.
 *
 * Guards, in order: partnerId belongs to the caller (ACCESS_DENIED) -> merchant verified
 * (PARTNER_STATUS_ABNORMAL) -> idempotency replay -> currency (CURRENCY_NOT_SUPPORT) -> amount limit
 * (PAYMENT_AMOUNT_EXCEED_LIMIT) -> payment factor, expiry, URLs, ORDER (PARAM_ILLEGAL) -> appId (ACCESS_DENIED).
 */
import { createHash } from 'node:crypto';
import { decideExpiry } from '@billetera/domain';
import {
  MAX_AMOUNT_MINOR,
  currencyInfo,
  formatWireTime,
  parseMinor,
  parseWireTime,
  resultOf,
  type PayV1Reply,
  type PayV1Request,
} from '@billetera/protocol';
import { findPaymentByRequestId, insertPaymentIfAbsent, type Merchant, type Payment } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { isHttpUrl } from './merchants.ts';
import { Refusal } from './refusal.ts';

export interface PayOutcome {
  reply: PayV1Reply;
  replayed: boolean;
}

/** Payment factors other than the cashier flow, which Billetera does not offer. */
const UNSUPPORTED_FACTORS = [
  'isPaymentEvaluation',
  'isOrderCode',
  'isPaymentCode',
  'isAgreementPay',
  'isAuthorizationAndPay',
  'isAuthorizationPayment',
] as const;

export async function createPayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayV1Request,
): Promise<PayOutcome> {
  try {
    return await createPaymentOrRefuse(ctx, merchant, req);
  } catch (err) {
    if (err instanceof Refusal)
      return { reply: { result: resultOf(err.code, err.message) }, replayed: false };
    throw err;
  }
}

async function createPaymentOrRefuse(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayV1Request,
): Promise<PayOutcome> {
  if (req.partnerId !== merchant.partnerId)
    throw new Refusal('ACCESS_DENIED', 'partnerId does not belong to this Client-Id');
  if (merchant.status !== 'VERIFIED') {
    throw new Refusal(
      'PARTNER_STATUS_ABNORMAL',
      `the merchant is ${merchant.status.toLowerCase()}: payments need a verified business licence`,
    );
  }
  const requestHash = hashRequest(req);
  const existing = await findPaymentByRequestId(ctx.store.db, merchant.id, req.paymentRequestId);
  if (existing) return replay(existing, requestHash);

  const payment = buildPayment(ctx, merchant, req, requestHash);
  const created = await ctx.store.transaction((tx) => insertPaymentIfAbsent(tx, payment));
  if (created) return { reply: JSON.parse(payment.replyJson) as PayV1Reply, replayed: false };
  // A concurrent request with the same paymentRequestId won the insert.
  const winner = await findPaymentByRequestId(ctx.store.db, merchant.id, req.paymentRequestId);
  if (!winner) throw new Error('invariant: payment vanished after a conflicting insert');
  return replay(winner, requestHash);
}

function replay(existing: Payment, requestHash: string): PayOutcome {
  if (existing.requestHash !== requestHash) {
    throw new Refusal(
      'REPEAT_REQ_INCONSISTENT',
      'paymentRequestId was used before with different parameters',
    );
  }
  return { reply: JSON.parse(existing.replyJson) as PayV1Reply, replayed: true };
}

function buildPayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayV1Request,
  requestHash: string,
): Payment {
  const { currency, value } = req.paymentAmount;
  if (!currencyInfo(currency))
    throw new Refusal('CURRENCY_NOT_SUPPORT', `paymentAmount.currency: ${currency} is not supported`);
  const amount = parseMinor(value);
  if (amount === undefined)
    throw new Refusal('PARAM_ILLEGAL', 'paymentAmount.value: must be a positive integer in minor units');
  if (amount > MAX_AMOUNT_MINOR) {
    throw new Refusal(
      'PAYMENT_AMOUNT_EXCEED_LIMIT',
      `paymentAmount.value: at most ${MAX_AMOUNT_MINOR} minor units`,
    );
  }
  for (const factor of UNSUPPORTED_FACTORS) {
    if (req.paymentFactor?.[factor] === true) {
      throw new Refusal(
        'PARAM_ILLEGAL',
        `paymentFactor.${factor}: not supported; Billetera offers cashier payments only`,
      );
    }
  }
  const now = ctx.clock.now();
  const expiry = decideExpiry(parseExpiry(req.paymentExpiryTime), now);
  if (!expiry.ok) throw new Refusal('PARAM_ILLEGAL', expiry.message);
  for (const field of ['paymentNotifyUrl', 'paymentReturnUrl'] as const) {
    const url = req[field];
    if (url !== undefined && !isHttpUrl(url))
      throw new Refusal('PARAM_ILLEGAL', `${field}: must be an absolute http(s) URL`);
  }
  const orderJson = parseOrder(req.extraParams);
  if (req.appId !== undefined) {
    throw new Refusal('ACCESS_DENIED', `appId: ${req.appId} is not a mini program of this merchant`);
  }
  const id = ctx.ids.next('pay');
  const cashierUrl = `${ctx.publicUrl}/cashier/${id}`;
  const reply: PayV1Reply = {
    result: resultOf('ACCEPT'),
    paymentId: id,
    acquirementId: id,
    paymentRequestId: req.paymentRequestId,
    actionForm: { actionFormType: 'REDIRECTION', redirectionUrl: cashierUrl },
    checkoutUrl: cashierUrl,
    paymentExpiryTime: formatWireTime(expiry.expiresAt),
  };
  return {
    id,
    merchantId: merchant.id,
    paymentRequestId: req.paymentRequestId,
    requestHash,
    apiVersion: 'v1',
    status: 'PROCESSING',
    currency,
    amount,
    orderTitle: req.paymentOrderTitle,
    appId: req.appId ?? null,
    notifyUrl: req.paymentNotifyUrl ?? null,
    returnUrl: req.paymentReturnUrl ?? null,
    extendInfo: req.extendInfo ?? null,
    orderJson,
    replyJson: JSON.stringify(reply),
    expiresAt: expiry.expiresAt,
    createdAt: now,
    paidAt: null,
    userId: null,
    failReason: null,
  };
}

function parseExpiry(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const at = parseWireTime(text);
  if (at === undefined)
    throw new Refusal('PARAM_ILLEGAL', 'paymentExpiryTime: must be an ISO 8601 time with an offset');
  return at;
}

function parseOrder(extraParams: Record<string, string> | undefined): string | null {
  const order = extraParams?.['ORDER'];
  if (order === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(order);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return order;
  } catch {
    // fall through to the refusal
  }
  throw new Refusal('PARAM_ILLEGAL', 'extraParams.ORDER: must be a JSON object in a string');
}

/**
 * A stable hash of the request's meaning: JSON with keys sorted at every level, so a retry that
 * serializes the same fields in another order is still "the same payload".
 */
export function hashRequest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
