/**
 * `billetera check`: checks the database's invariants (packages/store/src/invariants.ts): the ledger
 * balances, balances equal their postings, nothing below zero but the platform, every payment and refund
 * moved its money exactly once, refunds within what was paid, every notification owed is in the outbox
 * and its attempts recorded, idempotency keys unique. Read-only, safe while the server runs.
 *
 * Exit codes: 0 every invariant holds, 1 something is off (the offending rows are printed), 2 the
 * command could not check (bad usage, no database, connection refused).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  INVARIANTS,
  checkInvariants,
  openStore,
  type InvariantReport,
  type InvariantViolation,
  type Store,
} from '@billetera/store';
import { SQLITE_FILE_NAME } from '@billetera/wallet';
import { withStoreOptions, type StoreOptions } from './options.ts';

/** Exit codes, named where they are decided. */
const EXIT_OK = 0;
const EXIT_VIOLATIONS = 1;
const EXIT_CANNOT_CHECK = 2;

export function checkCommand(): Command {
  const cmd = withStoreOptions(
    new Command('check')
      .description(
        'check the invariants of the ledger, payments, refunds and notifications; exits 1 with the offending rows when any is broken',
      )
      .option('--json', 'print the report as JSON'),
  )
    // Usage errors exit 2, apart from "something is off" (1).
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_CANNOT_CHECK));
  cmd.action(async (o: StoreOptions & { json?: boolean }) => {
    process.exitCode = await check(o);
  });
  return cmd;
}

async function check(o: StoreOptions & { json?: boolean }): Promise<number> {
  let store: Store | undefined;
  let report: InvariantReport;
  try {
    store = await open(o);
    report = await checkInvariants(store.db);
  } catch (err) {
    process.stderr.write(
      `billetera check: could not check: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return EXIT_CANNOT_CHECK;
  } finally {
    await store?.close().catch(() => undefined);
  }
  process.stdout.write(
    o.json === true ? JSON.stringify(report, null, 2) + '\n' : summary(report, store.location),
  );
  return report.ok ? EXIT_OK : EXIT_VIOLATIONS;
}

/** The store as it is: never creates a database nor migrates one (a check writes nothing). */
async function open(o: StoreOptions): Promise<Store> {
  if (o.databaseUrl) return openStore({ databaseUrl: o.databaseUrl, poolSize: 1, migrate: false });
  const file = join(o.dataDir, SQLITE_FILE_NAME);
  if (!existsSync(file)) throw new Error(`no database at ${file} (give --data-dir or --database-url)`);
  return openStore({ sqliteFile: file, migrate: false });
}

/** One line per invariant, then each violation with its offending rows. */
function summary(report: InvariantReport, location: string): string {
  const width = Math.max(...INVARIANTS.map((name) => name.length));
  const lines = [`billetera check: ${location}`];
  for (const name of INVARIANTS) {
    const broken = report.violations.filter((v) => v.invariant === name);
    const checked = (report.checked[name] ?? 0).toLocaleString('en-US');
    const offending = broken.reduce((n, v) => n + offendingCount(v), 0);
    lines.push(
      broken.length === 0
        ? `  OK    ${name.padEnd(width)}  (${checked} rows checked)`
        : `  FAIL  ${name.padEnd(width)}  ${offending} ${offending === 1 ? 'violation' : 'violations'}`,
    );
  }
  for (const v of report.violations) {
    lines.push('', `${v.invariant}: ${v.message}`);
    for (const row of v.rows) lines.push(`  ${JSON.stringify(row)}`);
  }
  const brokenCount = new Set(report.violations.map((v) => v.invariant)).size;
  lines.push(
    '',
    report.ok
      ? `every invariant holds (${INVARIANTS.length} checked)`
      : `${brokenCount} of ${INVARIANTS.length} invariants broken`,
  );
  return lines.join('\n') + '\n';
}

/** A violation's message starts with how many rows offend (its rows list only the first ones). */
const offendingCount = (v: InvariantViolation): number =>
  Number(/^\d+/.exec(v.message)?.[0] ?? v.rows.length);
