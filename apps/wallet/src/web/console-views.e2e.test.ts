/**
 * The console's credentials, payments, timelines and notifications over real HTTP, on a SQLite file and
 * a real PostgreSQL: key rotation with signed OpenAPI calls (v1 and v2 both accepted during the overlap,
 * v1 KEY_NOT_FOUND the moment it is retired), the payments search and its keyset pages, a payment's
 * timeline, redelivery from the console, and one merchant never seeing or touching another's data.
 */
import { generateKeyPairSync } from 'node:crypto';
import { FakeClock, MAX_ATTEMPTS, RETRY_LADDER_MS } from '@billetera/domain';
import {
  activeMerchantKeys,
  findNotification,
  findPaymentById,
  notificationsForPayment,
  setMerchantStatus,
} from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { isoNow, specCall, specSign, startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { cancelPayment } from '../services/cancel-payment.ts';
import { CONSOLE_PAGE_SIZE } from '../services/console-views.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createPayment } from '../services/create-payment.ts';
import { expirePaymentInTx } from '../services/expire-payment.ts';
import { keyFingerprint } from '../services/credentials.ts';
import { refundPayment } from '../services/refund-payment.ts';
import { Notifier } from '../workers/notifier.ts';
import type { RunningWallet } from '../wallet.ts';
import { consoleClient, unescapeHref } from './console-test-session.ts';

const PAY = '/api/open/v1/payments/pay';

/** The payment ids a console page links to, in page order. */
const paymentLinks = (body: string): string[] =>
  [...body.matchAll(/href="\/console\/payments\/(pay_[A-Za-z0-9_-]+)"/g)].map((m) => m[1] ?? '');
const nextLink = (body: string): string | undefined => {
  const m = /<a\s+href="([^"]+)"\s+rel="next"/.exec(body);
  return m?.[1] && unescapeHref(m[1]);
};

for (const backend of BACKENDS) {
  describe(`console views over HTTP on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    // A fixed day (for the date filters), advanced by hand.
    const clock = new FakeClock(Date.UTC(2027, 2, 10, 9, 0, 0));
    let n = 0;
    const uid = (p: string) => `${p}-${++n}`;

    async function pay(
      who: TestMerchant,
      o: { keyVersion?: number; key?: TestMerchant['keys']['privateKey'] } = {},
    ) {
      const body = JSON.stringify({
        partnerId: who.merchant.partnerId,
        paymentRequestId: uid('rot'),
        paymentOrderTitle: 'Rotation',
        paymentAmount: { currency: 'USD', value: '100' },
      });
      return specCall(wallet.url, PAY, body, {
        clientId: who.merchant.clientId,
        privateKey: o.key ?? who.keys.privateKey,
        keyVersion: o.keyVersion,
        requestTime: isoNow(clock.now()),
      });
    }

    async function newPayment(who: TestMerchant, title = 'Tea', value = '250'): Promise<string> {
      const out = await createPayment(wallet.ctx, who.merchant, {
        partnerId: who.merchant.partnerId,
        paymentRequestId: uid('req'),
        paymentOrderTitle: title,
        paymentAmount: { currency: 'USD', value },
      });
      const id = out.reply.paymentId;
      if (!id) throw new Error(JSON.stringify(out.reply));
      return id;
    }

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('rotates keys: v1 and v2 both verify during the overlap, v1 is KEY_NOT_FOUND as soon as it is retired', async () => {
      const shop = await addMerchant(wallet.ctx, { name: 'Rotating Shop' });
      const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
      // v1 in use: the OpenAPI has the merchant cached with v1 only.
      expect((await pay(shop, { keyVersion: 1 })).body.result.resultCode).toBe('ACCEPT');

      const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const nextPem = next.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const added = await web.post('/console/credentials/keys', { publicKeyPem: nextPem });
      expect(added.status).toBe(303);
      expect(added.location).toBe('/console/credentials?added=2#key-2');

      // The overlap: both versions verify, at once.
      expect((await pay(shop, { keyVersion: 2, key: next.privateKey })).body.result.resultCode).toBe(
        'ACCEPT',
      );
      expect((await pay(shop, { keyVersion: 1 })).body.result.resultCode).toBe('ACCEPT');
      // Signed with v1 but naming v2: the signature check uses v2's key.
      expect((await pay(shop, { keyVersion: 2 })).body.result.resultCode).toBe('INVALID_SIGNATURE');

      const page = await web.get('/console/credentials?added=2');
      expect(page.status).toBe(200);
      expect(page.body).toContain('Key version 2 added');
      expect(page.body).toContain(shop.merchant.clientId);
      expect(page.body).toContain(shop.merchant.partnerId);
      expect(page.body).toContain(`${wallet.ctx.publicUrl}/api/open`);
      expect(page.body).toContain(keyFingerprint(nextPem));
      expect(page.body).toContain(keyFingerprint(shop.keys.publicKeyPem));

      const confirm = await web.get('/console/credentials/keys/1/retire');
      expect(confirm.status).toBe(200);
      expect(confirm.body).toContain('KEY_NOT_FOUND');
      const retired = await web.post('/console/credentials/keys/1/retire', {});
      expect(retired.status).toBe(303);
      expect(retired.location).toBe('/console/credentials?retired=1');

      // At once, in this process: no waiting for the cache's TTL.
      const old = await pay(shop, { keyVersion: 1 });
      expect(old.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'KEY_NOT_FOUND' });
      expect((await pay(shop, { keyVersion: 2, key: next.privateKey })).body.result.resultCode).toBe(
        'ACCEPT',
      );
      // Without a keyVersion the newest active key (v2) is used.
      const time = isoNow(clock.now());
      const body = JSON.stringify({
        partnerId: shop.merchant.partnerId,
        paymentRequestId: uid('nokv'),
        paymentOrderTitle: 'Rotation',
        paymentAmount: { currency: 'USD', value: '100' },
      });
      const sig = specSign(PAY, shop.merchant.clientId, time, body, next.privateKey);
      const noVersion = await specCall(wallet.url, PAY, body, {
        clientId: shop.merchant.clientId,
        privateKey: next.privateKey,
        requestTime: time,
        signatureHeader: `algorithm=RSA256,signature=${sig}`,
      });
      expect(noVersion.body.result.resultCode).toBe('ACCEPT');

      // The last active key cannot be retired; the page says what to do instead.
      expect((await web.get('/console/credentials/keys/2/retire')).status).toBe(409);
      const last = await web.post('/console/credentials/keys/2/retire', {});
      expect(last.status).toBe(409);
      expect(last.body).toContain('add a new one first');
      expect(
        (await activeMerchantKeys(wallet.ctx.store.db, shop.merchant.id)).map((k) => k.keyVersion),
      ).toEqual([2]);
      // Retiring again, or a version that does not exist.
      expect((await web.post('/console/credentials/keys/1/retire', {})).status).toBe(409);
      expect((await web.post('/console/credentials/keys/7/retire', {})).status).toBe(404);
      expect((await web.get('/console/credentials/keys/7/retire')).status).toBe(404);
    });

    it('refuses a pasted private key without echoing it, and bad keys with a reason', async () => {
      const shop = await addMerchant(wallet.ctx);
      const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
      const privatePem = shop.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const refused = await web.post('/console/credentials/keys', { publicKeyPem: privatePem });
      expect(refused.status).toBe(422);
      expect(refused.body).toContain('That is a PRIVATE key. Billetera did not keep it.');
      for (const line of privatePem.split('\n').filter((l) => l && !l.startsWith('-----')))
        expect(refused.body).not.toContain(line.slice(0, 20));
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
        type: 'spki',
        format: 'pem',
      });
      const short = await web.post('/console/credentials/keys', { publicKeyPem: weak.toString() });
      expect(short.status).toBe(422);
      expect(short.body).toContain('at least 2048');
      const dup = await web.post('/console/credentials/keys', { publicKeyPem: shop.keys.publicKeyPem });
      expect(dup.status).toBe(409);
      expect(await activeMerchantKeys(wallet.ctx.store.db, shop.merchant.id)).toHaveLength(1);
    });

    it('shows a merchant verified from the command line as verified, without licence steps it never took', async () => {
      const shop = await addMerchant(wallet.ctx);
      const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
      const overview = await web.get('/console');
      expect(overview.status).toBe(200);
      expect(overview.body).toContain(shop.merchant.clientId);
      expect(overview.body).not.toContain('Licence submitted');
      expect(overview.body).not.toContain('ob-steps');
    });

    it('checks the CSRF token, and sends signed-out visitors to sign in', async () => {
      const shop = await addMerchant(wallet.ctx);
      const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
      expect(
        (await web.post('/console/credentials/keys', { publicKeyPem: pem }, { csrf: null })).status,
      ).toBe(403);
      expect(
        (await web.post('/console/credentials/keys', { publicKeyPem: pem }, { csrf: 'x'.repeat(43) })).status,
      ).toBe(403);
      expect(await activeMerchantKeys(wallet.ctx.store.db, shop.merchant.id)).toHaveLength(1);

      for (const path of ['/console/credentials', '/console/payments', '/console/notifications']) {
        const res = await fetch(wallet.url + path, { redirect: 'manual' });
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toBe(`/console/sign-in?next=${encodeURIComponent(path)}`);
      }
      const post = await fetch(`${wallet.url}/console/credentials/keys/1/retire`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(post.status).toBe(303);
      expect(post.headers.get('location')).toBe('/console/sign-in');

      const pemFile = await web.get('/console/credentials/wallet-public-key.pem');
      expect(pemFile.status).toBe(200);
      expect(pemFile.headers.get('content-disposition')).toBe(
        'attachment; filename="billetera-wallet-public-key-v1.pem"',
      );
      expect(pemFile.body).toBe(wallet.ctx.secrets.walletPublicKeyPem);
    });

    it('shows an unverified merchant why, and a frozen one everything read-only', async () => {
      const draft = await addMerchant(wallet.ctx, { verified: false });
      const web = await consoleClient(wallet.ctx, wallet.url, draft.merchant.id);
      for (const path of ['/console/credentials', '/console/payments', '/console/notifications']) {
        const page = await web.get(path);
        expect(page.status).toBe(200);
        expect(page.body).toContain('once your business is verified');
        expect(page.body).toContain('Draft');
        expect(page.body).toContain('href="/console"');
        expect(page.body).not.toContain(draft.merchant.clientId);
      }
      expect((await web.post('/console/credentials/keys', { publicKeyPem: 'x' })).status).toBe(403);
      expect((await web.post('/console/credentials/keys/1/retire', {})).status).toBe(403);

      const frozen = await addMerchant(wallet.ctx, { notifyUrl: 'http://127.0.0.1:9/notify' });
      const paymentId = await newPayment(frozen);
      const user = await addUser(wallet.ctx, { USD: 10_000n });
      await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin });
      const [notice] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      await wallet.ctx.store.db
        .updateTable('notifications')
        .set({ status: 'FAILED' })
        .where('id', '=', notice!.id)
        .execute();
      await setMerchantStatus(wallet.ctx.store.db, frozen.merchant.id, 'FROZEN');
      const fweb = await consoleClient(wallet.ctx, wallet.url, frozen.merchant.id);
      const creds = await fweb.get('/console/credentials');
      expect(creds.status).toBe(200);
      expect(creds.body).toContain(frozen.merchant.clientId);
      expect(creds.body).toContain('frozen');
      expect(creds.body).not.toContain('add-key-form');
      expect(creds.body).not.toContain('Retire…');
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
      expect((await fweb.post('/console/credentials/keys', { publicKeyPem: pem })).status).toBe(403);
      const list = await fweb.get('/console/notifications');
      expect(list.status).toBe(200);
      expect(list.body).toContain(notice!.id);
      expect(list.body).not.toContain('/redeliver');
      expect((await fweb.get(`/console/payments/${paymentId}`)).body).not.toContain('/redeliver');
      expect((await fweb.post(`/console/notifications/${notice!.id}/redeliver`, {})).status).toBe(403);
      expect(await findNotification(wallet.ctx.store.db, notice!.id)).toMatchObject({
        status: 'FAILED',
        redeliveries: 0,
      });
    });

    it('searches payments by id, status and dates, newest first, in keyset pages of 50', async () => {
      const shop = await addMerchant(wallet.ctx, { name: 'Busy Shop' });
      const other = await addMerchant(wallet.ctx, { name: 'Other Shop' });
      const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
      const user = await addUser(wallet.ctx, { USD: 1_000_000n });
      const day1 = Date.UTC(2027, 2, 11, 8, 0, 0);
      const day2 = Date.UTC(2027, 2, 12, 8, 0, 0);

      clock.set(day1);
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        // Five share one created_at: the pages must still neither repeat nor skip any.
        if (i < 25 || i === 29) clock.advance(1_000);
        ids.push(await newPayment(shop, `Order ${i}`));
      }
      clock.set(day2);
      for (let i = 30; i < 56; i++) {
        clock.advance(1_000);
        ids.push(await newPayment(shop, `Order ${i}`));
      }
      const otherId = await newPayment(other, 'Not yours');
      const paid = ids.slice(40, 43);
      for (const id of paid)
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      const cancelled = ids.slice(43, 45);
      for (const id of cancelled) await cancelPayment(wallet.ctx, shop.merchant, { paymentId: id });

      // Every page, following "Older payments".
      const seen: string[] = [];
      let path: string | undefined = '/console/payments';
      let pages = 0;
      while (path) {
        const page = await web.get(path);
        expect(page.status).toBe(200);
        const links = paymentLinks(page.body);
        expect(links.length).toBeLessThanOrEqual(CONSOLE_PAGE_SIZE);
        seen.push(...links);
        path = nextLink(page.body);
        pages++;
      }
      expect(pages).toBe(2);
      expect(seen).toHaveLength(56);
      expect(new Set(seen).size).toBe(56);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen).not.toContain(otherId);
      // Newest first.
      expect(seen[0]).toBe(ids[55]);
      expect(seen[55]).toBe(ids[0]);

      const q = async (query: string) => {
        const page = await web.get(`/console/payments?${query}`);
        return { status: page.status, ids: paymentLinks(page.body), body: page.body };
      };
      expect((await q(`q=${ids[7]}`)).ids).toEqual([ids[7]]);
      const seventh = await findPaymentById(wallet.ctx.store.db, ids[7]!);
      expect((await q(`q=${seventh!.paymentRequestId}`)).ids).toEqual([ids[7]]);
      expect((await q(`q=${otherId}`)).ids).toEqual([]);
      expect((await q(`q=${otherId}`)).body).toContain('No payment matches these filters.');
      expect(new Set((await q('status=SUCCESS')).ids)).toEqual(new Set(paid));
      expect(new Set((await q('status=CANCELLED')).ids)).toEqual(new Set(cancelled));
      expect((await q('status=PROCESSING')).ids).toHaveLength(50);
      expect((await q('from=2027-03-12')).ids).toHaveLength(26);
      expect((await q('to=2027-03-11')).ids).toHaveLength(30);
      expect((await q('from=2027-03-11&to=2027-03-11')).ids).toHaveLength(30);
      expect((await q('from=2027-03-13')).ids).toHaveLength(0);
      expect((await q('from=2027-03-12&status=SUCCESS')).ids).toHaveLength(3);
      const paidPage = await q(`q=${paid[0]}`);
      expect(paidPage.body).toContain('2.50 USD');
      expect(paidPage.body).toContain('Paid');

      const badStatus = await q('status=NOPE');
      expect(badStatus.status).toBe(400);
      expect(badStatus.body).toContain('Status must be one of');
      expect((await q('from=2027-02-30')).status).toBe(400);
      const reversed = await q('from=2027-03-12&to=2027-03-11');
      expect(reversed.status).toBe(400);
      expect(reversed.body).toContain('&quot;From&quot; is after &quot;To&quot;.');
      // A query is text, never markup.
      expect((await q('q=%3Cscript%3Ealert(1)%3C%2Fscript%3E')).body).not.toContain('<script>alert(1)');
    });

    it('shows a payment timeline: created, paid, notified with every attempt, refunded, and nothing about the payer', async () => {
      let calls = 0;
      const receiver = await startNotifyReceiver(() =>
        ++calls === 1
          ? { status: 500, body: '<script>alert("x")</script> boom' }
          : {
              status: 200,
              body: '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
            },
      );
      try {
        const shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url, name: 'Timeline Shop' });
        const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
        const user = await addUser(wallet.ctx, { USD: 100_000n });
        const notifier = new Notifier(wallet.ctx, { owner: 'console-test' });
        clock.set(Date.UTC(2027, 2, 20, 10, 0, 0));
        const paymentId = await newPayment(shop, 'Flat white <b>large</b>', '1999');
        clock.advance(60_000);
        expect((await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin })).ok).toBe(
          true,
        );
        expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);
        clock.advance(RETRY_LADDER_MS[1]!);
        expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);
        clock.advance(3_600_000);
        const refund = await refundPayment(wallet.ctx, shop.merchant, {
          apiVersion: 'v1',
          partnerId: shop.merchant.partnerId,
          refundRequestId: 'refund-console-1',
          paymentId,
          refundAmount: { currency: 'USD', value: '500' },
          refundNotifyUrl: receiver.url,
        });
        expect(refund.reply.result.resultStatus).toBe('S');
        expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);

        const page = await web.get(`/console/payments/${paymentId}`);
        expect(page.status).toBe(200);
        const b = page.body.slice(page.body.indexOf('cv-timeline'));
        const all = page.body;
        expect(b).toContain('19.99 USD');
        expect(b).toContain('Refunded');
        expect(b).toContain('5.00 USD');
        expect(b).toContain('refund-console-1');
        expect(all).toContain('Flat white &lt;b&gt;large&lt;/b&gt;');
        expect(b).toContain('2027-03-20 10:00:00 UTC');
        expect(b).toContain('2027-03-20 10:01:00 UTC');
        // Every attempt: HTTP status, outcome, latency and the reply excerpt, escaped.
        expect(b).toContain('notifyPayment #1');
        expect(b).toContain('notifyRefund #2');
        expect(b).toMatch(/>\s*500\s*</);
        expect(b).toContain('HTTP error');
        expect(b).toContain('Acknowledged');
        expect(b).toMatch(/\d+ ms/);
        expect(b).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; boom');
        expect(b).not.toContain('<script>alert');
        // In time order.
        const order = ['>Created<', '>Paid<', 'notifyPayment #1', '>Refunded<', 'notifyRefund #2'].map((s) =>
          b.indexOf(s),
        );
        expect(order.every((i) => i > 0)).toBe(true);
        expect([...order].sort((x, y) => x - y)).toEqual(order);
        // Nothing about the payer.
        expect(all).not.toContain(user.phone);
        expect(all).not.toContain(user.id);

        // An expired order and an open one.
        clock.set(Date.UTC(2027, 2, 21, 10, 0, 0));
        const open = await newPayment(shop, 'Open');
        const openTimeline = await web.get(`/console/payments/${open}`);
        expect(openTimeline.body).toContain('>Expires<');
        expect(openTimeline.body).toContain('Awaiting payment');
        const expiring = await newPayment(shop, 'Expiring');
        const cancelled = await newPayment(shop, 'Cancelled one');
        await cancelPayment(wallet.ctx, shop.merchant, { paymentId: cancelled });
        clock.advance(16 * 60_000);
        await wallet.ctx.store.transaction((tx) => expirePaymentInTx(wallet.ctx, tx, expiring));
        const openPage = await web.get(`/console/payments/${expiring}`);
        expect(openPage.body).toContain('Expired unpaid');
        expect(openPage.body).toContain('ORDER_EXPIRED');
        expect((await web.get(`/console/payments/${cancelled}`)).body).toContain('>Cancelled<');
      } finally {
        await receiver.close();
      }
    });

    it('redelivers a FAILED notification from the console (back in the outbox), a DELIVERED one only when forced', async () => {
      let up = false;
      const receiver = await startNotifyReceiver(() =>
        up
          ? {
              status: 200,
              body: '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
            }
          : { status: 503, body: 'down' },
      );
      try {
        const shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
        const web = await consoleClient(wallet.ctx, wallet.url, shop.merchant.id);
        const user = await addUser(wallet.ctx, { USD: 100_000n });
        const notifier = new Notifier(wallet.ctx, { owner: 'console-redeliver' });
        const paymentId = await newPayment(shop);
        await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin });
        const [notice] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
        const id = notice!.id;
        for (let i = 0; i < MAX_ATTEMPTS; i++) {
          clock.advance(RETRY_LADDER_MS[i]!);
          expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);
        }
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({ status: 'FAILED' });

        const failed = await web.get('/console/notifications?status=FAILED');
        expect(failed.status).toBe(200);
        expect(failed.body).toContain(id);
        expect(failed.body).toContain(`/console/notifications/${id}/redeliver`);
        expect((await web.get('/console/notifications?status=DELIVERED')).body).not.toContain(id);
        expect((await web.get('/console/notifications?status=BAD')).status).toBe(400);

        const redelivered = await web.post(`/console/notifications/${id}/redeliver`, {
          back: 'list',
          status: 'FAILED',
        });
        expect(redelivered.status).toBe(303);
        expect(redelivered.location).toBe(`/console/notifications?redelivered=${id}&status=FAILED`);
        const now = clock.now();
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({
          status: 'PENDING',
          nextAttemptAt: now,
          redeliveries: 1,
          attempts: MAX_ATTEMPTS,
        });
        expect((await web.get(redelivered.location!)).body).toContain('is back in the outbox');

        up = true;
        expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({ status: 'DELIVERED' });

        // Delivered: only with the "send again" box ticked.
        const unforced = await web.post(`/console/notifications/${id}/redeliver`, { back: 'timeline' });
        expect(unforced.status).toBe(303);
        expect(unforced.location).toBe(`/console/payments/${paymentId}?problem=NEEDS_FORCE&n=${id}#${id}`);
        expect((await web.get(unforced.location!.split('#')[0]!)).body).toContain('was delivered already');
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({
          status: 'DELIVERED',
          redeliveries: 1,
        });
        const forced = await web.post(`/console/notifications/${id}/redeliver`, {
          back: 'timeline',
          force: '1',
        });
        expect(forced.location).toBe(`/console/payments/${paymentId}?redelivered=${id}#${id}`);
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({
          status: 'PENDING',
          redeliveries: 2,
        });
        // Pending: nothing to do.
        const pending = await web.post(`/console/notifications/${id}/redeliver`, {});
        expect(pending.location).toBe(`/console/notifications?problem=IN_PROGRESS&n=${id}`);
        expect((await web.post(`/console/notifications/${id}/redeliver`, {}, { csrf: null })).status).toBe(
          403,
        );

        const events = await wallet.ctx.store.db
          .selectFrom('merchant_events')
          .select(['action', 'actor'])
          .where('merchant_id', '=', shop.merchant.id)
          .execute();
        expect(events.filter((e) => e.action === 'NOTIFICATION_REDELIVERED')).toHaveLength(2);
        expect(events.every((e) => e.actor === `merchant:${web.accountId}`)).toBe(true);
      } finally {
        await receiver.close();
      }
    });

    it("never shows or touches another merchant's payments, timelines, notifications or keys", async () => {
      const a = await addMerchant(wallet.ctx, { name: 'Alpha Shop', notifyUrl: 'http://127.0.0.1:9/notify' });
      const b = await addMerchant(wallet.ctx, { name: 'Beta Shop' });
      const user = await addUser(wallet.ctx, { USD: 100_000n });
      const paymentId = await newPayment(a, 'Alpha secret order');
      await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin });
      const [notice] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      await wallet.ctx.store.db
        .updateTable('notifications')
        .set({ status: 'FAILED' })
        .where('id', '=', notice!.id)
        .execute();
      const nextPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
      const aWeb = await consoleClient(wallet.ctx, wallet.url, a.merchant.id);
      expect((await aWeb.post('/console/credentials/keys', { publicKeyPem: nextPem })).status).toBe(303);
      const bWeb = await consoleClient(wallet.ctx, wallet.url, b.merchant.id);

      // Views: 404 for A's ids, exactly like an unknown id.
      const timeline = await bWeb.get(`/console/payments/${paymentId}`);
      expect(timeline.status).toBe(404);
      expect(timeline.body).not.toContain('Alpha secret order');
      const unknown = await bWeb.get('/console/payments/pay_doesnotexist');
      expect(unknown.status).toBe(404);
      expect(timeline.body.replace(paymentId, '')).toBe(unknown.body.replace('pay_doesnotexist', ''));
      expect(paymentLinks((await bWeb.get('/console/payments')).body)).toEqual([]);
      expect(paymentLinks((await bWeb.get(`/console/payments?q=${paymentId}`)).body)).toEqual([]);
      const list = await bWeb.get(`/console/notifications?paymentId=${paymentId}`);
      expect(list.body).not.toContain(notice!.id);
      expect((await bWeb.get('/console/notifications')).body).not.toContain(notice!.id);
      const creds = await bWeb.get('/console/credentials');
      expect(creds.body).not.toContain(a.merchant.clientId);
      expect(creds.body).not.toContain(keyFingerprint(nextPem));

      // Actions: 404 and nothing changes.
      expect((await bWeb.post(`/console/notifications/${notice!.id}/redeliver`, { force: '1' })).status).toBe(
        404,
      );
      expect(await findNotification(wallet.ctx.store.db, notice!.id)).toMatchObject({
        status: 'FAILED',
        redeliveries: 0,
      });
      expect((await bWeb.get('/console/credentials/keys/2/retire')).status).toBe(404);
      expect((await bWeb.post('/console/credentials/keys/2/retire', {})).status).toBe(404);
      // B's own v1 is its last key: refused, and A's keys are untouched whatever B does.
      expect((await bWeb.post('/console/credentials/keys/1/retire', {})).status).toBe(409);
      expect((await activeMerchantKeys(wallet.ctx.store.db, a.merchant.id)).map((k) => k.keyVersion)).toEqual(
        [2, 1],
      );
      expect((await activeMerchantKeys(wallet.ctx.store.db, b.merchant.id)).map((k) => k.keyVersion)).toEqual(
        [1],
      );

      // A sees its own.
      expect((await aWeb.get(`/console/payments/${paymentId}`)).status).toBe(200);
      expect((await aWeb.get('/console/notifications')).body).toContain(notice!.id);
      expect((await aWeb.post(`/console/notifications/${notice!.id}/redeliver`, {})).status).toBe(303);
      expect(await findNotification(wallet.ctx.store.db, notice!.id)).toMatchObject({
        status: 'PENDING',
        redeliveries: 1,
      });
    });
  });
}
