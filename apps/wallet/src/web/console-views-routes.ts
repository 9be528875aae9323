/**
 * Routes for the console's credentials, payments, timelines and notifications (docs/console.md).
 *
 * Every route starts with requireMerchant (signed out: the sign-in redirect) and reads or changes only
 * the session's merchant: ids in URLs are looked up WHERE merchant_id = that merchant, so another
 * merchant's payment, notification or key version is a 404 and nothing changes. Only VERIFIED merchants
 * see these pages and change things; a FROZEN merchant sees them read-only; others get a page saying
 * why, with a link to the overview. Forms post with the session's CSRF token and redirect (303) on success.
 */
import { findMerchantDelivery } from '@billetera/store';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WalletContext } from '../context.ts';
import {
  canRedeliver,
  paymentTimeline,
  redeliverForMerchant,
  searchDeliveries,
  searchPayments,
  NOTIFICATION_STATUSES,
} from '../services/console-views.ts';
import {
  addPublicKey,
  canViewCredentials,
  merchantCredentials,
  retirePublicKey,
} from '../services/credentials.ts';
import type { Actor } from '../services/onboarding.ts';
import type { ConsoleSection } from './console-layout.ts';
import { credentialsPage, retireConfirmPage } from './credentials-pages.ts';
import {
  messagePage,
  notAvailablePage,
  notificationsPage,
  paymentsPage,
  timelinePage,
  type ViewFrame,
} from './payments-pages.ts';
import { requireMerchant, type MerchantStaff } from './staff-guards.ts';
import { staffCsrfValid } from './staff-session.ts';

type Form = Record<string, string | string[] | undefined>;
type Query = Record<string, string | undefined>;

const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

const frame = (who: MerchantStaff): ViewFrame => ({ merchant: who.merchant, csrf: who.staff.csrfToken });
const actor = (who: MerchantStaff): Actor => `merchant:${who.staff.subjectId}`;
const field = (body: unknown, name: string): string | undefined => {
  const v = (body as Form | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
};
const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Key versions and notification ids in paths: digits, and the id alphabet. */
const VERSION = /^[1-9]\d{0,8}$/;
const ID = /^[A-Za-z0-9_-]{1,100}$/;

const SECTION_TITLES: Record<'credentials' | 'payments' | 'notifications', [string, string]> = {
  credentials: ['Credentials', 'Your Client-Id, partnerId and keys appear'],
  payments: ['Payments', 'Your payments appear here'],
  notifications: ['Notifications', 'Your notification deliveries appear here'],
};

export function registerConsoleViews(app: FastifyInstance, ctx: WalletContext): void {
  /**
   * The signed-in merchant if it may see the section (VERIFIED or FROZEN). Otherwise the reply is sent
   * (sign-in redirect, or the "not available yet" page) and undefined returned.
   */
  async function viewer(
    req: FastifyRequest,
    reply: FastifyReply,
    section: 'credentials' | 'payments' | 'notifications',
  ): Promise<MerchantStaff | undefined> {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return undefined;
    if (!canViewCredentials(who.merchant.status)) {
      const [title, what] = SECTION_TITLES[section];
      const status = req.method === 'GET' ? 200 : 403;
      await sendPage(reply, status, notAvailablePage(frame(who), section, title, what));
      return undefined;
    }
    return who;
  }

  /** A POST's CSRF check: false after sending the refusal. */
  async function csrfOk(
    who: MerchantStaff,
    req: FastifyRequest,
    reply: FastifyReply,
    section: ConsoleSection,
    back: string,
  ): Promise<boolean> {
    if (staffCsrfValid(who.staff, field(req.body, '_csrf'))) return true;
    await sendPage(
      reply,
      403,
      messagePage(
        frame(who),
        section,
        'Form expired',
        'This form is no longer valid (it came from an older sign-in). Nothing was changed: open the page again and retry.',
        back,
      ),
    );
    return false;
  }

  const notFound = (
    reply: FastifyReply,
    who: MerchantStaff,
    section: ConsoleSection,
    what: string,
    back: string,
  ) => sendPage(reply, 404, messagePage(frame(who), section, 'Not found', what, back));

  // -------------------------------------------------------------------------------------------------------
  // Credentials.

  app.get<{ Querystring: Query }>('/console/credentials', async (req, reply) => {
    const who = await viewer(req, reply, 'credentials');
    if (!who) return reply;
    const creds = await merchantCredentials(ctx, who.merchant);
    const added = one(req.query.added);
    const retired = one(req.query.retired);
    const notice =
      added && VERSION.test(added)
        ? `Key version ${added} added. It works at once; switch your server to keyVersion=${added}, then retire the old version.`
        : retired && VERSION.test(retired)
          ? `Key version ${retired} retired: calls signed with it now get KEY_NOT_FOUND.`
          : undefined;
    return sendPage(reply, 200, credentialsPage(frame(who), creds, { notice }));
  });

  app.post('/console/credentials/keys', async (req, reply) => {
    const who = await viewer(req, reply, 'credentials');
    if (!who) return reply;
    if (!(await csrfOk(who, req, reply, 'credentials', '/console/credentials'))) return reply;
    const result = await addPublicKey(ctx, who.merchant, {
      publicKeyPem: field(req.body, 'publicKeyPem') ?? '',
      actor: actor(who),
    });
    if (result.ok)
      return reply.redirect(`/console/credentials?added=${result.keyVersion}#key-${result.keyVersion}`, 303);
    const status = result.problem === 'NOT_ALLOWED' ? 403 : result.problem === 'DUPLICATE' ? 409 : 422;
    const creds = await merchantCredentials(ctx, who.merchant);
    // The input is never echoed back: it may be a private key pasted by mistake.
    return sendPage(reply, status, credentialsPage(frame(who), creds, { error: result.message }));
  });

  app.get<{ Params: { version: string } }>(
    '/console/credentials/keys/:version/retire',
    async (req, reply) => {
      const who = await viewer(req, reply, 'credentials');
      if (!who) return reply;
      const creds = await merchantCredentials(ctx, who.merchant);
      const version = VERSION.test(req.params.version) ? Number(req.params.version) : undefined;
      const key = creds.keys.find((k) => k.keyVersion === version);
      if (!key)
        return notFound(
          reply,
          who,
          'credentials',
          'You have no key with that version.',
          '/console/credentials',
        );
      const others = creds.keys.filter((k) => k.status === 'ACTIVE' && k.keyVersion !== key.keyVersion);
      if (!creds.canChange || key.status !== 'ACTIVE' || others.length === 0) {
        const error = !creds.canChange
          ? 'This merchant is frozen: its keys cannot be changed until it is unfrozen.'
          : key.status !== 'ACTIVE'
            ? `Key version ${key.keyVersion} is already retired.`
            : `Key version ${key.keyVersion} is your only active key: add a new one first, switch your server to it, then retire this one.`;
        return sendPage(reply, 409, credentialsPage(frame(who), creds, { error }));
      }
      return sendPage(reply, 200, retireConfirmPage(frame(who), key, others));
    },
  );

  app.post<{ Params: { version: string } }>(
    '/console/credentials/keys/:version/retire',
    async (req, reply) => {
      const who = await viewer(req, reply, 'credentials');
      if (!who) return reply;
      if (!(await csrfOk(who, req, reply, 'credentials', '/console/credentials'))) return reply;
      if (!VERSION.test(req.params.version))
        return notFound(
          reply,
          who,
          'credentials',
          'You have no key with that version.',
          '/console/credentials',
        );
      const result = await retirePublicKey(ctx, who.merchant, {
        keyVersion: Number(req.params.version),
        actor: actor(who),
      });
      if (result.ok) return reply.redirect(`/console/credentials?retired=${result.keyVersion}`, 303);
      if (result.problem === 'NOT_FOUND')
        return notFound(
          reply,
          who,
          'credentials',
          'You have no key with that version.',
          '/console/credentials',
        );
      const creds = await merchantCredentials(ctx, who.merchant);
      return sendPage(
        reply,
        result.problem === 'NOT_ALLOWED' ? 403 : 409,
        credentialsPage(frame(who), creds, { error: result.message }),
      );
    },
  );

  /** The wallet's public key as a file. It is public (GET /api/open/keys); any signed-in merchant may have it. */
  app.get('/console/credentials/wallet-public-key.pem', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    return reply
      .header('content-type', 'application/x-pem-file')
      .header(
        'content-disposition',
        `attachment; filename="billetera-wallet-public-key-v${ctx.secrets.walletKeyVersion}.pem"`,
      )
      .header('cache-control', 'no-store')
      .send(ctx.secrets.walletPublicKeyPem);
  });

  // -------------------------------------------------------------------------------------------------------
  // Payments and timelines.

  app.get<{ Querystring: Query }>('/console/payments', async (req, reply) => {
    const who = await viewer(req, reply, 'payments');
    if (!who) return reply;
    const page = await searchPayments(ctx, who.merchant, req.query);
    return sendPage(reply, page.errors.length > 0 ? 400 : 200, paymentsPage(frame(who), page));
  });

  app.get<{ Params: { paymentId: string }; Querystring: Query }>(
    '/console/payments/:paymentId',
    async (req, reply) => {
      const who = await viewer(req, reply, 'payments');
      if (!who) return reply;
      const timeline = ID.test(req.params.paymentId)
        ? await paymentTimeline(ctx, who.merchant, req.params.paymentId)
        : undefined;
      if (!timeline)
        return notFound(reply, who, 'payments', 'You have no payment with that id.', '/console/payments');
      return sendPage(
        reply,
        200,
        timelinePage(frame(who), timeline, {
          ...redeliveryMessages(req.query),
          canRedeliver: canRedeliver(who.merchant),
          frozen: who.merchant.status === 'FROZEN',
        }),
      );
    },
  );

  // -------------------------------------------------------------------------------------------------------
  // Notifications.

  app.get<{ Querystring: Query }>('/console/notifications', async (req, reply) => {
    const who = await viewer(req, reply, 'notifications');
    if (!who) return reply;
    const page = await searchDeliveries(ctx, who.merchant, req.query);
    return sendPage(
      reply,
      page.errors.length > 0 ? 400 : 200,
      notificationsPage(frame(who), page, {
        ...redeliveryMessages(req.query),
        canRedeliver: canRedeliver(who.merchant),
        frozen: who.merchant.status === 'FROZEN',
      }),
    );
  });

  app.post<{ Params: { notificationId: string } }>(
    '/console/notifications/:notificationId/redeliver',
    async (req, reply) => {
      const who = await viewer(req, reply, 'notifications');
      if (!who) return reply;
      if (!(await csrfOk(who, req, reply, 'notifications', '/console/notifications'))) return reply;
      const id = req.params.notificationId;
      const result = ID.test(id)
        ? await redeliverForMerchant(ctx, who.merchant, {
            notificationId: id,
            force: field(req.body, 'force') !== undefined,
            actor: actor(who),
          })
        : ({ ok: false, problem: 'NOT_FOUND', message: '' } as const);
      if (!result.ok && result.problem === 'NOT_FOUND')
        return notFound(
          reply,
          who,
          'notifications',
          'You have no notification with that id.',
          '/console/notifications',
        );
      if (!result.ok && result.problem === 'NOT_ALLOWED')
        return sendPage(
          reply,
          403,
          messagePage(frame(who), 'notifications', 'Not allowed', result.message, '/console/notifications'),
        );
      // Back where the form was, with the outcome: the timeline (this notification's payment) or the list.
      const params = new URLSearchParams(
        result.ok ? { redelivered: id } : { problem: result.problem, n: id },
      );
      if (field(req.body, 'back') === 'timeline') {
        const payment = (await findMerchantDelivery(ctx.store.db, who.merchant.id, id))?.paymentId;
        if (payment)
          return reply.redirect(`/console/payments/${encodeURIComponent(payment)}?${params}#${id}`, 303);
      }
      const status = field(req.body, 'status');
      if (status && (NOTIFICATION_STATUSES as readonly string[]).includes(status))
        params.set('status', status);
      return reply.redirect(`/console/notifications?${params}`, 303);
    },
  );
}

/** The notice or error a redelivery redirect carries (`redelivered=<id>`, or `problem=...&n=<id>`). */
function redeliveryMessages(q: Query): { notice?: string; error?: string } {
  const id = one(q.redelivered) ?? one(q.n);
  if (!id || !ID.test(id)) return {};
  if (q.redelivered)
    return { notice: `Notification ${id} is back in the outbox: it is sent within seconds.` };
  switch (q.problem) {
    case 'NEEDS_FORCE':
      return {
        error: `Notification ${id} was delivered already. Tick "Send again although delivered" to send it once more.`,
      };
    case 'IN_PROGRESS':
      return { error: `Notification ${id} is being delivered right now; nothing was changed.` };
    default:
      return {};
  }
}
