/**
 * Onboarding over real HTTP on both databases: a merchant signs up in the console, submits its licence
 * (a local website as its site), fails the check, fixes it, is rejected by an operator at /ops, resubmits,
 * is approved; at every step the signed OpenAPI (a merchant written from the spec) answers
 * PARTNER_STATUS_ABNORMAL until VERIFIED, and a freeze takes effect on the very next call. Also: one
 * merchant's console never shows another's data, ops pages need an operator, every form needs its CSRF
 * token, and the CLI's operator commands.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addMerchantKey, findMerchantById, merchantEvents } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specCall, specKeys, type SpecKeys } from '../../../../test/spec-merchant.ts';
import { runCli } from '../../../../test/wallet-harness.ts';
import { createOperator } from '../services/staff-accounts.ts';
import { startTestWebsite, type TestWebsite } from '../services/test-website.fixture.ts';
import { startWallet, type RunningWallet } from '../wallet.ts';

/** A cookie-keeping HTTP client: one per person (their own console or ops session). */
class Visitor {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: () => string) {}

  async get(path: string) {
    return this.send('GET', path);
  }
  /** Posts a form; `_csrf` defaults to the token on `from` (a page this visitor loaded). */
  async post(path: string, form: Record<string, string>, from?: string) {
    const csrf = from === undefined ? undefined : /name="_csrf" value="([^"]+)"/.exec(from)?.[1];
    return this.send('POST', path, { ...(csrf ? { _csrf: csrf } : {}), ...form });
  }
  private async send(method: string, path: string, form?: Record<string, string>) {
    const res = await fetch(this.base() + path, {
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
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text() };
  }
}

const PAY = '/api/open/v1/payments/pay';

for (const backend of BACKENDS) {
  describe(`onboarding over HTTP on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let site: TestWebsite;
    const keys: SpecKeys = specKeys();
    let n = 0;

    const licence = (path: string, over: Record<string, string> = {}) => ({
      legalName: 'Café Ejemplo S.A. de C.V.',
      licenceNumber: 'RFC-CEJ-123456',
      country: 'MX',
      address: 'Calle Falsa 123, Ciudad de México',
      websiteUrl: site.url + path,
      contactName: 'Ana Pérez',
      contactEmail: 'ana@cafe.example',
      contactPhone: '',
      ...over,
    });

    async function pay(m: { clientId: string; partnerId: string }) {
      const reply = await specCall(
        wallet.url,
        PAY,
        JSON.stringify({
          partnerId: m.partnerId,
          paymentRequestId: `onb-${++n}`,
          paymentOrderTitle: 'Coffee',
          paymentAmount: { currency: 'USD', value: '1200' },
        }),
        { clientId: m.clientId, privateKey: keys.privateKey },
      );
      return reply.body.result;
    }

    async function signUp(v: Visitor, name: string, email: string) {
      const form = await v.get('/console/sign-up');
      expect(form.status).toBe(200);
      const out = await v.post(
        '/console/sign-up',
        { name, email, password: 'a long enough password' },
        form.text,
      );
      expect(out).toMatchObject({ status: 303, location: '/console' });
      const row = await wallet.ctx.store.db
        .selectFrom('merchant_accounts')
        .innerJoin('merchants', 'merchants.id', 'merchant_accounts.merchant_id')
        .select(['merchants.id', 'merchants.client_id', 'merchants.partner_id'])
        .where('merchant_accounts.email', '=', email)
        .executeTakeFirstOrThrow();
      return { id: row.id, clientId: row.client_id, partnerId: row.partner_id };
    }

    async function submit(v: Visitor, form: Record<string, string>) {
      const page = await v.get('/console/licence');
      expect(page.status).toBe(200);
      return v.post('/console/licence', form, page.text);
    }

    async function opsSignIn(v: Visitor, email: string, password: string) {
      const page = await v.get('/ops/sign-in');
      return v.post('/ops/sign-in', { email, password, next: '/ops' }, page.text);
    }

    async function decide(
      ops: Visitor,
      merchantId: string,
      action: string,
      form: Record<string, string> = {},
    ) {
      const page = await ops.get(`/ops/merchants/${merchantId}`);
      expect(page.status).toBe(200);
      return ops.post(`/ops/merchants/${merchantId}/${action}`, form, page.text);
    }

    const status = async (id: string) => (await findMerchantById(wallet.ctx.store.db, id))?.status;

    beforeAll(async () => {
      env = await backend.create();
      site = await startTestWebsite();
      wallet = await startWallet({
        dataDir: env.dataDir,
        databaseUrl: env.databaseUrl,
        port: 0,
        logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
        workers: false,
        allowPrivateWebsites: true,
      });
      await createOperator(wallet.ctx, { email: 'ops@billetera.example', password: 'operator password 1' });
    });
    afterAll(async () => {
      await wallet?.close();
      await site?.close();
      await env?.cleanup();
    });

    it('onboards a merchant; the OpenAPI refuses it until VERIFIED and at once when FROZEN', async () => {
      const shop = new Visitor(() => wallet.url);
      const ops = new Visitor(() => wallet.url);
      const m = await signUp(shop, 'Café Ejemplo', 'owner@cafe.example');

      // Without a key, the signature layer answers first.
      expect((await pay(m)).resultCode).toBe('KEY_NOT_FOUND');
      // As the console's credentials page does: add a key, tell the OpenAPI.
      await addMerchantKey(wallet.ctx.store.db, m.id, keys.publicKeyPem, Date.now());
      wallet.ctx.merchantChanged(m.clientId);
      expect(await pay(m)).toMatchObject({
        resultStatus: 'F',
        resultCode: 'PARTNER_STATUS_ABNORMAL',
        resultMessage: expect.stringContaining('status DRAFT'),
      });

      let overview = await shop.get('/console');
      expect(overview.text).toContain('Draft');
      expect(overview.text).toContain('Submit your business licence');
      expect(overview.text).not.toContain(m.clientId); // shown only once verified

      // Field errors store nothing.
      const bad = await submit(shop, licence('/shop', { country: 'ZZ', websiteUrl: 'nope' }));
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Choose the country where the business is registered.');
      expect(bad.text).toContain('aria-invalid="true"');
      expect(await status(m.id)).toBe('DRAFT');

      // A 404 site fails the check; the console shows why.
      expect(await submit(shop, licence('/404'))).toMatchObject({
        status: 303,
        location: '/console?done=submitted',
      });
      expect(await status(m.id)).toBe('CHECK_FAILED');
      overview = await shop.get('/console');
      expect(overview.text).toContain('Website check failed');
      expect(overview.text).toContain('HTTP 404');
      expect(overview.text).toContain('Fix and resubmit');
      expect((await pay(m)).resultCode).toBe('PARTNER_STATUS_ABNORMAL');

      // Fixed: the form comes prefilled with the last submission.
      const prefilled = await shop.get('/console/licence');
      expect(prefilled.text).toContain(`value="${site.url}/404"`);
      expect(prefilled.text).toContain('value="RFC-CEJ-123456"');
      await submit(shop, licence('/shop'));
      expect(await status(m.id)).toBe('IN_REVIEW');
      expect((await shop.get('/console')).text).toContain('In review');
      expect((await pay(m)).resultMessage).toContain('status IN_REVIEW');

      // The operator sees it first in the list and rejects it with a reason.
      expect(await opsSignIn(ops, 'ops@billetera.example', 'operator password 1')).toMatchObject({
        status: 303,
        location: '/ops',
      });
      const list = await ops.get('/ops');
      expect(list.text).toContain(`/ops/merchants/${m.id}`);
      const detail = await ops.get(`/ops/merchants/${m.id}`);
      expect(detail.text).toContain('Shows products or prices');
      expect(detail.text).toContain('price “12.00 USD”');
      expect(detail.text).toContain('owner@cafe.example');
      expect((await decide(ops, m.id, 'reject', { reason: '' })).status).toBe(409);
      expect(
        await decide(ops, m.id, 'reject', {
          reason: 'The licence number <b>does not</b> match the legal name.',
        }),
      ).toMatchObject({ status: 303, location: `/ops/merchants/${m.id}?done=rejected` });
      expect(await status(m.id)).toBe('REJECTED');
      overview = await shop.get('/console');
      expect(overview.text).toContain('The licence number &lt;b&gt;does not&lt;/b&gt; match the legal name.');
      expect((await pay(m)).resultMessage).toContain('status REJECTED');

      // Resubmission, approval: the console shows the ids, payments work.
      await submit(shop, licence('/shop', { licenceNumber: 'RFC-CEJ-654321' }));
      expect(await status(m.id)).toBe('IN_REVIEW');
      expect(await decide(ops, m.id, 'approve')).toMatchObject({ status: 303 });
      expect(await status(m.id)).toBe('VERIFIED');
      overview = await shop.get('/console');
      expect(overview.text).toContain(m.clientId);
      expect(overview.text).toContain(m.partnerId);
      expect((await pay(m)).resultCode).toBe('ACCEPT');

      // Freezing takes effect on the next call (the OpenAPI's merchant cache is told), unfreezing too.
      expect(await decide(ops, m.id, 'freeze', { reason: 'chargebacks' })).toMatchObject({ status: 303 });
      expect(await pay(m)).toMatchObject({
        resultCode: 'PARTNER_STATUS_ABNORMAL',
        resultMessage: expect.stringContaining('status FROZEN'),
      });
      expect((await shop.get('/console')).text).toContain('Frozen');
      expect(await decide(ops, m.id, 'unfreeze')).toMatchObject({ status: 303 });
      expect((await pay(m)).resultCode).toBe('ACCEPT');

      const actions = (await merchantEvents(wallet.ctx.store.db, m.id)).map((e) => e.action).reverse();
      expect(actions).toEqual([
        'SIGNED_UP',
        'SUBMITTED',
        'CHECK_FAILED',
        'SUBMITTED',
        'CHECK_PASSED',
        'REJECTED',
        'SUBMITTED',
        'CHECK_PASSED',
        'APPROVED',
        'FROZEN',
        'UNFROZEN',
      ]);
    });

    it('keeps each merchant to its own data, ops to operators, and every form to its CSRF token', async () => {
      const a = new Visitor(() => wallet.url);
      const b = new Visitor(() => wallet.url);
      const ma = await signUp(a, 'Tienda <A>', 'a@tienda.example');
      const mb = await signUp(b, 'Tienda B', 'b@tienda.example');
      await submit(a, licence('/shop', { legalName: 'Secret Legal Name A' }));
      expect(await status(ma.id)).toBe('IN_REVIEW');

      const bPages = [await b.get('/console'), await b.get('/console/licence')];
      for (const page of bPages) {
        expect(page.status).toBe(200);
        expect(page.text).not.toContain('Secret Legal Name A');
        expect(page.text).not.toContain('Tienda &lt;A&gt;');
        expect(page.text).not.toContain(ma.id);
      }
      // The console takes no merchant id from the request: B's submission is B's, whatever it sends.
      const sneaky = await b.post(
        '/console/licence',
        { ...licence('/shop'), merchantId: ma.id, merchant_id: ma.id },
        bPages[1]?.text,
      );
      expect(sneaky.status).toBe(303);
      expect(await status(mb.id)).toBe('IN_REVIEW');
      const aSubs = await wallet.ctx.store.db
        .selectFrom('licence_submissions')
        .select('id')
        .where('merchant_id', '=', ma.id)
        .execute();
      expect(aSubs).toHaveLength(1);

      // A merchant's session is no operator's: ops pages redirect to their sign-in, decisions do nothing.
      expect(await a.get('/ops')).toMatchObject({ status: 303, location: '/ops/sign-in' });
      expect(await a.get(`/ops/merchants/${mb.id}`)).toMatchObject({
        status: 303,
        location: `/ops/sign-in?next=${encodeURIComponent(`/ops/merchants/${mb.id}`)}`,
      });
      const aOverview = await a.get('/console');
      expect(await a.post(`/ops/merchants/${mb.id}/approve`, {}, aOverview.text)).toMatchObject({
        status: 303,
      });
      expect(await a.post(`/ops/merchants/${mb.id}/freeze`, {}, aOverview.text)).toMatchObject({
        status: 303,
      });
      expect(await status(mb.id)).toBe('IN_REVIEW');
      // Nor is an operator's session a console one.
      const ops = new Visitor(() => wallet.url);
      await opsSignIn(ops, 'ops@billetera.example', 'operator password 1');
      expect(await ops.get('/console')).toMatchObject({ status: 303, location: '/console/sign-in' });

      // Names are escaped in ops pages.
      const list = await ops.get('/ops?status=IN_REVIEW');
      expect(list.text).toContain('Tienda &lt;A&gt;');
      expect(list.text).not.toContain('Tienda <A>');

      // Without the CSRF token nothing happens.
      expect((await ops.post(`/ops/merchants/${mb.id}/approve`, {})).status).toBe(403);
      expect((await ops.post(`/ops/merchants/${mb.id}/approve`, { _csrf: 'forged' })).status).toBe(403);
      expect(await status(mb.id)).toBe('IN_REVIEW');
      expect((await b.post('/console/licence', licence('/shop'))).status).toBe(403);
      expect(
        (await new Visitor(() => wallet.url).post('/console/sign-up', { name: 'X', email: 'x@y.z' })).status,
      ).toBe(403);

      // Signed out: the console sends people to sign in; a sign-out ends the session.
      expect(await new Visitor(() => wallet.url).get('/console')).toMatchObject({
        status: 303,
        location: '/console/sign-in',
      });
      const home = await b.get('/console');
      expect(await b.post('/console/sign-out', {}, home.text)).toMatchObject({ status: 303 });
      expect(await b.get('/console')).toMatchObject({ status: 303, location: '/console/sign-in' });
      const again = await b.get('/console/sign-in');
      const wrong = await b.post(
        '/console/sign-in',
        { email: 'b@tienda.example', password: 'nope nope nope' },
        again.text,
      );
      expect(wrong.status).toBe(400);
      expect(wrong.text).toContain('The email or password is not right.');
      const right = await b.post(
        '/console/sign-in',
        { email: 'B@tienda.example', password: 'a long enough password', next: '/console/licence' },
        again.text,
      );
      // B is IN_REVIEW: the licence form sends it back to the overview.
      expect(right).toMatchObject({ status: 303, location: '/console/licence' });
      expect(await b.get('/console/licence')).toMatchObject({ status: 303, location: '/console' });
      // `next` never leaves the console.
      const evil = await b.post(
        '/console/sign-in',
        { email: 'b@tienda.example', password: 'a long enough password', next: '//evil.example/' },
        again.text,
      );
      expect(evil.location).toBe('/console');
    });

    // Each CLI run is a new Node process (a few seconds): these tests get more time.
    const CLI_TEST_MS = 120_000;

    it('creates operators from the CLI', { timeout: CLI_TEST_MS }, async () => {
      // operator create: a generated password, printed once, that signs in at /ops.
      const created = await runCli(env, [
        'operator',
        'create',
        '--email',
        'Second@Billetera.Example',
        '--json',
      ]);
      expect(created.code).toBe(0);
      const op = JSON.parse(created.stdout) as { email: string; password: string };
      expect(op.email).toBe('second@billetera.example');
      expect(op.password).toMatch(/^[A-Za-z2-9]{20}$/);
      expect(await opsSignIn(new Visitor(() => wallet.url), op.email, op.password)).toMatchObject({
        status: 303,
      });
      const file = join(env.dataDir, 'op-password.txt');
      writeFileSync(file, 'a password from a file\n');
      const fromFile = await runCli(env, [
        'operator',
        'create',
        '--email',
        'third@billetera.example',
        '--password-file',
        file,
      ]);
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout).not.toContain('a password from a file');
      expect(
        await opsSignIn(new Visitor(() => wallet.url), 'third@billetera.example', 'a password from a file'),
      ).toMatchObject({
        status: 303,
        location: '/ops',
      });
      const dup = await runCli(env, [
        'operator',
        'create',
        '--email',
        'third@billetera.example',
        '--password-file',
        file,
      ]);
      expect(dup.code).toBe(1);
      expect(dup.stderr).toContain('already exists');
    });

    it(
      'verifies, freezes and unfreezes from the CLI; the server sees it within a second',
      { timeout: CLI_TEST_MS },
      async () => {
        // merchant create (DRAFT, no licence) -> verify --skip-website-check -> freeze -> unfreeze.
        const pem = join(env.dataDir, 'spec-public.pem');
        writeFileSync(pem, keys.publicKeyPem);
        const made = await runCli(env, [
          'merchant',
          'create',
          '--name',
          'CLI Shop',
          '--public-key',
          pem,
          '--json',
        ]);
        const cli = JSON.parse(made.stdout) as { clientId: string; partnerId: string; status: string };
        expect(cli.status).toBe('DRAFT');
        expect((await pay(cli)).resultCode).toBe('PARTNER_STATUS_ABNORMAL');
        const noLicence = await runCli(env, ['merchant', 'verify', '--client-id', cli.clientId]);
        expect(noLicence.code).toBe(1);
        expect(noLicence.stderr).toContain('--skip-website-check');
        const verified = await runCli(env, [
          'merchant',
          'verify',
          '--client-id',
          cli.clientId,
          '--skip-website-check',
          '--json',
        ]);
        expect(verified.code).toBe(0);
        expect(JSON.parse(verified.stdout)).toMatchObject({
          ok: true,
          status: 'VERIFIED',
          clientId: cli.clientId,
        });
        // The server sees the CLI's change (another process) within about a second.
        await expect
          .poll(async () => (await pay(cli)).resultCode, { timeout: 5_000, interval: 250 })
          .toBe('ACCEPT');
        const frozen = await runCli(env, [
          'merchant',
          'freeze',
          '--client-id',
          cli.clientId,
          '--reason',
          'test',
          '--json',
        ]);
        expect(JSON.parse(frozen.stdout)).toMatchObject({ ok: true, status: 'FROZEN' });
        await expect
          .poll(async () => (await pay(cli)).resultCode, { timeout: 5_000, interval: 250 })
          .toBe('PARTNER_STATUS_ABNORMAL');
        const unfrozen = await runCli(env, ['merchant', 'unfreeze', '--client-id', cli.clientId]);
        expect(unfrozen.stdout).toContain('is now VERIFIED');
        const actors = (await merchantEvents(wallet.ctx.store.db, (await findByClient(cli.clientId)).id)).map(
          (e) => `${e.action}:${e.actor}`,
        );
        expect(actors).toEqual(['UNFROZEN:cli', 'FROZEN:cli', 'APPROVED:cli']);
      },
    );

    it('runs the website check from the CLI and prints its findings', { timeout: CLI_TEST_MS }, async () => {
      // verify with the website check: a failing site exits 1 with the findings (private sites allowed
      // for the CLI process by the environment).
      const shop = new Visitor(() => wallet.url);
      const m = await signUp(shop, 'Empty Shop', 'empty@shop.example');
      await submit(shop, licence('/empty'));
      expect(await status(m.id)).toBe('CHECK_FAILED');
      const previous = process.env['BILLETERA_ALLOW_PRIVATE_WEBSITES'];
      process.env['BILLETERA_ALLOW_PRIVATE_WEBSITES'] = '1';
      try {
        const failing = await runCli(env, ['merchant', 'verify', '--client-id', m.clientId]);
        expect(failing.code).toBe(1);
        expect(failing.stdout).toContain('✗ real text: only 0 characters of visible text (200 needed)');
        expect(failing.stderr).toContain('the website check failed');
        await submit(shop, licence('/shop'));
        const passing = await runCli(env, ['merchant', 'verify', '--client-id', m.clientId]);
        expect(passing.code).toBe(0);
        expect(passing.stdout).toContain('✓ product information');
        expect(passing.stdout).toContain('is VERIFIED');
      } finally {
        if (previous === undefined) delete process.env['BILLETERA_ALLOW_PRIVATE_WEBSITES'];
        else process.env['BILLETERA_ALLOW_PRIVATE_WEBSITES'] = previous;
      }
      expect(await status(m.id)).toBe('VERIFIED');
    });

    async function findByClient(clientId: string) {
      return wallet.ctx.store.db
        .selectFrom('merchants')
        .select('id')
        .where('client_id', '=', clientId)
        .executeTakeFirstOrThrow();
    }
  });
}
