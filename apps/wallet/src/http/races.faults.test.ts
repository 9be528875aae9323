/**
 * Issue 8, duplicates and races, over real HTTP on both databases (a SQLite file and a real PostgreSQL),
 * with a merchant written only from the spec and users signed in through the cashier's own forms.
 *
 * The service-level concurrency tests (confirm-payment.concurrency, refund-payment.concurrency) race the
 * use cases in one process; this suite races the wire, where the duplicates really come from:
 *   1. hundreds (long: 1,000) of concurrent identical signed `pay` requests -> one order, every answer
 *      ACCEPT with the same paymentId, exactly one of them not a replay (timed and printed);
 *   2. one paymentRequestId raced with different bodies (another amount, the v2 API) -> one order, the
 *      winner's requests all ACCEPT, every other one REPEAT_REQ_INCONSISTENT, now and afterwards;
 *   3. confirms of one order from two signed-in sessions of the same user and two devices in the host
 *      (the embedded cashier) at once -> one debit, one notification, every device lands on "paid";
 *   4. signed refunds racing to exceed the paid amount (v1 and v2, with duplicates) -> the successes never
 *      exceed it and equal what moved, the losers get REFUND_AMOUNT_EXCEED, duplicates agree;
 *   5. a confirm racing the expiry (fake clock at the edge + the sweeper) and a signed cancel -> one final
 *      state: paid (one debit, paid before the expiry time, notified SUCCESS), expired (no debit, notified
 *      FAIL) or cancelled (no debit, not notified), many rounds;
 * each ending with the ledger checked (balanced, balances equal their postings, none negative) and the
 * balances the outcomes imply.
 */
import { fundingAccount, FakeClock, merchantAccount, userAccount } from '@billetera/domain';
import {
  balanceOf,
  checkLedger,
  findPaymentById,
  notificationsForPayment,
  refundsForPayment,
} from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { expectInvariants } from '../../../../test/invariants.ts';
import { scale, timeoutMs } from '../../../../test/long.ts';
import {
  isoNow,
  specCall,
  specSign,
  type SpecReply,
  startNotifyReceiver,
} from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { Notifier } from '../workers/notifier.ts';

const PAY_V1 = '/api/open/v1/payments/pay';
const PAY_V2 = '/api/open/v2/payments/pay';
const CANCEL = '/api/open/v1/payments/cancel';
const REFUND_V1 = '/api/open/v1/payments/refund';
const REFUND_V2 = '/api/open/v2/payments/refund';

/** A person's browser: keeps its cookies, and its session's CSRF token once signed in. */
class Device {
  private readonly cookies = new Map<string, string>();
  csrf = '';
  constructor(private readonly base: string) {}

  async send(method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0] ?? '';
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
      if (value === '' || /max-age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text() };
  }

  /** Signs in through the cashier's sign-in form, as a person would. */
  async signIn(paymentId: string, user: { phone: string; pin: string }): Promise<void> {
    const page = await this.send('GET', `/cashier/${paymentId}`);
    const loginCsrf = csrfOf(page.text);
    const res = await this.send('POST', '/login', {
      _csrf: loginCsrf,
      phone: user.phone,
      pin: user.pin,
      next: '/app',
    });
    expect([res.status, res.location]).toEqual([303, '/app']);
    this.csrf = csrfOf((await this.send('GET', '/app')).text);
  }

  confirm(paymentId: string, pin: string, embedded: boolean) {
    return this.send('POST', `/cashier/${paymentId}/confirm${embedded ? '?embed=1' : ''}`, {
      _csrf: this.csrf,
      pin,
    });
  }
}

function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF token on the page');
  return token;
}

const random = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`duplicates and races over HTTP on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
    // The wallet's clock: it stays at real time unless a round moves it to an order's expiry edge.
    const clock = new FakeClock(Date.now());
    let n = 0;
    const requestId = (what: string) => `${what}-${++n}-${random(1e9)}`;

    const auth = (time = isoNow(clock.now())) => ({
      clientId: shop.merchant.clientId,
      privateKey: shop.keys.privateKey,
      requestTime: time,
    });
    const call = (path: string, body: object) => specCall(wallet.url, path, JSON.stringify(body), auth());
    const payBody = (paymentRequestId: string, value: string, extra: object = {}) => ({
      partnerId: shop.merchant.partnerId,
      paymentRequestId,
      paymentOrderTitle: 'Race',
      paymentAmount: { currency: 'USD', value },
      ...extra,
    });
    async function pay(value: string, extra: object = {}): Promise<string> {
      const reply = await call(PAY_V1, payBody(requestId('order'), value, extra));
      expect(reply.body.result.resultCode).toBe('ACCEPT');
      return reply.body['paymentId'] as string;
    }
    const journal = async (referenceId: string, kind: string) =>
      (
        await wallet.ctx.store.db
          .selectFrom('journal_entries')
          .select('id')
          .where('reference_id', '=', referenceId)
          .where('kind', '=', kind)
          .execute()
      ).length;

    beforeAll(async () => {
      env = await backend.create();
      // The rate limits (per merchant, and per IP on PIN posts) are raised far above the storms below:
      // this suite proves what happens when the duplicates do reach the use cases.
      const unlimited = { perSecond: 1_000_000, burst: 1_000_000 };
      wallet = await startTestWallet(env, {
        clock,
        workers: false,
        rateLimits: { merchant: unlimited, openApiIp: unlimited, pin: unlimited, signIn: unlimited },
      });
      receiver = await startNotifyReceiver();
      shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url, name: 'Race Shop' });
    });
    afterAll(async () => {
      if (wallet) {
        // Every race leaves the ledger balanced, every balance equal to its postings, none negative.
        expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);
        await expectInvariants(wallet.ctx.store.db);
        // What the platform funded is exactly what users and the merchant now hold between them.
        const funded = -(await balanceOf(wallet.ctx.store.db, fundingAccount('USD')));
        const held = await wallet.ctx.store.db
          .selectFrom('accounts')
          .select((eb) => eb.fn.sum<bigint>('balance').as('total'))
          .where('owner_type', '!=', 'PLATFORM')
          .where('currency', '=', 'USD')
          .executeTakeFirst();
        expect(BigInt(held?.total ?? 0)).toBe(funded);
      }
      await wallet?.close();
      await receiver?.close();
      await env?.cleanup();
    });

    it(
      'concurrent identical signed pay requests create one order, and every answer carries its paymentId',
      async () => {
        const count = scale(200, 1_000);
        const paymentRequestId = requestId('storm');
        const body = JSON.stringify(payBody(paymentRequestId, '4200'));
        // Each request signed on its own, as a merchant's retrying clients would send it.
        const base = clock.now();
        const requests = Array.from({ length: count }, (_, i) => {
          const time = isoNow(base - i);
          return {
            'Content-Type': 'application/json; charset=UTF-8',
            'Client-Id': shop.merchant.clientId,
            'Request-Time': time,
            Signature: `algorithm=RSA256,keyVersion=1,signature=${specSign(PAY_V1, shop.merchant.clientId, time, body, shop.keys.privateKey)}`,
          };
        });
        const t0 = performance.now();
        const replies = await Promise.all(
          requests.map(async (headers) => {
            const res = await fetch(wallet.url + PAY_V1, { method: 'POST', headers, body });
            return {
              status: res.status,
              replayed: res.headers.get('idempotent-replayed'),
              body: (await res.json()) as SpecReply['body'],
            };
          }),
        );
        const ms = performance.now() - t0;

        const codes = new Map<string, number>();
        for (const r of replies)
          codes.set(r.body.result.resultCode, (codes.get(r.body.result.resultCode) ?? 0) + 1);
        expect(Object.fromEntries(codes)).toEqual({ ACCEPT: count });
        expect(replies.every((r) => r.status === 200)).toBe(true);
        const ids = new Set(replies.map((r) => r.body['paymentId']));
        expect(ids.size).toBe(1);
        expect(replies.filter((r) => r.replayed !== 'true')).toHaveLength(1);
        const rows = await wallet.ctx.store.db
          .selectFrom('payments')
          .select(['id', 'amount', 'status'])
          .where('merchant_id', '=', shop.merchant.id)
          .where('payment_request_id', '=', paymentRequestId)
          .execute();
        expect(rows).toEqual([{ id: [...ids][0], amount: 4200n, status: 'PROCESSING' }]);
        await expectInvariants(wallet.ctx.store.db);
        console.log(
          `faults: races ${backend.name}: ${count} concurrent identical pay requests -> 1 order, ` +
            `${count} answers with its paymentId, in ${Math.round(ms)} ms (${Math.round((count * 1000) / ms)} req/s)`,
        );
      },
      timeoutMs(30_000, 120_000),
    );

    it(
      'one paymentRequestId raced with different bodies: one order, the others REPEAT_REQ_INCONSISTENT',
      async () => {
        const rounds = scale(10, 100);
        const perVariant = scale(3, 8);
        const wins = { v1: 0, 'v1-other-amount': 0, v2: 0 };
        for (let round = 0; round < rounds; round++) {
          const id = requestId('mixed');
          const variants = {
            v1: { path: PAY_V1, body: payBody(id, '1000'), amount: 1000n },
            'v1-other-amount': { path: PAY_V1, body: payBody(id, '1001'), amount: 1001n },
            v2: {
              path: PAY_V2,
              body: {
                paymentRequestId: id,
                paymentAmount: { currency: 'USD', value: '1000' },
                order: { orderDescription: 'Race' },
              },
              amount: 1000n,
            },
          };
          const names = Object.keys(variants) as (keyof typeof variants)[];
          const sends = names.flatMap((name) => Array.from({ length: perVariant }, () => name));
          sends.sort(() => Math.random() - 0.5);
          const replies = await Promise.all(
            sends.map(async (name) => ({
              name,
              reply: await call(variants[name].path, variants[name].body),
            })),
          );
          const accepted = new Set(
            replies.filter((r) => r.reply.body.result.resultCode === 'ACCEPT').map((r) => r.name),
          );
          expect(accepted.size, `round ${round}: exactly one body wins`).toBe(1);
          const winner = [...accepted][0]!;
          wins[winner]++;
          for (const { name, reply } of replies) {
            expect(reply.status).toBe(200);
            expect(reply.body.result, `${name} (winner ${winner})`).toMatchObject(
              name === winner
                ? { resultStatus: 'A', resultCode: 'ACCEPT' }
                : { resultStatus: 'F', resultCode: 'REPEAT_REQ_INCONSISTENT' },
            );
          }
          const paymentIds = new Set(
            replies.filter((r) => r.name === winner).map((r) => r.reply.body['paymentId']),
          );
          expect(paymentIds.size).toBe(1);
          const rows = await wallet.ctx.store.db
            .selectFrom('payments')
            .select(['id', 'amount', 'api_version'])
            .where('merchant_id', '=', shop.merchant.id)
            .where('payment_request_id', '=', id)
            .execute();
          expect(rows).toEqual([
            {
              id: [...paymentIds][0],
              amount: variants[winner].amount,
              api_version: winner === 'v2' ? 'v2' : 'v1',
            },
          ]);
          // Afterwards too: a loser is refused, the winner replayed.
          const loser = names.find((x) => x !== winner)!;
          expect((await call(variants[loser].path, variants[loser].body)).body.result.resultCode).toBe(
            'REPEAT_REQ_INCONSISTENT',
          );
          const again = await call(variants[winner].path, variants[winner].body);
          expect([
            again.body.result.resultCode,
            again.body['paymentId'],
            again.headers['idempotent-replayed'],
          ]).toEqual(['ACCEPT', [...paymentIds][0], 'true']);
        }
        await expectInvariants(wallet.ctx.store.db);
        console.log(
          `faults: races ${backend.name}: ${rounds} rounds of ${3 * perVariant} pay requests with one ` +
            `paymentRequestId and 3 bodies -> 1 order each (wins: ${JSON.stringify(wins)})`,
        );
      },
      timeoutMs(30_000, 180_000),
    );

    it(
      'confirms of one order from two sessions and two host devices of the same user: one debit',
      async () => {
        const user = await addUser(wallet.ctx, { USD: 10_000_000n });
        const first = await pay('100');
        // Two browser sessions (the cashier page) and two phones in the host app (the embedded cashier).
        const devices = [0, 1, 2, 3].map(() => new Device(wallet.url));
        for (const d of devices) await d.signIn(first, user);
        const embedded = [false, false, true, true];
        const before = await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'));
        const rounds = scale(10, 200);
        let paidTotal = 0n;
        for (let round = 0; round < rounds; round++) {
          const amount = 100 + random(900);
          const paymentId = round === 0 ? first : await pay(String(amount));
          const value = round === 0 ? 100n : BigInt(amount);
          const answers = await Promise.all(
            devices.map((d, i) => d.confirm(paymentId, user.pin, embedded[i]!)),
          );
          // Post/redirect/get: every device is sent back to the cashier, which now shows the success page.
          for (const [i, a] of answers.entries()) {
            expect(a.status, `device ${i}`).toBe(303);
            expect(a.location).toBe(`/cashier/${paymentId}${embedded[i] ? '?embed=1' : ''}`);
          }
          const pages = await Promise.all(devices.map((d, i) => d.send('GET', answers[i]!.location)));
          for (const p of pages) expect(p.text).toContain('Payment successful');
          expect(await findPaymentById(wallet.ctx.store.db, paymentId)).toMatchObject({
            status: 'SUCCESS',
            userId: user.id,
          });
          expect(await journal(paymentId, 'PAYMENT'), `round ${round}: one debit`).toBe(1);
          expect(await notificationsForPayment(wallet.ctx.store.db, paymentId)).toHaveLength(1);
          paidTotal += value;
        }
        expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(before - paidTotal);
        await expectInvariants(wallet.ctx.store.db);
        console.log(
          `faults: races ${backend.name}: ${rounds} orders confirmed at once from 4 devices of one user ` +
            `(2 sessions, 2 host devices) -> ${rounds} debits, ${rounds * 3} duplicate confirms refused`,
        );
      },
      timeoutMs(30_000, 240_000),
    );

    it(
      'signed refunds racing to exceed the paid amount never exceed it; losers get REFUND_AMOUNT_EXCEED',
      async () => {
        const user = await addUser(wallet.ctx, { USD: 10_000_000n });
        const payer = new Device(wallet.url);
        const rounds = scale(8, 100);
        let raced = 0;
        let refundedTotal = 0n;
        let paidTotal = 0n;
        for (let round = 0; round < rounds; round++) {
          const amount = 1_000 + random(4_000);
          const paymentId = await pay(String(amount));
          if (round === 0) await payer.signIn(paymentId, user);
          expect((await payer.confirm(paymentId, user.pin, false)).status).toBe(303);
          paidTotal += BigInt(amount);
          // Distinct refunds asking, together, for about twice the payment; some sent twice or thrice.
          const distinct = scale(6, 12);
          const asks = Array.from({ length: distinct }, (_, i) => ({
            refundRequestId: requestId(`refund-${i}`),
            value: String(1 + random(Math.ceil((2 * amount) / distinct) * 2)),
            v2: Math.random() < 0.5,
          }));
          const sends = asks.flatMap((a) => Array.from({ length: 1 + random(3) }, () => a));
          sends.sort(() => Math.random() - 0.5);
          raced += sends.length;
          const replies = await Promise.all(
            sends.map(async (a) => ({
              ask: a,
              reply: await call(a.v2 ? REFUND_V2 : REFUND_V1, {
                ...(a.v2 ? {} : { partnerId: shop.merchant.partnerId }),
                refundRequestId: a.refundRequestId,
                paymentId,
                refundAmount: { currency: 'USD', value: a.value },
              }),
            })),
          );
          let succeeded = 0n;
          for (const ask of asks) {
            const mine = replies.filter((r) => r.ask === ask).map((r) => r.reply.body);
            const codes = new Set(mine.map((b) => b.result.resultCode));
            expect(codes.size, `duplicates of ${ask.refundRequestId} agree`).toBe(1);
            const [code] = codes;
            expect(['SUCCESS', 'REFUND_AMOUNT_EXCEED']).toContain(code);
            if (code === 'SUCCESS') {
              expect(new Set(mine.map((b) => b['refundId'])).size).toBe(1);
              succeeded += BigInt(ask.value);
            }
          }
          expect(succeeded).toBeLessThanOrEqual(BigInt(amount));
          const payment = await findPaymentById(wallet.ctx.store.db, paymentId);
          expect(payment?.refundedAmount).toBe(succeeded);
          const refunds = await refundsForPayment(wallet.ctx.store.db, paymentId);
          expect(refunds.reduce((s, r) => s + r.amount, 0n)).toBe(succeeded);
          for (const r of refunds) expect(await journal(r.id, 'REFUND')).toBe(1);
          refundedTotal += succeeded;
        }
        expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(
          10_000_000n - paidTotal + refundedTotal,
        );
        await expectInvariants(wallet.ctx.store.db);
        console.log(
          `faults: races ${backend.name}: ${rounds} payments, ${raced} concurrent refund requests asking for ~2x ` +
            `each payment -> refunded ${refundedTotal} of ${paidTotal} paid, never above a payment`,
        );
      },
      timeoutMs(30_000, 240_000),
    );

    it(
      'a confirm racing the expiry sweeper and a cancel ends in exactly one consistent state',
      async () => {
        const user = await addUser(wallet.ctx, { USD: 100_000_000n });
        const device = new Device(wallet.url);
        const merchantBefore = await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'));
        const rounds = scale(20, 500);
        const tally: Record<string, number> = {};
        const outcomes: { paymentId: string; status: string }[] = [];
        let paid = 0n;
        for (let round = 0; round < rounds; round++) {
          const racers = (['expiry', 'cancel', 'both'] as const)[round % 3]!;
          const paymentId = await pay('500', { paymentExpiryTime: isoNow(clock.now() + 10_000) });
          if (round === 0) await device.signIn(paymentId, user);
          const { expiresAt } = (await findPaymentById(wallet.ctx.store.db, paymentId))!;
          clock.set(expiresAt - 1 - random(3)); // the last milliseconds before the order's time

          const confirming = device.confirm(paymentId, user.pin, round % 2 === 0);
          const expiring =
            racers === 'cancel'
              ? Promise.resolve(0)
              : sleep(random(8)).then(() => {
                  clock.set(expiresAt);
                  return wallet.sweeper.sweep();
                });
          const cancelling: Promise<SpecReply | undefined> =
            racers === 'expiry'
              ? Promise.resolve(undefined)
              : sleep(random(8)).then(() =>
                  specCall(
                    wallet.url,
                    CANCEL,
                    JSON.stringify({ partnerId: shop.merchant.partnerId, paymentId }),
                    auth(),
                  ),
                );
          const [confirmed, , cancel] = await Promise.all([confirming, expiring, cancelling]);
          if (racers === 'cancel') clock.set(expiresAt); // settle: the order's time has come
          await wallet.sweeper.sweep();

          const p = (await findPaymentById(wallet.ctx.store.db, paymentId))!;
          const debits = await journal(paymentId, 'PAYMENT');
          const notices = await notificationsForPayment(wallet.ctx.store.db, paymentId);
          const noticeStatus = notices.map(
            (x) => (JSON.parse(x.body) as { paymentStatus: string }).paymentStatus,
          );
          const page = await device.send('GET', confirmed.location);
          const what = `round ${round} (${racers}): ${p.status}`;
          expect(confirmed.status, what).toBe(303);
          switch (p.status) {
            case 'SUCCESS':
              expect(debits, what).toBe(1);
              expect(p.paidAt!, what).toBeLessThan(expiresAt);
              expect(noticeStatus, what).toEqual(['SUCCESS']);
              if (cancel) expect(cancel.body.result.resultCode, what).toBe('ORDER_STATUS_INVALID');
              expect(page.text, what).toContain('Payment successful');
              paid += 500n;
              break;
            case 'FAIL':
              expect(p.failReason, what).toBe('ORDER_EXPIRED');
              expect(debits, what).toBe(0);
              expect(noticeStatus, what).toEqual(['FAIL']);
              if (cancel) expect(cancel.body.result.resultCode, what).toBe('ORDER_STATUS_INVALID');
              expect(page.text, what).toContain('This order has expired');
              break;
            case 'CANCELLED':
              expect(racers, what).not.toBe('expiry');
              expect(debits, what).toBe(0);
              expect(noticeStatus, what).toEqual([]);
              expect(cancel?.body.result.resultCode, what).toBe('SUCCESS');
              break;
            default:
              expect.unreachable(`${what}: the order is still open after its time`);
          }
          const key = `${racers}->${p.status}`;
          tally[key] = (tally[key] ?? 0) + 1;
          outcomes.push({ paymentId, status: p.status });
          clock.set(Math.max(clock.now(), Date.now()));
        }

        // Paid and notified, or closed with no debit: the merchant hears of every paid and expired order.
        const before = receiver.received.length;
        await new Notifier(wallet.ctx, { owner: 'races' }).drain();
        const heard = new Map<string, string>();
        for (const r of receiver.received.slice(before)) {
          const b = JSON.parse(r.rawBody) as { paymentId: string; paymentStatus: string };
          heard.set(b.paymentId, b.paymentStatus);
        }
        for (const o of outcomes)
          expect(heard.get(o.paymentId), o.paymentId).toBe(o.status === 'CANCELLED' ? undefined : o.status);
        expect(await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'))).toBe(
          merchantBefore + paid,
        );
        expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(100_000_000n - paid);
        await expectInvariants(wallet.ctx.store.db);
        console.log(
          `faults: races ${backend.name}: ${rounds} confirms racing expiry/cancel at the edge -> ` +
            `one final state each ${JSON.stringify(tally)}`,
        );
      },
      timeoutMs(60_000, 600_000),
    );
  });
}
