import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MiniProgramsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface MiniProgram {
  appId: string;
  merchantId: string;
  name: string;
  description: string;
  logoUrl: string | null;
  entryUrl: string;
  status: 'DRAFT' | 'PUBLISHED';
  createdAt: number;
}

const toMiniProgram = (r: Selectable<MiniProgramsTable>): MiniProgram => ({
  appId: r.app_id,
  merchantId: r.merchant_id,
  name: r.name,
  description: r.description,
  logoUrl: r.logo_url,
  entryUrl: r.entry_url,
  status: r.status as MiniProgram['status'],
  createdAt: Number(r.created_at),
});

export async function insertMiniProgram(tx: Tx, m: MiniProgram): Promise<void> {
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
    })
    .execute();
}

export async function findMiniProgram(tx: Tx, appId: string): Promise<MiniProgram | undefined> {
  const row = await tx.selectFrom('mini_programs').selectAll().where('app_id', '=', appId).executeTakeFirst();
  return row && toMiniProgram(row);
}

export async function publishedMiniPrograms(tx: Tx): Promise<MiniProgram[]> {
  const rows = await tx
    .selectFrom('mini_programs')
    .selectAll()
    .where('status', '=', 'PUBLISHED')
    .orderBy('name')
    .execute();
  return rows.map(toMiniProgram);
}

export async function updateMiniProgramEntry(tx: Tx, appId: string, entryUrl: string): Promise<void> {
  await tx.updateTable('mini_programs').set({ entry_url: entryUrl }).where('app_id', '=', appId).execute();
}
