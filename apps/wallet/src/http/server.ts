import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { WalletContext } from '../context.ts';
import { registerWeb } from '../web/register-web.ts';
import { registerApiDocs } from './docs-routes.ts';
import { newTraceId, registerOpenApi } from './openapi-routes.ts';

/** The wallet's HTTP server: OpenAPI, health, and (later) cashier, host app and console pages. */
export function buildServer(ctx: WalletContext): FastifyInstance {
  const app = Fastify({
    loggerInstance: ctx.logger,
    genReqId: newTraceId,
    // Fastify logs requests by method and URL only: bodies and the Signature header never reach the log.
    // A slow client must not hold a connection for ever.
    requestTimeout: 30_000,
  });
  app.get('/health', async (_req, reply) => {
    try {
      await sql`select 1`.execute(ctx.store.db);
      return { status: 'ok', database: ctx.store.dialect };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: ctx.store.dialect });
    }
  });
  registerOpenApi(app, ctx);
  registerApiDocs(app, ctx);
  registerWeb(app, ctx);
  return app;
}
