/**
 * The signed OpenAPI under /api/open. Every outcome is HTTP 200 with a `result` envelope and a signed
 * reply (decisions.md): signature failures, malformed JSON, oversized bodies, unknown paths and
 * unexpected faults included. Bodies are kept as raw bytes until the signature over them is verified.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  OPENAPI_PREFIX,
  OPERATIONS,
  compileValidator,
  formatWireTime,
  headerValue,
  parseJsonObject,
  resultOf,
  type CancelV1Request,
  type CancelV2Request,
  type InquiryPaymentV1Request,
  type InquiryPaymentV2Request,
  type InquiryRefundV1Request,
  type InquiryRefundV2Request,
  type OperationPath,
  type PayV1Request,
  type PayV2Request,
  type RefundV1Request,
  type RefundV2Request,
  type Result,
  type ApplyTokenRequest,
  type CancelTokenRequest,
  type InquiryUserInfoRequest,
} from '@billetera/protocol';
import { signMessage } from '@billetera/protocol/signing';
import type { Merchant } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { applyToken, cancelToken, inquireUserInfo } from '../services/authorization.ts';
import { cancelPayment } from '../services/cancel-payment.ts';
import { createPayment, createPaymentV2 } from '../services/create-payment.ts';
import { inquirePayment } from '../services/inquire-payment.ts';
import { inquireRefund } from '../services/inquire-refund.ts';
import { refundPayment } from '../services/refund-payment.ts';
import { authenticate } from './authenticate.ts';
import { MerchantCache } from './merchant-cache.ts';
import { MerchantChangeWatcher } from './merchant-changes.ts';
import { RateLimiter } from './rate-limit.ts';

/** The largest OpenAPI request body accepted (a pay request with a full ORDER is a few KiB). */
export const OPENAPI_BODY_LIMIT_BYTES = 64 * 1024;

type Outcome = { reply: { result: Result }; replayed?: boolean };
type Handler = (ctx: WalletContext, merchant: Merchant, body: never) => Promise<Outcome>;

/**
 * The thin wire adapters: each path's (schema-checked) body to its version-neutral use case. v1 and v2
 * share every use case; the bodies differ only in field names (pay) and v1's partnerId. The schemas come
 * from the protocol's operation catalogue, which also generates the OpenAPI document.
 */
const HANDLERS: Record<OperationPath, Handler> = {
  '/api/open/v1/payments/pay': (ctx, m, body: PayV1Request) => createPayment(ctx, m, body),
  '/api/open/v2/payments/pay': (ctx, m, body: PayV2Request) => createPaymentV2(ctx, m, body),
  '/api/open/v1/payments/inquiryPayment': async (ctx, m, body: InquiryPaymentV1Request) => ({
    reply: await inquirePayment(ctx, m, body),
  }),
  '/api/open/v2/payments/inquiryPayment': async (ctx, m, body: InquiryPaymentV2Request) => ({
    reply: await inquirePayment(ctx, m, v2(body)),
  }),
  '/api/open/v1/payments/cancel': (ctx, m, body: CancelV1Request) => cancelPayment(ctx, m, body),
  '/api/open/v2/payments/cancel': (ctx, m, body: CancelV2Request) => cancelPayment(ctx, m, v2(body)),
  '/api/open/v1/payments/refund': (ctx, m, body: RefundV1Request) =>
    refundPayment(ctx, m, { ...body, apiVersion: 'v1' }),
  '/api/open/v2/payments/refund': (ctx, m, body: RefundV2Request) =>
    refundPayment(ctx, m, { ...v2(body), apiVersion: 'v2' }),
  '/api/open/v1/payments/inquiryRefund': async (ctx, m, body: InquiryRefundV1Request) => ({
    reply: await inquireRefund(ctx, m, body),
  }),
  '/api/open/v2/payments/inquiryRefund': async (ctx, m, body: InquiryRefundV2Request) => ({
    reply: await inquireRefund(ctx, m, v2(body)),
  }),
  '/api/open/v1/authorizations/applyToken': async (ctx, m, body: ApplyTokenRequest) => ({
    reply: await applyToken(ctx, m, body),
  }),
  '/api/open/v2/authorizations/applyToken': async (ctx, m, body: ApplyTokenRequest) => ({
    reply: await applyToken(ctx, m, body),
  }),
  '/api/open/v1/authorizations/cancelToken': async (ctx, m, body: CancelTokenRequest) => ({
    reply: await cancelToken(ctx, m, body),
  }),
  '/api/open/v2/authorizations/cancelToken': async (ctx, m, body: CancelTokenRequest) => ({
    reply: await cancelToken(ctx, m, body),
  }),
  '/api/open/v1/users/inquiryUserInfo': async (ctx, m, body: InquiryUserInfoRequest) => ({
    reply: await inquireUserInfo(ctx, m, body, 'v1'),
  }),
  '/api/open/v1/customers/user/inquiryUserInfoByAccessToken': async (
    ctx,
    m,
    body: InquiryUserInfoRequest,
  ) => ({
    reply: await inquireUserInfo(ctx, m, body, 'v1'),
  }),
  '/api/open/v2/users/inquiryUserInfo': async (ctx, m, body: InquiryUserInfoRequest) => ({
    reply: await inquireUserInfo(ctx, m, body, 'v2'),
  }),
  '/api/open/v2/customers/user/inquiryUserInfo': async (ctx, m, body: InquiryUserInfoRequest) => ({
    reply: await inquireUserInfo(ctx, m, body, 'v2'),
  }),
};

/** v2 bodies have no partnerId: one sent anyway is an unknown field, ignored like any other. */
function v2<T extends object>(body: T): T {
  const { partnerId: _ignored, ...rest } = body as T & { partnerId?: unknown };
  return rest as T;
}

interface Operation {
  validate: (value: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
  run: Handler;
}

/** Routes under the /api/open prefix, e.g. `/v2/payments/refund`. */
const ROUTES: Record<string, Operation> = Object.fromEntries(
  (Object.keys(HANDLERS) as OperationPath[]).map((path) => [
    path.slice(OPENAPI_PREFIX.length),
    { validate: compileValidator(OPERATIONS[path].request.schema), run: HANDLERS[path] },
  ]),
);

export function registerOpenApi(
  app: FastifyInstance,
  ctx: WalletContext,
  limiter = new RateLimiter(ctx.rateLimits),
): void {
  const cache = new MerchantCache(ctx.store, ctx.clock);
  // A verify, reject, freeze or key change in this process takes effect on the next call; one made by
  // another process (the CLI) within about a second.
  const unsubscribe = ctx.onMerchantChanged((clientId) => cache.invalidate(clientId));
  const watcher = new MerchantChangeWatcher(ctx, (clientId) => cache.invalidate(clientId));
  app.addHook('onReady', async () => watcher.start());
  app.addHook('onClose', async () => {
    unsubscribe();
    await watcher.stop();
  });
  const send = (
    req: FastifyRequest,
    reply: FastifyReply,
    body: { result: Result },
    extra: Record<string, string> = {},
  ) => sendSigned(ctx, req, reply, body, extra);

  void app.register(
    async (api) => {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: OPENAPI_BODY_LIMIT_BYTES },
        (_req, body, done) => done(null, body),
      );

      api.get('/keys', async () => ({
        keys: [
          {
            keyVersion: ctx.secrets.walletKeyVersion,
            algorithm: 'RSA256',
            publicKey: ctx.secrets.walletPublicKeyPem,
          },
        ],
      }));

      for (const [path, op] of Object.entries(ROUTES)) {
        api.post(path, async (req, reply) => {
          const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const auth = await authenticate(cache, {
            headers: req.headers,
            path: req.url,
            body: raw,
            now: ctx.clock.now(),
          });
          if (!auth.ok) {
            limiter.openApiUnauthenticated(req);
            return send(req, reply, { result: resultOf(auth.code, auth.message) });
          }
          const limited = limiter.merchantCall(req, auth.merchant.clientId);
          if (limited) {
            const result = resultOf('REQUEST_TRAFFIC_EXCEED_LIMIT', limited.message);
            return send(req, reply, { result }, { 'retry-after': String(limited.retryAfter) });
          }
          const json = parseJsonObject(raw.toString('utf8'));
          if (!json.ok) return send(req, reply, { result: resultOf('PARAM_ILLEGAL', json.message) });
          const checked = op.validate(json.value);
          if (!checked.ok) return send(req, reply, { result: resultOf('PARAM_ILLEGAL', checked.message) });
          const out = await op.run(ctx, auth.merchant, checked.value as never);
          return send(req, reply, out.reply, out.replayed ? { 'idempotent-replayed': 'true' } : {});
        });
        api.route({
          method: ['GET', 'PUT', 'DELETE', 'PATCH'],
          url: path,
          handler: (req, reply) =>
            send(req, reply, { result: resultOf('METHOD_NOT_SUPPORTED', `use POST for ${req.url}`) }),
        });
      }

      api.setNotFoundHandler((req, reply) =>
        send(req, reply, {
          result: resultOf('INVALID_API', `no such API: ${req.method} ${req.url.slice(0, 200)}`),
        }),
      );

      api.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
        if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          return send(req, reply, {
            result: resultOf(
              'PARAM_ILLEGAL',
              `the request body is larger than ${OPENAPI_BODY_LIMIT_BYTES} bytes`,
            ),
          });
        }
        if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
          return send(req, reply, { result: resultOf('PARAM_ILLEGAL', err.message) });
        }
        req.log.error({ err, traceId: req.id }, 'unexpected fault in an OpenAPI call');
        return send(req, reply, {
          result: resultOf('UNKNOWN_EXCEPTION', `an unexpected error occurred; trace id ${req.id}`),
        });
      });
    },
    { prefix: '/api/open' },
  );
}

async function sendSigned(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
  body: { result: Result },
  extra: Record<string, string>,
): Promise<FastifyReply> {
  const text = JSON.stringify(body);
  const clientId = headerValue(req.headers, 'client-id') ?? '';
  const time = formatWireTime(ctx.clock.now());
  const signature = await signMessage({
    path: req.url,
    clientId,
    time,
    body: text,
    privateKey: ctx.secrets.walletPrivateKey,
    keyVersion: ctx.secrets.walletKeyVersion,
  });
  return reply
    .code(200)
    .headers({
      'content-type': 'application/json; charset=UTF-8',
      'client-id': clientId,
      'response-time': time,
      signature,
      'trace-id': String(req.id),
      ...extra,
    })
    .send(text);
}

export const newTraceId = (): string => randomUUID();
