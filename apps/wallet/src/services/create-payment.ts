/**
 * `payments/pay` (cashier flow): validates, creates the order in PROCESSING and answers A/ACCEPT with the
 * cashier URL. Idempotent by (merchant, paymentRequestId): the same payload replays the stored reply,
 * another payload is REPEAT_REQ_INCONSISTENT, and concurrent duplicates create one order.
 *
 * One implementation, two wire shapes: `placePayment` takes a version-neutral `PayInput`;
 * `createPayment` (v1 body) and `createPaymentV2` (v2 body) are thin adapters, and the reply is rendered
 * in the caller's version (v1 `actionForm`, v2 `redirectActionForm`) and stored for replays.
 *
 * Guards, in order: partnerId belongs to the caller (ACCESS_DENIED) -> merchant verified
 * (PARTNER_STATUS_ABNORMAL) -> idempotency replay (or REPEAT_REQ_INCONSISTENT) -> appId is the caller's
 * mini program with the Payment feature (ACCESS_DENIED) -> currency (CURRENCY_NOT_SUPPORT) -> amount limit
 * (PAYMENT_AMOUNT_EXCEED_LIMIT) -> payment factor, expiry, URLs, ORDER (PARAM_ILLEGAL).
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
  type Amount,
  type ApiVersion,
  type PayV1Reply,
  type PayV1Request,
  type PayV2Reply,
  type PayV2Request,
} from '@billetera/protocol';
import {
  featuresOf,
  findMiniProgram,
  findPaymentByRequestId,
  insertPaymentIfAbsent,
  type Merchant,
  type NewPayment,
  type Payment,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { isHttpUrl } from './merchants.ts';
import { Refusal } from './refusal.ts';

export interface PayOutcome<R extends PayV1Reply | PayV2Reply = PayV1Reply | PayV2Reply> {
  reply: R;
  replayed: boolean;
}

/** pay's version-neutral input; `payInputFromV1` and `payInputFromV2` map the wire bodies to it. */
export interface PayInput {
  apiVersion: ApiVersion;
  /** v1 only: must be the caller's partnerId. */
  partnerId: string | undefined;
  paymentRequestId: string;
  /** Hash of the wire request: what "the same payload" means for the idempotency check. */
  requestHash: string;
  orderTitle: string;
  paymentAmount: Amount;
  appId: string | undefined;
  /** v2 only (v1's is free-form): anything but CASHIER_PAYMENT is refused. */
  productCode: string | undefined;
  paymentFactor: PayV1Request['paymentFactor'];
  paymentExpiryTime: string | undefined;
  notifyUrl: string | undefined;
  returnUrl: string | undefined;
  extendInfo: string | undefined;
  /** The display order as JSON text, or null; throws a PARAM_ILLEGAL Refusal when malformed. */
  order: () => string | null;
  /** The wire name of the return URL field, for messages. */
  returnUrlField: 'paymentReturnUrl' | 'paymentRedirectUrl';
}

export function payInputFromV1(req: PayV1Request): PayInput {
  return {
    apiVersion: 'v1',
    partnerId: req.partnerId,
    paymentRequestId: req.paymentRequestId,
    requestHash: hashRequest(req),
    orderTitle: req.paymentOrderTitle,
    paymentAmount: req.paymentAmount,
    appId: req.appId,
    productCode: undefined,
    paymentFactor: req.paymentFactor,
    paymentExpiryTime: req.paymentExpiryTime,
    notifyUrl: req.paymentNotifyUrl,
    returnUrl: req.paymentReturnUrl,
    extendInfo: req.extendInfo,
    order: () => parseOrder(req.extraParams),
    returnUrlField: 'paymentReturnUrl',
  };
}

export function payInputFromV2(req: PayV2Request): PayInput {
  return {
    apiVersion: 'v2',
    partnerId: undefined,
    paymentRequestId: req.paymentRequestId,
    // The version is part of the payload: the same paymentRequestId through the other version is
    // another request (REPEAT_REQ_INCONSISTENT), never a replay in the wrong shape.
    requestHash: hashRequest({ apiVersion: 'v2', request: req }),
    orderTitle: req.order.orderDescription,
    paymentAmount: req.paymentAmount,
    appId: req.appId,
    productCode: req.productCode,
    paymentFactor: req.paymentFactor,
    paymentExpiryTime: req.paymentExpiryTime,
    notifyUrl: req.paymentNotifyUrl,
    returnUrl: req.paymentRedirectUrl,
    extendInfo: req.extendInfo,
    order: () => JSON.stringify(req.order),
    returnUrlField: 'paymentRedirectUrl',
  };
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

/** `/v1/payments/pay`. */
export async function createPayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayV1Request,
): Promise<PayOutcome<PayV1Reply>> {
  return (await placePayment(ctx, merchant, payInputFromV1(req))) as PayOutcome<PayV1Reply>;
}

/** `/v2/payments/pay`. */
export async function createPaymentV2(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayV2Request,
): Promise<PayOutcome<PayV2Reply>> {
  return (await placePayment(ctx, merchant, payInputFromV2(req))) as PayOutcome<PayV2Reply>;
}

/** The pay use case, whatever the wire version. */
export async function placePayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayInput,
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
  req: PayInput,
): Promise<PayOutcome> {
  if (req.partnerId !== undefined && req.partnerId !== merchant.partnerId)
    throw new Refusal('ACCESS_DENIED', 'partnerId does not belong to this Client-Id');
  if (merchant.status !== 'VERIFIED') {
    throw new Refusal(
      'PARTNER_STATUS_ABNORMAL',
      `the merchant is not verified (status ${merchant.status}): payments need a verified business licence and website`,
    );
  }
  const requestHash = req.requestHash;
  const existing = await findPaymentByRequestId(ctx.store.db, merchant.id, req.paymentRequestId);
  if (existing) return replay(existing, requestHash);

  if (req.appId !== undefined) {
    const mini = await findMiniProgram(ctx.store.db, req.appId);
    if (!mini || mini.merchantId !== merchant.id) {
      throw new Refusal('ACCESS_DENIED', `appId: ${req.appId} is not a mini program of this merchant`);
    }
    // Features gate OpenAPIs (decisions.md "Platform"): without Payment, the mini program may not pay.
    if ((await featuresOf(ctx.store.db, req.appId)).get('PAYMENT') !== 'ACTIVE') {
      throw new Refusal(
        'ACCESS_DENIED',
        `appId: ${req.appId} (${mini.name}) has not added the Payment feature: add it in the console`,
      );
    }
  }
  const payment = buildPayment(ctx, merchant, req, requestHash);
  const created = await ctx.store.transaction((tx) => insertPaymentIfAbsent(tx, payment));
  if (created) return { reply: JSON.parse(payment.replyJson) as PayV1Reply | PayV2Reply, replayed: false };
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
  return { reply: JSON.parse(existing.replyJson) as PayV1Reply | PayV2Reply, replayed: true };
}

function buildPayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: PayInput,
  requestHash: string,
): NewPayment {
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
  if (req.productCode !== undefined && req.productCode !== 'CASHIER_PAYMENT') {
    throw new Refusal(
      'PARAM_ILLEGAL',
      `productCode: ${req.productCode} is not supported; Billetera offers CASHIER_PAYMENT only`,
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
  for (const [field, url] of [
    ['paymentNotifyUrl', req.notifyUrl],
    [req.returnUrlField, req.returnUrl],
  ] as const) {
    if (url !== undefined && !isHttpUrl(url))
      throw new Refusal('PARAM_ILLEGAL', `${field}: must be an absolute http(s) URL`);
  }
  const orderJson = req.order();
  const id = ctx.ids.next('pay');
  const cashierUrl = `${ctx.publicUrl}/cashier/${id}`;
  const accepted = {
    result: resultOf('ACCEPT'),
    paymentId: id,
    acquirementId: id,
    paymentRequestId: req.paymentRequestId,
  };
  const form =
    req.apiVersion === 'v1'
      ? { actionForm: { actionFormType: 'REDIRECTION' as const, redirectionUrl: cashierUrl } }
      : { redirectActionForm: { method: 'GET' as const, redirectionUrl: cashierUrl } };
  const reply: PayV1Reply | PayV2Reply = {
    ...accepted,
    ...form,
    checkoutUrl: cashierUrl,
    ...(req.appId !== undefined
      ? { miniProgramUrl: `${ctx.publicUrl}/app/mini/${req.appId}?pay=${id}` }
      : {}),
    paymentExpiryTime: formatWireTime(expiry.expiresAt),
  };
  return {
    id,
    merchantId: merchant.id,
    paymentRequestId: req.paymentRequestId,
    requestHash,
    apiVersion: req.apiVersion,
    status: 'PROCESSING',
    currency,
    amount,
    orderTitle: req.orderTitle,
    appId: req.appId ?? null,
    notifyUrl: req.notifyUrl ?? null,
    returnUrl: req.returnUrl ?? null,
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
