/**
 * The mini program workspace (issue 6; alipay-plus-reference.md §15): a verified merchant creates a mini
 * program (name, description, logo) and gets its appId, uploads versions (zips of static files, see
 * workspace-zip.ts), previews them in the host, submits one for review; an operator approves or rejects
 * it; the merchant publishes an approved version, and may roll back to an earlier approved one (the
 * published pointer moves, every version is kept). Features gate JSAPIs and OpenAPIs (decisions.md
 * "Platform"): Payment is on by default and can be removed and added again; User information is added
 * PENDING (silent scopes only) until an operator approves it (ACTIVE) or rejects it.
 *
 * Every merchant action names the merchant (from its console session) and finds the mini program through
 * it: another merchant's appId is simply not found. Every state change is a conditional update.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_FEATURES, FEATURES, isFeature, type Feature } from '@billetera/domain';
import {
  addFeature,
  countMiniProgramsOfMerchant,
  countVersions,
  decideFeature,
  featuresOf,
  findMerchantMiniProgram,
  findMiniProgram,
  findVersion,
  findVersionById,
  insertMerchantEvent,
  insertMiniProgram,
  insertVersion,
  moveVersion,
  publishVersion,
  removeFeature,
  updateMiniProgramDetails,
  versionFile,
  type Merchant,
  type MiniProgram,
  type MiniProgramVersion,
  type VersionFile,
} from '@billetera/store';
import type { Transaction } from 'kysely';
import type { Database } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { newAppId } from './mini-programs.ts';
import { ENTRY_FILE, ZipRejected, readMiniProgramZip } from './workspace-zip.ts';

export const NAME_MIN = 2;
export const NAME_MAX = 60;
export const DESCRIPTION_MAX = 200;
export const LOGO_MAX_BYTES = 200 * 1024;
export const NOTE_MAX = 200;
export const WORKSPACE_REASON_MAX = 500;
export const MAX_SERVER_ORIGINS = 10;
export const MAX_MINI_PROGRAMS_PER_MERCHANT = 50;
export const MAX_VERSIONS_PER_MINI_PROGRAM = 100;
/** How long a preview link works. */
export const PREVIEW_TTL_MS = 3600_000;

/** Why a workspace action was refused; the routes map the kind to an HTTP status. */
export class WorkspaceError extends Error {
  constructor(
    readonly kind: 'INVALID' | 'NOT_FOUND' | 'CONFLICT' | 'NOT_VERIFIED',
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new WorkspaceError('INVALID', message);
const notFound = () => new WorkspaceError('NOT_FOUND', 'no such mini program');

/** Who acts, for the merchant's event history: `merchant:<accountId>` or `operator:<id>`. */
export type WorkspaceActor = string;

const eventId = (): string => `mev_${randomBytes(16).toString('base64url')}`;
const versionId = (): string => `mpv_${randomBytes(16).toString('base64url')}`;

type Tx = Transaction<Database>;

async function recordEvent(
  tx: Tx,
  merchantId: string,
  actor: WorkspaceActor,
  action: string,
  detail: string,
  at: number,
): Promise<void> {
  await insertMerchantEvent(tx, { id: eventId(), merchantId, at, actor, action, detail });
}

function requireVerified(merchant: Merchant): void {
  if (merchant.status !== 'VERIFIED')
    throw new WorkspaceError(
      'NOT_VERIFIED',
      `Your business is not verified yet (status ${merchant.status}): mini programs can be created and ` +
        'changed once the wallet has verified your business licence and website.',
    );
}

async function ownMiniProgram(ctx: WalletContext, merchant: Merchant, appId: string): Promise<MiniProgram> {
  const mini = await findMerchantMiniProgram(ctx.store.db, merchant.id, appId);
  if (!mini) throw notFound();
  return mini;
}

// -------------------------------------------------------------------------------------------- details

export interface DetailsInput {
  description: string;
  /** Origins separated by spaces, commas or new lines. */
  serverOrigins: string;
  /** The uploaded logo file, if one was chosen. */
  logo?: Buffer | undefined;
}

/** PNG or JPEG by their magic bytes (never SVG: it can carry scripts), ≤ 200 KiB. */
export function checkLogo(data: Buffer): { type: string; data: Buffer } {
  if (data.length > LOGO_MAX_BYTES)
    throw invalid(`The logo is ${Math.ceil(data.length / 1024)} KiB: at most 200 KiB.`);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length > png.length && data.subarray(0, png.length).equals(png))
    return { type: 'image/png', data };
  if (data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff)
    return { type: 'image/jpeg', data };
  throw invalid('The logo must be a PNG or JPEG image.');
}

/** `https://api.example.com` style origins, deduplicated, at most MAX_SERVER_ORIGINS. */
export function parseServerOrigins(text: string): string[] {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const out: string[] = [];
  for (const part of parts) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw invalid(`"${part.slice(0, 80)}" is not a URL: write origins like https://api.example.com`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
      throw invalid(`"${part.slice(0, 80)}" must be an http(s) origin like https://api.example.com`);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
      throw invalid(
        `"${part.slice(0, 80)}" must be an origin only, without a path (https://api.example.com)`,
      );
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  if (out.length > MAX_SERVER_ORIGINS) throw invalid(`At most ${MAX_SERVER_ORIGINS} server origins.`);
  return out;
}

function checkName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if ([...name].length < NAME_MIN || [...name].length > NAME_MAX)
    throw invalid(`The name must be ${NAME_MIN} to ${NAME_MAX} characters.`);
  return name;
}

function checkDescription(raw: string): string {
  const description = raw.trim();
  if ([...description].length > DESCRIPTION_MAX)
    throw invalid(`The description must be at most ${DESCRIPTION_MAX} characters.`);
  return description;
}

// ------------------------------------------------------------------------------------------ create

/** Creates an UPLOADED mini program for a verified merchant: its appId, default features (Payment). */
export async function createWorkspaceMiniProgram(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  input: DetailsInput & { name: string },
): Promise<MiniProgram> {
  requireVerified(merchant);
  const name = checkName(input.name);
  const description = checkDescription(input.description);
  const serverOrigins = parseServerOrigins(input.serverOrigins);
  const logo = input.logo && input.logo.length > 0 ? checkLogo(input.logo) : undefined;
  const now = ctx.clock.now();
  const appId = newAppId();
  await ctx.store.transaction(async (tx) => {
    if ((await countMiniProgramsOfMerchant(tx, merchant.id)) >= MAX_MINI_PROGRAMS_PER_MERCHANT)
      throw new WorkspaceError(
        'CONFLICT',
        `You have ${MAX_MINI_PROGRAMS_PER_MERCHANT} mini programs already.`,
      );
    await insertMiniProgram(tx, {
      appId,
      merchantId: merchant.id,
      name,
      description,
      logoUrl: null,
      entryUrl: '',
      status: 'DRAFT',
      createdAt: now,
      hosting: 'UPLOADED',
      serverOrigins,
      logo,
    });
    for (const feature of DEFAULT_FEATURES) await addFeature(tx, appId, feature, 'ACTIVE', now);
    await recordEvent(tx, merchant.id, actor, 'MINI_PROGRAM_CREATED', `${name} (${appId})`, now);
  });
  const created = await findMiniProgram(ctx.store.db, appId);
  if (!created) throw new Error('invariant: the new mini program vanished');
  return created;
}

/** Changes the description, server origins and (if one is given) the logo. */
export async function updateWorkspaceDetails(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  input: DetailsInput,
): Promise<void> {
  const mini = await ownMiniProgram(ctx, merchant, appId);
  requireVerified(merchant);
  const description = checkDescription(input.description);
  const serverOrigins = parseServerOrigins(input.serverOrigins);
  const logo = input.logo && input.logo.length > 0 ? checkLogo(input.logo) : undefined;
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    if (!(await updateMiniProgramDetails(tx, merchant.id, appId, { description, serverOrigins, logo })))
      throw notFound();
    await recordEvent(tx, merchant.id, actor, 'MINI_PROGRAM_UPDATED', `${mini.name} (${appId})`, now);
  });
}

// ------------------------------------------------------------------------------------------ versions

const isUniqueViolation = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};

/** Stores an uploaded zip as the mini program's next version (UPLOADED). */
export async function uploadVersion(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  zip: Buffer,
  note = '',
): Promise<MiniProgramVersion> {
  const mini = await ownMiniProgram(ctx, merchant, appId);
  requireVerified(merchant);
  if (mini.hosting !== 'UPLOADED')
    throw new WorkspaceError(
      'CONFLICT',
      'This mini program is served from your own server: nothing to upload.',
    );
  const trimmed = note.trim();
  if ([...trimmed].length > NOTE_MAX) throw invalid(`The note must be at most ${NOTE_MAX} characters.`);
  let files: VersionFile[];
  try {
    files = readMiniProgramZip(zip);
  } catch (err) {
    if (err instanceof ZipRejected) throw invalid(`The zip was refused: ${err.message}.`);
    throw err;
  }
  // Two uploads racing on PostgreSQL may pick the same number: the loser tries again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.store.transaction(async (tx) => {
        if ((await countVersions(tx, appId)) >= MAX_VERSIONS_PER_MINI_PROGRAM)
          throw new WorkspaceError(
            'CONFLICT',
            `This mini program has ${MAX_VERSIONS_PER_MINI_PROGRAM} versions already.`,
          );
        const now = ctx.clock.now();
        const v = await insertVersion(
          tx,
          { id: versionId(), appId, note: trimmed || null, uploadedAt: now },
          files,
        );
        await recordEvent(
          tx,
          merchant.id,
          actor,
          'VERSION_UPLOADED',
          `${mini.name} (${appId}) version ${v.version}: ${v.fileCount} files, ${v.sizeBytes} bytes`,
          now,
        );
        return v;
      });
    } catch (err) {
      if (attempt < 3 && isUniqueViolation(err)) continue;
      throw err;
    }
  }
}

async function ownVersion(
  ctx: WalletContext,
  merchant: Merchant,
  appId: string,
  version: number,
): Promise<{ mini: MiniProgram; v: MiniProgramVersion }> {
  const mini = await ownMiniProgram(ctx, merchant, appId);
  const v = await findVersion(ctx.store.db, appId, version);
  if (!v) throw new WorkspaceError('NOT_FOUND', 'no such version');
  return { mini, v };
}

/** UPLOADED -> IN_REVIEW. */
export async function submitVersion(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  version: number,
): Promise<void> {
  const { mini, v } = await ownVersion(ctx, merchant, appId, version);
  requireVerified(merchant);
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    if (!(await moveVersion(tx, v.id, 'UPLOADED', 'IN_REVIEW', now)))
      throw new WorkspaceError(
        'CONFLICT',
        `Version ${version} is ${(await findVersionById(tx, v.id))?.status ?? 'gone'}: only an uploaded version can be submitted.`,
      );
    await recordEvent(
      tx,
      merchant.id,
      actor,
      'VERSION_SUBMITTED',
      `${mini.name} (${appId}) version ${version}`,
      now,
    );
  });
}

/**
 * Makes an APPROVED version the one the host runs: a first publish, a newer version, or a roll back to
 * an earlier one. Versions are never deleted, so any approved one can be published again.
 */
export async function publishMiniProgramVersion(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  version: number,
): Promise<{ previous: number | null }> {
  const { mini, v } = await ownVersion(ctx, merchant, appId, version);
  requireVerified(merchant);
  if (v.status !== 'APPROVED')
    throw new WorkspaceError(
      'CONFLICT',
      `Version ${version} is ${v.status}: only an approved version can be published.`,
    );
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    if (!(await publishVersion(tx, merchant.id, appId, version, now)))
      throw new WorkspaceError('CONFLICT', `Version ${version} cannot be published.`);
    const back = mini.publishedVersion !== null && version < mini.publishedVersion;
    await recordEvent(
      tx,
      merchant.id,
      actor,
      back ? 'VERSION_ROLLED_BACK' : 'VERSION_PUBLISHED',
      `${mini.name} (${appId}) version ${version}${mini.publishedVersion !== null ? ` (was ${mini.publishedVersion})` : ''}`,
      now,
    );
  });
  return { previous: mini.publishedVersion };
}

/** An operator's decision on a version IN_REVIEW; a rejection needs a reason (the merchant sees it). */
export async function reviewVersion(
  ctx: WalletContext,
  operatorId: string,
  id: string,
  decision: 'APPROVE' | 'REJECT',
  reason: string,
): Promise<MiniProgramVersion> {
  const why = reason.trim();
  if (decision === 'REJECT' && !why)
    throw invalid('Say why the version is rejected: the merchant will see it.');
  if ([...why].length > WORKSPACE_REASON_MAX)
    throw invalid(`The reason must be at most ${WORKSPACE_REASON_MAX} characters.`);
  const v = await findVersionById(ctx.store.db, id);
  if (!v) throw new WorkspaceError('NOT_FOUND', 'no such version');
  const mini = await findMiniProgram(ctx.store.db, v.appId);
  if (!mini) throw notFound();
  const to = decision === 'APPROVE' ? 'APPROVED' : 'REJECTED';
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    if (!(await moveVersion(tx, id, 'IN_REVIEW', to, now, { by: operatorId, reason: why || null })))
      throw new WorkspaceError(
        'CONFLICT',
        `Version ${v.version} of ${mini.name} is no longer waiting for review (another operator decided it).`,
      );
    await recordEvent(
      tx,
      mini.merchantId,
      `operator:${operatorId}`,
      decision === 'APPROVE' ? 'VERSION_APPROVED' : 'VERSION_REJECTED',
      `${mini.name} (${mini.appId}) version ${v.version}${why ? `: ${why}` : ''}`,
      now,
    );
  });
  return { ...v, status: to };
}

// ------------------------------------------------------------------------------------------ features

/**
 * Adds a feature: Payment at once (ACTIVE), User information as a request (PENDING: only the user's id
 * is shared until an operator approves it). A rejected request can be made again.
 */
export async function addMiniProgramFeature(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  feature: string,
): Promise<void> {
  if (!isFeature(feature)) throw invalid(`Unknown feature ${feature}.`);
  const mini = await ownMiniProgram(ctx, merchant, appId);
  requireVerified(merchant);
  const status = feature === 'USER_INFO' ? 'PENDING' : 'ACTIVE';
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const replaceable =
      feature === 'USER_INFO' ? (['REJECTED'] as const) : (['PENDING', 'REJECTED'] as const);
    if (!(await addFeature(tx, appId, feature, status, now, replaceable)))
      throw new WorkspaceError('CONFLICT', `${FEATURES[feature].title} is already added.`);
    await recordEvent(
      tx,
      merchant.id,
      actor,
      status === 'PENDING' ? 'FEATURE_REQUESTED' : 'FEATURE_ADDED',
      `${mini.name} (${appId}): ${FEATURES[feature].title}`,
      now,
    );
  });
}

export async function removeMiniProgramFeature(
  ctx: WalletContext,
  merchant: Merchant,
  actor: WorkspaceActor,
  appId: string,
  feature: string,
): Promise<void> {
  if (!isFeature(feature)) throw invalid(`Unknown feature ${feature}.`);
  const mini = await ownMiniProgram(ctx, merchant, appId);
  requireVerified(merchant);
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    await removeFeature(tx, appId, feature);
    await recordEvent(
      tx,
      merchant.id,
      actor,
      'FEATURE_REMOVED',
      `${mini.name} (${appId}): ${FEATURES[feature].title}`,
      now,
    );
  });
}

/** An operator approves (ACTIVE) or rejects (REJECTED, with a reason) a PENDING feature request. */
export async function decideFeatureRequest(
  ctx: WalletContext,
  operatorId: string,
  appId: string,
  feature: string,
  decision: 'APPROVE' | 'REJECT',
  reason: string,
): Promise<void> {
  if (!isFeature(feature)) throw invalid(`Unknown feature ${feature}.`);
  const why = reason.trim();
  if (decision === 'REJECT' && !why)
    throw invalid('Say why the request is rejected: the merchant will see it.');
  if ([...why].length > WORKSPACE_REASON_MAX)
    throw invalid(`The reason must be at most ${WORKSPACE_REASON_MAX} characters.`);
  const mini = await findMiniProgram(ctx.store.db, appId);
  if (!mini) throw notFound();
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const to = decision === 'APPROVE' ? 'ACTIVE' : 'REJECTED';
    if (!(await decideFeature(tx, appId, feature, to, operatorId, why || null, now)))
      throw new WorkspaceError(
        'CONFLICT',
        `${FEATURES[feature].title} for ${mini.name} is no longer waiting for a decision (another operator decided it, or the merchant withdrew it).`,
      );
    await recordEvent(
      tx,
      mini.merchantId,
      `operator:${operatorId}`,
      decision === 'APPROVE' ? 'FEATURE_APPROVED' : 'FEATURE_REJECTED',
      `${mini.name} (${appId}): ${FEATURES[feature].title}${why ? `: ${why}` : ''}`,
      now,
    );
  });
}

/** True when the mini program may use this feature's JSAPIs and OpenAPIs now. */
export async function hasActiveFeature(
  ctx: WalletContext,
  appId: string,
  feature: Feature,
): Promise<boolean> {
  return (await featuresOf(ctx.store.db, appId)).get(feature) === 'ACTIVE';
}

// ------------------------------------------------------------------------------------------- serving

/**
 * A preview link's token: `<expiry in epoch seconds>.<HMAC-SHA256(previewKey, appId|version|expiry)>`,
 * so anyone holding the link sees that one version for an hour, and nobody can make one up.
 */
export function previewToken(
  ctx: WalletContext,
  appId: string,
  version: number,
  now = ctx.clock.now(),
): string {
  const expires = Math.floor((now + PREVIEW_TTL_MS) / 1000);
  return `${expires}.${previewMac(ctx, appId, version, expires)}`;
}

function previewMac(ctx: WalletContext, appId: string, version: number, expires: number): string {
  return createHmac('sha256', ctx.secrets.previewKey)
    .update(`preview|${appId}|${version}|${expires}`)
    .digest('base64url');
}

export function previewTokenValid(
  ctx: WalletContext,
  appId: string,
  version: number,
  token: string,
): boolean {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return false;
  const expires = Number(m[1]);
  if (expires * 1000 <= ctx.clock.now()) return false;
  const a = Buffer.from(m[2] ?? '');
  const b = Buffer.from(previewMac(ctx, appId, version, expires));
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Where the host frames an UPLOADED mini program's version: relative to the wallet, under /mp. */
export const hostedEntryPath = (appId: string, version: number, token?: string): string =>
  `/mp/${appId}/${version}/${token ? `p/${token}/` : ''}${ENTRY_FILE}`;

/** The URL prefix a hosted mini program's navigation must stay under. */
export const hostedScopePath = (appId: string, version: number, token?: string): string =>
  `/mp/${appId}/${version}/${token ? `p/${token}/` : ''}`;

export interface ServedFile {
  app: MiniProgram;
  file: VersionFile;
  /** PUBLISHED: the live version, for everyone. PREVIEW: any version, through a valid preview link. */
  mode: 'PUBLISHED' | 'PREVIEW';
}

/**
 * The file for `GET /mp/:appId/:version/<rest>`: the published version's files for everyone;
 * `p/<token>/<path>` of any version with a valid preview token. Undefined: 404.
 */
export async function findServedFile(
  ctx: WalletContext,
  appId: string,
  versionText: string,
  rest: string,
): Promise<ServedFile | undefined> {
  if (!/^[1-9]\d{0,8}$/.test(versionText) || appId.length > 64) return undefined;
  const version = Number(versionText);
  const app = await findMiniProgram(ctx.store.db, appId);
  if (!app || app.hosting !== 'UPLOADED') return undefined;
  let mode: ServedFile['mode'];
  let path: string;
  const preview = /^p\/([^/]+)\/(.*)$/s.exec(rest);
  if (preview && previewTokenValid(ctx, appId, version, preview[1] ?? '')) {
    mode = 'PREVIEW';
    path = preview[2] ?? '';
  } else if (app.publishedVersion === version) {
    // A published version's own folder named `p` still works: its second segment is never a valid token.
    mode = 'PUBLISHED';
    path = rest;
  } else {
    return undefined;
  }
  if (path === '' || path.endsWith('/')) path += ENTRY_FILE;
  const v = await findVersion(ctx.store.db, appId, version);
  if (!v) return undefined;
  const file = await versionFile(ctx.store.db, v.id, path);
  return file && { app, file, mode };
}

/**
 * The CSP of every wallet-hosted file. `sandbox allow-scripts` gives the document an opaque origin even
 * when opened on its own, so merchant HTML never runs as the wallet's origin (no cookies, no same-origin
 * reads of wallet pages); it may load its own files and the wallet's jsapi, call the server origins its
 * merchant listed, and frame nothing.
 */
export function hostedFileCsp(walletOrigin: string, app: MiniProgram): string {
  const self = `'self' ${walletOrigin}`;
  const servers = app.serverOrigins.join(' ');
  return [
    'sandbox allow-scripts',
    `default-src ${self}`,
    `script-src ${self}`,
    `style-src ${self} 'unsafe-inline'`,
    `img-src ${self} data: blob: ${servers}`.trim(),
    `font-src ${self} data:`,
    `connect-src ${self} ${servers}`.trim(),
    `media-src ${self} data: blob:`,
    "frame-src 'none'",
    "worker-src 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; ');
}
