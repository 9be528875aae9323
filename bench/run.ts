/**
 * `npm run bench`: Billetera's figures beside the ceilings that bound them, measured in the same run.
 * Prints one table and writes bench/results/<date>.json. `--quick` for about a minute, `--only <section>`
 * for one part. Everything it starts (wallet processes, the bare server, PostgreSQL, worker threads)
 * listens on 127.0.0.1 and is stopped at the end, on failure too. See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { LoadGenerator } from './lib/loadgen.ts';
import { startPostgres, type BenchPostgres } from './lib/postgres.ts';
import { machineFacts } from './lib/proc.ts';
import { Report } from './lib/report.ts';
import { parseArgs } from './lib/settings.ts';
import { runBilletera } from './sections/billetera.ts';
import { runCeilings, type Ceilings } from './sections/ceilings.ts';
import { runGrowth } from './sections/growth.ts';
import { runScaleOut } from './sections/scaleout.ts';

const HARD_LIMIT_MS = 30 * 60_000;

async function main(): Promise<number> {
  const s = parseArgs(process.argv.slice(2));
  if (s.cpuProfDir) {
    mkdirSync(s.cpuProfDir, { recursive: true });
    process.env['BENCH_CPU_PROF_DIR'] = resolve(s.cpuProfDir);
  }
  const started = performance.now();
  const machine = machineFacts();
  const commit = gitCommit();
  const header = [
    `Billetera bench ${s.quick ? '(quick) ' : ''}at ${new Date().toISOString()}, commit ${commit}`,
    `${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.memoryTotalMiB} MiB, Node ${machine.node}, load average ${machine.loadAverage.join(' ')}`,
    `windows ${s.warmupMs / 1000} s warmup + ${s.durationMs / 1000} s measured, ${s.concurrency} connections, ${s.threads} generator threads, wallet log level ${s.logLevel}`,
  ];
  process.stderr.write(header.join('\n') + '\n');
  const hard = setTimeout(() => {
    process.stderr.write(`bench: still running after ${HARD_LIMIT_MS / 60_000} min, giving up\n`);
    process.exit(2);
  }, HARD_LIMIT_MS);
  hard.unref();

  const report = new Report();
  let pg: BenchPostgres | undefined;
  let gen: LoadGenerator | undefined;
  let failure: unknown;
  try {
    gen = await LoadGenerator.start(s.threads);
    const needPg = s.only.has('postgres') || s.only.has('scaleout') || s.only.has('ceilings');
    if (needPg) {
      pg = await startPostgres();
      process.stderr.write(
        `PostgreSQL ${pg.settings['server_version']} (${pg.source}): fsync=${pg.settings['fsync']}, synchronous_commit=${pg.settings['synchronous_commit']}\n`,
      );
    }
    // Every ratio needs its ceiling from this run, so the ceilings always run.
    const c: Ceilings = await runCeilings(s, gen, report, pg, cpus().length);
    if (s.only.has('sqlite')) await runBilletera(s, gen, report, c, { name: 'sqlite' });
    if (s.only.has('postgres') && pg) await runBilletera(s, gen, report, c, { name: 'postgres', pg });
    if (s.only.has('growth')) await runGrowth(s, gen, report, c);
    if (s.only.has('scaleout') && pg) await runScaleOut(s, gen, report, c, pg);
  } catch (err) {
    failure = err;
  } finally {
    await gen?.close();
    await pg?.stop().catch(() => undefined);
  }

  const end = { loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
  const table = report.table();
  const lines = [
    '',
    ...header,
    `load average at the end ${end.loadAverage.join(' ')}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
    '',
    table,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const file = report.write(s.outDir, {
    date: new Date().toISOString(),
    commit,
    quick: s.quick,
    settings: { ...s, only: [...s.only] },
    machine,
    loadAverageEnd: end.loadAverage,
    postgres: pg ? { source: pg.source, settings: pg.settings } : undefined,
    elapsedS: Math.round((performance.now() - started) / 1000),
    failure: failure ? String(failure instanceof Error ? failure.stack : failure) : undefined,
  });
  process.stdout.write(`written to ${file}\n`);
  if (failure) {
    process.stderr.write(
      `bench FAILED: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}\n`,
    );
    return 1;
  }
  return 0;
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

process.exitCode = await main();
// Worker threads and pools are closed; leave at once rather than wait on a straggling handle.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
