/**
 * The shop's own API for its mini program: the catalogue, creating an order (which asks the wallet to
 * `pay`, with the v2 body: the signed-in user, if any, is the order's `buyer.referenceBuyerId`), and
 * reading an order, optionally asking the wallet (`inquiryPayment`) when no notification has settled
 * it yet. CORS is open (`*`, no credentials): the mini program runs in a sandboxed iframe
 * whose origin is opaque ("null"), so every fetch it makes is cross-origin, and nothing here relies
 * on cookies.
 */
import type { PayV2Reply, PayV2Request, PaymentStatus } from '@billetera/protocol';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';
import { PRODUCTS, findProduct, formatPrice, productView, type Product } from './catalogue.ts';
import { matchesPayment, newOrderId, type Order } from './order-book.ts';
import { SESSION_ID_PATTERN, type ShopSession } from './session-book.ts';
import type { ShopContext } from './shop-context.ts';
import { walletFailure } from './wallet-errors.ts';

/** Longest productId and siteName accepted (the catalogue's ids are far shorter; extendInfo is 4096). */
const PRODUCT_ID_MAX_CHARS = 64;
const SITE_NAME_MAX_CHARS = 64;
/** The mini program polls every 500 ms; the wallet is asked about one order at most this often. */
export const INQUIRY_MIN_INTERVAL_MS = 1_000;
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SEC = 600;

export function registerCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/')) reply.header('access-control-allow-origin', '*');
  });
  app.options('/api/*', async (_req, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SEC))
      .send(),
  );
}

export function registerShopRoutes(app: FastifyInstance, shop: ShopContext): void {
  app.get('/api/products', async () => ({ products: PRODUCTS.map(productView) }));

  app.post('/api/orders', async (req, reply) => {
    const input = readOrderRequest(req.body);
    if ('error' in input) return reply.code(400).send(input);
    const product = findProduct(input.productId);
    if (!product) {
      return reply
        .code(400)
        .send({ error: 'UNKNOWN_PRODUCT', message: `no product ${JSON.stringify(input.productId)}` });
    }
    let session: ShopSession | undefined;
    if (input.sessionId !== undefined) {
      session = shop.sessions.get(input.sessionId);
      if (!session) {
        return reply.code(401).send({
          error: 'SESSION_NOT_FOUND',
          message: 'no such sign-in (sessions are lost when the shop restarts): sign in again',
        });
      }
    }
    const orderId = newOrderId();
    let paid: PayV2Reply;
    try {
      paid = await shop.client.v2.pay(payRequest(shop, orderId, product, input.siteName, session));
    } catch (err) {
      return sendWalletFailure(reply, req.log, err, 'pay');
    }
    const paymentUrl = paid.redirectActionForm?.redirectionUrl;
    if (paid.paymentId === undefined || paymentUrl === undefined) {
      req.log.error({ orderId, result: paid.result }, 'pay was accepted without a paymentId or cashier URL');
      return reply
        .code(502)
        .send({ error: 'WALLET_UNEXPECTED_REPLY', message: 'the wallet gave no cashier URL' });
    }
    const order: Order = {
      orderId,
      product,
      amount: { ...product.price },
      paymentId: paid.paymentId,
      status: 'AWAITING_PAYMENT',
      confirmedBy: null,
      createdAt: Date.now(),
      lastInquiryAt: 0,
      ...(session !== undefined ? { customerId: session.customerId } : {}),
    };
    shop.orders.add(order);
    req.log.info({ orderId, paymentId: order.paymentId, customerId: order.customerId }, 'order created');
    return reply.code(201).send({
      orderId,
      tradeNO: order.paymentId,
      paymentUrl,
      ...(paid.miniProgramUrl !== undefined ? { miniProgramUrl: paid.miniProgramUrl } : {}),
      amount: order.amount,
      formattedAmount: formatPrice(order.amount),
    });
  });

  app.get<{ Params: { orderId: string }; Querystring: { refresh?: unknown } }>(
    '/api/orders/:orderId',
    async (req, reply) => {
      const order = shop.orders.get(req.params.orderId);
      if (!order) {
        return reply.code(404).send({
          error: 'ORDER_NOT_FOUND',
          message: 'no such order (orders are lost when the shop restarts)',
        });
      }
      if (req.query.refresh === '1') {
        try {
          await refreshFromWallet(shop, order, req.log);
        } catch (err) {
          return sendWalletFailure(reply, req.log, err, 'inquiryPayment');
        }
      }
      return reply.header('cache-control', 'no-store').send(orderView(order));
    },
  );

  // The merchant's refund button: the whole amount back to the payer, through the signed refund API.
  // The refundRequestId is derived from the order, so a retried click is the same refund, never a second.
  app.post<{ Params: { orderId: string } }>('/api/orders/:orderId/refund', async (req, reply) => {
    const order = shop.orders.get(req.params.orderId);
    if (!order) return reply.code(404).send({ error: 'ORDER_NOT_FOUND', message: 'no such order' });
    if (order.status === 'REFUNDED') return reply.send(orderView(order));
    if (order.status !== 'PAID') {
      return reply.code(409).send({ error: 'NOT_PAID', message: 'only a paid order can be refunded' });
    }
    try {
      const refund = await shop.client.refund({
        partnerId: shop.partnerId,
        refundRequestId: `${order.orderId}-refund`,
        paymentId: order.paymentId,
        refundAmount: { ...order.amount },
        refundReason: 'Refunded by the demo shop',
      });
      shop.orders.markRefunded(order.orderId, refund.refundId ?? '');
      req.log.info({ orderId: order.orderId, refundId: refund.refundId }, 'order refunded');
      return reply.send(orderView(order));
    } catch (err) {
      return sendWalletFailure(reply, req.log, err, 'refund');
    }
  });
}

type OrderRequest =
  | { productId: string; siteName: string | undefined; sessionId: string | undefined }
  | { error: string; message: string };

function readOrderRequest(body: unknown): OrderRequest {
  const invalid = (message: string) => ({ error: 'INVALID_REQUEST', message });
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return invalid('the body must be a JSON object');
  const { productId, siteName, sessionId } = body as Record<string, unknown>;
  if (typeof productId !== 'string' || productId.length === 0 || productId.length > PRODUCT_ID_MAX_CHARS)
    return invalid(`productId must be a string of 1 to ${PRODUCT_ID_MAX_CHARS} characters`);
  if (
    siteName !== undefined &&
    (typeof siteName !== 'string' || siteName.length === 0 || siteName.length > SITE_NAME_MAX_CHARS)
  )
    return invalid(`siteName, when given, must be a string of 1 to ${SITE_NAME_MAX_CHARS} characters`);
  if (sessionId !== undefined && (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)))
    return invalid('sessionId, when given, must be the one POST /api/session answered');
  return { productId, siteName, sessionId };
}

/** The v2 pay: `order` describes what is bought and, when the user signed in, who buys it. */
function payRequest(
  shop: ShopContext,
  orderId: string,
  product: Product,
  siteName: string | undefined,
  session: ShopSession | undefined,
): PayV2Request {
  return {
    paymentRequestId: orderId,
    paymentAmount: { ...product.price },
    order: {
      referenceOrderId: orderId,
      orderDescription: product.name,
      orderAmount: { ...product.price },
      ...(session !== undefined ? { buyer: { referenceBuyerId: session.customerId } } : {}),
    },
    paymentNotifyUrl: `${shop.publicUrl}/billetera/notify`,
    paymentFactor: { isCashierPayment: true },
    ...(siteName !== undefined ? { extendInfo: JSON.stringify({ customerBelongsTo: siteName }) } : {}),
    ...(shop.appId !== undefined ? { appId: shop.appId } : {}),
  };
}

/** Asks the wallet about an order still waiting for payment (the fallback when no notification came). */
async function refreshFromWallet(shop: ShopContext, order: Order, log: FastifyBaseLogger): Promise<void> {
  const now = Date.now();
  if (order.status !== 'AWAITING_PAYMENT' || now - order.lastInquiryAt < INQUIRY_MIN_INTERVAL_MS) return;
  order.lastInquiryAt = now;
  const found = await shop.client.inquiryPayment({
    partnerId: shop.partnerId,
    paymentRequestId: order.orderId,
  });
  if (!matchesPayment(order, found)) {
    log.error({ orderId: order.orderId, paymentId: found.paymentId }, 'inquiry does not match the order');
    return;
  }
  const status = finalStatus(found.paymentStatus);
  if (status === undefined) return;
  const outcome = shop.orders.settle(order.orderId, status, 'inquiry');
  log.info(
    { orderId: order.orderId, paymentStatus: found.paymentStatus, outcome },
    'order checked by inquiry',
  );
}

function finalStatus(status: PaymentStatus | undefined): 'PAID' | 'FAILED' | undefined {
  switch (status) {
    case 'SUCCESS':
      return 'PAID';
    case 'FAIL':
    case 'CANCELLED':
      return 'FAILED';
    case 'PROCESSING':
    case undefined:
      return undefined;
  }
}

function orderView(order: Order) {
  return {
    orderId: order.orderId,
    status: order.status,
    confirmedBy: order.confirmedBy,
    product: productView(order.product),
    amount: order.amount,
    formattedAmount: formatPrice(order.amount),
    paymentId: order.paymentId,
    refundId: order.refundId ?? null,
  };
}

function sendWalletFailure(reply: FastifyReply, log: FastifyBaseLogger, err: unknown, call: string) {
  const failure = walletFailure(err);
  if (!failure) throw err;
  log.warn({ err, call }, `the wallet refused or failed ${call}`);
  return reply.code(502).send(failure);
}
