/**
 * The cashier at `/cashier/<paymentId>` (the pay API's redirectionUrl), and sign-in / sign-out.
 * Post/redirect/get everywhere: a confirm that succeeded redirects to the cashier URL, which then shows the
 * success page, so a reload or a double click never submits twice, and a second submit that loses the race
 * lands on the same success page (the order is paid by this user) with one debit.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ORDER_EXPIRED_REASON } from '@billetera/domain';
import { balanceOf, findMerchantById, findPaymentById, type Payment } from '@billetera/store';
import { userAccount } from '@billetera/domain';
import type { WalletContext } from '../context.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { signIn } from '../services/sign-in.ts';
import { pinPage, sheetPage, signInPage, statePage, successPage, type StateKind } from './cashier-pages.ts';
import {
  csrfTokenFor,
  csrfValid,
  currentSession,
  endSession,
  safeNext,
  startSession,
  type WebSession,
} from './session.ts';

type Params = { Params: { paymentId: string }; Querystring: { embed?: string } };
type Form = Record<string, unknown>;

const isEmbedded = (req: FastifyRequest): boolean => (req.query as { embed?: string }).embed === '1';
const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

interface Loaded {
  payment: Payment;
  payee: string;
}

async function load(ctx: WalletContext, paymentId: string): Promise<Loaded | undefined> {
  const payment = await findPaymentById(ctx.store.db, paymentId);
  if (!payment) return undefined;
  const merchant = await findMerchantById(ctx.store.db, payment.merchantId);
  return merchant && { payment, payee: merchant.name };
}

/** Which page an order that cannot be paid shows, or undefined when it can be paid. */
function stateOf(ctx: WalletContext, p: Payment, web: WebSession): StateKind | 'success' | undefined {
  switch (p.status) {
    case 'SUCCESS':
      return p.userId === web.user.id ? 'success' : 'already-paid';
    case 'CANCELLED':
      return 'cancelled';
    case 'FAIL':
      return p.failReason === ORDER_EXPIRED_REASON ? 'expired' : 'failed';
    case 'PROCESSING':
      return p.expiresAt <= ctx.clock.now() ? 'expired' : undefined;
  }
}

export function registerCashier(app: FastifyInstance, ctx: WalletContext): void {
  const notFound = (reply: FastifyReply, embedded: boolean) =>
    sendPage(reply, 404, statePage({ kind: 'not-found', embedded }));

  /** Renders what the cashier shows for this order and this visitor; `step` is the sheet or the PIN form. */
  async function show(
    req: FastifyRequest<Params>,
    reply: FastifyReply,
    step: 'sheet' | 'pin',
    error?: string,
  ) {
    const embedded = isEmbedded(req);
    const loaded = await load(ctx, req.params.paymentId);
    if (!loaded) return notFound(reply, embedded);
    const web = await currentSession(ctx, req);
    const csrf = csrfTokenFor(req, reply, web);
    if (!web) {
      const next = `/cashier/${loaded.payment.id}${embedded ? '?embed=1' : ''}`;
      return sendPage(
        reply,
        200,
        signInPage({ next, csrf, embedded, heading: `Log in to pay ${loaded.payee}` }),
      );
    }
    const { payment, payee } = loaded;
    const state = stateOf(ctx, payment, web);
    if (state === 'success') return sendPage(reply, 200, successPage({ payment, payee, embedded }));
    if (state) return sendPage(reply, 200, statePage({ kind: state, payment, payee, embedded }));
    const balance = await balanceOf(ctx.store.db, userAccount(web.user.id, payment.currency));
    const view = { payment, payee, balance, csrf, embedded };
    if (step === 'pin' && balance >= payment.amount)
      return sendPage(reply, error ? 400 : 200, pinPage({ ...view, error }));
    return sendPage(reply, 200, sheetPage(view));
  }

  app.get<Params>('/cashier/:paymentId', (req, reply) => show(req, reply, 'sheet'));
  app.get<Params>('/cashier/:paymentId/pin', (req, reply) => show(req, reply, 'pin'));

  app.post<Params & { Body: Form }>('/cashier/:paymentId/confirm', async (req, reply) => {
    const embedded = isEmbedded(req);
    // Encoded: the id comes from the URL, and a Location header takes no raw non-ASCII (a 500 otherwise).
    const back = `/cashier/${encodeURIComponent(req.params.paymentId)}${embedded ? '?embed=1' : ''}`;
    const web = await currentSession(ctx, req);
    if (!web) return reply.redirect(back, 303);
    if (!csrfValid(req, web, req.body?.['_csrf']))
      return sendPage(
        reply,
        403,
        statePage({ kind: 'failed', embedded, detail: 'This form has expired. Go back and try again.' }),
      );
    const pin = typeof req.body?.['pin'] === 'string' ? req.body['pin'] : '';
    const out = await confirmPayment(ctx, { paymentId: req.params.paymentId, phone: web.user.phone, pin });
    if (out.ok) return reply.redirect(back, 303);
    switch (out.code) {
      case 'INVALID_PIN':
        return show(req, reply, 'pin', out.result.resultMessage);
      case 'PIN_LOCKED':
        return sendPage(
          reply,
          423,
          statePage({ kind: 'locked', embedded, detail: out.result.resultMessage }),
        );
      case 'USER_BALANCE_NOT_ENOUGH': {
        const loaded = await load(ctx, req.params.paymentId);
        return sendPage(
          reply,
          409,
          statePage({ kind: 'balance-too-low', embedded, payment: loaded?.payment, payee: loaded?.payee }),
        );
      }
      case 'ORDER_NOT_EXIST':
        return notFound(reply, embedded);
      default:
        return reply.redirect(back, 303);
    }
  });

  app.post<{ Body: Form }>('/login', async (req, reply) => {
    const next = safeNext(req.body?.['next'], '/app');
    const embedded = /[?&]embed=1\b/.test(next);
    const phone = typeof req.body?.['phone'] === 'string' ? req.body['phone'] : '';
    const pin = typeof req.body?.['pin'] === 'string' ? req.body['pin'] : '';
    if (!csrfValid(req, undefined, req.body?.['_csrf'])) {
      const csrf = csrfTokenFor(req, reply, undefined);
      return sendPage(
        reply,
        403,
        signInPage({ next, csrf, embedded, phone, error: 'This form has expired. Please try again.' }),
      );
    }
    const out = await signIn(ctx, phone, pin);
    if (out.ok) {
      await startSession(ctx, reply, out.userId);
      return reply.redirect(next, 303);
    }
    const csrf = csrfTokenFor(req, reply, undefined);
    const status = out.code === 'PIN_LOCKED' ? 423 : 400;
    return sendPage(
      reply,
      status,
      signInPage({ next, csrf, embedded, phone, error: out.result.resultMessage }),
    );
  });

  app.post<{ Body: Form }>('/logout', async (req, reply) => {
    const web = await currentSession(ctx, req);
    if (web && csrfValid(req, web, req.body?.['_csrf'])) await endSession(ctx, req, reply);
    return reply.redirect('/app', 303);
  });
}
