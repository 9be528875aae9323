/**
 * The mini program workspace's data: a merchant's mini programs, their uploaded versions and files, the
 * published pointer, and the feature requests operators decide. Every merchant-facing read and write
 * takes the merchant's id, so one merchant never reaches another's mini programs. State changes are
 * conditional updates (`... WHERE status = <expected>`): of two racing deciders exactly one wins.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { MINI_PROGRAM_COLUMNS, toMiniProgram, type MiniProgram } from './mini-programs.ts';
import type { Database, MiniProgramVersionsTable } from './schema.ts';
import type { FeatureStatus } from './authorizations.ts';

type Tx = Transaction<Database> | Kysely<Database>;

// -------------------------------------------------------------------------------------- mini programs

/** A merchant's mini programs, newest first. */
export async function miniProgramsOfMerchant(tx: Tx, merchantId: string): Promise<MiniProgram[]> {
  const rows = await tx
    .selectFrom('mini_programs')
    .select(MINI_PROGRAM_COLUMNS)
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at', 'desc')
    .orderBy('app_id')
    .execute();
  return rows.map(toMiniProgram);
}

export async function countMiniProgramsOfMerchant(tx: Tx, merchantId: string): Promise<number> {
  const row = await tx
    .selectFrom('mini_programs')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('merchant_id', '=', merchantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The mini program if it belongs to this merchant; undefined otherwise (another's looks absent). */
export async function findMerchantMiniProgram(
  tx: Tx,
  merchantId: string,
  appId: string,
): Promise<MiniProgram | undefined> {
  const row = await tx
    .selectFrom('mini_programs')
    .select(MINI_PROGRAM_COLUMNS)
    .where('app_id', '=', appId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  return row && toMiniProgram(row);
}

export async function miniProgramLogo(
  tx: Tx,
  appId: string,
): Promise<{ type: string; data: Buffer } | undefined> {
  const row = await tx
    .selectFrom('mini_programs')
    .select(['logo_type', 'logo_data'])
    .where('app_id', '=', appId)
    .executeTakeFirst();
  if (!row || !row.logo_type || !row.logo_data) return undefined;
  return { type: row.logo_type, data: Buffer.from(row.logo_data, 'base64') };
}

/** Changes a merchant's mini program's details; `logo` undefined keeps the current one. False if not its. */
export async function updateMiniProgramDetails(
  tx: Tx,
  merchantId: string,
  appId: string,
  d: {
    description: string;
    serverOrigins: readonly string[];
    logo?: { type: string; data: Buffer } | undefined;
  },
): Promise<boolean> {
  const done = await tx
    .updateTable('mini_programs')
    .set({
      description: d.description,
      server_origins: d.serverOrigins.length > 0 ? d.serverOrigins.join(' ') : null,
      ...(d.logo ? { logo_type: d.logo.type, logo_data: d.logo.data.toString('base64') } : {}),
    })
    .where('app_id', '=', appId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) === 1;
}

// ------------------------------------------------------------------------------------------- versions

/** UPLOADED -> IN_REVIEW -> APPROVED | REJECTED; only APPROVED versions can be published. */
export type VersionStatus = 'UPLOADED' | 'IN_REVIEW' | 'APPROVED' | 'REJECTED';

export interface MiniProgramVersion {
  id: string;
  appId: string;
  version: number;
  status: VersionStatus;
  note: string | null;
  sizeBytes: number;
  fileCount: number;
  uploadedAt: number;
  submittedAt: number | null;
  reviewedAt: number | null;
  reviewedBy: string | null;
  reviewReason: string | null;
  /** When it last became the published version. */
  publishedAt: number | null;
}

const optNumber = (v: bigint | null): number | null => (v === null ? null : Number(v));

const toVersion = (r: Selectable<MiniProgramVersionsTable>): MiniProgramVersion => ({
  id: r.id,
  appId: r.app_id,
  version: Number(r.version),
  status: r.status as VersionStatus,
  note: r.note,
  sizeBytes: Number(r.size_bytes),
  fileCount: Number(r.file_count),
  uploadedAt: Number(r.uploaded_at),
  submittedAt: optNumber(r.submitted_at),
  reviewedAt: optNumber(r.reviewed_at),
  reviewedBy: r.reviewed_by,
  reviewReason: r.review_reason,
  publishedAt: optNumber(r.published_at),
});

export interface VersionFile {
  path: string;
  contentType: string;
  data: Buffer;
}

/** Rows per INSERT of files (5 parameters each: far below both databases' limits). */
const FILE_INSERT_BATCH = 50;

/**
 * Stores a new version with its files, numbered one past the last. Call it inside a transaction. Uploads
 * to one mini program queue on its row (a no-op update takes PostgreSQL's row lock; SQLite's writers
 * queue anyway), so each reads the number the previous one committed; the unique constraint stays the
 * last line of defence.
 */
export async function insertVersion(
  tx: Tx,
  v: { id: string; appId: string; note: string | null; uploadedAt: number },
  files: readonly VersionFile[],
): Promise<MiniProgramVersion> {
  await tx
    .updateTable('mini_programs')
    .set((eb) => ({ hosting: eb.ref('hosting') }))
    .where('app_id', '=', v.appId)
    .execute();
  const last = await tx
    .selectFrom('mini_program_versions')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('app_id', '=', v.appId)
    .executeTakeFirst();
  const version = Number(last?.v ?? 0) + 1;
  const sizeBytes = files.reduce((n, f) => n + f.data.length, 0);
  await tx
    .insertInto('mini_program_versions')
    .values({
      id: v.id,
      app_id: v.appId,
      version: BigInt(version),
      status: 'UPLOADED',
      note: v.note,
      size_bytes: BigInt(sizeBytes),
      file_count: BigInt(files.length),
      uploaded_at: BigInt(v.uploadedAt),
      submitted_at: null,
      reviewed_at: null,
      reviewed_by: null,
      review_reason: null,
      published_at: null,
    })
    .execute();
  for (let i = 0; i < files.length; i += FILE_INSERT_BATCH) {
    await tx
      .insertInto('mini_program_files')
      .values(
        files.slice(i, i + FILE_INSERT_BATCH).map((f) => ({
          version_id: v.id,
          path: f.path,
          content_type: f.contentType,
          size_bytes: BigInt(f.data.length),
          data_base64: f.data.toString('base64'),
        })),
      )
      .execute();
  }
  const row = await tx
    .selectFrom('mini_program_versions')
    .selectAll()
    .where('id', '=', v.id)
    .executeTakeFirstOrThrow();
  return toVersion(row);
}

export async function countVersions(tx: Tx, appId: string): Promise<number> {
  const row = await tx
    .selectFrom('mini_program_versions')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('app_id', '=', appId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A mini program's versions, newest first. */
export async function versionsOf(tx: Tx, appId: string): Promise<MiniProgramVersion[]> {
  const rows = await tx
    .selectFrom('mini_program_versions')
    .selectAll()
    .where('app_id', '=', appId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map(toVersion);
}

export async function findVersion(
  tx: Tx,
  appId: string,
  version: number,
): Promise<MiniProgramVersion | undefined> {
  const row = await tx
    .selectFrom('mini_program_versions')
    .selectAll()
    .where('app_id', '=', appId)
    .where('version', '=', BigInt(version))
    .executeTakeFirst();
  return row && toVersion(row);
}

export async function findVersionById(tx: Tx, id: string): Promise<MiniProgramVersion | undefined> {
  const row = await tx
    .selectFrom('mini_program_versions')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toVersion(row);
}

/** Moves a version from one status to the next; false when it was not in `from` (someone was first). */
export async function moveVersion(
  tx: Tx,
  id: string,
  from: VersionStatus,
  to: VersionStatus,
  at: number,
  review?: { by: string; reason: string | null },
): Promise<boolean> {
  const done = await tx
    .updateTable('mini_program_versions')
    .set({
      status: to,
      ...(to === 'IN_REVIEW' ? { submitted_at: BigInt(at) } : {}),
      ...(review ? { reviewed_at: BigInt(at), reviewed_by: review.by, review_reason: review.reason } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(done.numUpdatedRows) === 1;
}

/**
 * Points the merchant's mini program at an APPROVED version (a first publish, a newer one, or a roll
 * back to an older one) and marks the mini program PUBLISHED. One conditional update: false when the
 * mini program is not the merchant's or the version is not APPROVED.
 */
export async function publishVersion(
  tx: Tx,
  merchantId: string,
  appId: string,
  version: number,
  at: number,
): Promise<boolean> {
  const done = await tx
    .updateTable('mini_programs')
    .set({ published_version: BigInt(version), status: 'PUBLISHED' })
    .where('app_id', '=', appId)
    .where('merchant_id', '=', merchantId)
    .where('hosting', '=', 'UPLOADED')
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('mini_program_versions')
          .select('id')
          .where('app_id', '=', appId)
          .where('version', '=', BigInt(version))
          .where('status', '=', 'APPROVED'),
      ),
    )
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) !== 1) return false;
  await tx
    .updateTable('mini_program_versions')
    .set({ published_at: BigInt(at) })
    .where('app_id', '=', appId)
    .where('version', '=', BigInt(version))
    .execute();
  return true;
}

/** One file of a version, by its normalised path. */
export async function versionFile(tx: Tx, versionId: string, path: string): Promise<VersionFile | undefined> {
  const row = await tx
    .selectFrom('mini_program_files')
    .select(['path', 'content_type', 'data_base64'])
    .where('version_id', '=', versionId)
    .where('path', '=', path)
    .executeTakeFirst();
  return (
    row && { path: row.path, contentType: row.content_type, data: Buffer.from(row.data_base64, 'base64') }
  );
}

export interface VersionInReview extends MiniProgramVersion {
  appName: string;
  merchantId: string;
  merchantName: string;
}

/** The operators' queue: versions waiting for review, oldest submission first. */
export async function versionsInReview(tx: Tx, limit: number): Promise<VersionInReview[]> {
  const rows = await tx
    .selectFrom('mini_program_versions as v')
    .innerJoin('mini_programs as a', 'a.app_id', 'v.app_id')
    .innerJoin('merchants as m', 'm.id', 'a.merchant_id')
    .selectAll('v')
    .select(['a.name as app_name', 'm.id as merchant_id', 'm.name as merchant_name'])
    .where('v.status', '=', 'IN_REVIEW')
    .orderBy('v.submitted_at')
    .orderBy('v.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...toVersion(r),
    appName: r.app_name,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
  }));
}

// ------------------------------------------------------------------------------------------- features

export interface FeatureState {
  feature: string;
  status: FeatureStatus;
  updatedAt: number;
  decidedBy: string | null;
  decisionReason: string | null;
}

/** A mini program's features with the operator's decision, if any. */
export async function featureStatesOf(tx: Tx, appId: string): Promise<FeatureState[]> {
  const rows = await tx
    .selectFrom('mini_program_features')
    .selectAll()
    .where('app_id', '=', appId)
    .orderBy('feature')
    .execute();
  return rows.map((r) => ({
    feature: r.feature,
    status: r.status as FeatureStatus,
    updatedAt: Number(r.updated_at),
    decidedBy: r.decided_by,
    decisionReason: r.decision_reason,
  }));
}

/** Features of several mini programs at once (the console's list). */
export async function featuresOfApps(
  tx: Tx,
  appIds: readonly string[],
): Promise<Map<string, Map<string, FeatureStatus>>> {
  const out = new Map<string, Map<string, FeatureStatus>>();
  if (appIds.length === 0) return out;
  const rows = await tx
    .selectFrom('mini_program_features')
    .select(['app_id', 'feature', 'status'])
    .where('app_id', 'in', appIds)
    .execute();
  for (const r of rows) {
    const m = out.get(r.app_id) ?? new Map<string, FeatureStatus>();
    m.set(r.feature, r.status as FeatureStatus);
    out.set(r.app_id, m);
  }
  return out;
}

/**
 * Adds a feature at `status` (or asks again after a rejection), forgetting any earlier decision. False
 * when the feature is already there in a state other than `replaceable` (nothing changes then).
 */
export async function addFeature(
  tx: Tx,
  appId: string,
  feature: string,
  status: FeatureStatus,
  at: number,
  replaceable: readonly FeatureStatus[] = ['REJECTED'],
): Promise<boolean> {
  const inserted = await tx
    .insertInto('mini_program_features')
    .values({
      app_id: appId,
      feature,
      status,
      created_at: BigInt(at),
      updated_at: BigInt(at),
      decided_by: null,
      decision_reason: null,
    })
    .onConflict((oc) => oc.columns(['app_id', 'feature']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return true;
  if (replaceable.length === 0) return false;
  const updated = await tx
    .updateTable('mini_program_features')
    .set({ status, updated_at: BigInt(at), decided_by: null, decision_reason: null })
    .where('app_id', '=', appId)
    .where('feature', '=', feature)
    .where('status', 'in', replaceable)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** An operator's decision on a PENDING feature; false when it is no longer PENDING (decided already). */
export async function decideFeature(
  tx: Tx,
  appId: string,
  feature: string,
  to: 'ACTIVE' | 'REJECTED',
  by: string,
  reason: string | null,
  at: number,
): Promise<boolean> {
  const done = await tx
    .updateTable('mini_program_features')
    .set({ status: to, updated_at: BigInt(at), decided_by: by, decision_reason: reason })
    .where('app_id', '=', appId)
    .where('feature', '=', feature)
    .where('status', '=', 'PENDING')
    .executeTakeFirst();
  return Number(done.numUpdatedRows) === 1;
}

export interface FeatureRequest {
  appId: string;
  appName: string;
  merchantId: string;
  merchantName: string;
  feature: string;
  requestedAt: number;
}

/** The operators' queue of features waiting for activation, oldest first. */
export async function pendingFeatureRequests(tx: Tx, limit: number): Promise<FeatureRequest[]> {
  const rows = await tx
    .selectFrom('mini_program_features as f')
    .innerJoin('mini_programs as a', 'a.app_id', 'f.app_id')
    .innerJoin('merchants as m', 'm.id', 'a.merchant_id')
    .select([
      'f.app_id',
      'a.name as app_name',
      'm.id as merchant_id',
      'm.name as merchant_name',
      'f.feature',
      'f.updated_at',
    ])
    .where('f.status', '=', 'PENDING')
    .orderBy('f.updated_at')
    .orderBy('f.app_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    appId: r.app_id,
    appName: r.app_name,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
    feature: r.feature,
    requestedAt: Number(r.updated_at),
  }));
}
