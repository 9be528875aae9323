/**
 * What every fault, race and fuzz test ends with: the database still keeps every invariant
 * (packages/store/src/invariants.ts, the checks `billetera check` runs).
 *
 *   await expectInvariants(wallet.ctx.store.db);
 */
import { checkInvariants, type Database, type InvariantReport } from '@billetera/store';
import type { Kysely } from 'kysely';

/** Returns the report when every invariant holds; throws an Error listing the violations otherwise. */
export async function expectInvariants(db: Kysely<Database>): Promise<InvariantReport> {
  const report = await checkInvariants(db);
  if (report.ok) return report;
  const lines = report.violations.map(
    (v) => `- ${v.invariant}: ${v.message}\n${v.rows.map((r) => `    ${JSON.stringify(r)}`).join('\n')}`,
  );
  throw new Error(`database invariants broken:\n${lines.join('\n')}`);
}
