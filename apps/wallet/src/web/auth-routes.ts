/**
 * User authorization in the host app (decisions.md "User authorization"):
 *
 * - `POST /app/api/auth-codes`: the host script's half of `my.getAuthCode({scopes})`. JSON in and out,
 *   signed in, with the session's CSRF token in an `x-csrf-token` header (the mini program iframe has an
 *   opaque origin and no wallet cookies, so it can never call this itself). It answers with a code, with
 *   what the consent sheet must show, or with the bridge's error 4.
 * - `GET /app/authorizations`: the mini programs (and merchants) holding the user's information, each with
 *   a "Revoke access" form, `POST /app/authorizations/:grantId/revoke` (post/redirect/get).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MAX_SCOPES } from '@billetera/protocol';
import { findGrantById, findMerchantById, findMiniProgram } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import {
  assessAuthRequest,
  issueAuthCodeForUser,
  listGrants,
  revokeUserGrant,
  type AuthAssessment,
} from '../services/authorization.ts';
import { authorizationsPage, noSuchAuthorizationPage } from './auth-pages.ts';
import { signInPage } from './cashier-pages.ts';
import { csrfTokenFor, csrfValid, currentSession, type WebSession } from './session.ts';

/** The bridge's error codes (packages/jsapi/src/bridge-protocol.ts). */
const JSAPI_INVALID_PARAMETERS = 2;
const JSAPI_UNKNOWN = 3;
const JSAPI_NOT_AUTHORIZED = 4;
/** The longest scope name accepted (the catalogue's longest is 23 characters). */
const MAX_SCOPE_LENGTH = 64;
const MAX_APP_ID_LENGTH = 64;
/** 32 scopes of 64 characters fit with room to spare. */
const AUTH_CODE_BODY_LIMIT_BYTES = 8 * 1024;
const PAGE = '/app/authorizations';

const sendPage = (reply: FastifyReply, status: number, body: string) =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(body);

const sendJson = (reply: FastifyReply, status: number, body: object) =>
  reply.code(status).header('cache-control', 'no-store').send(body);

interface AuthCodeRequest {
  appId: string;
  scopes: string[];
  consent: boolean;
}

/** The request body, or what is wrong with it. */
function readAuthCodeRequest(body: unknown): AuthCodeRequest | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body must be a JSON object';
  const { appId, scopes, consent } = body as Record<string, unknown>;
  if (typeof appId !== 'string' || appId.length === 0 || appId.length > MAX_APP_ID_LENGTH)
    return 'appId must be a non-empty string';
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.length > MAX_SCOPES)
    return `scopes must be a list of 1 to ${MAX_SCOPES} scopes`;
  if (!scopes.every((s) => typeof s === 'string' && s.length > 0 && s.length <= MAX_SCOPE_LENGTH))
    return `every scope must be a string of 1 to ${MAX_SCOPE_LENGTH} characters`;
  if (typeof consent !== 'boolean') return 'consent must be true or false';
  return { appId, scopes: scopes as string[], consent };
}

type Refusal = Exclude<AuthAssessment, { kind: 'OK' }>;

/** NO_APP, NO_FEATURE and NOTHING_GRANTABLE: the bridge's error 4, with the refused scopes when known. */
function refusal(out: Refusal): object {
  switch (out.kind) {
    case 'NO_APP':
      return { error: JSAPI_NOT_AUTHORIZED, errorMessage: 'this mini program is not available' };
    case 'NO_FEATURE':
      return {
        error: JSAPI_NOT_AUTHORIZED,
        errorMessage: `${out.appName} may not ask for user information (it lacks the User information feature)`,
      };
    case 'NOTHING_GRANTABLE':
      return {
        error: JSAPI_NOT_AUTHORIZED,
        errorMessage: `${out.appName} may not ask for any of these scopes`,
        authErrorScopes: out.refused,
      };
  }
}

const consentRequired = (a: Extract<AuthAssessment, { kind: 'OK' }>) => ({
  consentRequired: true,
  appName: a.appName,
  merchantName: a.merchantName,
  items: a.consent.map((c) => c.label),
});

/** The name the confirmation line gives a revoked grant of this user, or undefined if it is not one. */
async function revokedGrantName(
  ctx: WalletContext,
  web: WebSession,
  grantId: string,
): Promise<string | undefined> {
  const grant = await findGrantById(ctx.store.db, grantId);
  if (!grant || grant.userId !== web.user.id || grant.revokedAt === null) return undefined;
  const app = grant.appId ? await findMiniProgram(ctx.store.db, grant.appId) : undefined;
  if (app) return app.name;
  return (await findMerchantById(ctx.store.db, grant.merchantId))?.name ?? 'this mini program';
}

export function registerAuthorization(app: FastifyInstance, ctx: WalletContext): void {
  app.post<{ Body: unknown }>(
    '/app/api/auth-codes',
    { bodyLimit: AUTH_CODE_BODY_LIMIT_BYTES },
    async (req, reply) => {
      const web = await currentSession(ctx, req);
      if (!web)
        return sendJson(reply, 401, { error: JSAPI_UNKNOWN, errorMessage: 'sign in to Billetera first' });
      if (!csrfValid(req, web, req.headers['x-csrf-token']))
        return sendJson(reply, 403, {
          error: JSAPI_UNKNOWN,
          errorMessage: 'this page has expired: reload it and try again',
        });
      const input = readAuthCodeRequest(req.body);
      if (typeof input === 'string')
        return sendJson(reply, 400, { error: JSAPI_INVALID_PARAMETERS, errorMessage: input });
      const userId = web.user.id;

      const assessment = await assessAuthRequest(ctx, userId, input.appId, input.scopes);
      if (assessment.kind !== 'OK') return sendJson(reply, 403, refusal(assessment));
      if (assessment.consent.length > 0 && !input.consent)
        return sendJson(reply, 200, consentRequired(assessment));

      const out = await issueAuthCodeForUser(ctx, userId, input.appId, input.scopes, input.consent);
      switch (out.kind) {
        case 'ISSUED':
          return sendJson(reply, 200, {
            authCode: out.code.authCode,
            authSuccessScopes: out.code.scopes,
            authErrorScopes: out.refused,
          });
        case 'CONSENT_REQUIRED': {
          // A grant was revoked between the two looks: ask the user after all.
          const again = await assessAuthRequest(ctx, userId, input.appId, input.scopes);
          if (again.kind !== 'OK') return sendJson(reply, 403, refusal(again));
          return sendJson(reply, 200, consentRequired(again));
        }
        default:
          return sendJson(reply, 403, refusal(out));
      }
    },
  );

  app.get<{ Querystring: { revoked?: string } }>(PAGE, async (req, reply) => {
    const web = await currentSession(ctx, req);
    const csrf = csrfTokenFor(req, reply, web);
    if (!web) return sendPage(reply, 200, signInPage({ next: PAGE, csrf, embedded: false }));
    const revoked =
      typeof req.query.revoked === 'string' && req.query.revoked.length <= 100
        ? await revokedGrantName(ctx, web, req.query.revoked)
        : undefined;
    const grants = await listGrants(ctx, web.user.id);
    return sendPage(reply, 200, authorizationsPage({ grants, csrf, revoked }));
  });

  app.post<{ Params: { grantId: string }; Body: Record<string, unknown> }>(
    `${PAGE}/:grantId/revoke`,
    async (req, reply) => {
      const web = await currentSession(ctx, req);
      if (!web) return reply.redirect(PAGE, 303);
      if (!csrfValid(req, web, req.body?.['_csrf']))
        return sendPage(reply, 403, noSuchAuthorizationPage({ expired: true }));
      const { grantId } = req.params;
      const done = await revokeUserGrant(ctx, web.user.id, grantId);
      // A second click on the same button finds the grant already revoked: the same confirmation.
      if (done || (await revokedGrantName(ctx, web, grantId)) !== undefined)
        return reply.redirect(`${PAGE}?revoked=${encodeURIComponent(grantId)}`, 303);
      return sendPage(reply, 404, noSuchAuthorizationPage({ expired: false }));
    },
  );
}
