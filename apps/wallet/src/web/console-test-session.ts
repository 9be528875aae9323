/**
 * Test helpers for the console views: a signed-in console session for a merchant without going through
 * the sign-in form (a merchant_accounts row and a staff_sessions row, as staff-session.ts writes them),
 * and small fetch helpers that carry its cookie and CSRF token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { WalletContext } from '../context.ts';
import { STAFF_COOKIES } from './staff-session.ts';

export interface ConsoleClient {
  accountId: string;
  cookie: string;
  csrf: string;
  get(path: string): Promise<{ status: number; location: string | null; body: string; headers: Headers }>;
  post(
    path: string,
    form: Record<string, string>,
    opts?: { csrf?: string | null },
  ): Promise<{ status: number; location: string | null; body: string }>;
}

/** A console session (a year, whatever the test clock does) for an account of this merchant. */
export async function consoleClient(
  ctx: WalletContext,
  baseUrl: string,
  merchantId: string,
): Promise<ConsoleClient> {
  const accountId = `macc_${randomBytes(8).toString('hex')}`;
  const value = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const now = Date.now();
  await ctx.store.db
    .insertInto('merchant_accounts')
    .values({
      id: accountId,
      merchant_id: merchantId,
      email: `${accountId}@example.test`,
      password_hash: 'not-a-password',
      created_at: BigInt(now),
    })
    .execute();
  await ctx.store.db
    .insertInto('staff_sessions')
    .values({
      id_hash: createHash('sha256').update(value).digest('base64url'),
      kind: 'MERCHANT',
      subject_id: accountId,
      csrf_token: csrf,
      created_at: BigInt(Math.min(now, ctx.clock.now())),
      expires_at: BigInt(Math.max(now, ctx.clock.now()) + 365 * 24 * 3600_000),
    })
    .execute();
  const cookie = `${STAFF_COOKIES.MERCHANT}=${value}`;
  return {
    accountId,
    cookie,
    csrf,
    async get(path) {
      const res = await fetch(baseUrl + path, { headers: { cookie }, redirect: 'manual' });
      return {
        status: res.status,
        location: res.headers.get('location'),
        body: await res.text(),
        headers: res.headers,
      };
    },
    async post(path, form, opts = {}) {
      const csrfValue = opts.csrf === undefined ? csrf : opts.csrf;
      const body = new URLSearchParams({ ...(csrfValue === null ? {} : { _csrf: csrfValue }), ...form });
      const res = await fetch(baseUrl + path, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });
      return { status: res.status, location: res.headers.get('location'), body: await res.text() };
    },
  };
}

/** `&amp;` back to `&` in an href taken from a page. */
export const unescapeHref = (href: string): string => href.replace(/&amp;/g, '&');
