/**
 * The host app (the super-app shell) at /app: sign-in, balances and activity, the list of mini programs,
 * and a mini program running in a sandboxed iframe (scripts only, no same-origin rights: it never sees
 * wallet cookies) with the `my` bridge in static/host.js.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  balancesOf,
  findMiniProgram,
  findPaymentById,
  publishedMiniPrograms,
  userHistory,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { signInPage } from './cashier-pages.ts';
import { homePage, miniProgramPage } from './host-pages.ts';
import { csrfTokenFor, currentSession } from './session.ts';

/** What `my.getSiteInfo` answers: the `customerBelongsTo` value merchants put in extendInfo. */
export const SITE_NAME = 'BILLETERA';
/** How many activity lines the home page shows. */
const HISTORY_LIMIT = 20;

const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

export function registerHost(app: FastifyInstance, ctx: WalletContext): void {
  app.get('/app', async (req, reply) => {
    const web = await currentSession(ctx, req);
    const csrf = csrfTokenFor(req, reply, web);
    if (!web) return sendPage(reply, 200, signInPage({ next: '/app', csrf, embedded: false }));
    const [balances, apps, history] = await Promise.all([
      balancesOf(ctx.store.db, 'USER', web.user.id),
      publishedMiniPrograms(ctx.store.db),
      userHistory(ctx.store.db, web.user.id, HISTORY_LIMIT),
    ]);
    return sendPage(reply, 200, homePage({ user: web.user, balances, apps, history, csrf }));
  });

  app.get<{ Params: { appId: string }; Querystring: { pay?: string } }>(
    '/app/mini/:appId',
    async (req, reply) => {
      const web = await currentSession(ctx, req);
      const csrf = csrfTokenFor(req, reply, web);
      if (!web) return sendPage(reply, 200, signInPage({ next: req.url, csrf, embedded: false }));
      const mini = await findMiniProgram(ctx.store.db, req.params.appId);
      if (!mini || mini.status !== 'PUBLISHED')
        return reply.code(404).send({ error: 'no such mini program' });
      const resume =
        typeof req.query.pay === 'string' && /^pay_[A-Za-z0-9_-]{1,60}$/.test(req.query.pay)
          ? req.query.pay
          : undefined;
      const origin = new URL(mini.entryUrl).origin;
      // The page may frame only the cashier (self) and this mini program's origin.
      reply.header(
        'content-security-policy',
        `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self' ${origin}; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'`,
      );
      return sendPage(
        reply,
        200,
        miniProgramPage({ app: mini, resumePaymentId: resume, siteName: SITE_NAME, csrf }),
      );
    },
  );

  /** What the host script asks after the cashier sheet closes: the order's status, as the server has it. */
  app.get<{ Params: { paymentId: string }; Querystring: { appId?: string } }>(
    '/app/api/payments/:paymentId',
    async (req, reply) => {
      const web = await currentSession(ctx, req);
      if (!web) return reply.code(401).send({ error: 'sign in first' });
      const payment = await findPaymentById(ctx.store.db, req.params.paymentId);
      const mini = req.query.appId ? await findMiniProgram(ctx.store.db, req.query.appId) : undefined;
      if (!payment || !mini || payment.merchantId !== mini.merchantId) {
        return reply.code(404).send({ error: 'this mini program has no such payment' });
      }
      return reply.header('cache-control', 'no-store').send({
        paymentId: payment.id,
        status: payment.status,
        paidByYou: payment.status === 'SUCCESS' && payment.userId === web.user.id,
        expired: payment.status === 'PROCESSING' && payment.expiresAt <= ctx.clock.now(),
      });
    },
  );
}
