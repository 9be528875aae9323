/**
 * A database made by an earlier release keeps working after an upgrade: migrate to 0003 (before user
 * authorization and onboarding), write the rows that release wrote, then migrate to the latest. Existing
 * mini programs keep their payment feature, and an unverified merchant becomes DRAFT.
 */
import { Migrator, sql, type MigrationProvider } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../test/backends.ts';
import { MIGRATIONS } from './migrations.ts';
import { migrateToLatest, openStore, type Store } from './open-store.ts';

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

for (const backend of BACKENDS) {
  describe(`upgrading a database from 0003 on ${backend.name}`, () => {
    let env: BackendEnv;
    let store: Store;

    beforeAll(async () => {
      env = await backend.create();
      // No migrations on open, then only the first three.
      store = await openStore(
        env.databaseUrl
          ? { databaseUrl: env.databaseUrl, migrate: false }
          : { sqliteFile: `${env.dataDir}/old.sqlite`, migrate: false },
      );
      const migrator = new Migrator({
        db: store.db,
        provider,
        migrationTableName: 'billetera_migrations',
        migrationLockTableName: 'billetera_migrations_lock',
      });
      const { error } = await migrator.migrateTo('0003_lifecycle');
      expect(error).toBeUndefined();
    });
    afterAll(async () => {
      await store?.close();
      await env?.cleanup();
    });

    it('keeps the old rows and gives them the new defaults', async () => {
      await sql`INSERT INTO merchants (id, client_id, partner_id, name, website, notify_url, status, created_at)
                VALUES ('mch_old', 'OLDCLIENT', 'P1', 'Old Shop', NULL, NULL, 'UNVERIFIED', 1),
                       ('mch_ok', 'OKCLIENT', 'P2', 'Verified Shop', NULL, NULL, 'VERIFIED', 1)`.execute(
        store.db,
      );
      await sql`INSERT INTO mini_programs (app_id, merchant_id, name, description, logo_url, entry_url, status, created_at)
                VALUES ('2026000000000000001', 'mch_ok', 'Old App', '', NULL, 'http://127.0.0.1:9/', 'PUBLISHED', 1)`.execute(
        store.db,
      );
      await sql`INSERT INTO users (id, phone, pin_hash, pin_failed_attempts, pin_locked_until, status, display_name, created_at)
                VALUES ('usr_old', '+15559990000', 'x', 0, NULL, 'ACTIVE', 'Old', 1)`.execute(store.db);

      await migrateToLatest(store.db);

      const merchants = await store.db
        .selectFrom('merchants')
        .select(['id', 'status'])
        .orderBy('id')
        .execute();
      expect(merchants).toEqual([
        { id: 'mch_ok', status: 'VERIFIED' },
        { id: 'mch_old', status: 'DRAFT' },
      ]);
      const features = await store.db
        .selectFrom('mini_program_features')
        .select(['app_id', 'feature', 'status'])
        .execute();
      expect(features).toEqual([{ app_id: '2026000000000000001', feature: 'PAYMENT', status: 'ACTIVE' }]);
      const app = await store.db
        .selectFrom('mini_programs')
        .select(['hosting', 'published_version'])
        .executeTakeFirstOrThrow();
      expect(app).toEqual({ hosting: 'EXTERNAL', published_version: null });
      const user = await store.db
        .selectFrom('users')
        .select(['display_name', 'full_name', 'nationality'])
        .executeTakeFirstOrThrow();
      expect(user).toEqual({ display_name: 'Old', full_name: null, nationality: null });
    });
  });
}
