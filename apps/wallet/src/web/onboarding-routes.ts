/**
 * The merchant console's onboarding (/console: sign up, sign in, overview, licence) and the operators'
 * back office (/ops: sign in, merchants, decisions). docs/onboarding.md describes both.
 *
 * Post/redirect/get everywhere. Signed-out forms (sign up, sign in) use the double-submit CSRF cookie of
 * session.ts; signed-in forms use the staff session's token. Console routes only ever read or change the
 * session's own merchant (no merchant id comes from the request); ops routes need an operator session.
 * Every decision re-checks the merchant's state in its transaction (services/onboarding.ts).
 */
import { countMerchantsByStatus, listMerchants, merchantAccountEmail, submissionsOf } from '@billetera/store';
import type { MerchantStatus } from '@billetera/store';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WalletContext } from '../context.ts';
import {
  SUBMITTABLE,
  approveMerchant,
  freezeMerchant,
  onboardingView,
  rejectMerchant,
  submitLicenceAndCheck,
  unfreezeMerchant,
  type Actor,
  type LicenceInput,
  type Outcome,
} from '../services/onboarding.ts';
import { signInStaff, signUpMerchant } from '../services/staff-accounts.ts';
import {
  consoleMessagePage,
  consoleOverviewPage,
  consoleSignInPage,
  consoleSignUpPage,
  licenceFormPage,
} from './onboarding-pages.ts';
import {
  STATUS_ORDER,
  opsMerchantPage,
  opsMerchantsPage,
  opsMessagePage,
  opsSignInPage,
} from './ops-pages.ts';
import { csrfTokenFor, csrfValid, safeNext } from './session.ts';
import { loadMerchantStaff, loadOperatorStaff, requireMerchant, requireOperator } from './staff-guards.ts';
import { endStaffSession, startStaffSession, staffCsrfValid } from './staff-session.ts';

type Form = Record<string, unknown>;
type Query = Record<string, string | undefined>;

const str = (body: unknown, name: string): string => {
  const v = (body as Form | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

/** `next` after a sign-in: a local path inside the area, else the area's home. */
const nextIn = (area: '/console' | '/ops', next: unknown): string => {
  const safe = safeNext(next, area);
  return safe === area || safe.startsWith(`${area}/`) || safe.startsWith(`${area}?`) ? safe : area;
};

/** After a submission, what the merchant is told (the status card says the rest). */
const SUBMITTED_NOTICES: Partial<Record<MerchantStatus, string>> = {
  IN_REVIEW: 'Your licence was submitted and your website passed the check.',
  SUBMITTED: 'Your licence was submitted. The website check is still running: reload this page in a moment.',
};

const NOTICES: Record<string, string> = {
  approved: 'Approved: the merchant is verified and can call the payment APIs now.',
  rejected: 'Rejected: the merchant sees the reason and can resubmit.',
  frozen: 'Frozen: the merchant’s payment calls are refused from now on.',
  unfrozen: 'Unfrozen.',
};

const STATUSES: readonly MerchantStatus[] = STATUS_ORDER;

/** Ids in paths: the id alphabet only. */
const ID = /^[A-Za-z0-9_-]{1,100}$/;

export function registerOnboarding(app: FastifyInstance, ctx: WalletContext): void {
  registerConsole(app, ctx);
  registerOps(app, ctx);
}

// ---------------------------------------------------------------------------------------------------------
// /console

function registerConsole(app: FastifyInstance, ctx: WalletContext): void {
  const expired = (reply: FastifyReply, back: string) =>
    sendPage(
      reply,
      403,
      consoleMessagePage({
        title: 'This form has expired',
        message: 'This form has expired. Go back, reload the page and try again.',
        back,
      }),
    );

  app.get<{ Querystring: Query }>('/console/sign-up', async (req, reply) => {
    if (await loadMerchantStaff(ctx, req)) return reply.redirect('/console', 303);
    return sendPage(reply, 200, consoleSignUpPage({ csrf: csrfTokenFor(req, reply, undefined) }));
  });

  app.post<{ Body: Form }>('/console/sign-up', async (req, reply) => {
    const values = { name: str(req.body, 'name'), email: str(req.body, 'email') };
    if (!csrfValid(req, undefined, req.body?.['_csrf'])) return expired(reply, '/console/sign-up');
    const out = await signUpMerchant(ctx, { ...values, password: str(req.body, 'password') });
    if (!out.ok) {
      return sendPage(
        reply,
        400,
        consoleSignUpPage({ csrf: csrfTokenFor(req, reply, undefined), values, errors: out.errors }),
      );
    }
    req.log.info({ merchantId: out.merchant.id }, 'merchant signed up');
    await startStaffSession(ctx, req, reply, 'MERCHANT', out.accountId);
    return reply.redirect('/console', 303);
  });

  app.get<{ Querystring: Query }>('/console/sign-in', async (req, reply) => {
    const next = nextIn('/console', req.query.next);
    if (await loadMerchantStaff(ctx, req)) return reply.redirect(next, 303);
    return sendPage(reply, 200, consoleSignInPage({ csrf: csrfTokenFor(req, reply, undefined), next }));
  });

  app.post<{ Body: Form }>('/console/sign-in', async (req, reply) => {
    const next = nextIn('/console', req.body?.['next']);
    const email = str(req.body, 'email');
    const page = (status: number, error: string) =>
      sendPage(
        reply,
        status,
        consoleSignInPage({ csrf: csrfTokenFor(req, reply, undefined), next, email, error }),
      );
    if (!csrfValid(req, undefined, req.body?.['_csrf']))
      return page(403, 'This form has expired. Please try again.');
    const out = await signInStaff(ctx, 'merchant_accounts', email, str(req.body, 'password'));
    if (!out.ok) {
      // A locked account answers exactly like a wrong password (staff-accounts.ts).
      if (out.code === 'LOCKED') req.log.warn('console sign-in refused: account locked');
      return page(400, out.message);
    }
    await startStaffSession(ctx, req, reply, 'MERCHANT', out.accountId);
    return reply.redirect(next, 303);
  });

  app.post<{ Body: Form }>('/console/sign-out', async (req, reply) => {
    const who = await loadMerchantStaff(ctx, req);
    if (who && staffCsrfValid(who.staff, req.body?.['_csrf']))
      await endStaffSession(ctx, req, reply, 'MERCHANT');
    return reply.redirect('/console/sign-in', 303);
  });

  app.get<{ Querystring: Query }>('/console', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    const view = await onboardingView(ctx, who.merchant.id);
    if (!view) return reply.redirect('/console/sign-in', 303);
    const notice = req.query.done === 'submitted' ? SUBMITTED_NOTICES[view.merchant.status] : undefined;
    return sendPage(
      reply,
      200,
      consoleOverviewPage({
        csrf: who.staff.csrfToken,
        merchantName: who.merchant.name,
        accountId: who.staff.subjectId,
        view,
        ...(notice ? { notice } : {}),
      }),
    );
  });

  app.get('/console/licence', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    if (!SUBMITTABLE.includes(who.merchant.status)) return reply.redirect('/console', 303);
    const view = await onboardingView(ctx, who.merchant.id);
    const last = view?.latest;
    const values: LicenceInput = last
      ? {
          legalName: last.legalName,
          licenceNumber: last.licenceNumber,
          country: last.country,
          address: last.address,
          websiteUrl: last.websiteUrl,
          contactName: last.contactName,
          contactEmail: last.contactEmail,
          contactPhone: last.contactPhone ?? '',
        }
      : {
          legalName: '',
          licenceNumber: '',
          country: '',
          address: '',
          websiteUrl: '',
          contactName: '',
          contactEmail: who.accountEmail,
          contactPhone: '',
        };
    return sendPage(
      reply,
      200,
      licenceFormPage({
        csrf: who.staff.csrfToken,
        merchantName: who.merchant.name,
        status: who.merchant.status,
        values,
        reason: last?.decision === 'REJECTED' ? last.decisionReason : null,
        check: who.merchant.status === 'CHECK_FAILED' ? view?.check : undefined,
      }),
    );
  });

  app.post<{ Body: Form }>('/console/licence', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    if (!staffCsrfValid(who.staff, req.body?.['_csrf'])) return expired(reply, '/console/licence');
    const raw = {
      legalName: req.body?.['legalName'],
      licenceNumber: req.body?.['licenceNumber'],
      country: req.body?.['country'],
      address: req.body?.['address'],
      websiteUrl: req.body?.['websiteUrl'],
      contactName: req.body?.['contactName'],
      contactEmail: req.body?.['contactEmail'],
      contactPhone: req.body?.['contactPhone'],
    };
    const actor: Actor = `merchant:${who.staff.subjectId}`;
    const out = await submitLicenceAndCheck(ctx, who.merchant.id, actor, raw);
    if (out.ok) return reply.redirect('/console?done=submitted', 303);
    if ('errors' in out) {
      return sendPage(
        reply,
        400,
        licenceFormPage({
          csrf: who.staff.csrfToken,
          merchantName: who.merchant.name,
          status: who.merchant.status,
          values: out.values,
          errors: out.errors,
        }),
      );
    }
    return sendPage(
      reply,
      409,
      consoleMessagePage({
        title: 'Not submitted',
        message: out.message,
        back: '/console',
        csrf: who.staff.csrfToken,
        who: who.merchant.name,
      }),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// /ops

function registerOps(app: FastifyInstance, ctx: WalletContext): void {
  app.get<{ Querystring: Query }>('/ops/sign-in', async (req, reply) => {
    const next = nextIn('/ops', req.query.next);
    if (await loadOperatorStaff(ctx, req)) return reply.redirect(next, 303);
    return sendPage(reply, 200, opsSignInPage({ csrf: csrfTokenFor(req, reply, undefined), next }));
  });

  app.post<{ Body: Form }>('/ops/sign-in', async (req, reply) => {
    const next = nextIn('/ops', req.body?.['next']);
    const email = str(req.body, 'email');
    const page = (status: number, error: string) =>
      sendPage(
        reply,
        status,
        opsSignInPage({ csrf: csrfTokenFor(req, reply, undefined), next, email, error }),
      );
    if (!csrfValid(req, undefined, req.body?.['_csrf']))
      return page(403, 'This form has expired. Please try again.');
    const out = await signInStaff(ctx, 'operators', email, str(req.body, 'password'));
    if (!out.ok) {
      req.log.warn({ locked: out.code === 'LOCKED' }, 'operator sign-in refused');
      return page(400, out.message);
    }
    req.log.info({ operatorId: out.accountId }, 'operator signed in');
    await startStaffSession(ctx, req, reply, 'OPERATOR', out.accountId);
    return reply.redirect(next, 303);
  });

  app.post<{ Body: Form }>('/ops/sign-out', async (req, reply) => {
    const who = await loadOperatorStaff(ctx, req);
    if (who && staffCsrfValid(who.staff, req.body?.['_csrf']))
      await endStaffSession(ctx, req, reply, 'OPERATOR');
    return reply.redirect('/ops/sign-in', 303);
  });

  app.get<{ Querystring: Query }>('/ops', async (req, reply) => {
    const who = await requireOperator(ctx, req, reply);
    if (!who) return reply;
    const filter = STATUSES.find((s) => s === req.query.status);
    const db = ctx.store.db;
    const rows = await listMerchants(db, { ...(filter ? { statuses: [filter] } : {}), limit: 500 });
    // Default: what needs an operator first, then newest first within a status (the query's order).
    if (!filter) rows.sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
    return sendPage(
      reply,
      200,
      opsMerchantsPage({
        csrf: who.staff.csrfToken,
        email: who.email,
        rows,
        filter,
        counts: await countMerchantsByStatus(db),
      }),
    );
  });

  /** Who an event's actor is, for operators: an operator's email, "the merchant", "the CLI", "the system". */
  async function actorNames(): Promise<(actor: string) => string> {
    const operators = await ctx.store.db.selectFrom('operators').select(['id', 'email']).execute();
    const emails = new Map(operators.map((o) => [`operator:${o.id}`, o.email]));
    return (actor) =>
      emails.get(actor) ??
      (actor.startsWith('merchant:')
        ? 'the merchant'
        : actor === 'cli'
          ? 'the CLI'
          : actor === 'system'
            ? 'the website check'
            : actor);
  }

  async function showMerchant(
    req: FastifyRequest<{ Params: { id: string }; Querystring: Query }>,
    reply: FastifyReply,
    status: number,
    error?: string,
  ) {
    const who = await requireOperator(ctx, req, reply);
    if (!who) return reply;
    const id = req.params.id;
    const view = ID.test(id) ? await onboardingView(ctx, id) : undefined;
    if (!view)
      return sendPage(
        reply,
        404,
        opsMessagePage({ title: 'No such merchant', message: 'No such merchant.', back: '/ops' }),
      );
    const notice = req.query.done ? NOTICES[req.query.done] : undefined;
    return sendPage(
      reply,
      status,
      opsMerchantPage({
        csrf: who.staff.csrfToken,
        email: who.email,
        view,
        accountEmail: await merchantAccountEmail(ctx.store.db, id),
        submissions: await submissionsOf(ctx.store.db, id),
        actorName: await actorNames(),
        notice: error ? undefined : notice,
        error,
      }),
    );
  }

  app.get<{ Params: { id: string }; Querystring: Query }>('/ops/merchants/:id', (req, reply) =>
    showMerchant(req, reply, 200),
  );

  type Decision = 'approve' | 'reject' | 'freeze' | 'unfreeze';
  const DONE: Record<Decision, string> = {
    approve: 'approved',
    reject: 'rejected',
    freeze: 'frozen',
    unfreeze: 'unfrozen',
  };
  for (const decision of Object.keys(DONE) as Decision[]) {
    app.post<{ Params: { id: string }; Querystring: Query; Body: Form }>(
      `/ops/merchants/:id/${decision}`,
      async (req, reply) => {
        const who = await requireOperator(ctx, req, reply);
        if (!who) return reply;
        if (!staffCsrfValid(who.staff, req.body?.['_csrf']))
          return sendPage(
            reply,
            403,
            opsMessagePage({
              title: 'This form has expired',
              message: 'This form has expired. Go back, reload the page and try again.',
              back: `/ops/merchants/${encodeURIComponent(req.params.id)}`,
            }),
          );
        const merchantId = req.params.id;
        const actor: Actor = `operator:${who.operatorId}`;
        let out: Outcome;
        switch (decision) {
          case 'approve':
            out = await approveMerchant(ctx, {
              merchantId,
              actor,
              overrideCheck: str(req.body, 'override') === '1',
            });
            break;
          case 'reject':
            out = await rejectMerchant(ctx, { merchantId, actor, reason: str(req.body, 'reason') });
            break;
          case 'freeze':
            out = await freezeMerchant(ctx, { merchantId, actor, reason: str(req.body, 'reason') });
            break;
          case 'unfreeze':
            out = await unfreezeMerchant(ctx, { merchantId, actor });
            break;
        }
        if (!out.ok) return showMerchant(req, reply, 409, out.message);
        req.log.info({ merchantId, operatorId: who.operatorId, decision }, 'operator decision');
        return reply.redirect(`/ops/merchants/${merchantId}?done=${DONE[decision]}`, 303);
      },
    );
  }
}
