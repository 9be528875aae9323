/**
 * The workspace's use cases on both databases: creating (verified merchants only, logo checks), the
 * version state machine (illegal moves refused, two operators racing, uploads racing for a number),
 * publish and roll back moving the pointer and the host's list, features (Payment removed -> the
 * OpenAPI's ACCESS_DENIED; User information PENDING -> silent scopes only -> ACTIVE via an operator),
 * preview tokens, and one merchant never reaching another's mini programs.
 */
import { FakeClock } from '@billetera/domain';
import {
  featuresOf,
  findMiniProgram,
  findVersion,
  insertOperator,
  publishedMiniPrograms,
  versionsInReview,
  type Merchant,
} from '@billetera/store';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import type { RunningWallet } from '../wallet.ts';
import { assessAuthRequest } from './authorization.ts';
import { createPayment, createPaymentV2 } from './create-payment.ts';
import { createUser } from './users.ts';
import {
  PREVIEW_TTL_MS,
  WorkspaceError,
  addMiniProgramFeature,
  createWorkspaceMiniProgram,
  decideFeatureRequest,
  findServedFile,
  previewToken,
  previewTokenValid,
  publishMiniProgramVersion,
  removeMiniProgramFeature,
  reviewVersion,
  submitVersion,
  updateWorkspaceDetails,
  uploadVersion,
} from './workspace.ts';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40)]);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

const build = (label: string): Buffer =>
  Buffer.from(
    zipSync({ 'index.html': strToU8(`<!doctype html><h1>${label}</h1>`), 'app.js': strToU8(`// ${label}`) }),
  );

async function refused(p: Promise<unknown>): Promise<WorkspaceError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WorkspaceError) return err;
    throw err;
  }
  throw new Error('the action was not refused');
}

for (const backend of BACKENDS) {
  describe(`the mini program workspace on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let ctx: WalletContext;
    let shopA: Merchant;
    let shopB: Merchant;
    let unverified: Merchant;
    const clock = new FakeClock(Date.now());
    const A = 'merchant:acc_a';
    const OP1 = 'op_1';
    const OP2 = 'op_2';
    let n = 0;

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
      ctx = wallet.ctx;
      shopA = (await addMerchant(ctx, { name: 'Shop A' })).merchant;
      shopB = (await addMerchant(ctx, { name: 'Shop B' })).merchant;
      unverified = (await addMerchant(ctx, { name: 'Not Yet', verified: false })).merchant;
      for (const id of [OP1, OP2])
        await insertOperator(ctx.store.db, {
          id,
          email: `${id}@ops.test`,
          passwordHash: 'x',
          createdAt: clock.now(),
        });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    const create = (merchant = shopA, extra: { logo?: Buffer; serverOrigins?: string } = {}) =>
      createWorkspaceMiniProgram(ctx, merchant, A, {
        name: `App ${++n}`,
        description: 'A test mini program',
        serverOrigins: extra.serverOrigins ?? '',
        logo: extra.logo,
      });

    /** Uploads, submits and approves a version: APPROVED. */
    async function approved(appId: string, label: string): Promise<number> {
      const v = await uploadVersion(ctx, shopA, A, appId, build(label));
      await submitVersion(ctx, shopA, A, appId, v.version);
      await reviewVersion(ctx, OP1, v.id, 'APPROVE', '');
      return v.version;
    }

    it('lets only a verified merchant create, checks the name, logo and origins, and adds Payment', async () => {
      expect((await refused(create(unverified))).kind).toBe('NOT_VERIFIED');
      const bad = (input: Partial<Parameters<typeof createWorkspaceMiniProgram>[3]>) =>
        refused(
          createWorkspaceMiniProgram(ctx, shopA, A, {
            name: 'Good name',
            description: '',
            serverOrigins: '',
            ...input,
          }),
        );
      expect((await bad({ name: 'x' })).message).toContain('2 to 60 characters');
      expect((await bad({ name: 'y'.repeat(61) })).message).toContain('2 to 60 characters');
      expect((await bad({ description: 'd'.repeat(201) })).message).toContain('at most 200');
      expect((await bad({ logo: SVG })).message).toBe('The logo must be a PNG or JPEG image.');
      expect((await bad({ logo: Buffer.from('GIF89a....') })).message).toContain('PNG or JPEG');
      expect((await bad({ logo: Buffer.concat([PNG, Buffer.alloc(200 * 1024)]) })).message).toContain(
        'at most 200 KiB',
      );
      expect((await bad({ serverOrigins: 'https://api.shop.test/path' })).message).toContain(
        'without a path',
      );
      expect((await bad({ serverOrigins: 'ftp://x.test' })).message).toContain('http(s) origin');

      const app = await create(shopA, {
        logo: PNG,
        serverOrigins: 'https://api.shop.test, http://127.0.0.1:9000',
      });
      expect(app).toMatchObject({
        hosting: 'UPLOADED',
        status: 'DRAFT',
        publishedVersion: null,
        logoType: 'image/png',
        serverOrigins: ['https://api.shop.test', 'http://127.0.0.1:9000'],
      });
      expect(app.appId).toMatch(/^\d{19}$/);
      expect(await featuresOf(ctx.store.db, app.appId)).toEqual(new Map([['PAYMENT', 'ACTIVE']]));
      expect((await create(shopA, { logo: JPEG })).logoType).toBe('image/jpeg');
    });

    it('walks UPLOADED -> IN_REVIEW -> APPROVED and refuses every illegal move', async () => {
      const app = await create();
      const v1 = await uploadVersion(ctx, shopA, A, app.appId, build('one'), 'first');
      expect(v1).toMatchObject({ version: 1, status: 'UPLOADED', fileCount: 2, note: 'first' });
      // Not reviewed yet: cannot be approved nor published.
      expect((await refused(reviewVersion(ctx, OP1, v1.id, 'APPROVE', ''))).kind).toBe('CONFLICT');
      expect((await refused(publishMiniProgramVersion(ctx, shopA, A, app.appId, 1))).kind).toBe('CONFLICT');
      await submitVersion(ctx, shopA, A, app.appId, 1);
      expect((await refused(submitVersion(ctx, shopA, A, app.appId, 1))).message).toContain('is IN_REVIEW');
      expect((await refused(publishMiniProgramVersion(ctx, shopA, A, app.appId, 1))).message).toContain(
        'only an approved version',
      );
      expect((await versionsInReview(ctx.store.db, 100)).map((v) => v.id)).toContain(v1.id);
      // A rejection needs a reason.
      expect((await refused(reviewVersion(ctx, OP1, v1.id, 'REJECT', '  '))).kind).toBe('INVALID');

      // Two operators decide at once: exactly one wins.
      const outcomes = await Promise.allSettled([
        reviewVersion(ctx, OP1, v1.id, 'APPROVE', 'looks good'),
        reviewVersion(ctx, OP2, v1.id, 'REJECT', 'broken'),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const loser = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(WorkspaceError);
      expect((loser.reason as WorkspaceError).message).toContain('no longer waiting for review');
      const decided = await findVersion(ctx.store.db, app.appId, 1);
      expect(['APPROVED', 'REJECTED']).toContain(decided?.status);
      expect(decided?.reviewedBy).toMatch(/^op_[12]$/);

      // A rejected version stays rejected and can never be published.
      const v2 = await uploadVersion(ctx, shopA, A, app.appId, build('two'));
      await submitVersion(ctx, shopA, A, app.appId, v2.version);
      await reviewVersion(ctx, OP1, v2.id, 'REJECT', 'the pay button does nothing');
      expect(await findVersion(ctx.store.db, app.appId, 2)).toMatchObject({
        status: 'REJECTED',
        reviewReason: 'the pay button does nothing',
      });
      expect((await refused(submitVersion(ctx, shopA, A, app.appId, 2))).kind).toBe('CONFLICT');
      expect((await refused(publishMiniProgramVersion(ctx, shopA, A, app.appId, 2))).kind).toBe('CONFLICT');
      expect((await refused(reviewVersion(ctx, OP1, v2.id, 'APPROVE', ''))).kind).toBe('CONFLICT');
    });

    it('numbers racing uploads one after another', async () => {
      const app = await create();
      const versions = await Promise.all(
        [1, 2, 3, 4].map((i) => uploadVersion(ctx, shopA, A, app.appId, build(`r${i}`))),
      );
      expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    });

    it('publishes, rolls back by moving the pointer, and lists only published mini programs', async () => {
      const app = await create();
      const listed = async () =>
        (await publishedMiniPrograms(ctx.store.db)).some((m) => m.appId === app.appId);
      const v1 = await approved(app.appId, 'one');
      expect(await listed()).toBe(false);
      // Before publishing, nobody gets its files without a preview link.
      expect(await findServedFile(ctx, app.appId, String(v1), 'index.html')).toBeUndefined();

      expect(await publishMiniProgramVersion(ctx, shopA, A, app.appId, v1)).toEqual({ previous: null });
      expect(await findMiniProgram(ctx.store.db, app.appId)).toMatchObject({
        status: 'PUBLISHED',
        publishedVersion: 1,
      });
      expect(await listed()).toBe(true);
      const served = await findServedFile(ctx, app.appId, '1', '');
      expect(served?.mode).toBe('PUBLISHED');
      expect(served?.file.data.toString()).toContain('<h1>one</h1>');

      const v2 = await approved(app.appId, 'two');
      await publishMiniProgramVersion(ctx, shopA, A, app.appId, v2);
      expect((await findMiniProgram(ctx.store.db, app.appId))?.publishedVersion).toBe(2);
      expect(await findServedFile(ctx, app.appId, '1', 'index.html')).toBeUndefined();
      expect((await findServedFile(ctx, app.appId, '2', 'app.js'))?.file.data.toString()).toBe('// two');

      // Roll back: version 1 is live again, version 2 is kept and can be published again.
      expect(await publishMiniProgramVersion(ctx, shopA, A, app.appId, 1)).toEqual({ previous: 2 });
      expect((await findMiniProgram(ctx.store.db, app.appId))?.publishedVersion).toBe(1);
      expect(await findServedFile(ctx, app.appId, '2', 'index.html')).toBeUndefined();
      expect((await findVersion(ctx.store.db, app.appId, 2))?.status).toBe('APPROVED');
      expect(await listed()).toBe(true);
      await publishMiniProgramVersion(ctx, shopA, A, app.appId, 2);
      expect((await findMiniProgram(ctx.store.db, app.appId))?.publishedVersion).toBe(2);
    });

    it('gates pay on the Payment feature: removed -> ACCESS_DENIED naming it, added again -> accepted', async () => {
      const app = await create();
      const pay = (appId: string | undefined) =>
        createPayment(ctx, shopA, {
          partnerId: shopA.partnerId,
          paymentRequestId: `ws-${++n}`,
          paymentOrderTitle: 'Coffee',
          paymentAmount: { currency: 'USD', value: '500' },
          ...(appId ? { appId } : {}),
        });
      expect((await pay(app.appId)).reply.result.resultCode).toBe('ACCEPT');
      await removeMiniProgramFeature(ctx, shopA, A, app.appId, 'PAYMENT');
      const denied = (await pay(app.appId)).reply.result;
      expect(denied).toMatchObject({ resultStatus: 'F', resultCode: 'ACCESS_DENIED' });
      expect(denied.resultMessage).toContain('has not added the Payment feature');
      const v2 = await createPaymentV2(ctx, shopA, {
        paymentRequestId: `ws-${++n}`,
        productCode: 'CASHIER_PAYMENT',
        paymentAmount: { currency: 'USD', value: '500' },
        order: { orderDescription: 'Coffee' },
        appId: app.appId,
      } as Parameters<typeof createPaymentV2>[2]);
      expect(v2.reply.result).toMatchObject({ resultStatus: 'F', resultCode: 'ACCESS_DENIED' });
      // Without an appId, pay works as before.
      expect((await pay(undefined)).reply.result.resultCode).toBe('ACCEPT');
      await addMiniProgramFeature(ctx, shopA, A, app.appId, 'PAYMENT');
      expect((await pay(app.appId)).reply.result.resultCode).toBe('ACCEPT');
      expect((await refused(addMiniProgramFeature(ctx, shopA, A, app.appId, 'PAYMENT'))).kind).toBe(
        'CONFLICT',
      );
    });

    it('takes User information PENDING (silent scopes only) until an operator approves it', async () => {
      const app = await create();
      await publishMiniProgramVersion(ctx, shopA, A, app.appId, await approved(app.appId, 'u'));
      const user = await createUser(ctx, {
        phone: `+1557${process.pid % 1000}${String(++n).padStart(5, '0')}`,
        pin: '123456',
      });
      const ask = (scopes: string[]) => assessAuthRequest(ctx, user.id, app.appId, scopes);
      expect((await ask(['auth_base'])).kind).toBe('NO_FEATURE');

      await addMiniProgramFeature(ctx, shopA, A, app.appId, 'USER_INFO');
      expect((await featuresOf(ctx.store.db, app.appId)).get('USER_INFO')).toBe('PENDING');
      expect((await ask(['auth_base'])).kind).toBe('OK');
      expect((await ask(['USER_NICKNAME'])).kind).toBe('NOTHING_GRANTABLE');

      // A rejection needs a reason; the merchant may ask again, which forgets the old decision.
      expect((await refused(decideFeatureRequest(ctx, OP1, app.appId, 'USER_INFO', 'REJECT', ''))).kind).toBe(
        'INVALID',
      );
      await decideFeatureRequest(ctx, OP1, app.appId, 'USER_INFO', 'REJECT', 'tell us why you need it');
      expect((await featuresOf(ctx.store.db, app.appId)).get('USER_INFO')).toBe('REJECTED');
      expect((await ask(['auth_base'])).kind).toBe('NO_FEATURE');
      await addMiniProgramFeature(ctx, shopA, A, app.appId, 'USER_INFO');
      expect((await featuresOf(ctx.store.db, app.appId)).get('USER_INFO')).toBe('PENDING');

      // Two operators at once: one decision.
      const outcomes = await Promise.allSettled([
        decideFeatureRequest(ctx, OP1, app.appId, 'USER_INFO', 'APPROVE', ''),
        decideFeatureRequest(ctx, OP2, app.appId, 'USER_INFO', 'APPROVE', ''),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect((await featuresOf(ctx.store.db, app.appId)).get('USER_INFO')).toBe('ACTIVE');
      const profile = await ask(['USER_NICKNAME']);
      expect(profile.kind).toBe('OK');
      expect((await refused(addMiniProgramFeature(ctx, shopA, A, app.appId, 'USER_INFO'))).kind).toBe(
        'CONFLICT',
      );
    });

    it('issues preview links for one version and one hour, which nobody can forge', async () => {
      const app = await create();
      const v = await uploadVersion(ctx, shopA, A, app.appId, build('preview'));
      const token = previewToken(ctx, app.appId, v.version);
      expect(previewTokenValid(ctx, app.appId, v.version, token)).toBe(true);
      expect(previewTokenValid(ctx, app.appId, v.version + 1, token)).toBe(false);
      expect(previewTokenValid(ctx, shopA.id, v.version, token)).toBe(false);
      const [expires, mac] = token.split('.');
      expect(previewTokenValid(ctx, app.appId, v.version, `${Number(expires) + 3600}.${mac}`)).toBe(false);
      expect(previewTokenValid(ctx, app.appId, v.version, `${expires}.${'A'.repeat(43)}`)).toBe(false);
      const served = await findServedFile(ctx, app.appId, String(v.version), `p/${token}/app.js`);
      expect(served).toMatchObject({ mode: 'PREVIEW' });
      expect(served?.file.data.toString()).toBe('// preview');
      expect(await findServedFile(ctx, app.appId, String(v.version), `p/${token}/nope.js`)).toBeUndefined();

      clock.advance(PREVIEW_TTL_MS);
      expect(previewTokenValid(ctx, app.appId, v.version, token)).toBe(false);
      expect(await findServedFile(ctx, app.appId, String(v.version), `p/${token}/app.js`)).toBeUndefined();
    });

    it("never lets one merchant see or touch another merchant's mini program", async () => {
      const app = await create(shopA);
      const v = await uploadVersion(ctx, shopA, A, app.appId, build('mine'));
      const B = 'merchant:acc_b';
      const attempts: (() => Promise<unknown>)[] = [
        () => uploadVersion(ctx, shopB, B, app.appId, build('theirs')),
        () => submitVersion(ctx, shopB, B, app.appId, v.version),
        () => publishMiniProgramVersion(ctx, shopB, B, app.appId, v.version),
        () => addMiniProgramFeature(ctx, shopB, B, app.appId, 'USER_INFO'),
        () => removeMiniProgramFeature(ctx, shopB, B, app.appId, 'PAYMENT'),
        () => updateWorkspaceDetails(ctx, shopB, B, app.appId, { description: 'pwned', serverOrigins: '' }),
      ];
      for (const attempt of attempts) expect((await refused(attempt())).kind).toBe('NOT_FOUND');
      expect(await findVersion(ctx.store.db, app.appId, v.version)).toMatchObject({ status: 'UPLOADED' });
      expect(await findVersion(ctx.store.db, app.appId, v.version + 1)).toBeUndefined();
      expect(await featuresOf(ctx.store.db, app.appId)).toEqual(new Map([['PAYMENT', 'ACTIVE']]));
      expect((await findMiniProgram(ctx.store.db, app.appId))?.description).toBe('A test mini program');
      // And B's pay with A's appId is refused as before.
      const out = await createPayment(ctx, shopB, {
        partnerId: shopB.partnerId,
        paymentRequestId: `ws-${++n}`,
        paymentOrderTitle: 'x',
        paymentAmount: { currency: 'USD', value: '1' },
        appId: app.appId,
      });
      expect(out.reply.result.resultCode).toBe('ACCESS_DENIED');
    });
  });
}
