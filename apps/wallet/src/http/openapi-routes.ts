/**
 * The signed OpenAPI under /api/open. Every outcome is HTTP 200 with a `result` envelope and a signed
 * reply (decisions.md): signature failures, malformed JSON, oversized bodies, unknown paths and
 * unexpected faults included. Bodies are kept as raw bytes until the signature over them is verified.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  InquiryPaymentV1RequestSchema,
  PayV1RequestSchema,
  compileValidator,
  formatWireTime,
  headerValue,
  parseJsonObject,
  resultOf,
  type Result,
} from '@billetera/protocol';
import { signMessage } from '@billetera/protocol/signing';
import type { Merchant } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { createPayment } from '../services/create-payment.ts';
import { inquirePayment } from '../services/inquire-payment.ts';
import { authenticate } from './authenticate.ts';
import { MerchantCache } from './merchant-cache.ts';

/** The largest OpenAPI request body accepted (a pay request with a full ORDER is a few KiB). */
export const OPENAPI_BODY_LIMIT_BYTES = 64 * 1024;

interface Operation {
  validate: (value: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
  run: (
    ctx: WalletContext,
    merchant: Merchant,
    body: never,
  ) => Promise<{ reply: { result: Result }; replayed?: boolean }>;
}

const OPERATIONS: Record<string, Operation> = {
  '/v1/payments/pay': {
    validate: compileValidator(PayV1RequestSchema),
    run: (ctx, merchant, body) => createPayment(ctx, merchant, body),
  },
  '/v1/payments/inquiryPayment': {
    validate: compileValidator(InquiryPaymentV1RequestSchema),
    run: async (ctx, merchant, body) => ({ reply: await inquirePayment(ctx, merchant, body) }),
  },
};

export function registerOpenApi(app: FastifyInstance, ctx: WalletContext): void {
  const cache = new MerchantCache(ctx.store, ctx.clock);
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

      for (const [path, op] of Object.entries(OPERATIONS)) {
        api.post(path, async (req, reply) => {
          const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const auth = await authenticate(cache, {
            headers: req.headers,
            path: req.url,
            body: raw,
            now: ctx.clock.now(),
          });
          if (!auth.ok) return send(req, reply, { result: resultOf(auth.code, auth.message) });
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
