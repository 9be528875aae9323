/**
 * User authorization: mini program features, per-merchant customer ids, the grants users gave, and the
 * auth codes and tokens issued under them. Codes and tokens are looked up by their SHA-256 hash; the
 * plain values exist only in the answers that hand them out.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AuthCodesTable, AuthTokensTable, Database, UserGrantsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

// ------------------------------------------------------------------------------------------- features

export type FeatureStatus = 'ACTIVE' | 'PENDING' | 'REJECTED';

export async function setFeature(
  tx: Tx,
  appId: string,
  feature: string,
  status: FeatureStatus,
  now: number,
): Promise<void> {
  await tx
    .insertInto('mini_program_features')
    .values({ app_id: appId, feature, status, created_at: BigInt(now), updated_at: BigInt(now) })
    .onConflict((oc) => oc.columns(['app_id', 'feature']).doUpdateSet({ status, updated_at: BigInt(now) }))
    .execute();
}

export async function removeFeature(tx: Tx, appId: string, feature: string): Promise<void> {
  await tx
    .deleteFrom('mini_program_features')
    .where('app_id', '=', appId)
    .where('feature', '=', feature)
    .execute();
}

/** A mini program's features and their status. */
export async function featuresOf(tx: Tx, appId: string): Promise<Map<string, FeatureStatus>> {
  const rows = await tx
    .selectFrom('mini_program_features')
    .select(['feature', 'status'])
    .where('app_id', '=', appId)
    .execute();
  return new Map(rows.map((r) => [r.feature, r.status as FeatureStatus]));
}

// --------------------------------------------------------------------------------------- customer ids

/** The user's customerId for this merchant, created on first use (racing creators agree on one). */
export async function customerIdFor(
  tx: Tx,
  merchantId: string,
  userId: string,
  now: number,
  candidate: () => string,
): Promise<string> {
  const find = () =>
    tx
      .selectFrom('customer_ids')
      .select('customer_id')
      .where('merchant_id', '=', merchantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  const found = await find();
  if (found) return found.customer_id;
  await tx
    .insertInto('customer_ids')
    .values({ merchant_id: merchantId, user_id: userId, customer_id: candidate(), created_at: BigInt(now) })
    .onConflict((oc) => oc.columns(['merchant_id', 'user_id']).doNothing())
    .execute();
  const created = await find();
  if (!created) throw new Error('customer id was neither found nor created');
  return created.customer_id;
}

// --------------------------------------------------------------------------------------------- grants

export interface Grant {
  id: string;
  userId: string;
  merchantId: string;
  /** '' for a grant to the merchant itself. */
  appId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
}

const splitScopes = (s: string): string[] => (s === '' ? [] : s.split(' '));
export const joinScopes = (scopes: readonly string[]): string => [...new Set(scopes)].sort().join(' ');

const toGrant = (r: Selectable<UserGrantsTable>): Grant => ({
  id: r.id,
  userId: r.user_id,
  merchantId: r.merchant_id,
  appId: r.app_id,
  scopes: splitScopes(r.scopes),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export async function findGrantFor(
  tx: Tx,
  userId: string,
  merchantId: string,
  appId: string,
): Promise<Grant | undefined> {
  const row = await tx
    .selectFrom('user_grants')
    .selectAll()
    .where('user_id', '=', userId)
    .where('merchant_id', '=', merchantId)
    .where('app_id', '=', appId)
    .executeTakeFirst();
  return row && toGrant(row);
}

export async function findGrantById(tx: Tx, id: string): Promise<Grant | undefined> {
  const row = await tx.selectFrom('user_grants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toGrant(row);
}

/**
 * Records a consent: the grant for (user, merchant, app) gains these scopes, and a revoked grant becomes
 * live again with only them (a revocation is not silently undone by old scopes).
 */
export async function recordConsent(
  tx: Tx,
  g: { id: string; userId: string; merchantId: string; appId: string; scopes: readonly string[] },
  now: number,
): Promise<Grant> {
  await tx
    .insertInto('user_grants')
    .values({
      id: g.id,
      user_id: g.userId,
      merchant_id: g.merchantId,
      app_id: g.appId,
      scopes: joinScopes(g.scopes),
      created_at: BigInt(now),
      updated_at: BigInt(now),
      revoked_at: null,
    })
    .onConflict((oc) => oc.columns(['user_id', 'merchant_id', 'app_id']).doNothing())
    .execute();
  const grant = await findGrantFor(tx, g.userId, g.merchantId, g.appId);
  if (!grant) throw new Error('grant was neither found nor created');
  if (grant.id === g.id) return grant;
  const scopes = joinScopes(grant.revokedAt === null ? [...grant.scopes, ...g.scopes] : g.scopes);
  await tx
    .updateTable('user_grants')
    .set({ scopes, updated_at: BigInt(now), revoked_at: null })
    .where('id', '=', grant.id)
    .execute();
  return { ...grant, scopes: splitScopes(scopes), updatedAt: now, revokedAt: null };
}

export interface GrantView extends Grant {
  merchantName: string;
  appName: string | null;
}

/** A user's live grants, newest first, with the names the host app shows. */
export async function liveGrantsOfUser(tx: Tx, userId: string): Promise<GrantView[]> {
  const rows = await tx
    .selectFrom('user_grants as g')
    .innerJoin('merchants as m', 'm.id', 'g.merchant_id')
    .leftJoin('mini_programs as a', 'a.app_id', 'g.app_id')
    .selectAll('g')
    .select(['m.name as merchant_name', 'a.name as app_name'])
    .where('g.user_id', '=', userId)
    .where('g.revoked_at', 'is', null)
    .orderBy('g.updated_at', 'desc')
    .orderBy('g.id')
    .execute();
  return rows.map((r) => ({ ...toGrant(r), merchantName: r.merchant_name, appName: r.app_name }));
}

/** Revokes a live grant of this user and every token and unused code under it. False if none. */
export async function revokeGrant(tx: Tx, grantId: string, userId: string, now: number): Promise<boolean> {
  const done = await tx
    .updateTable('user_grants')
    .set({ revoked_at: BigInt(now), updated_at: BigInt(now) })
    .where('id', '=', grantId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) !== 1) return false;
  await tx
    .updateTable('auth_tokens')
    .set({ revoked_at: BigInt(now) })
    .where('grant_id', '=', grantId)
    .where('revoked_at', 'is', null)
    .execute();
  await tx
    .updateTable('auth_codes')
    .set({ used_at: BigInt(now) })
    .where('grant_id', '=', grantId)
    .where('used_at', 'is', null)
    .execute();
  return true;
}

// ---------------------------------------------------------------------------------------------- codes

export interface AuthCode {
  codeHash: string;
  grantId: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  familyId: string | null;
}

const toCode = (r: Selectable<AuthCodesTable>): AuthCode => ({
  codeHash: r.code_hash,
  grantId: r.grant_id,
  scopes: splitScopes(r.scopes),
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  usedAt: r.used_at === null ? null : Number(r.used_at),
  familyId: r.family_id,
});

export async function insertAuthCode(tx: Tx, c: Omit<AuthCode, 'usedAt' | 'familyId'>): Promise<void> {
  await tx
    .insertInto('auth_codes')
    .values({
      code_hash: c.codeHash,
      grant_id: c.grantId,
      scopes: joinScopes(c.scopes),
      created_at: BigInt(c.createdAt),
      expires_at: BigInt(c.expiresAt),
      used_at: null,
      family_id: null,
    })
    .execute();
}

export async function findAuthCode(tx: Tx, codeHash: string): Promise<AuthCode | undefined> {
  const row = await tx
    .selectFrom('auth_codes')
    .selectAll()
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  return row && toCode(row);
}

/** Claims an unused code for a token family. False when another redemption got there first. */
export async function claimAuthCode(
  tx: Tx,
  codeHash: string,
  familyId: string,
  now: number,
): Promise<boolean> {
  const done = await tx
    .updateTable('auth_codes')
    .set({ used_at: BigInt(now), family_id: familyId })
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) === 1;
}

// --------------------------------------------------------------------------------------------- tokens

export type TokenKind = 'ACCESS' | 'REFRESH';

export interface AuthToken {
  tokenHash: string;
  kind: TokenKind;
  familyId: string;
  grantId: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

const toToken = (r: Selectable<AuthTokensTable>): AuthToken => ({
  tokenHash: r.token_hash,
  kind: r.kind as TokenKind,
  familyId: r.family_id,
  grantId: r.grant_id,
  scopes: splitScopes(r.scopes),
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  usedAt: r.used_at === null ? null : Number(r.used_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export async function insertAuthToken(tx: Tx, t: Omit<AuthToken, 'usedAt' | 'revokedAt'>): Promise<void> {
  await tx
    .insertInto('auth_tokens')
    .values({
      token_hash: t.tokenHash,
      kind: t.kind,
      family_id: t.familyId,
      grant_id: t.grantId,
      scopes: joinScopes(t.scopes),
      created_at: BigInt(t.createdAt),
      expires_at: BigInt(t.expiresAt),
      used_at: null,
      revoked_at: null,
    })
    .execute();
}

export async function findAuthToken(tx: Tx, tokenHash: string): Promise<AuthToken | undefined> {
  const row = await tx
    .selectFrom('auth_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && toToken(row);
}

/** Claims a live refresh token for one rotation. False when it was used or revoked meanwhile. */
export async function claimRefreshToken(tx: Tx, tokenHash: string, now: number): Promise<boolean> {
  const done = await tx
    .updateTable('auth_tokens')
    .set({ used_at: BigInt(now) })
    .where('token_hash', '=', tokenHash)
    .where('kind', '=', 'REFRESH')
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) === 1;
}

/** Revokes every token of a family (cancelToken, a reused refresh token or code). */
export async function revokeTokenFamily(tx: Tx, familyId: string, now: number): Promise<void> {
  await tx
    .updateTable('auth_tokens')
    .set({ revoked_at: BigInt(now) })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}
