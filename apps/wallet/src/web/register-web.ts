/**
 * The wallet's web pages (cashier, host app) and their static files, in a scope of their own: cookies,
 * form bodies and security headers apply here, not to the signed OpenAPI.
 */
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { buildJsapiBundle } from '@billetera/jsapi/build';
import type { FastifyInstance } from 'fastify';
import type { WalletContext } from '../context.ts';
import { RateLimiter, registerWebRateLimits } from '../http/rate-limit.ts';
import { registerAuthorization } from './auth-routes.ts';
import { registerCashier } from './cashier-routes.ts';
import { registerConsoleViews } from './console-views-routes.ts';
import { registerHost } from './host-routes.ts';
import { registerOnboarding } from './onboarding-routes.ts';
import { registerWorkspace } from './workspace-routes.ts';

/** The largest form body accepted (a sign-in or PIN form is a few hundred bytes). */
const FORM_BODY_LIMIT_BYTES = 8 * 1024;

export function registerWeb(
  app: FastifyInstance,
  ctx: WalletContext,
  limiter = new RateLimiter(ctx.rateLimits),
): void {
  // Known when the server is built: https only when the public URL says so (publicUrl option).
  const https = ctx.publicUrl.startsWith('https://');
  void app.register(async (web) => {
    await web.register(fastifyCookie);
    await web.register(fastifyFormbody, { bodyLimit: FORM_BODY_LIMIT_BYTES });
    await web.register(fastifyHelmet, {
      contentSecurityPolicy: {
        // Every directive named here, none from helmet's defaults (they allow fonts from any https host).
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          frameSrc: ["'self'"],
          // Only the wallet's own host app may frame the cashier.
          frameAncestors: ["'self'"],
          formAction: ["'self'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
          ...(https ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      // HSTS is server.ts's, on every response, and only when the public URL is https.
      strictTransportSecurity: false,
      // The jsapi bundle is loaded by mini programs from other origins.
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    // PostgreSQL text cannot hold NUL: a form, query or path with one is refused before any query runs
    // (it would otherwise fail inside a query, a 500). Multipart fields are checked in workspace-routes.ts.
    web.addHook('preHandler', async (req, reply) => {
      if (hasNul(req.params) || hasNul(req.query) || hasNul(req.body))
        return reply
          .code(400)
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send('The request contains a NUL character, which is not allowed. Remove it and try again.');
    });
    await web.register(fastifyStatic, {
      root: join(import.meta.dirname, 'static'),
      prefix: '/static/',
      maxAge: 60_000,
    });

    registerWebRateLimits(web, limiter);

    web.get('/jsapi/my.js', async (_req, reply) =>
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('access-control-allow-origin', '*')
        .header('cache-control', 'public, max-age=300')
        .send(await buildJsapiBundle()),
    );
    web.get('/', async (_req, reply) => reply.redirect('/app', 302));
    registerCashier(web, ctx);
    registerHost(web, ctx);
    registerAuthorization(web, ctx);
    // The merchant console (/console), the operators' back office (/ops) and the workspace (issue 6).
    registerOnboarding(web, ctx);
    registerWorkspace(web, ctx);
    registerConsoleViews(web, ctx);
  });
}

/** True when a string anywhere in a parsed form, query or JSON body (keys included) holds U+0000. */
function hasNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(item);
      }
    }
  }
  return false;
}
