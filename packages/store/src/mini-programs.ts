import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MiniProgramsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

/** EXTERNAL: served by the merchant at entryUrl. UPLOADED: versions uploaded to the workspace. */
export type Hosting = 'EXTERNAL' | 'UPLOADED';

export interface MiniProgram {
  appId: string;
  merchantId: string;
  name: string;
  description: string;
  logoUrl: string | null;
  /** EXTERNAL: the index page on the merchant's server. UPLOADED: '' (the wallet serves its versions). */
  entryUrl: string;
  /** PUBLISHED mini programs are listed in the host app; an UPLOADED one is PUBLISHED from its first publish. */
  status: 'DRAFT' | 'PUBLISHED';
  createdAt: number;
  hosting: Hosting;
  /** UPLOADED: the version the host app runs, or null before the first publish. */
  publishedVersion: number | null;
  /** image/png or image/jpeg when a logo was uploaded (the bytes: miniProgramLogo). */
  logoType: string | null;
  /** UPLOADED: origins its files may call (the merchant's API servers). */
  serverOrigins: string[];
}

/** What a new mini program needs; the workspace fields default to an EXTERNAL one without a logo. */
export type NewMiniProgram = Omit<
  MiniProgram,
  'hosting' | 'publishedVersion' | 'logoType' | 'serverOrigins'
> &
  Partial<Pick<MiniProgram, 'hosting' | 'serverOrigins'>> & {
    logo?: { type: string; data: Buffer } | undefined;
  };

const splitOrigins = (s: string | null): string[] => (s ? s.split(' ').filter(Boolean) : []);

/** Every column but the logo's bytes (up to 200 KiB each: read only where a logo is served). */
export const MINI_PROGRAM_COLUMNS = [
  'app_id',
  'merchant_id',
  'name',
  'description',
  'logo_url',
  'entry_url',
  'status',
  'created_at',
  'hosting',
  'published_version',
  'logo_type',
  'server_origins',
] as const;

export const toMiniProgram = (r: Omit<Selectable<MiniProgramsTable>, 'logo_data'>): MiniProgram => ({
  appId: r.app_id,
  merchantId: r.merchant_id,
  name: r.name,
  description: r.description,
  logoUrl: r.logo_url,
  entryUrl: r.entry_url,
  status: r.status as MiniProgram['status'],
  createdAt: Number(r.created_at),
  hosting: r.hosting as Hosting,
  publishedVersion: r.published_version === null ? null : Number(r.published_version),
  logoType: r.logo_type,
  serverOrigins: splitOrigins(r.server_origins),
});

export async function insertMiniProgram(tx: Tx, m: NewMiniProgram): Promise<void> {
  await tx
    .insertInto('mini_programs')
    .values({
      app_id: m.appId,
      merchant_id: m.merchantId,
      name: m.name,
      description: m.description,
      logo_url: m.logoUrl,
      entry_url: m.entryUrl,
      status: m.status,
      created_at: BigInt(m.createdAt),
      hosting: m.hosting ?? 'EXTERNAL',
      published_version: null,
      logo_type: m.logo?.type ?? null,
      logo_data: m.logo ? m.logo.data.toString('base64') : null,
      server_origins: m.serverOrigins && m.serverOrigins.length > 0 ? m.serverOrigins.join(' ') : null,
    })
    .execute();
}

export async function findMiniProgram(tx: Tx, appId: string): Promise<MiniProgram | undefined> {
  const row = await tx
    .selectFrom('mini_programs')
    .select(MINI_PROGRAM_COLUMNS)
    .where('app_id', '=', appId)
    .executeTakeFirst();
  return row && toMiniProgram(row);
}

/** What the host app lists for everyone: PUBLISHED mini programs (an UPLOADED one with a live version). */
/** What the host lists: published mini programs of merchants that may take payments (VERIFIED). */
export async function publishedMiniPrograms(tx: Tx): Promise<MiniProgram[]> {
  const rows = await tx
    .selectFrom('mini_programs')
    .select(MINI_PROGRAM_COLUMNS)
    .where('status', '=', 'PUBLISHED')
    .where('merchant_id', 'in', (eb) =>
      eb.selectFrom('merchants').select('id').where('status', '=', 'VERIFIED'),
    )
    .where((eb) => eb.or([eb('hosting', '=', 'EXTERNAL'), eb('published_version', 'is not', null)]))
    .orderBy('name')
    .orderBy('app_id')
    .execute();
  return rows.map(toMiniProgram);
}

export async function updateMiniProgramEntry(tx: Tx, appId: string, entryUrl: string): Promise<void> {
  await tx.updateTable('mini_programs').set({ entry_url: entryUrl }).where('app_id', '=', appId).execute();
}
