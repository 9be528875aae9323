/**
 * Browser sessions and CSRF. The session cookie is `__Host-billetera_session`: Secure, HttpOnly,
 * SameSite=Lax (a merchant's link to the cashier still arrives signed in; another site's POST does not),
 * host-only, path /. Its value is 32 random bytes; the database keeps only its SHA-256, so a leaked table
 * gives no usable session. Every form carries a CSRF token: the session's own once signed in, before that
 * a double-submit token in a SameSite=Strict cookie. Chromium accepts Secure cookies on http://127.0.0.1
 * and localhost, so the same settings serve local development.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  deleteSession,
  findLiveSession,
  findUserById,
  insertSession,
  type Session,
  type User,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';

export const SESSION_COOKIE = '__Host-billetera_session';
export const CSRF_COOKIE = '__Host-billetera_csrf';
/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 3600_000;

const hash = (value: string): string => createHash('sha256').update(value).digest('base64url');
const token = (): string => randomBytes(32).toString('base64url');

export interface WebSession {
  session: Session;
  user: User;
}

export async function currentSession(
  ctx: WalletContext,
  req: FastifyRequest,
): Promise<WebSession | undefined> {
  const value = req.cookies[SESSION_COOKIE];
  if (!value) return undefined;
  const session = await findLiveSession(ctx.store.db, hash(value), ctx.clock.now());
  if (!session) return undefined;
  const user = await findUserById(ctx.store.db, session.userId);
  return user && user.status === 'ACTIVE' ? { session, user } : undefined;
}

/** Starts a fresh session (a new id at every sign-in: no session fixation). */
export async function startSession(ctx: WalletContext, reply: FastifyReply, userId: string): Promise<void> {
  const value = token();
  const now = ctx.clock.now();
  await insertSession(ctx.store.db, {
    idHash: hash(value),
    userId,
    csrfToken: token(),
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  });
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export async function endSession(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const value = req.cookies[SESSION_COOKIE];
  if (value) await deleteSession(ctx.store.db, hash(value));
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
}

/** The CSRF token to put in this page's forms (creating the anonymous double-submit cookie if needed). */
export function csrfTokenFor(req: FastifyRequest, reply: FastifyReply, web: WebSession | undefined): string {
  if (web) return web.session.csrfToken;
  const existing = req.cookies[CSRF_COOKIE];
  if (existing) return existing;
  const fresh = token();
  reply.setCookie(CSRF_COOKIE, fresh, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
  return fresh;
}

/** True when the submitted form's `_csrf` matches the session's token (or, signed out, the cookie's). */
export function csrfValid(req: FastifyRequest, web: WebSession | undefined, submitted: unknown): boolean {
  const expected = web ? web.session.csrfToken : req.cookies[CSRF_COOKIE];
  if (typeof submitted !== 'string' || !expected) return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only local paths may be redirected to after sign-in (no open redirect). */
export function safeNext(next: unknown, fallback: string): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback;
}
