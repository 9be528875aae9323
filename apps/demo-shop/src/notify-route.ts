/**
 * `POST /billetera/notify`: the wallet's signed `notifyPayment`. The signature covers the exact bytes,
 * so this route (and only this one) reads the body as a Buffer; the rest of the app keeps Fastify's JSON
 * parser. Delivery is at least once: duplicates and late notifications leave a settled order as it is.
 */
import { BilleteraError, SignatureVerificationError, type NotifyPayment } from '@billetera/sdk-node';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { matchesPayment } from './order-book.ts';
import type { ShopContext } from './shop-context.ts';

/** A notification is under a kilobyte; the wallet's own OpenAPI limit is 64 KiB. */
const NOTIFY_BODY_LIMIT_BYTES = 64 * 1024;
export const NOTIFY_PATH = '/billetera/notify';

export function registerNotify(app: FastifyInstance, shop: ShopContext): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: NOTIFY_BODY_LIMIT_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post(NOTIFY_PATH, async (req, reply) => {
      let notification: NotifyPayment;
      try {
        if (!Buffer.isBuffer(req.body)) return reply.code(400).send(refusal('PARAM_ILLEGAL', 'no body'));
        notification = shop.client.verifyNotification(req.body, req.headers, { path: req.url });
      } catch (err) {
        if (!(err instanceof BilleteraError)) throw err;
        req.log.warn({ err }, 'notification refused; the wallet will send it again');
        const code = err instanceof SignatureVerificationError ? 'INVALID_SIGNATURE' : 'PARAM_ILLEGAL';
        return reply.code(400).send(refusal(code, err.message));
      }
      applyNotification(shop, notification, req.log);
      const ack = await shop.client.acknowledgement({ path: req.url });
      return reply.code(ack.statusCode).headers(ack.headers).send(ack.body);
    });
  });
}

/** Anything but HTTP 200 with resultStatus S makes the wallet retry; the body says why, for its log. */
function refusal(resultCode: string, resultMessage: string) {
  return { result: { resultStatus: 'F', resultCode, resultMessage } };
}

function applyNotification(shop: ShopContext, n: NotifyPayment, log: FastifyBaseLogger): void {
  const context = { orderId: n.paymentRequestId, paymentId: n.paymentId, paymentStatus: n.paymentStatus };
  const order = shop.orders.get(n.paymentRequestId);
  // Acknowledged anyway: retrying cannot make the order appear (the shop restarted, or forgot it).
  if (!order) return log.warn(context, 'notification for an order this shop does not know; acknowledged');
  if (!matchesPayment(order, n))
    return log.error(context, 'notification does not match the order; acknowledged, order unchanged');
  const status = n.paymentStatus === 'SUCCESS' ? 'PAID' : 'FAILED';
  const outcome = shop.orders.settle(order.orderId, status, 'notification');
  if (outcome === 'unchanged' && order.status !== status)
    log.error({ ...context, status: order.status }, 'notification contradicts the settled order');
  else log.info({ ...context, outcome }, 'notification handled');
}
