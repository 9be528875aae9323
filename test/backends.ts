/**
 * The two databases every store-touching suite runs on: a SQLite file and a real PostgreSQL database.
 *
 *   describe.each(BACKENDS)('ledger on $name', (backend) => {
 *     let env: BackendEnv;
 *     beforeAll(async () => { env = await backend.create(); });
 *     afterAll(() => env.cleanup());
 *   });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdGenerator } from '@billetera/domain';
import { openStore, type Store } from '@billetera/store';
import { createTestDatabase } from './postgres.ts';

export interface BackendEnv {
  /** A fresh temp directory: wallet secrets, and the SQLite file when no databaseUrl is set. */
  dataDir: string;
  /** Set for PostgreSQL: a database of this test file's own. */
  databaseUrl: string | undefined;
  /** Opens a store on this backend (SQLite: `<dataDir>/billetera.sqlite`). */
  openStore(): Promise<Store>;
  cleanup(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  create(): Promise<BackendEnv>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async create() {
      const dataDir = mkdtempSync(join(tmpdir(), 'billetera-test-'));
      return {
        dataDir,
        databaseUrl: undefined,
        openStore: () => openStore({ sqliteFile: join(dataDir, 'billetera.sqlite') }),
        cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async create() {
      const dataDir = mkdtempSync(join(tmpdir(), 'billetera-test-'));
      const db = await createTestDatabase();
      return {
        dataDir,
        databaseUrl: db.url,
        openStore: () => openStore({ databaseUrl: db.url }),
        cleanup: async () => {
          await db.drop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];

/** Sequential ids for deterministic tests (`pay_000001`, ...), still prefixed like real ones. */
export function sequentialIds(): IdGenerator {
  let n = 0;
  return { next: (prefix: string) => `${prefix}_${String(++n).padStart(6, '0')}` };
}
