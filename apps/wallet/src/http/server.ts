import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { WalletContext } from '../context.ts';
import { registerWeb } from '../web/register-web.ts';
import { registerApiDocs } from './docs-routes.ts';
import { newTraceId, registerOpenApi } from './openapi-routes.ts';
import { RateLimiter, registerOpenApiIpLimit } from './rate-limit.ts';

/**
 * What every response gets unless it set its own (the JSON API, /health, 404s): not sniffed, not cached,
 * not framed, no referrer, nothing loaded. The web scope (helmet, register-web.ts) and routes that serve
 * cacheable or framable files set their own.
 */
const BASELINE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
};
/** Only when users reach the wallet over https (a header on plain http is ignored, and would be a lie). */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

/** The wallet's HTTP server: OpenAPI, health, and (later) cashier, host app and console pages. */
export function buildServer(ctx: WalletContext): FastifyInstance {
  const app = Fastify({
    loggerInstance: ctx.logger,
    genReqId: newTraceId,
    // Fastify logs requests by method and URL only: bodies and the Signature header never reach the log.
    // A slow client must not hold a connection for ever.
    requestTimeout: 30_000,
  });
  // On send, and only where nothing set the header yet (helmet writes straight to the raw response).
  app.addHook('onSend', (_req, reply, payload, done) => {
    for (const [name, value] of Object.entries(BASELINE_HEADERS))
      if (!reply.hasHeader(name)) void reply.header(name, value);
    if (ctx.publicUrl.startsWith('https://')) void reply.header('strict-transport-security', HSTS_VALUE);
    done(null, payload);
  });
  const limiter = new RateLimiter(ctx.rateLimits);
  registerOpenApiIpLimit(app, limiter);
  app.get('/health', async (_req, reply) => {
    try {
      await sql`select 1`.execute(ctx.store.db);
      return { status: 'ok', database: ctx.store.dialect };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: ctx.store.dialect });
    }
  });
  registerOpenApi(app, ctx, limiter);
  registerApiDocs(app, ctx);
  registerWeb(app, ctx, limiter);
  return app;
}
