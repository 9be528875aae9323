import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface Session {
  idHash: string;
  userId: string;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

export async function insertSession(tx: Tx, s: Session): Promise<void> {
  await tx
    .insertInto('sessions')
    .values({
      id_hash: s.idHash,
      user_id: s.userId,
      csrf_token: s.csrfToken,
      created_at: BigInt(s.createdAt),
      expires_at: BigInt(s.expiresAt),
    })
    .execute();
}

/** The session for a cookie's hash, if it has not expired. */
export async function findLiveSession(tx: Tx, idHash: string, now: number): Promise<Session | undefined> {
  const r = await tx
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', BigInt(now))
    .executeTakeFirst();
  return (
    r && {
      idHash: r.id_hash,
      userId: r.user_id,
      csrfToken: r.csrf_token,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    }
  );
}

export async function deleteSession(tx: Tx, idHash: string): Promise<void> {
  await tx.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Removes expired sessions; returns how many. */
export async function deleteExpiredSessions(tx: Tx, now: number): Promise<number> {
  const result = await tx.deleteFrom('sessions').where('expires_at', '<=', BigInt(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
