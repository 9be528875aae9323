/**
 * Scale-out: 1, 2 (and 4) wallet processes on one PostgreSQL, each with its notifier (leases share the
 * outbox), the load spread round-robin over them. Pay and confirm rates per process count.
 */
import type { LoadGenerator } from '../lib/loadgen.ts';
import { insertPayments } from '../lib/fixture.ts';
import type { BenchPostgres } from '../lib/postgres.ts';
import type { Report } from '../lib/report.ts';
import type { Settings } from '../lib/settings.ts';
import type { Ceilings } from './ceilings.ts';
import { confirmSpecs, paySpecs, runNote, withWallet } from './billetera.ts';

export async function runScaleOut(
  s: Settings,
  gen: LoadGenerator,
  report: Report,
  c: Ceilings,
  pg: BenchPostgres,
): Promise<void> {
  const total = s.durationMs + s.warmupMs;
  for (const processes of s.processes) {
    await withWallet(s, { name: 'postgres', pg }, { tag: `4${processes}`, processes }, async (w) => {
      gen.setSigner({
        clientId: w.m.merchant.clientId,
        privateKeyPem: w.m.privateKeyPem,
        keyVersion: w.m.keyVersion,
      });
      const observe = [
        ...w.wallets.map((x, i) => ({ name: `wallet${i}`, pid: x.pid })),
        ...(pg.pid ? [{ name: 'postgres', pid: pg.pid, tree: true }] : []),
      ];
      const run = () =>
        gen.run({
          targets: w.targets,
          mode: 'closed',
          concurrency: s.concurrency,
          durationMs: total,
          warmupMs: s.warmupMs,
          observe,
        });
      const n = Math.ceil((Math.min(c.bareHttp * processes, c.rsaPairAllCores, c.pgOne) * total) / 1000);
      await gen.prepare(paySpecs(w, n));
      const pay = await run();
      await gen.prepare(confirmSpecs(w.users, await insertPayments(w.ctx, w.m.merchant.id, n)));
      const confirm = await run();
      report.add({
        section: 'scale-out pg',
        figure: `pay, ${processes} process(es)`,
        value: pay.rate,
        unit: 'req/s',
        note: runNote(pay),
      });
      report.add({
        section: 'scale-out pg',
        figure: `confirms, ${processes} process(es)`,
        value: confirm.rate,
        unit: 'confirms/s',
        note: runNote(confirm),
      });
    });
  }
}
