#!/usr/bin/env node
/**
 * `npm test`: runs `vitest run` with the default reporter (for people) and the json reporter (for this
 * script), then prints ONE plain closing line that CI reads:
 *
 *   N passed, N failed[, N skipped]
 *
 * Exits non-zero when vitest fails, when any test or test file failed, or when no test ran at all.
 * Extra arguments go to vitest: `npm test -- packages/protocol`, `npm test -- -t signature`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(root, '.vitest.json'); // git-ignored
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

rmSync(resultsFile, { force: true }); // never read a previous run's results

const child = spawn(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

child.on('error', (err) => finish(undefined, `could not start vitest: ${err.message}`));
child.on('exit', (code, signal) => finish(code ?? 1, signal ? `vitest was killed by ${signal}` : undefined));

/** @param {number | undefined} vitestCode @param {string | undefined} problem */
function finish(vitestCode, problem) {
  const counts = readCounts();
  const problems = problem ? [problem] : [];
  if (!counts) problems.push(`vitest wrote no results to ${resultsFile}`);
  else if (counts.brokenFiles > 0) {
    problems.push(
      `${counts.brokenFiles} test file(s) failed outside any test (import error or a failing hook)`,
    );
  } else if (counts.passed + counts.failed === 0) problems.push('no test ran');
  if (vitestCode !== 0 && problems.length === 0 && counts?.failed === 0) {
    problems.push(`vitest exited with code ${vitestCode}`);
  }
  for (const p of problems) console.error(`run-tests: ${p}`);

  // A file that broke before its tests ran counts as a failed test, and a run that is red for any other
  // reason (setup error, no results, no test at all) as one more: the line reads "0 failed" only when green.
  const passed = counts?.passed ?? 0;
  const skipped = counts?.skipped ?? 0;
  let failed = (counts?.failed ?? 0) + (counts?.brokenFiles ?? 0);
  if (failed === 0 && (problems.length > 0 || vitestCode !== 0)) failed = 1;
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 ? 1 : 0);
}

/** @returns {{ passed: number, failed: number, skipped: number, brokenFiles: number } | undefined} */
function readCounts() {
  if (!existsSync(resultsFile)) return undefined;
  let report;
  try {
    report = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    return undefined;
  }
  const files = Array.isArray(report.testResults) ? report.testResults : [];
  const brokenFiles = files.filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed'),
  ).length;
  return {
    passed: Number(report.numPassedTests ?? 0),
    failed: Number(report.numFailedTests ?? 0),
    skipped: Number(report.numPendingTests ?? 0) + Number(report.numTodoTests ?? 0),
    brokenFiles,
  };
}
