/**
 * Sessions for the merchant console (/console, kind MERCHANT: a merchant account) and the operators'
 * back office (/ops, kind OPERATOR), apart from wallet users' sessions: their own cookies and table, so
 * signing in to one never signs anybody in to another. Same rules as session.ts: `__Host-` cookies
 * (Secure, HttpOnly, SameSite=Lax, path /), 32 random bytes of which only the SHA-256 is stored, a new id
 * at every sign-in, and a CSRF token per session for every form (and for fetch calls, in a header).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WalletContext } from '../context.ts';

export type StaffKind = 'MERCHANT' | 'OPERATOR';

export const STAFF_COOKIES: Record<StaffKind, string> = {
  MERCHANT: '__Host-billetera_console',
  OPERATOR: '__Host-billetera_ops',
};
/** How long a console or ops sign-in lasts. */
export const STAFF_SESSION_TTL_MS = 8 * 3600_000;

const hash = (value: string): string => createHash('sha256').update(value).digest('base64url');
const token = (): string => randomBytes(32).toString('base64url');

export interface StaffSession {
  kind: StaffKind;
  /** The merchant account's id (MERCHANT) or the operator's id (OPERATOR). */
  subjectId: string;
  csrfToken: string;
  expiresAt: number;
}

export async function currentStaff(
  ctx: WalletContext,
  req: FastifyRequest,
  kind: StaffKind,
): Promise<StaffSession | undefined> {
  const value = req.cookies[STAFF_COOKIES[kind]];
  if (!value) return undefined;
  const row = await ctx.store.db
    .selectFrom('staff_sessions')
    .selectAll()
    .where('id_hash', '=', hash(value))
    .where('kind', '=', kind)
    .where('expires_at', '>', BigInt(ctx.clock.now()))
    .executeTakeFirst();
  return (
    row && {
      kind,
      subjectId: row.subject_id,
      csrfToken: row.csrf_token,
      expiresAt: Number(row.expires_at),
    }
  );
}

/** Signs a merchant account or an operator in: a fresh session id, the old cookie's session ended. */
export async function startStaffSession(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
  kind: StaffKind,
  subjectId: string,
): Promise<void> {
  await endStaffSession(ctx, req, reply, kind);
  const value = token();
  const now = ctx.clock.now();
  await ctx.store.db
    .insertInto('staff_sessions')
    .values({
      id_hash: hash(value),
      kind,
      subject_id: subjectId,
      csrf_token: token(),
      created_at: BigInt(now),
      expires_at: BigInt(now + STAFF_SESSION_TTL_MS),
    })
    .execute();
  reply.setCookie(STAFF_COOKIES[kind], value, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
    maxAge: STAFF_SESSION_TTL_MS / 1000,
  });
}

export async function endStaffSession(
  ctx: WalletContext,
  req: FastifyRequest,
  reply: FastifyReply,
  kind: StaffKind,
): Promise<void> {
  const value = req.cookies[STAFF_COOKIES[kind]];
  if (value) await ctx.store.db.deleteFrom('staff_sessions').where('id_hash', '=', hash(value)).execute();
  reply.clearCookie(STAFF_COOKIES[kind], { path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
}

/** Ends every session of a subject (after a password change, or when an account is locked out). */
export async function endAllStaffSessions(
  ctx: WalletContext,
  kind: StaffKind,
  subjectId: string,
): Promise<void> {
  await ctx.store.db
    .deleteFrom('staff_sessions')
    .where('kind', '=', kind)
    .where('subject_id', '=', subjectId)
    .execute();
}

/** True when the submitted token (a form's `_csrf`, or an `x-csrf-token` header) is the session's. */
export function staffCsrfValid(session: StaffSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
