/**
 * The host app (the super-app shell) at /app: sign-in, balances and activity, the list of mini programs,
 * and a mini program running in a sandboxed iframe (scripts only, no same-origin rights: it never sees
 * wallet cookies) with the `my` bridge in static/host.js. An EXTERNAL mini program is framed from its
 * merchant's server; an UPLOADED one from the wallet's /mp/<appId>/<published version>/ (workspace-routes.ts).
 * The page tells host.js the mini program's features, and the server checks them again (tradePay's
 * status calls answer 403 without Payment).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { FEATURES } from '@billetera/domain';
import {
  balancesOf,
  featuresOf,
  findMerchantById,
  findMiniProgram,
  findPaymentById,
  miniProgramLogo,
  publishedMiniPrograms,
  userHistory,
  type MiniProgram,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { hostedEntryPath, hostedScopePath } from '../services/workspace.ts';
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

/** The bridge's "not authorized" error (packages/jsapi/src/bridge-protocol.ts). */
const JSAPI_NOT_AUTHORIZED = 4;

/** Where the host frames a mini program, and the prefix its navigation must stay under. */
export function liveEntryOf(app: MiniProgram): { url: string; scope: string } | undefined {
  if (app.hosting === 'UPLOADED') {
    if (app.publishedVersion === null) return undefined;
    return {
      url: hostedEntryPath(app.appId, app.publishedVersion),
      scope: hostedScopePath(app.appId, app.publishedVersion),
    };
  }
  return { url: app.entryUrl, scope: `${new URL(app.entryUrl).origin}/` };
}

/** The CSP of a page framing a mini program: the cashier (self) and that mini program's origin only. */
export function hostPageCsp(entryUrl: string, walletUrl: string): string {
  const origin = new URL(entryUrl, walletUrl).origin;
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self' ${origin}; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'`;
}

/** The mini program's ACTIVE features, as host.js reads them from the page. */
export async function activeFeatures(ctx: WalletContext, appId: string): Promise<string[]> {
  const all = await featuresOf(ctx.store.db, appId);
  return [...all].filter(([, status]) => status === 'ACTIVE').map(([feature]) => feature);
}

/**
 * Whether a mini program may open the cashier for a payment: its merchant's, and made for this mini program
 * (or for no mini program at all: a web checkout of the same merchant). Another app's payment is refused
 * even when both apps belong to the same merchant.
 */
export function paymentOfMiniProgram(
  payment: { merchantId: string; appId: string | null },
  mini: MiniProgram,
): boolean {
  return payment.merchantId === mini.merchantId && (payment.appId === null || payment.appId === mini.appId);
}

export const missingPaymentMessage = (appName: string): string =>
  `${appName} has not added the ${FEATURES.PAYMENT.title} feature`;

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
      const owner = mini && (await findMerchantById(ctx.store.db, mini.merchantId));
      // A frozen (or not yet verified) merchant's mini programs are not offered to users.
      const entry =
        mini && mini.status === 'PUBLISHED' && owner?.status === 'VERIFIED' ? liveEntryOf(mini) : undefined;
      if (!mini || !entry) return reply.code(404).send({ error: 'no such mini program' });
      const features = await activeFeatures(ctx, mini.appId);
      // A payment is resumed only for a mini program that may take payments, and only its own.
      const wanted =
        typeof req.query.pay === 'string' &&
        /^pay_[A-Za-z0-9_-]{1,60}$/.test(req.query.pay) &&
        features.includes('PAYMENT')
          ? await findPaymentById(ctx.store.db, req.query.pay)
          : undefined;
      const resume = wanted && paymentOfMiniProgram(wanted, mini) ? wanted.id : undefined;
      // The page may frame only the cashier (self) and this mini program's origin.
      reply.header('content-security-policy', hostPageCsp(entry.url, ctx.publicUrl));
      return sendPage(
        reply,
        200,
        miniProgramPage({ app: mini, entry, features, resumePaymentId: resume, siteName: SITE_NAME, csrf }),
      );
    },
  );

  /** A published mini program's logo (PNG or JPEG, checked at upload), for the host's list. */
  app.get<{ Params: { appId: string } }>('/app/logo/:appId', async (req, reply) => {
    const mini = await findMiniProgram(ctx.store.db, req.params.appId);
    const logo =
      mini && mini.status === 'PUBLISHED' ? await miniProgramLogo(ctx.store.db, mini.appId) : undefined;
    if (!logo) return reply.code(404).send({ error: 'no such logo' });
    return sendLogo(reply, logo, 'public, max-age=300');
  });

  /** What the host script asks after the cashier sheet closes: the order's status, as the server has it. */
  app.get<{ Params: { paymentId: string }; Querystring: { appId?: string } }>(
    '/app/api/payments/:paymentId',
    async (req, reply) => {
      const web = await currentSession(ctx, req);
      if (!web) return reply.code(401).send({ error: 'sign in first' });
      const payment = await findPaymentById(ctx.store.db, req.params.paymentId);
      const mini = req.query.appId ? await findMiniProgram(ctx.store.db, req.query.appId) : undefined;
      if (!payment || !mini || !paymentOfMiniProgram(payment, mini)) {
        return reply.code(404).send({ error: 'this mini program has no such payment' });
      }
      // The server's half of the Payment feature check: host.js refuses first, this cannot be skipped.
      if ((await featuresOf(ctx.store.db, mini.appId)).get('PAYMENT') !== 'ACTIVE') {
        return reply
          .code(403)
          .header('cache-control', 'no-store')
          .send({ error: JSAPI_NOT_AUTHORIZED, errorMessage: missingPaymentMessage(mini.name) });
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

/** A stored logo: its checked type, never sniffed, never a document. */
export function sendLogo(reply: FastifyReply, logo: { type: string; data: Buffer }, cacheControl: string) {
  return reply
    .code(200)
    .header('content-type', logo.type)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cache-control', cacheControl)
    .send(logo.data);
}
