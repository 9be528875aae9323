/**
 * Console accounts and operators on both databases: password hashing (format, constant-time compare,
 * malformed hashes), sign-up (merchant DRAFT without a key, unique case-insensitive email), sign-in with
 * the same answer for an unknown email and a wrong password, and the lockout (5 failures, 15 minutes).
 */
import { FakeClock, MAX_PIN_ATTEMPTS, PIN_LOCK_MS } from '@billetera/domain';
import { activeMerchantKeys, findMerchantById, merchantEvents } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import type { WalletContext } from '../context.ts';
import { openWallet } from '../wallet.ts';
import {
  INVALID_CREDENTIALS_MESSAGE,
  createOperator,
  generatePassword,
  hashPassword,
  signInStaff,
  signUpMerchant,
  verifyPassword,
} from './staff-accounts.ts';

describe('password hashing', () => {
  it('stores scrypt$N$r$p$salt$hash and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await hashPassword('correct horse battery')).not.toBe(hash); // a fresh salt each time
  });

  it('never matches a malformed stored hash', async () => {
    for (const bad of [
      '',
      'plain',
      'scrypt$1$1$1$x$y',
      'bcrypt$32768$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA',
    ])
      expect(await verifyPassword('whatever password', bad)).toBe(false);
  });

  it('generates strong passwords', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z2-9]{20}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

for (const backend of BACKENDS) {
  describe(`staff accounts on ${backend.name}`, () => {
    let env: BackendEnv;
    let ctx: WalletContext;
    const clock = new FakeClock(Date.now());

    beforeAll(async () => {
      env = await backend.create();
      ctx = await openWallet({
        dataDir: env.dataDir,
        databaseUrl: env.databaseUrl,
        clock,
        logLevel: 'silent',
      });
    });
    afterAll(async () => {
      await ctx?.store.close();
      await env?.cleanup();
    });

    it('signs a merchant up: DRAFT, ids generated, no key, one event', async () => {
      const out = await signUpMerchant(ctx, {
        name: '  Tienda   Uno ',
        email: ' Owner@Tienda.Example ',
        password: 'a long enough password',
      });
      if (!out.ok) throw new Error(JSON.stringify(out.errors));
      expect(out.merchant).toMatchObject({ name: 'Tienda Uno', status: 'DRAFT' });
      expect(out.merchant.clientId).toMatch(/^[A-Z2-7]{16}$/);
      expect(out.merchant.partnerId).toMatch(/^P\d{20}$/);
      expect(await findMerchantById(ctx.store.db, out.merchant.id)).toMatchObject({ status: 'DRAFT' });
      expect(await activeMerchantKeys(ctx.store.db, out.merchant.id)).toEqual([]);
      const events = await merchantEvents(ctx.store.db, out.merchant.id);
      expect(events.map((e) => [e.action, e.actor])).toEqual([['SIGNED_UP', `merchant:${out.accountId}`]]);
      const row = await ctx.store.db
        .selectFrom('merchant_accounts')
        .selectAll()
        .where('id', '=', out.accountId)
        .executeTakeFirstOrThrow();
      expect(row.email).toBe('owner@tienda.example');
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(row.password_hash).not.toContain('a long enough password');
    });

    it('refuses a taken email (any case), short passwords and bad fields, storing nothing', async () => {
      const count = async () =>
        Number(
          (
            await ctx.store.db
              .selectFrom('merchants')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      const taken = await signUpMerchant(ctx, {
        name: 'Copycat',
        email: 'OWNER@tienda.example',
        password: 'another long password',
      });
      expect(taken).toMatchObject({
        ok: false,
        errors: { email: expect.stringContaining('already exists') },
      });
      const bad = await signUpMerchant(ctx, { name: 'x', email: 'not-an-email', password: 'short' });
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(['email', 'name', 'password']);
      expect(await count()).toBe(before);
    });

    it('gives one answer for an unknown email and a wrong password', async () => {
      const unknown = await signInStaff(
        ctx,
        'merchant_accounts',
        'nobody@tienda.example',
        'a long enough password',
      );
      const wrong = await signInStaff(
        ctx,
        'merchant_accounts',
        'owner@tienda.example',
        'the wrong password!',
      );
      expect(unknown).toEqual({
        ok: false,
        code: 'INVALID_CREDENTIALS',
        message: INVALID_CREDENTIALS_MESSAGE,
      });
      expect(wrong).toEqual(unknown);
      const right = await signInStaff(
        ctx,
        'merchant_accounts',
        ' OWNER@tienda.example',
        'a long enough password',
      );
      expect(right).toMatchObject({ ok: true });
    });

    it('locks an account for 15 minutes after 5 failures in a row, even for the right password', async () => {
      const email = 'owner@tienda.example';
      for (let i = 0; i < MAX_PIN_ATTEMPTS - 1; i++)
        expect(await signInStaff(ctx, 'merchant_accounts', email, `wrong password ${i}`)).toMatchObject({
          code: 'INVALID_CREDENTIALS',
        });
      const locked = await signInStaff(ctx, 'merchant_accounts', email, 'wrong password 5');
      expect(locked).toMatchObject({ ok: false, code: 'LOCKED', lockedUntil: clock.now() + PIN_LOCK_MS });
      expect(await signInStaff(ctx, 'merchant_accounts', email, 'a long enough password')).toMatchObject({
        code: 'LOCKED',
      });
      clock.advance(PIN_LOCK_MS);
      expect(await signInStaff(ctx, 'merchant_accounts', email, 'a long enough password')).toMatchObject({
        ok: true,
      });
      // A success resets the count.
      const row = await ctx.store.db
        .selectFrom('merchant_accounts')
        .select(['failed_attempts', 'locked_until'])
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ failed_attempts: 0n, locked_until: null });
    });

    it('counts parallel failures exactly', async () => {
      const out = await signUpMerchant(ctx, {
        name: 'Parallel',
        email: 'parallel@tienda.example',
        password: 'a long enough password',
      });
      expect(out.ok).toBe(true);
      await Promise.all(
        [1, 2, 3].map((i) =>
          signInStaff(ctx, 'merchant_accounts', 'parallel@tienda.example', `bad password ${i}`),
        ),
      );
      const row = await ctx.store.db
        .selectFrom('merchant_accounts')
        .select('failed_attempts')
        .where('email', '=', 'parallel@tienda.example')
        .executeTakeFirstOrThrow();
      expect(row.failed_attempts).toBe(3n);
    });

    it('creates operators, unique by email, and signs them in apart from merchants', async () => {
      const created = await createOperator(ctx, {
        email: 'Ops@Billetera.Example',
        password: 'operator password 1',
      });
      expect(created).toMatchObject({ ok: true, email: 'ops@billetera.example' });
      expect(
        await createOperator(ctx, { email: 'ops@billetera.example', password: 'operator password 2' }),
      ).toEqual({
        ok: false,
        message: 'an operator with the email ops@billetera.example already exists',
      });
      expect(await createOperator(ctx, { email: 'x@y.example', password: 'short' })).toMatchObject({
        ok: false,
      });
      expect(
        await signInStaff(ctx, 'operators', 'ops@billetera.example', 'operator password 1'),
      ).toMatchObject({
        ok: true,
        merchantId: null,
      });
      // An operator's credentials are not a console account, nor the other way round.
      expect(
        await signInStaff(ctx, 'merchant_accounts', 'ops@billetera.example', 'operator password 1'),
      ).toMatchObject({
        ok: false,
      });
      expect(
        await signInStaff(ctx, 'operators', 'owner@tienda.example', 'a long enough password'),
      ).toMatchObject({
        ok: false,
      });
    });
  });
}
