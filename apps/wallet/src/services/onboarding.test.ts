/**
 * The onboarding state machine on both databases, with the website check against a local website:
 * submit (validation stores nothing) -> check failed -> resubmit -> in review -> rejected (the reason
 * kept) -> resubmit -> approved; illegal transitions refused; two racing decisions, one winner; freeze
 * and unfreeze (back to the state before); a check finishing while frozen; checks left pending by a
 * crash run again; the CLI's verify; events for every transition.
 */
import { FakeClock } from '@billetera/domain';
import {
  findMerchantById,
  latestSubmission,
  merchantEvents,
  submissionsOf,
  type LicenceFields,
  type MerchantStatus,
} from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import type { WalletContext } from '../context.ts';
import { openWallet } from '../wallet.ts';
import {
  STALE_CHECK_MS,
  approveMerchant,
  freezeMerchant,
  recheckStaleSubmissions,
  rejectMerchant,
  runSubmissionCheck,
  submitLicence,
  submitLicenceAndCheck,
  unfreezeMerchant,
  validateLicence,
  verifyMerchantByCli,
} from './onboarding.ts';
import { signUpMerchant } from './staff-accounts.ts';
import { startTestWebsite, type TestWebsite } from './test-website.fixture.ts';
import { addMerchant } from '../../../../test/wallet-harness.ts';

const licence = (
  websiteUrl: string,
  over: Partial<Record<keyof LicenceFields, string>> = {},
): Record<string, string> => ({
  legalName: 'Café Ejemplo S.A. de C.V.',
  licenceNumber: 'RFC-CEJ-123456',
  country: 'mx',
  address: 'Calle Falsa 123, Ciudad de México',
  websiteUrl,
  contactName: 'Ana Pérez',
  contactEmail: 'Ana@Cafe.Example',
  contactPhone: '+52 55 1234 5678',
  ...over,
});

describe('licence validation', () => {
  it('normalizes good input', () => {
    const v = validateLicence(licence('https://cafe.example/shop'));
    expect(v).toMatchObject({ ok: true, fields: { country: 'MX', contactEmail: 'ana@cafe.example' } });
  });

  it('names every bad field', () => {
    const v = validateLicence({
      legalName: 'x',
      licenceNumber: 'no!',
      country: 'XX',
      address: 'abc',
      websiteUrl: 'javascript:alert(1)',
      contactName: '',
      contactEmail: 'nope',
      contactPhone: 'call me',
    });
    expect(v.ok).toBe(false);
    if (!v.ok)
      expect(Object.keys(v.errors).sort()).toEqual(
        [
          'address',
          'contactEmail',
          'contactName',
          'contactPhone',
          'country',
          'legalName',
          'licenceNumber',
          'websiteUrl',
        ].sort(),
      );
    expect(validateLicence(licence(`https://cafe.example/${'a'.repeat(1020)}`)).ok).toBe(false);
    expect(validateLicence(licence('https://user:pw@cafe.example/')).ok).toBe(false);
    expect(validateLicence(licence('https://cafe.example/', { contactPhone: '' })).ok).toBe(true);
  });
});

for (const backend of BACKENDS) {
  describe(`onboarding on ${backend.name}`, () => {
    let env: BackendEnv;
    let ctx: WalletContext;
    let site: TestWebsite;
    const clock = new FakeClock(Date.now());
    const changed: string[] = [];
    let n = 0;

    const status = async (id: string) => (await findMerchantById(ctx.store.db, id))?.status;
    const newMerchant = async () => {
      const out = await signUpMerchant(ctx, {
        name: `Shop ${++n}`,
        email: `owner${n}@shop.example`,
        password: 'a long enough password',
      });
      if (!out.ok) throw new Error('sign-up failed');
      return {
        id: out.merchant.id,
        clientId: out.merchant.clientId,
        actor: `merchant:${out.accountId}` as const,
      };
    };
    const op = 'operator:op_test' as const;

    beforeAll(async () => {
      env = await backend.create();
      site = await startTestWebsite();
      ctx = await openWallet({
        dataDir: env.dataDir,
        databaseUrl: env.databaseUrl,
        clock,
        logLevel: 'silent',
        allowPrivateWebsites: true,
      });
      ctx.onMerchantChanged((clientId) => changed.push(clientId));
    });
    afterAll(async () => {
      await ctx?.store.close();
      await site?.close();
      await env?.cleanup();
    });

    it('goes DRAFT -> CHECK_FAILED -> IN_REVIEW -> REJECTED -> IN_REVIEW -> VERIFIED, with every event', async () => {
      const m = await newMerchant();

      const invalid = await submitLicence(ctx, m.id, m.actor, licence('not a url'));
      expect(invalid).toMatchObject({ ok: false, errors: { websiteUrl: expect.any(String) } });
      expect(await submissionsOf(ctx.store.db, m.id)).toEqual([]);
      expect(await status(m.id)).toBe('DRAFT');

      const first = await submitLicenceAndCheck(ctx, m.id, m.actor, licence(`${site.url}/404`));
      expect(first.ok).toBe(true);
      expect(await status(m.id)).toBe('CHECK_FAILED');
      const failedSub = await latestSubmission(ctx.store.db, m.id);
      expect(failedSub).toMatchObject({ checkStatus: 'FAILED', country: 'MX' });
      expect(JSON.parse(failedSub?.checkFindings ?? '{}')).toMatchObject({
        passed: false,
        findings: expect.arrayContaining([{ check: 'status 200', ok: false, detail: 'HTTP 404' }]),
      });

      // Approving a failed check needs the explicit override.
      expect(await approveMerchant(ctx, { merchantId: m.id, actor: op })).toMatchObject({ ok: false });

      clock.advance(1000);
      await submitLicenceAndCheck(ctx, m.id, m.actor, licence(`${site.url}/shop`));
      expect(await status(m.id)).toBe('IN_REVIEW');

      expect(await rejectMerchant(ctx, { merchantId: m.id, actor: op, reason: ' ' })).toMatchObject({
        ok: false,
      });
      const rejected = await rejectMerchant(ctx, {
        merchantId: m.id,
        actor: op,
        reason: 'The licence number does not match the legal name.',
      });
      expect(rejected).toMatchObject({ ok: true, value: { status: 'REJECTED' } });
      expect(await latestSubmission(ctx.store.db, m.id)).toMatchObject({
        decision: 'REJECTED',
        decisionReason: 'The licence number does not match the legal name.',
        decidedBy: op,
      });

      clock.advance(1000);
      await submitLicenceAndCheck(
        ctx,
        m.id,
        m.actor,
        licence(`${site.url}/shop`, { licenceNumber: 'RFC-CEJ-654321' }),
      );
      expect(await status(m.id)).toBe('IN_REVIEW');
      const approved = await approveMerchant(ctx, { merchantId: m.id, actor: op });
      expect(approved).toMatchObject({
        ok: true,
        value: { status: 'VERIFIED', website: `${site.url}/shop` },
      });
      expect(await latestSubmission(ctx.store.db, m.id)).toMatchObject({
        decision: 'APPROVED',
        licenceNumber: 'RFC-CEJ-654321',
      });
      expect(await submissionsOf(ctx.store.db, m.id)).toHaveLength(3);

      const events = (await merchantEvents(ctx.store.db, m.id)).reverse();
      expect(events.map((e) => `${e.action}:${e.actor}`)).toEqual([
        `SIGNED_UP:${m.actor}`,
        `SUBMITTED:${m.actor}`,
        'CHECK_FAILED:system',
        `SUBMITTED:${m.actor}`,
        'CHECK_PASSED:system',
        `REJECTED:${op}`,
        `SUBMITTED:${m.actor}`,
        'CHECK_PASSED:system',
        `APPROVED:${op}`,
      ]);
      expect(changed).toContain(m.clientId);
    });

    it('refuses illegal transitions', async () => {
      const m = await newMerchant();
      const refused = async (p: Promise<{ ok: boolean }>) => expect((await p).ok).toBe(false);
      await refused(approveMerchant(ctx, { merchantId: m.id, actor: op, overrideCheck: true })); // DRAFT
      await refused(rejectMerchant(ctx, { merchantId: m.id, actor: op, reason: 'no licence yet' }));
      await refused(unfreezeMerchant(ctx, { merchantId: m.id, actor: op }));
      await submitLicenceAndCheck(ctx, m.id, m.actor, licence(`${site.url}/shop`));
      expect(await status(m.id)).toBe('IN_REVIEW');
      // No resubmission while in review or once verified.
      await refused(submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`)));
      await approveMerchant(ctx, { merchantId: m.id, actor: op });
      await refused(submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`)));
      await refused(rejectMerchant(ctx, { merchantId: m.id, actor: op, reason: 'too late now' }));
      await refused(approveMerchant(ctx, { merchantId: m.id, actor: op }));
      await refused(approveMerchant(ctx, { merchantId: 'mch_nope', actor: op }));
      expect(await status(m.id)).toBe('VERIFIED');
    });

    it('lets one of two racing decisions win', async () => {
      const m = await newMerchant();
      await submitLicenceAndCheck(ctx, m.id, m.actor, licence(`${site.url}/shop`));
      const [a, b] = await Promise.all([
        approveMerchant(ctx, { merchantId: m.id, actor: 'operator:op_a' }),
        rejectMerchant(ctx, { merchantId: m.id, actor: 'operator:op_b', reason: 'I disagree' }),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      const decided = (await merchantEvents(ctx.store.db, m.id)).filter((e) =>
        ['APPROVED', 'REJECTED'].includes(e.action),
      );
      expect(decided).toHaveLength(1);
      const twice = await Promise.all([1, 2].map(() => freezeMerchant(ctx, { merchantId: m.id, actor: op })));
      expect(twice.filter((o) => o.ok)).toHaveLength(1);
    });

    it('freezes from any state and unfreezes back to it', async () => {
      const m = await newMerchant();
      await submitLicenceAndCheck(ctx, m.id, m.actor, licence(`${site.url}/no-products`));
      expect(await status(m.id)).toBe('CHECK_FAILED');
      expect(
        await freezeMerchant(ctx, { merchantId: m.id, actor: op, reason: 'fraud report' }),
      ).toMatchObject({
        ok: true,
        value: { status: 'FROZEN' },
      });
      expect(await submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`))).toMatchObject({
        ok: false,
        message: expect.stringContaining('frozen'),
      });
      await expect(
        approveMerchant(ctx, { merchantId: m.id, actor: op, overrideCheck: true }),
      ).resolves.toMatchObject({ ok: false });
      expect(await unfreezeMerchant(ctx, { merchantId: m.id, actor: op })).toMatchObject({
        ok: true,
        value: { status: 'CHECK_FAILED' },
      });
      // CHECK_FAILED may be approved with the override.
      expect(await approveMerchant(ctx, { merchantId: m.id, actor: op, overrideCheck: true })).toMatchObject({
        ok: true,
        value: { status: 'VERIFIED' },
      });
      const approved = (await merchantEvents(ctx.store.db, m.id))[0];
      expect(JSON.parse(approved?.detail ?? '{}')).toMatchObject({
        from: 'CHECK_FAILED',
        overrideCheck: true,
      });
    });

    it('records a check that finishes while the merchant is frozen as the state to return to', async () => {
      const m = await newMerchant();
      const sub = await submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`));
      if (!sub.ok || !('submission' in sub)) throw new Error('not submitted');
      await freezeMerchant(ctx, { merchantId: m.id, actor: op });
      const run = await runSubmissionCheck(ctx, sub.submission.id);
      expect(run).toMatchObject({ recorded: true, status: 'FROZEN' });
      expect(await unfreezeMerchant(ctx, { merchantId: m.id, actor: op })).toMatchObject({
        value: { status: 'IN_REVIEW' },
      });
      // A second run of the same check records nothing.
      expect(await runSubmissionCheck(ctx, sub.submission.id)).toBeUndefined();
    });

    it('runs checks left pending by a crash once they are a minute old', async () => {
      const m = await newMerchant();
      await submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`)); // the "crash": no check ran
      expect(await status(m.id)).toBe('SUBMITTED');
      expect(await recheckStaleSubmissions(ctx)).toBe(0);
      clock.advance(STALE_CHECK_MS + 1);
      expect(await recheckStaleSubmissions(ctx)).toBe(1);
      expect(await status(m.id)).toBe('IN_REVIEW');
      expect(await recheckStaleSubmissions(ctx)).toBe(0);
    });

    it('verifies from the CLI: website check first, or skipped; never a frozen merchant', async () => {
      // A merchant made by `merchant create` (DRAFT, no licence).
      const cliMerchant = (await addMerchant(ctx, { verified: false, name: 'CLI Shop' })).merchant;
      expect(
        await verifyMerchantByCli(ctx, { clientId: cliMerchant.clientId, skipWebsiteCheck: false }),
      ).toMatchObject({ ok: false, message: expect.stringContaining('--skip-website-check') });
      expect(
        await verifyMerchantByCli(ctx, { clientId: cliMerchant.clientId, skipWebsiteCheck: true }),
      ).toMatchObject({
        ok: true,
        alreadyVerified: false,
        merchant: { status: 'VERIFIED' },
      });
      expect(
        await verifyMerchantByCli(ctx, { clientId: cliMerchant.clientId, skipWebsiteCheck: true }),
      ).toMatchObject({
        ok: true,
        alreadyVerified: true,
      });

      const bad = await newMerchant();
      await submitLicence(ctx, bad.id, bad.actor, licence(`${site.url}/empty`));
      const failed = await verifyMerchantByCli(ctx, { clientId: bad.clientId, skipWebsiteCheck: false });
      expect(failed).toMatchObject({ ok: false, check: { passed: false } });
      expect(await status(bad.id)).toBe('CHECK_FAILED');

      const good = await newMerchant();
      await submitLicenceAndCheck(ctx, good.id, good.actor, licence(`${site.url}/shop`));
      await freezeMerchant(ctx, { merchantId: good.id, actor: 'cli' });
      expect(
        await verifyMerchantByCli(ctx, { clientId: good.clientId, skipWebsiteCheck: true }),
      ).toMatchObject({
        ok: false,
        message: expect.stringContaining('frozen'),
      });
      await unfreezeMerchant(ctx, { merchantId: good.id, actor: 'cli' });
      const ok = await verifyMerchantByCli(ctx, { clientId: good.clientId, skipWebsiteCheck: false });
      expect(ok).toMatchObject({ ok: true, check: { passed: true }, merchant: { status: 'VERIFIED' } });
      const actions = (await merchantEvents(ctx.store.db, good.id))
        .slice(0, 2)
        .map((e) => `${e.action}:${e.actor}`);
      expect(actions).toEqual(['APPROVED:cli', 'CHECK_PASSED:cli']);
    });

    it('never lets a merchant out of FROZEN but by unfreezing', async () => {
      const m = await newMerchant();
      await freezeMerchant(ctx, { merchantId: m.id, actor: op });
      const all: MerchantStatus[] = [];
      for (const attempt of [
        () => submitLicence(ctx, m.id, m.actor, licence(`${site.url}/shop`)),
        () => approveMerchant(ctx, { merchantId: m.id, actor: op, overrideCheck: true }),
        () => rejectMerchant(ctx, { merchantId: m.id, actor: op, reason: 'whatever reason' }),
        () => freezeMerchant(ctx, { merchantId: m.id, actor: op }),
      ]) {
        expect((await attempt()).ok).toBe(false);
        all.push((await status(m.id)) ?? 'DRAFT');
      }
      expect(all).toEqual(['FROZEN', 'FROZEN', 'FROZEN', 'FROZEN']);
      expect(await unfreezeMerchant(ctx, { merchantId: m.id, actor: op })).toMatchObject({
        value: { status: 'DRAFT' },
      });
    });
  });
}
