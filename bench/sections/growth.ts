/**
 * Growth: pay and confirm cost with many payments already stored (seeded in bulk), on SQLite. The figure
 * that counts is how the rate holds from the smallest size to the largest.
 */
import type { LoadGenerator } from '../lib/loadgen.ts';
import { insertPayments, seedPayments } from '../lib/fixture.ts';
import type { Report } from '../lib/report.ts';
import type { Settings } from '../lib/settings.ts';
import type { Ceilings } from './ceilings.ts';
import { confirmSpecs, paySpecs, runNote, withWallet } from './billetera.ts';

export async function runGrowth(s: Settings, gen: LoadGenerator, report: Report, c: Ceilings): Promise<void> {
  await withWallet(s, { name: 'sqlite' }, { tag: '3' }, async (w) => {
    gen.setSigner({
      clientId: w.m.merchant.clientId,
      privateKeyPem: w.m.privateKeyPem,
      keyVersion: w.m.keyVersion,
    });
    let stored = 0;
    const total = s.durationMs + s.warmupMs;
    for (const size of s.growthSizes) {
      const t0 = Date.now();
      await seedPayments(w.ctx, w.m.merchant.id, size - stored);
      const seedS = (Date.now() - t0) / 1000;
      stored = size;
      const run = () =>
        gen.run({
          targets: w.targets,
          mode: 'closed',
          concurrency: s.concurrency,
          durationMs: total,
          warmupMs: s.warmupMs,
          observe: w.wallets.map((x, i) => ({ name: `wallet${i}`, pid: x.pid })),
        });
      const n = Math.ceil((Math.min(c.bareHttp, c.rsaPairAllCores, c.sqliteOne) * total) / 1000);
      await gen.prepare(paySpecs(w, n));
      const pay = await run();
      const fresh = await insertPayments(w.ctx, w.m.merchant.id, n);
      await gen.prepare(confirmSpecs(w.users, fresh));
      const confirm = await run();
      const label = size.toExponential(0).replace('+', '');
      report.add({
        section: 'growth sqlite',
        figure: `pay with ${label} stored`,
        value: pay.rate,
        unit: 'req/s',
        note: runNote(pay, `seeded in ${seedS.toFixed(1)} s`),
      });
      report.add({
        section: 'growth sqlite',
        figure: `confirms with ${label} stored`,
        value: confirm.rate,
        unit: 'confirms/s',
        note: runNote(confirm),
      });
    }
  });
}
