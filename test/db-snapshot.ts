/**
 * A fingerprint of every table's rows, to assert "the database is unchanged" after a refused request:
 *
 *   const before = await dbSnapshot(store);
 *   ... a request that must be refused ...
 *   expect(diffSnapshots(before, await dbSnapshot(store))).toEqual([]);
 *
 * Tables are listed from the database itself (sqlite_master, information_schema), so a table added by a
 * later migration is covered without touching this file. Each table is fingerprinted as its row count and
 * a SHA-256 over its rows in a canonical, order-independent form (bigints and blobs included).
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from '@billetera/store';

export interface TableFingerprint {
  rows: number;
  hash: string;
}

export type DbSnapshot = Map<string, TableFingerprint>;

export interface SnapshotOptions {
  /** Tables left out (e.g. sessions a test creates on purpose). */
  ignore?: readonly string[];
}

const canonicalValue = (v: unknown): unknown => {
  if (typeof v === 'bigint') return `${v}n`;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array)
    return `blob:${createHash('sha256').update(v).digest('hex')}`;
  if (v instanceof Date) return `date:${v.toISOString()}`;
  return v;
};

/** One row as text: columns sorted by name, so the column order of a SELECT * never matters. */
const canonicalRow = (row: Record<string, unknown>): string =>
  JSON.stringify(
    Object.keys(row)
      .sort()
      .map((k) => [k, canonicalValue(row[k])]),
  );

async function tableNames(store: Store): Promise<string[]> {
  if (store.dialect === 'sqlite') {
    const r = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(store.db);
    return r.rows.map((t) => t.name).sort();
  }
  const r = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(store.db);
  return r.rows.map((t) => t.name).sort();
}

function fingerprint(rows: Record<string, unknown>[]): TableFingerprint {
  const lines = rows.map(canonicalRow).sort();
  const h = createHash('sha256');
  for (const line of lines) h.update(line).update('\n');
  return { rows: rows.length, hash: h.digest('base64url') };
}

/** Fingerprints every table of the store (one read per table, in a single read of each). */
export async function dbSnapshot(store: Store, opts: SnapshotOptions = {}): Promise<DbSnapshot> {
  const ignore = new Set(opts.ignore ?? []);
  const out: DbSnapshot = new Map();
  for (const name of await tableNames(store)) {
    if (ignore.has(name)) continue;
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(store.db);
    out.set(name, fingerprint(r.rows));
  }
  return out;
}

/** The tables that differ, as `name: rows before -> after` (an empty list when nothing changed). */
export function diffSnapshots(before: DbSnapshot, after: DbSnapshot): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  const changed: string[] = [];
  for (const name of [...names].sort()) {
    const a = before.get(name);
    const b = after.get(name);
    if (a?.hash === b?.hash && a?.rows === b?.rows) continue;
    changed.push(`${name}: ${a?.rows ?? 'absent'} -> ${b?.rows ?? 'absent'} rows`);
  }
  return changed;
}
