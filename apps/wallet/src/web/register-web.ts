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
import { registerAuthorization } from './auth-routes.ts';
import { registerCashier } from './cashier-routes.ts';
import { registerConsoleViews } from './console-views-routes.ts';
import { registerHost } from './host-routes.ts';
import { registerOnboarding } from './onboarding-routes.ts';
import { registerWorkspace } from './workspace-routes.ts';

/** The largest form body accepted (a sign-in or PIN form is a few hundred bytes). */
const FORM_BODY_LIMIT_BYTES = 8 * 1024;

export function registerWeb(app: FastifyInstance, ctx: WalletContext): void {
  void app.register(async (web) => {
    await web.register(fastifyCookie);
    await web.register(fastifyFormbody, { bodyLimit: FORM_BODY_LIMIT_BYTES });
    await web.register(fastifyHelmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          frameSrc: ["'self'"],
          // Only the wallet's own host app may frame the cashier.
          frameAncestors: ["'self'"],
          formAction: ["'self'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      // The jsapi bundle is loaded by mini programs from other origins.
      crossOriginResourcePolicy: { policy: 'same-site' },
    });
    await web.register(fastifyStatic, {
      root: join(import.meta.dirname, 'static'),
      prefix: '/static/',
      maxAge: 60_000,
    });

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
