/**
 * `billetera check` run as a separate process against a real wallet's database (a SQLite data dir, and
 * PostgreSQL through --database-url): payments made over signed HTTP and confirmed as the cashier does,
 * one expired, one cancelled, one open, a partial refund, every notification delivered to a real
 * endpoint. Healthy: exit 0. After one double debit written with direct SQL: exit 1, and the JSON and
 * the text name exactly that invariant and that payment. Usage and connection errors: exit 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@billetera/domain';
import type { InvariantReport } from '@billetera/store';
import { confirmPayment, expireDuePayments, type RunningWallet } from '@billetera/wallet';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../test/backends.ts';
import { isoNow, specCall, startNotifyReceiver } from '../../../test/spec-merchant.ts';
import {
  addMerchant,
  addUser,
  runCli,
  startTestWallet,
  type TestMerchant,
} from '../../../test/wallet-harness.ts';

/** Spawning the CLI costs seconds of CPU (tsx compiles it), and this machine is shared. */
const CLI_TIMEOUT_MS = 90_000;

for (const backend of BACKENDS) {
  describe(`billetera check on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
    let shop: TestMerchant;
    const clock = new FakeClock(Date.now());
    const paid: string[] = [];
    let n = 0;

    const call = async (path: string, body: Record<string, unknown>) => {
      const reply = await specCall(wallet.url, path, JSON.stringify(body), {
        clientId: shop.merchant.clientId,
        privateKey: shop.keys.privateKey,
        requestTime: isoNow(clock.now()),
      });
      expect(reply.status).toBe(200);
      return reply.body;
    };
    const order = async (value: string, expiresInMs?: number) => {
      const body = await call('/api/open/v1/payments/pay', {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `order-${++n}`,
        paymentOrderTitle: 'Shoes',
        paymentAmount: { currency: 'USD', value },
        ...(expiresInMs ? { paymentExpiryTime: isoNow(clock.now() + expiresInMs) } : {}),
      });
      expect(body.result.resultCode).toBe('ACCEPT');
      return body['paymentId'] as string;
    };

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock });
      receiver = await startNotifyReceiver();
      shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      const user = await addUser(wallet.ctx, { USD: 100_000n });

      for (const value of ['2500', '4000']) {
        const id = await order(value);
        const out = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
        expect(out.ok).toBe(true);
        paid.push(id);
      }
      await order('700', 60_000); // expires
      const cancelled = await order('800');
      await order('900'); // stays open
      expect(
        (
          await call('/api/open/v1/payments/cancel', {
            partnerId: shop.merchant.partnerId,
            paymentId: cancelled,
          })
        ).result.resultCode,
      ).toBe('SUCCESS');
      expect(
        (
          await call('/api/open/v1/payments/refund', {
            partnerId: shop.merchant.partnerId,
            paymentId: paid[0],
            refundRequestId: 'refund-1',
            refundAmount: { currency: 'USD', value: '1000' },
            refundNotifyUrl: receiver.url,
          })
        ).result.resultCode,
      ).toBe('SUCCESS');
      clock.advance(61_000);
      await expireDuePayments(wallet.ctx);

      // Owed: 2 notifyPayment SUCCESS, 1 FAIL (expired), 1 notifyRefund; wait until all are recorded.
      await receiver.waitFor(4, 20_000);
      const until = Date.now() + 20_000;
      for (;;) {
        const pending = await wallet.ctx.store.db
          .selectFrom('notifications')
          .select(sql<bigint>`count(*)`.as('n'))
          .where('status', '<>', 'DELIVERED')
          .executeTakeFirstOrThrow();
        if (Number(pending.n) === 0) break;
        if (Date.now() > until) throw new Error('notifications not delivered in time');
        await new Promise((r) => setTimeout(r, 50));
      }
    }, 60_000);
    afterAll(async () => {
      await wallet?.close();
      await receiver?.close();
      await env?.cleanup();
    });

    // Every CLI run costs seconds: the healthy run on SQLite only (checkInvariants itself is proven
    // healthy on both databases in packages/store), the broken one on both.
    if (backend.name === 'sqlite')
      it(
        'exits 0 with every invariant holding on a database the wallet made',
        async () => {
          const out = await runCli(env, ['check', '--json']);
          expect(out.stderr).toBe('');
          expect(out.code).toBe(0);
          const report = JSON.parse(out.stdout) as InvariantReport;
          expect(report).toMatchObject({ ok: true, violations: [] });
          expect(report.checked['payment-money-moved']).toBe(5);
          expect(report.checked['refund-money-moved']).toBe(1);
          expect(report.checked['notification-attempts-recorded']).toBe(4);
        },
        CLI_TIMEOUT_MS,
      );

    it(
      'exits 1 naming the payment after it is debited twice',
      async () => {
        const target = paid[1] ?? '';
        await doubleDebit(wallet, target);
        const runs = [runCli(env, ['check', '--json'])];
        if (backend.name === 'sqlite') runs.push(runCli(env, ['check']));
        const [json, text] = await Promise.all(runs);

        expect(json?.code).toBe(1);
        const report = JSON.parse(json?.stdout ?? '') as InvariantReport;
        expect(report.ok).toBe(false);
        expect(report.violations).toEqual([
          {
            invariant: 'payment-money-moved',
            message: expect.stringMatching(/^1 payments whose money did not move exactly once/) as string,
            rows: [
              expect.objectContaining({ payment_id: target, status: 'SUCCESS', entries: '2', postings: '4' }),
            ],
          },
        ]);

        if (text) {
          expect(text.code).toBe(1);
          expect(text.stdout).toMatch(/FAIL\s+payment-money-moved\s+1 violation\n/);
          expect(text.stdout).toMatch(/OK\s+ledger-balanced\s+\(\d+ rows checked\)/);
          expect(text.stdout).toContain(`"payment_id":"${target}"`);
          expect(text.stdout).toMatch(/1 of 11 invariants broken\n$/);
        }
      },
      CLI_TIMEOUT_MS,
    );
  });
}

describe('billetera check usage', () => {
  it(
    'exits 2 without a database or with an unknown option, and says why',
    async () => {
      const empty = mkdtempSync(join(tmpdir(), 'billetera-check-'));
      const nowhere = { dataDir: empty, databaseUrl: undefined } as BackendEnv;
      try {
        const [missing, unknown] = await Promise.all([
          runCli(nowhere, ['check']),
          runCli(nowhere, ['check', '--jsn']),
        ]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain(`no database at ${join(empty, 'billetera.sqlite')}`);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toContain("unknown option '--jsn'");
        expect(missing.stdout + unknown.stdout).toBe('');
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    },
    CLI_TIMEOUT_MS,
  );
});

/** The same payment's money moved a second time, with direct SQL: a balanced entry, balances applied. */
async function doubleDebit(wallet: RunningWallet, paymentId: string): Promise<void> {
  await wallet.ctx.store.transaction(async (tx) => {
    const payment = await tx
      .selectFrom('payments')
      .select(['amount', 'user_id', 'merchant_id'])
      .where('id', '=', paymentId)
      .executeTakeFirstOrThrow();
    const account = async (ownerType: string, ownerId: string | null) =>
      (
        await tx
          .selectFrom('accounts')
          .select('id')
          .where('owner_type', '=', ownerType)
          .where('owner_id', '=', ownerId ?? '')
          .where('currency', '=', 'USD')
          .executeTakeFirstOrThrow()
      ).id;
    const lines = [
      { account: await account('USER', payment.user_id), amount: -payment.amount },
      { account: await account('MERCHANT', payment.merchant_id), amount: payment.amount },
    ];
    await tx
      .insertInto('journal_entries')
      .values({ id: 'jnl_second_debit', kind: 'PAYMENT', reference_id: paymentId, created_at: 1n })
      .execute();
    for (const [i, line] of lines.entries()) {
      await tx
        .insertInto('postings')
        .values({
          entry_id: 'jnl_second_debit',
          line: BigInt(i + 1),
          account_id: line.account,
          currency: 'USD',
          amount: line.amount,
        })
        .execute();
      await tx
        .updateTable('accounts')
        .set({ balance: sql`balance + ${line.amount}` })
        .where('id', '=', line.account)
        .execute();
    }
  });
}
