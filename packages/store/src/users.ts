import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, UsersTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface User {
  id: string;
  phone: string;
  pinHash: string;
  pinFailedAttempts: number;
  pinLockedUntil: number | null;
  status: 'ACTIVE' | 'FROZEN';
  displayName: string | null;
  createdAt: number;
  /** The profile OpenUserInfo can release; every field may be unknown. */
  profile: UserProfile;
}

export interface UserProfile {
  fullName: string | null;
  avatarUrl: string | null;
  gender: 'F' | 'M' | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  /** ISO 3166 alpha-2 */
  nationality: string | null;
}

export const EMPTY_PROFILE: UserProfile = {
  fullName: null,
  avatarUrl: null,
  gender: null,
  birthDate: null,
  nationality: null,
};

const toUser = (r: Selectable<UsersTable>): User => ({
  id: r.id,
  phone: r.phone,
  pinHash: r.pin_hash,
  pinFailedAttempts: Number(r.pin_failed_attempts),
  pinLockedUntil: r.pin_locked_until === null ? null : Number(r.pin_locked_until),
  status: r.status as User['status'],
  displayName: r.display_name,
  createdAt: Number(r.created_at),
  profile: {
    fullName: r.full_name,
    avatarUrl: r.avatar_url,
    gender: r.gender === 'F' || r.gender === 'M' ? r.gender : null,
    birthDate: r.birth_date,
    nationality: r.nationality,
  },
});

export async function insertUser(tx: Tx, u: User): Promise<void> {
  await tx
    .insertInto('users')
    .values({
      id: u.id,
      phone: u.phone,
      pin_hash: u.pinHash,
      pin_failed_attempts: BigInt(u.pinFailedAttempts),
      pin_locked_until: u.pinLockedUntil === null ? null : BigInt(u.pinLockedUntil),
      status: u.status,
      display_name: u.displayName,
      created_at: BigInt(u.createdAt),
      full_name: u.profile.fullName,
      avatar_url: u.profile.avatarUrl,
      gender: u.profile.gender,
      birth_date: u.profile.birthDate,
      nationality: u.profile.nationality,
    })
    .execute();
}

/** `forUpdate` locks the row until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers). */
export async function findUserByPhone(
  tx: Tx,
  phone: string,
  opts: { forUpdate?: boolean } = {},
): Promise<User | undefined> {
  const row = await tx
    .selectFrom('users')
    .selectAll()
    .where('phone', '=', phone)
    .$if(opts.forUpdate === true, (q) => q.forUpdate())
    .executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById(tx: Tx, id: string): Promise<User | undefined> {
  const row = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function updatePinState(
  tx: Tx,
  userId: string,
  failedAttempts: number,
  lockedUntil: number | null,
): Promise<void> {
  await tx
    .updateTable('users')
    .set({
      pin_failed_attempts: BigInt(failedAttempts),
      pin_locked_until: lockedUntil === null ? null : BigInt(lockedUntil),
    })
    .where('id', '=', userId)
    .execute();
}
