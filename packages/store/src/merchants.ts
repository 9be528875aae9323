import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MerchantsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export type MerchantStatus =
  'DRAFT' | 'SUBMITTED' | 'CHECK_FAILED' | 'IN_REVIEW' | 'VERIFIED' | 'REJECTED' | 'FROZEN';

export interface Merchant {
  id: string;
  clientId: string;
  partnerId: string;
  name: string;
  website: string | null;
  notifyUrl: string | null;
  status: MerchantStatus;
  createdAt: number;
}

export interface MerchantKey {
  merchantId: string;
  keyVersion: number;
  publicKeyPem: string;
  status: 'ACTIVE' | 'RETIRED';
  createdAt: number;
}

const toMerchant = (r: Selectable<MerchantsTable>): Merchant => ({
  id: r.id,
  clientId: r.client_id,
  partnerId: r.partner_id,
  name: r.name,
  website: r.website,
  notifyUrl: r.notify_url,
  status: r.status as MerchantStatus,
  createdAt: Number(r.created_at),
});

export async function insertMerchant(tx: Tx, m: Merchant): Promise<void> {
  await tx
    .insertInto('merchants')
    .values({
      id: m.id,
      client_id: m.clientId,
      partner_id: m.partnerId,
      name: m.name,
      website: m.website,
      notify_url: m.notifyUrl,
      status: m.status,
      created_at: BigInt(m.createdAt),
    })
    .execute();
}

export async function findMerchantByClientId(tx: Tx, clientId: string): Promise<Merchant | undefined> {
  const row = await tx
    .selectFrom('merchants')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row && toMerchant(row);
}

export async function findMerchantById(tx: Tx, id: string): Promise<Merchant | undefined> {
  const row = await tx.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toMerchant(row);
}

export async function setMerchantStatus(tx: Tx, id: string, status: MerchantStatus): Promise<void> {
  await tx.updateTable('merchants').set({ status }).where('id', '=', id).execute();
}

/** Adds the next key version (1, 2, ...) for a merchant and returns it. */
export async function addMerchantKey(
  tx: Tx,
  merchantId: string,
  publicKeyPem: string,
  now: number,
): Promise<number> {
  const last = await tx
    .selectFrom('merchant_keys')
    .select('key_version')
    .where('merchant_id', '=', merchantId)
    .orderBy('key_version', 'desc')
    .executeTakeFirst();
  const keyVersion = last ? Number(last.key_version) + 1 : 1;
  await tx
    .insertInto('merchant_keys')
    .values({
      merchant_id: merchantId,
      key_version: BigInt(keyVersion),
      public_key_pem: publicKeyPem,
      status: 'ACTIVE',
      created_at: BigInt(now),
    })
    .execute();
  return keyVersion;
}

export async function activeMerchantKeys(tx: Tx, merchantId: string): Promise<MerchantKey[]> {
  const rows = await tx
    .selectFrom('merchant_keys')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'ACTIVE')
    .orderBy('key_version', 'desc')
    .execute();
  return rows.map((r) => ({
    merchantId: r.merchant_id,
    keyVersion: Number(r.key_version),
    publicKeyPem: r.public_key_pem,
    status: r.status as MerchantKey['status'],
    createdAt: Number(r.created_at),
  }));
}

/** Every key version of a merchant, active and retired, newest first (the console's key list). */
export async function merchantKeyVersions(tx: Tx, merchantId: string): Promise<MerchantKey[]> {
  const rows = await tx
    .selectFrom('merchant_keys')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('key_version', 'desc')
    .execute();
  return rows.map((r) => ({
    merchantId: r.merchant_id,
    keyVersion: Number(r.key_version),
    publicKeyPem: r.public_key_pem,
    status: r.status as MerchantKey['status'],
    createdAt: Number(r.created_at),
  }));
}

/**
 * Takes the merchant row's lock until the transaction ends, so that key changes of one merchant run one
 * after the other (PostgreSQL: a no-op update takes the row lock and later statements see what the
 * previous holder committed; SQLite's BEGIN IMMEDIATE already serializes writers). False when there is
 * no such merchant.
 */
export async function lockMerchant(tx: Tx, merchantId: string): Promise<boolean> {
  const result = await tx
    .updateTable('merchants')
    .set((eb) => ({ status: eb.ref('status') }))
    .where('id', '=', merchantId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export type RetireKeyOutcome = 'RETIRED' | 'NOT_FOUND' | 'ALREADY_RETIRED' | 'LAST_ACTIVE';

/**
 * Retires one ACTIVE key version, unless it is the merchant's last ACTIVE one (a merchant must always be
 * able to sign). A conditional update: the row must still be ACTIVE and another ACTIVE version must
 * exist. Run it in a transaction after `lockMerchant`, so two retirements racing for the last two keys
 * cannot both win on PostgreSQL.
 */
export async function retireMerchantKey(
  tx: Tx,
  merchantId: string,
  keyVersion: number,
): Promise<RetireKeyOutcome> {
  const result = await tx
    .updateTable('merchant_keys')
    .set({ status: 'RETIRED' })
    .where('merchant_id', '=', merchantId)
    .where('key_version', '=', BigInt(keyVersion))
    .where('status', '=', 'ACTIVE')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('merchant_keys as other')
          .select('other.key_version')
          .where('other.merchant_id', '=', merchantId)
          .where('other.status', '=', 'ACTIVE')
          .where('other.key_version', '<>', BigInt(keyVersion)),
      ),
    )
    .executeTakeFirst();
  if (result.numUpdatedRows > 0n) return 'RETIRED';
  const row = await tx
    .selectFrom('merchant_keys')
    .select('status')
    .where('merchant_id', '=', merchantId)
    .where('key_version', '=', BigInt(keyVersion))
    .executeTakeFirst();
  if (!row) return 'NOT_FOUND';
  return row.status === 'RETIRED' ? 'ALREADY_RETIRED' : 'LAST_ACTIVE';
}
