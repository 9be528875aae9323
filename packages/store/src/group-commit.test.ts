/**
 * SQLite group commit (open-store.ts): transactions that arrive together share one durable COMMIT, each
 * in its own savepoint, and their outcomes never mix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './open-store.ts';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'billetera-group-commit-'));
  store = await openStore({ sqliteFile: join(dir, 'wallet.sqlite') });
  await sql`create table gc_account (id integer primary key, balance integer not null)`.execute(store.db);
  await sql`create table gc_row (id integer primary key, account integer references gc_account(id))`.execute(
    store.db,
  );
  await sql`insert into gc_account (id, balance) values (1, 30)`.execute(store.db);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

class Overdrawn extends Error {}

/** Takes 1 from account 1 and writes a row for it; refuses (throws after writing) below zero. */
function debitOne(tag: number) {
  return store.transaction(async (tx) => {
    await sql`insert into gc_row (id, account) values (${tag}, 1)`.execute(tx);
    await sql`update gc_account set balance = balance - 1 where id = 1`.execute(tx);
    const { rows } = await sql<{ balance: bigint }>`select balance from gc_account where id = 1`.execute(tx);
    if (rows[0]!.balance < 0n) throw new Overdrawn(`row ${tag}`);
    return tag;
  });
}

async function count(table: 'gc_row' | 'gc_account'): Promise<number> {
  const { rows } = await sql<{ n: bigint }>`select count(*) as n from ${sql.table(table)}`.execute(store.db);
  return Number(rows[0]!.n);
}

describe('SQLite group commit', () => {
  it('runs concurrent transactions in fewer commits, each refused one rolled back alone', async () => {
    const before = store.commitStats!();
    const settled = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => debitOne(i + 1)));
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(ok).toHaveLength(30);
    expect(refused).toHaveLength(20);
    expect(refused.every((r) => r.reason instanceof Overdrawn)).toBe(true);
    // Exactly the successful ones left their rows; the balance is exactly spent.
    expect(await count('gc_row')).toBe(30);
    const { rows } = await sql<{ balance: bigint }>`select balance from gc_account where id = 1`.execute(
      store.db,
    );
    expect(rows[0]!.balance).toBe(0n);
    const after = store.commitStats!();
    expect(after.transactions - before.transactions).toBe(50);
    expect(after.commits - before.commits).toBeLessThan(50);
  });

  it('a transaction alone commits by itself and rolls back by itself', async () => {
    await expect(debitOne(1)).resolves.toBe(1);
    await store.transaction(async (tx) => {
      await sql`update gc_account set balance = 0 where id = 1`.execute(tx);
    });
    await expect(debitOne(2)).rejects.toBeInstanceOf(Overdrawn);
    expect(await count('gc_row')).toBe(1);
  });

  it('when the shared COMMIT fails, every transaction of the group fails and none of them is written', async () => {
    const breaker = store.transaction(async (tx) => {
      // A foreign key checked only at COMMIT: the whole group's COMMIT fails.
      await sql`pragma defer_foreign_keys = on`.execute(tx);
      await sql`insert into gc_row (id, account) values (900, 999)`.execute(tx);
      return 'breaker';
    });
    const innocent = debitOne(1);
    const [a, b] = await Promise.allSettled([breaker, innocent]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect(String((b as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(await count('gc_row')).toBe(0);
    // The store keeps working after a failed group.
    await expect(debitOne(2)).resolves.toBe(2);
  });

  it('a later transaction of a group sees the writes of the earlier ones, as in serial order', async () => {
    const seen = await Promise.all(
      Array.from({ length: 10 }, () =>
        store.transaction(async (tx) => {
          await sql`update gc_account set balance = balance + 1 where id = 1`.execute(tx);
          const { rows } = await sql<{
            balance: bigint;
          }>`select balance from gc_account where id = 1`.execute(tx);
          return Number(rows[0]!.balance);
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => 31 + i));
  });
});
