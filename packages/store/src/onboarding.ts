/**
 * Merchant onboarding: console accounts and operators (both signed in with a password), licence
 * submissions with the website check's findings and the operator's decision, the merchant's status
 * transitions (always conditional updates: of two racing decisions exactly one changes a row), and the
 * merchant_events audit trail.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { MerchantStatus } from './merchants.ts';
import type { Database, LicenceSubmissionsTable, MerchantEventsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

// ---------------------------------------------------------------------------------------------------------
// Accounts: a merchant's console account, or an operator. Same columns for the password and its lockout.

export type StaffAccountTable = 'merchant_accounts' | 'operators';

export interface StaffAccount {
  id: string;
  email: string;
  passwordHash: string;
  failedAttempts: number;
  lockedUntil: number | null;
  createdAt: number;
  /** Set for merchant accounts. */
  merchantId: string | null;
}

export async function insertMerchantAccount(
  tx: Tx,
  a: { id: string; merchantId: string; email: string; passwordHash: string; createdAt: number },
): Promise<void> {
  await tx
    .insertInto('merchant_accounts')
    .values({
      id: a.id,
      merchant_id: a.merchantId,
      email: a.email,
      password_hash: a.passwordHash,
      created_at: BigInt(a.createdAt),
    })
    .execute();
}

export async function insertOperator(
  tx: Tx,
  o: { id: string; email: string; passwordHash: string; createdAt: number },
): Promise<void> {
  await tx
    .insertInto('operators')
    .values({ id: o.id, email: o.email, password_hash: o.passwordHash, created_at: BigInt(o.createdAt) })
    .execute();
}

/** `forUpdate` locks the row until the transaction ends (PostgreSQL), to count failed sign-ins exactly. */
export async function findStaffAccountByEmail(
  tx: Tx,
  table: StaffAccountTable,
  email: string,
  opts: { forUpdate?: boolean } = {},
): Promise<StaffAccount | undefined> {
  return findStaffAccount(tx, table, 'email', email, opts);
}

export async function findStaffAccountById(
  tx: Tx,
  table: StaffAccountTable,
  id: string,
): Promise<StaffAccount | undefined> {
  return findStaffAccount(tx, table, 'id', id, {});
}

async function findStaffAccount(
  tx: Tx,
  table: StaffAccountTable,
  column: 'id' | 'email',
  value: string,
  opts: { forUpdate?: boolean },
): Promise<StaffAccount | undefined> {
  // The two tables differ only in merchant_accounts.merchant_id; each is queried with its own columns.
  if (table === 'merchant_accounts') {
    let q = tx.selectFrom('merchant_accounts').selectAll().where(column, '=', value);
    if (opts.forUpdate) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r && toAccount(r, r.merchant_id);
  }
  let q = tx.selectFrom('operators').selectAll().where(column, '=', value);
  if (opts.forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r && toAccount(r, null);
}

function toAccount(
  r: {
    id: string;
    email: string;
    password_hash: string;
    failed_attempts: bigint;
    locked_until: bigint | null;
    created_at: bigint;
  },
  merchantId: string | null,
): StaffAccount {
  return {
    id: r.id,
    email: r.email,
    passwordHash: r.password_hash,
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until === null ? null : Number(r.locked_until),
    createdAt: Number(r.created_at),
    merchantId,
  };
}

export async function updateStaffLockout(
  tx: Tx,
  table: StaffAccountTable,
  id: string,
  failedAttempts: number,
  lockedUntil: number | null,
): Promise<void> {
  const set = {
    failed_attempts: BigInt(failedAttempts),
    locked_until: lockedUntil === null ? null : BigInt(lockedUntil),
  };
  if (table === 'merchant_accounts')
    await tx.updateTable('merchant_accounts').set(set).where('id', '=', id).execute();
  else await tx.updateTable('operators').set(set).where('id', '=', id).execute();
}

export async function merchantAccountEmail(tx: Tx, merchantId: string): Promise<string | undefined> {
  const r = await tx
    .selectFrom('merchant_accounts')
    .select('email')
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  return r?.email;
}

// ---------------------------------------------------------------------------------------------------------
// Licence submissions.

export type CheckStatus = 'PENDING' | 'PASSED' | 'FAILED' | 'SKIPPED';
export type LicenceDecision = 'APPROVED' | 'REJECTED';

export interface LicenceFields {
  legalName: string;
  licenceNumber: string;
  /** ISO 3166-1 alpha-2 */
  country: string;
  address: string;
  websiteUrl: string;
  contactName: string;
  contactEmail: string;
  contactPhone: string | null;
}

export interface LicenceSubmission extends LicenceFields {
  id: string;
  merchantId: string;
  submittedAt: number;
  checkStatus: CheckStatus;
  /** The website check's findings as stored (JSON text), or null before the check ran. */
  checkFindings: string | null;
  checkedAt: number | null;
  decision: LicenceDecision | null;
  decisionReason: string | null;
  decidedBy: string | null;
  decidedAt: number | null;
}

const toSubmission = (r: Selectable<LicenceSubmissionsTable>): LicenceSubmission => ({
  id: r.id,
  merchantId: r.merchant_id,
  legalName: r.legal_name,
  licenceNumber: r.licence_number,
  country: r.country,
  address: r.address,
  websiteUrl: r.website_url,
  contactName: r.contact_name,
  contactEmail: r.contact_email,
  contactPhone: r.contact_phone,
  submittedAt: Number(r.submitted_at),
  checkStatus: r.check_status as CheckStatus,
  checkFindings: r.check_findings,
  checkedAt: r.checked_at === null ? null : Number(r.checked_at),
  decision: r.decision as LicenceDecision | null,
  decisionReason: r.decision_reason,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at === null ? null : Number(r.decided_at),
});

export async function insertLicenceSubmission(
  tx: Tx,
  s: { id: string; merchantId: string; submittedAt: number; fields: LicenceFields },
): Promise<void> {
  const f = s.fields;
  await tx
    .insertInto('licence_submissions')
    .values({
      id: s.id,
      merchant_id: s.merchantId,
      legal_name: f.legalName,
      licence_number: f.licenceNumber,
      country: f.country,
      address: f.address,
      website_url: f.websiteUrl,
      contact_name: f.contactName,
      contact_email: f.contactEmail,
      contact_phone: f.contactPhone,
      submitted_at: BigInt(s.submittedAt),
      check_status: 'PENDING' satisfies CheckStatus,
    })
    .execute();
}

/** A merchant's newest submission (ids break ties between submissions in the same millisecond). */
export async function latestSubmission(tx: Tx, merchantId: string): Promise<LicenceSubmission | undefined> {
  const r = await tx
    .selectFrom('licence_submissions')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return r && toSubmission(r);
}

/** Every submission of a merchant, newest first. */
export async function submissionsOf(tx: Tx, merchantId: string): Promise<LicenceSubmission[]> {
  const rows = await tx
    .selectFrom('licence_submissions')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toSubmission);
}

export async function findSubmission(tx: Tx, id: string): Promise<LicenceSubmission | undefined> {
  const r = await tx.selectFrom('licence_submissions').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toSubmission(r);
}

/**
 * Records the website check on a submission still PENDING (or, with `overwrite`, on any: an operator's
 * re-run). Returns false when another process recorded it first.
 */
export async function recordWebsiteCheck(
  tx: Tx,
  id: string,
  status: Exclude<CheckStatus, 'PENDING'>,
  findingsJson: string | null,
  at: number,
  opts: { overwrite?: boolean } = {},
): Promise<boolean> {
  let q = tx
    .updateTable('licence_submissions')
    .set({ check_status: status, check_findings: findingsJson, checked_at: BigInt(at) })
    .where('id', '=', id);
  if (!opts.overwrite) q = q.where('check_status', '=', 'PENDING' satisfies CheckStatus);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records an operator's decision on a submission not yet decided; false when it already was. */
export async function recordLicenceDecision(
  tx: Tx,
  id: string,
  d: { decision: LicenceDecision; reason: string | null; by: string; at: number },
): Promise<boolean> {
  const r = await tx
    .updateTable('licence_submissions')
    .set({ decision: d.decision, decision_reason: d.reason, decided_by: d.by, decided_at: BigInt(d.at) })
    .where('id', '=', id)
    .where('decision', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Submissions whose check has not been recorded, submitted before `before` (a crash between the two). */
export async function pendingChecksBefore(tx: Tx, before: number, limit = 100): Promise<LicenceSubmission[]> {
  const rows = await tx
    .selectFrom('licence_submissions')
    .selectAll()
    .where('check_status', '=', 'PENDING' satisfies CheckStatus)
    .where('submitted_at', '<', BigInt(before))
    .orderBy('submitted_at')
    .limit(limit)
    .execute();
  return rows.map(toSubmission);
}

// ---------------------------------------------------------------------------------------------------------
// Status transitions.

/**
 * Moves a merchant to `to` only if its status is one of `from` (a conditional update: of two racing
 * transitions one wins). `frozenFrom` is written with it (the state an unfreeze returns to, or null).
 */
export async function transitionMerchant(
  tx: Tx,
  id: string,
  from: readonly MerchantStatus[],
  to: MerchantStatus,
  extra: { frozenFrom?: MerchantStatus | null; website?: string } = {},
): Promise<boolean> {
  if (from.length === 0) return false;
  const r = await tx
    .updateTable('merchants')
    .set({
      status: to,
      ...(extra.frozenFrom !== undefined ? { frozen_from: extra.frozenFrom } : {}),
      ...(extra.website !== undefined ? { website: extra.website } : {}),
    })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** While FROZEN, the state an unfreeze returns to. */
export async function merchantFrozenFrom(tx: Tx, id: string): Promise<MerchantStatus | null> {
  const r = await tx.selectFrom('merchants').select('frozen_from').where('id', '=', id).executeTakeFirst();
  return (r?.frozen_from as MerchantStatus | null | undefined) ?? null;
}

/** Sets frozen_from of a FROZEN merchant whose frozen_from is `from` (a check finished while frozen). */
export async function replaceFrozenFrom(
  tx: Tx,
  id: string,
  from: MerchantStatus,
  to: MerchantStatus,
): Promise<boolean> {
  const r = await tx
    .updateTable('merchants')
    .set({ frozen_from: to })
    .where('id', '=', id)
    .where('status', '=', 'FROZEN' satisfies MerchantStatus)
    .where('frozen_from', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

// ---------------------------------------------------------------------------------------------------------
// Events.

export interface MerchantEvent {
  id: string;
  merchantId: string;
  at: number;
  /** `merchant:<accountId>`, `operator:<id>`, `system`, `cli` */
  actor: string;
  action: string;
  detail: string | null;
}

const toEvent = (r: Selectable<MerchantEventsTable>): MerchantEvent => ({
  id: r.id,
  merchantId: r.merchant_id,
  at: Number(r.at),
  actor: r.actor,
  action: r.action,
  detail: r.detail,
});

export async function insertMerchantEvent(tx: Tx, e: MerchantEvent): Promise<void> {
  await tx
    .insertInto('merchant_events')
    .values({
      id: e.id,
      merchant_id: e.merchantId,
      at: BigInt(e.at),
      actor: e.actor,
      action: e.action,
      detail: e.detail,
    })
    .execute();
}

/** A merchant's events, newest first. */
export async function merchantEvents(tx: Tx, merchantId: string, limit = 200): Promise<MerchantEvent[]> {
  const rows = await tx
    .selectFrom('merchant_events')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

// ---------------------------------------------------------------------------------------------------------
// The operators' list.

export interface MerchantListRow {
  id: string;
  name: string;
  clientId: string;
  status: MerchantStatus;
  createdAt: number;
  accountEmail: string | null;
}

/** Merchants for the ops list, optionally of some statuses, newest first. */
export async function listMerchants(
  tx: Tx,
  opts: { statuses?: readonly MerchantStatus[]; limit?: number } = {},
): Promise<MerchantListRow[]> {
  let q = tx
    .selectFrom('merchants')
    .leftJoin('merchant_accounts', 'merchant_accounts.merchant_id', 'merchants.id')
    .select([
      'merchants.id as id',
      'merchants.name as name',
      'merchants.client_id as clientId',
      'merchants.status as status',
      'merchants.created_at as createdAt',
      'merchant_accounts.email as accountEmail',
    ])
    .orderBy('merchants.created_at', 'desc')
    .orderBy('merchants.id', 'desc')
    .limit(opts.limit ?? 200);
  if (opts.statuses) {
    if (opts.statuses.length === 0) return [];
    q = q.where('merchants.status', 'in', [...opts.statuses]);
  }
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    clientId: r.clientId,
    status: r.status as MerchantStatus,
    createdAt: Number(r.createdAt),
    accountEmail: r.accountEmail,
  }));
}

/** How many merchants are in each status. */
export async function countMerchantsByStatus(tx: Tx): Promise<Map<MerchantStatus, number>> {
  const rows = await tx
    .selectFrom('merchants')
    .select((eb) => ['status', eb.fn.countAll().as('n')])
    .groupBy('status')
    .execute();
  return new Map(rows.map((r) => [r.status as MerchantStatus, Number(r.n)]));
}
