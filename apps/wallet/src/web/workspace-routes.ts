/**
 * Routes for the mini program workspace (services/workspace.ts; docs/workspace.md):
 *
 * - the console (/console/apps...): a signed-in merchant's mini programs; create, upload (multipart),
 *   submit, publish / roll back, features, details, preview. Every query goes through the session's
 *   merchant: another merchant's appId answers 404, exactly like one that does not exist.
 * - ops (/ops/reviews...): versions waiting for review and feature requests, approve / reject, preview.
 * - serving (/mp/<appId>/<version>/<path>): the published version's files for everyone, any version's
 *   through a preview link (/mp/<appId>/<version>/p/<token>/<path>, one hour), every response in a CSP
 *   sandbox so merchant HTML never runs as the wallet's origin.
 *
 * Forms post and redirect (303) back with a `done` notice; a refusal renders the page again with the
 * message. Every POST checks the console or ops session's CSRF token.
 */
import fastifyMultipart from '@fastify/multipart';
import { isFeature } from '@billetera/domain';
import {
  featureStatesOf,
  featuresOfApps,
  findMerchantMiniProgram,
  findMiniProgram,
  findVersion,
  findVersionById,
  miniProgramLogo,
  miniProgramsOfMerchant,
  pendingFeatureRequests,
  versionsInReview,
  versionsOf,
  type MiniProgram,
} from '@billetera/store';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WalletContext } from '../context.ts';
import {
  LOGO_MAX_BYTES,
  WorkspaceError,
  addMiniProgramFeature,
  createWorkspaceMiniProgram,
  decideFeatureRequest,
  findServedFile,
  hostedEntryPath,
  hostedFileCsp,
  hostedScopePath,
  previewToken,
  publishMiniProgramVersion,
  removeMiniProgramFeature,
  reviewVersion,
  submitVersion,
  updateWorkspaceDetails,
  uploadVersion,
} from '../services/workspace.ts';
import { ZIP_MAX_BYTES } from '../services/workspace-zip.ts';
import { SITE_NAME, activeFeatures, hostPageCsp, sendLogo } from './host-routes.ts';
import { miniProgramPage } from './host-pages.ts';
import { opsMessagePage, reviewsPage, type OpsFrame } from './ops-review-pages.ts';
import { currentSession } from './session.ts';
import { requireMerchant, requireOperator, type MerchantStaff } from './staff-guards.ts';
import { staffCsrfValid } from './staff-session.ts';
import { appDetailPage, appsListPage, workspaceMessagePage, type ConsoleFrame } from './workspace-pages.ts';

/** How many waiting items the ops queue shows at once. */
const QUEUE_LIMIT = 100;
/** Text fields of the multipart forms: a description, a note, origins. */
const FORM_FIELD_MAX_BYTES = 4096;

const STATUS_OF: Record<WorkspaceError['kind'], number> = {
  INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_VERIFIED: 403,
};

const CSRF_MESSAGE =
  'This form has expired (its security token does not match): reload the page and try again.';

const sendHtml = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

const see = (reply: FastifyReply, location: string) =>
  reply.header('cache-control', 'no-store').redirect(location, 303);

const field = (body: unknown, name: string): string => {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : '';
};

const positiveInt = (text: string): number | undefined =>
  /^[1-9]\d{0,8}$/.test(text) ? Number(text) : undefined;

interface MultipartForm {
  fields: Record<string, string>;
  files: Record<string, Buffer>;
  /** Why the body could not be read, for the page. */
  problem?: string;
}

/** Reads a multipart form with one file field, whose size is capped at `maxFileBytes`. */
async function readMultipart(
  req: FastifyRequest,
  maxFileBytes: number,
  what: string,
): Promise<MultipartForm> {
  const form: MultipartForm = { fields: {}, files: {} };
  if (!req.isMultipart()) return { ...form, problem: 'The form must be sent as multipart/form-data.' };
  try {
    for await (const part of req.parts({
      limits: { fileSize: maxFileBytes, files: 1, fields: 8, parts: 9, fieldSize: FORM_FIELD_MAX_BYTES },
    })) {
      if (part.type === 'file') {
        const data = await part.toBuffer();
        if (part.file.truncated)
          form.problem = `The ${what} is larger than ${maxFileBytes >= 1024 * 1024 ? `${maxFileBytes / 1024 / 1024} MiB` : `${maxFileBytes / 1024} KiB`}.`;
        else if (part.filename) form.files[part.fieldname] = data;
      } else if (typeof part.value === 'string') {
        // PostgreSQL text cannot hold NUL (register-web.ts refuses it in urlencoded forms).
        if (part.value.includes('\u0000'))
          form.problem = 'The form contains a NUL character, which is not allowed.';
        else form.fields[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    req.log.info({ err }, 'multipart form refused');
    return { ...form, problem: 'The form could not be read (too many fields or files, or a broken upload).' };
  }
  return form;
}

const walletOrigin = (ctx: WalletContext) => new URL(ctx.publicUrl).origin;

export function registerWorkspace(app: FastifyInstance, ctx: WalletContext): void {
  void app.register(async (scope) => {
    // Multipart bodies only here (uploads); sizes are checked per form in readMultipart.
    await scope.register(fastifyMultipart, { throwFileSizeLimit: false });
    registerConsole(scope, ctx);
    registerOps(scope, ctx);
    registerServing(scope, ctx);
  });
}

// --------------------------------------------------------------------------------------------- console

function registerConsole(app: FastifyInstance, ctx: WalletContext): void {
  const frameOf = (who: MerchantStaff): ConsoleFrame => ({
    merchant: who.merchant,
    csrf: who.staff.csrfToken,
  });
  const actorOf = (who: MerchantStaff) => `merchant:${who.staff.subjectId}`;

  const notFoundPage = (reply: FastifyReply, who: MerchantStaff) =>
    sendHtml(
      reply,
      404,
      workspaceMessagePage(frameOf(who), 'Not found', 'You have no mini program with this appId.'),
    );

  async function renderList(
    reply: FastifyReply,
    who: MerchantStaff,
    status: number,
    extra: {
      notice?: string;
      error?: string;
      form?: { name: string; description: string; serverOrigins: string };
    },
  ) {
    const apps = await miniProgramsOfMerchant(ctx.store.db, who.merchant.id);
    const features = await featuresOfApps(
      ctx.store.db,
      apps.map((a) => a.appId),
    );
    return sendHtml(reply, status, appsListPage(frameOf(who), { apps, features, ...extra }));
  }

  async function renderDetail(
    reply: FastifyReply,
    who: MerchantStaff,
    app: MiniProgram,
    status: number,
    extra: { notice?: string | undefined; error?: string | undefined },
  ) {
    const [versions, features] = await Promise.all([
      versionsOf(ctx.store.db, app.appId),
      featureStatesOf(ctx.store.db, app.appId),
    ]);
    return sendHtml(reply, status, appDetailPage(frameOf(who), { app, versions, features, ...extra }));
  }

  /** Runs a merchant action on one of its mini programs; a refusal renders the mini program's page again. */
  async function onOwnApp(
    req: FastifyRequest<{ Params: { appId: string } }>,
    reply: FastifyReply,
    who: MerchantStaff,
    action: (app: MiniProgram) => Promise<string>,
  ) {
    const app = await findMerchantMiniProgram(ctx.store.db, who.merchant.id, req.params.appId);
    if (!app) return notFoundPage(reply, who);
    try {
      const done = await action(app);
      return see(reply, `/console/apps/${app.appId}?${done}`);
    } catch (err) {
      if (!(err instanceof WorkspaceError)) throw err;
      if (err.kind === 'NOT_FOUND') return notFoundPage(reply, who);
      const fresh = (await findMiniProgram(ctx.store.db, app.appId)) ?? app;
      return renderDetail(reply, who, fresh, STATUS_OF[err.kind], { error: err.message });
    }
  }

  app.get('/console/apps', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    return renderList(reply, who, 200, {});
  });

  app.post('/console/apps', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    const form = await readMultipart(req, LOGO_MAX_BYTES, 'logo');
    if (!staffCsrfValid(who.staff, form.fields['_csrf']))
      return sendHtml(reply, 403, workspaceMessagePage(frameOf(who), 'Form expired', CSRF_MESSAGE));
    const values = {
      name: form.fields['name'] ?? '',
      description: form.fields['description'] ?? '',
      serverOrigins: form.fields['serverOrigins'] ?? '',
    };
    if (form.problem) return renderList(reply, who, 400, { error: form.problem, form: values });
    try {
      const created = await createWorkspaceMiniProgram(ctx, who.merchant, actorOf(who), {
        ...values,
        logo: form.files['logo'],
      });
      return see(reply, `/console/apps/${created.appId}?done=created`);
    } catch (err) {
      if (!(err instanceof WorkspaceError)) throw err;
      return renderList(reply, who, STATUS_OF[err.kind], { error: err.message, form: values });
    }
  });

  app.get<{ Params: { appId: string }; Querystring: { done?: string; v?: string } }>(
    '/console/apps/:appId',
    async (req, reply) => {
      const who = await requireMerchant(ctx, req, reply);
      if (!who) return reply;
      const app = await findMerchantMiniProgram(ctx.store.db, who.merchant.id, req.params.appId);
      if (!app) return notFoundPage(reply, who);
      return renderDetail(reply, who, app, 200, { notice: noticeOf(req.query.done, req.query.v) });
    },
  );

  app.get<{ Params: { appId: string } }>('/console/apps/:appId/logo', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    const app = await findMerchantMiniProgram(ctx.store.db, who.merchant.id, req.params.appId);
    const logo = app ? await miniProgramLogo(ctx.store.db, app.appId) : undefined;
    if (!logo) return reply.code(404).send({ error: 'no such logo' });
    return sendLogo(reply, logo, 'private, no-cache');
  });

  app.post<{ Params: { appId: string } }>('/console/apps/:appId/details', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    const form = await readMultipart(req, LOGO_MAX_BYTES, 'logo');
    if (!staffCsrfValid(who.staff, form.fields['_csrf']))
      return sendHtml(reply, 403, workspaceMessagePage(frameOf(who), 'Form expired', CSRF_MESSAGE));
    return onOwnApp(req, reply, who, async (app) => {
      if (form.problem) throw new WorkspaceError('INVALID', form.problem);
      await updateWorkspaceDetails(ctx, who.merchant, actorOf(who), app.appId, {
        description: form.fields['description'] ?? '',
        serverOrigins: form.fields['serverOrigins'] ?? '',
        logo: form.files['logo'],
      });
      return 'done=saved';
    });
  });

  app.post<{ Params: { appId: string } }>('/console/apps/:appId/versions', async (req, reply) => {
    const who = await requireMerchant(ctx, req, reply);
    if (!who) return reply;
    const form = await readMultipart(req, ZIP_MAX_BYTES, 'zip');
    if (!staffCsrfValid(who.staff, form.fields['_csrf']))
      return sendHtml(reply, 403, workspaceMessagePage(frameOf(who), 'Form expired', CSRF_MESSAGE));
    return onOwnApp(req, reply, who, async (app) => {
      if (form.problem) throw new WorkspaceError('INVALID', form.problem);
      const zip = form.files['zip'];
      if (!zip) throw new WorkspaceError('INVALID', 'Choose the zip to upload.');
      const v = await uploadVersion(
        ctx,
        who.merchant,
        actorOf(who),
        app.appId,
        zip,
        form.fields['note'] ?? '',
      );
      return `done=uploaded&v=${v.version}`;
    });
  });

  app.post<{ Params: { appId: string; version: string; op: string } }>(
    '/console/apps/:appId/versions/:version/:op',
    async (req, reply) => {
      const who = await requireMerchant(ctx, req, reply);
      if (!who) return reply;
      if (!staffCsrfValid(who.staff, field(req.body, '_csrf')))
        return sendHtml(reply, 403, workspaceMessagePage(frameOf(who), 'Form expired', CSRF_MESSAGE));
      const version = positiveInt(req.params.version);
      const op = req.params.op;
      if (version === undefined || (op !== 'submit' && op !== 'publish')) return notFoundPage(reply, who);
      return onOwnApp(req, reply, who, async (app) => {
        if (op === 'submit') {
          await submitVersion(ctx, who.merchant, actorOf(who), app.appId, version);
          return `done=submitted&v=${version}`;
        }
        const { previous } = await publishMiniProgramVersion(
          ctx,
          who.merchant,
          actorOf(who),
          app.appId,
          version,
        );
        return `done=${previous !== null && version < previous ? 'rolledback' : 'published'}&v=${version}`;
      });
    },
  );

  app.post<{ Params: { appId: string; feature: string; op: string } }>(
    '/console/apps/:appId/features/:feature/:op',
    async (req, reply) => {
      const who = await requireMerchant(ctx, req, reply);
      if (!who) return reply;
      if (!staffCsrfValid(who.staff, field(req.body, '_csrf')))
        return sendHtml(reply, 403, workspaceMessagePage(frameOf(who), 'Form expired', CSRF_MESSAGE));
      const { feature, op } = req.params;
      if (!isFeature(feature) || (op !== 'add' && op !== 'remove')) return notFoundPage(reply, who);
      return onOwnApp(req, reply, who, async (app) => {
        if (op === 'add') {
          await addMiniProgramFeature(ctx, who.merchant, actorOf(who), app.appId, feature);
          return `done=${feature === 'USER_INFO' ? 'feature-requested' : 'feature-added'}`;
        }
        await removeMiniProgramFeature(ctx, who.merchant, actorOf(who), app.appId, feature);
        return 'done=feature-removed';
      });
    },
  );

  app.get<{ Params: { appId: string; version: string } }>(
    '/console/apps/:appId/versions/:version/preview',
    async (req, reply) => {
      const who = await requireMerchant(ctx, req, reply);
      if (!who) return reply;
      const app = await findMerchantMiniProgram(ctx.store.db, who.merchant.id, req.params.appId);
      const version = positiveInt(req.params.version);
      const v =
        app && version !== undefined ? await findVersion(ctx.store.db, app.appId, version) : undefined;
      if (!app || !v) return notFoundPage(reply, who);
      return sendPreview(ctx, req, reply, app, v.version, {
        label: `Preview · version ${v.version}`,
        backHref: `/console/apps/${app.appId}`,
        backLabel: `Back to ${app.name} in the console`,
      });
    },
  );
}

const NOTICES: Record<string, (v: string) => string> = {
  created: () => 'Mini program created. Upload its first version below.',
  uploaded: (v) => `Version ${v} uploaded. Preview it, then submit it for review.`,
  submitted: (v) => `Version ${v} is submitted: an operator will review it.`,
  published: (v) => `Version ${v} is live: everyone sees it in the wallet.`,
  rolledback: (v) => `Rolled back: version ${v} is live again.`,
  'feature-added': () => 'Feature added.',
  'feature-requested': () =>
    'User information requested: only the user id is shared until an operator approves it.',
  'feature-removed': () => 'Feature removed.',
  saved: () => 'Details saved.',
};

function noticeOf(done: string | undefined, v: string | undefined): string | undefined {
  const make = done ? NOTICES[done] : undefined;
  return make?.(positiveInt(v ?? '')?.toString() ?? '');
}

/** The host shell around one version, through a preview link; tradePay works if the browser is signed in to the wallet. */
async function sendPreview(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
  app: MiniProgram,
  version: number,
  preview: { label: string; backHref: string; backLabel: string },
) {
  const token = previewToken(ctx, app.appId, version);
  const entry = {
    url: hostedEntryPath(app.appId, version, token),
    scope: hostedScopePath(app.appId, version, token),
  };
  // A wallet user signed in in this browser can pay (and, once published, authorize) from the preview.
  const web = await currentSession(ctx, req);
  reply.header('content-security-policy', hostPageCsp(entry.url, ctx.publicUrl));
  return sendHtml(
    reply,
    200,
    miniProgramPage({
      app,
      entry,
      features: await activeFeatures(ctx, app.appId),
      resumePaymentId: undefined,
      siteName: SITE_NAME,
      csrf: web?.session.csrfToken ?? '',
      preview,
    }),
  );
}

// ------------------------------------------------------------------------------------------------ ops

const OPS_NOTICES: Record<string, string> = {
  'version-approved': 'Version approved: the merchant can publish it.',
  'version-rejected': 'Version rejected: the merchant sees your reason.',
  'feature-approved': 'Feature approved: it is active now.',
  'feature-rejected': 'Feature request rejected: the merchant sees your reason.',
};

function registerOps(app: FastifyInstance, ctx: WalletContext): void {
  async function renderQueue(
    reply: FastifyReply,
    f: OpsFrame,
    status: number,
    extra: { notice?: string; error?: string },
  ) {
    const [versions, requests] = await Promise.all([
      versionsInReview(ctx.store.db, QUEUE_LIMIT),
      pendingFeatureRequests(ctx.store.db, QUEUE_LIMIT),
    ]);
    return sendHtml(reply, status, reviewsPage(f, { versions, requests, ...extra }));
  }

  const decisionOf = (body: unknown): 'APPROVE' | 'REJECT' | undefined => {
    const d = field(body, 'decision');
    return d === 'APPROVE' || d === 'REJECT' ? d : undefined;
  };

  app.get<{ Querystring: { done?: string } }>('/ops/reviews', async (req, reply) => {
    const who = await requireOperator(ctx, req, reply);
    if (!who) return reply;
    const notice = req.query.done ? OPS_NOTICES[req.query.done] : undefined;
    return renderQueue(reply, { email: who.email, csrf: who.staff.csrfToken }, 200, notice ? { notice } : {});
  });

  app.post<{ Params: { id: string } }>('/ops/reviews/versions/:id', async (req, reply) => {
    const who = await requireOperator(ctx, req, reply);
    if (!who) return reply;
    const f = { email: who.email, csrf: who.staff.csrfToken };
    if (!staffCsrfValid(who.staff, field(req.body, '_csrf')))
      return sendHtml(reply, 403, opsMessagePage(f, 'Form expired', CSRF_MESSAGE));
    const decision = decisionOf(req.body);
    if (!decision) return renderQueue(reply, f, 400, { error: 'Choose Approve or Reject.' });
    try {
      await reviewVersion(ctx, who.operatorId, req.params.id, decision, field(req.body, 'reason'));
      return see(reply, `/ops/reviews?done=version-${decision === 'APPROVE' ? 'approved' : 'rejected'}`);
    } catch (err) {
      if (!(err instanceof WorkspaceError)) throw err;
      return renderQueue(reply, f, STATUS_OF[err.kind], { error: err.message });
    }
  });

  app.post<{ Params: { appId: string; feature: string } }>(
    '/ops/reviews/features/:appId/:feature',
    async (req, reply) => {
      const who = await requireOperator(ctx, req, reply);
      if (!who) return reply;
      const f = { email: who.email, csrf: who.staff.csrfToken };
      if (!staffCsrfValid(who.staff, field(req.body, '_csrf')))
        return sendHtml(reply, 403, opsMessagePage(f, 'Form expired', CSRF_MESSAGE));
      const decision = decisionOf(req.body);
      if (!decision) return renderQueue(reply, f, 400, { error: 'Choose Approve or Reject.' });
      try {
        await decideFeatureRequest(
          ctx,
          who.operatorId,
          req.params.appId,
          req.params.feature,
          decision,
          field(req.body, 'reason'),
        );
        return see(reply, `/ops/reviews?done=feature-${decision === 'APPROVE' ? 'approved' : 'rejected'}`);
      } catch (err) {
        if (!(err instanceof WorkspaceError)) throw err;
        return renderQueue(reply, f, STATUS_OF[err.kind], { error: err.message });
      }
    },
  );

  app.get<{ Params: { id: string } }>('/ops/reviews/versions/:id/preview', async (req, reply) => {
    const who = await requireOperator(ctx, req, reply);
    if (!who) return reply;
    const v = await findVersionById(ctx.store.db, req.params.id);
    const app = v ? await findMiniProgram(ctx.store.db, v.appId) : undefined;
    if (!v || !app)
      return sendHtml(
        reply,
        404,
        opsMessagePage({ email: who.email, csrf: who.staff.csrfToken }, 'Not found', 'No such version.'),
      );
    return sendPreview(ctx, req, reply, app, v.version, {
      label: `Review · version ${v.version}`,
      backHref: '/ops/reviews',
      backLabel: 'Back to the reviews',
    });
  });
}

// -------------------------------------------------------------------------------------------- serving

function registerServing(app: FastifyInstance, ctx: WalletContext): void {
  app.get<{ Params: { appId: string; version: string; '*': string } }>(
    '/mp/:appId/:version/*',
    async (req, reply) => {
      const served = await findServedFile(ctx, req.params.appId, req.params.version, req.params['*']);
      // Every answer, a 404 too, is sandboxed and never sniffed.
      void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      if (!served)
        return reply
          .code(404)
          .header('content-security-policy', "sandbox; default-src 'none'")
          .header('cache-control', 'no-store')
          .header('content-type', 'text/plain; charset=utf-8')
          .send('Not found');
      return (
        reply
          .code(200)
          .header('content-type', served.file.contentType)
          .header('content-security-policy', hostedFileCsp(walletOrigin(ctx), served.app))
          .header('cache-control', served.mode === 'PUBLISHED' ? 'public, max-age=60' : 'private, no-store')
          // The sandboxed document has an opaque origin: it may load its own files (CORP), and fetch
          // them or use its fonts (CORS, origin "null"). They are public (or behind the link's token).
          .header('cross-origin-resource-policy', 'cross-origin')
          .header('access-control-allow-origin', '*')
          .send(served.file.data)
      );
    },
  );
}
