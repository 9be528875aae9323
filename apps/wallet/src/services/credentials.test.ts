/**
 * Merchant keys in the console: what counts as a public key (RSA, 2048 to 8192 bits, one PEM block;
 * private keys and certificates refused without being repeated), the fingerprint, and the add and retire
 * rules on both databases (next version, duplicates, the last active key, frozen and unverified
 * merchants, the audit trail, and two retirements racing for the last two keys).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { activeMerchantKeys, merchantEvents, merchantKeyVersions, setMerchantStatus } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specKeys } from '../../../../test/spec-merchant.ts';
import { addMerchant, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import {
  MAX_ACTIVE_KEYS,
  addPublicKey,
  checkPublicKeyPem,
  keyFingerprint,
  merchantCredentials,
  retirePublicKey,
} from './credentials.ts';

const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
const spkiPem = (bits = 2048) => rsa(bits).publicKey.export({ type: 'spki', format: 'pem' }).toString();
/** The base64 body lines of a PEM, to check that a message never repeats any of them. */
const bodyLines = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'));

describe('checkPublicKeyPem', () => {
  const pair = rsa(2048);

  it('accepts an SPKI RSA public key and fingerprints the SHA-256 of its DER', () => {
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const checked = checkPublicKeyPem(`\n  ${pem}\n`);
    const der = pair.publicKey.export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(der).digest('hex').slice(0, 16);
    expect(checked).toEqual({ ok: true, pem, fingerprint: expected, bits: 2048 });
    expect(keyFingerprint(pem)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{16}$/);
  });

  it('converts a PKCS#1 RSA PUBLIC KEY to SPKI (same fingerprint)', () => {
    const pkcs1 = pair.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    const checked = checkPublicKeyPem(pkcs1);
    expect(checked.ok && checked.pem).toContain('-----BEGIN PUBLIC KEY-----');
    expect(checked.ok && checked.fingerprint).toBe(keyFingerprint(pair.publicKey));
  });

  it('refuses private keys in every PEM shape, without repeating them', () => {
    const shapes = [
      pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      pair.privateKey
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
        .toString(),
      // A private key pasted after the public one.
      pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() +
        pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    ];
    for (const pem of shapes) {
      const checked = checkPublicKeyPem(pem);
      expect(checked).toMatchObject({ ok: false, problem: 'PRIVATE_KEY' });
      const message = checked.ok ? '' : checked.message;
      expect(message).toMatch(/PRIVATE key/);
      expect(message).toMatch(/did not keep it/);
      for (const line of bodyLines(pem)) expect(message).not.toContain(line.slice(0, 24));
    }
  });

  it('refuses short, long, non-RSA, certificate, garbage, several and empty inputs with a reason', () => {
    expect(checkPublicKeyPem(spkiPem(1024))).toMatchObject({ ok: false, problem: 'TOO_SHORT' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(checkPublicKeyPem(ec.toString())).toMatchObject({ ok: false, problem: 'NOT_RSA' });
    expect(checkPublicKeyPem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toMatchObject({
      ok: false,
      problem: 'CERTIFICATE',
    });
    expect(checkPublicKeyPem('ssh-rsa AAAAB3NzaC1yc2E me@host')).toMatchObject({
      ok: false,
      problem: 'NOT_PEM',
    });
    expect(
      checkPublicKeyPem('-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----'),
    ).toMatchObject({ ok: false, problem: 'NOT_PEM' });
    expect(checkPublicKeyPem(spkiPem() + spkiPem())).toMatchObject({ ok: false, problem: 'NOT_PEM' });
    expect(checkPublicKeyPem('   ')).toMatchObject({ ok: false, problem: 'EMPTY' });
  });

  it('accepts longer RSA keys', () => {
    expect(checkPublicKeyPem(spkiPem(3072))).toMatchObject({ ok: true, bits: 3072 });
  });
});

for (const backend of BACKENDS) {
  describe(`key add and retire rules on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    const actor = 'merchant:macc_test' as const;

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { workers: false });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('adds the next version, refuses a duplicate, retires with overlap, never the last active key', async () => {
      const ctx = wallet.ctx;
      const shop = await addMerchant(ctx);
      const m = shop.merchant;
      const v2 = spkiPem();

      const added = await addPublicKey(ctx, m, { publicKeyPem: v2, actor });
      expect(added).toEqual({ ok: true, keyVersion: 2, fingerprint: keyFingerprint(v2) });
      expect((await activeMerchantKeys(ctx.store.db, m.id)).map((k) => k.keyVersion)).toEqual([2, 1]);

      // The same key again (even as PKCS#1) is the same key.
      const again = await addPublicKey(ctx, m, {
        publicKeyPem: shop.keys.publicKeyPem,
        actor,
      });
      expect(again).toMatchObject({ ok: false, problem: 'DUPLICATE' });
      expect(again.ok ? '' : again.message).toContain('version 1');

      const privateKey = shop.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(await addPublicKey(ctx, m, { publicKeyPem: privateKey, actor })).toMatchObject({
        ok: false,
        problem: 'PRIVATE_KEY',
      });

      expect(await retirePublicKey(ctx, m, { keyVersion: 1, actor })).toEqual({ ok: true, keyVersion: 1 });
      expect(await retirePublicKey(ctx, m, { keyVersion: 1, actor })).toMatchObject({
        ok: false,
        problem: 'ALREADY_RETIRED',
      });
      const last = await retirePublicKey(ctx, m, { keyVersion: 2, actor });
      expect(last).toMatchObject({ ok: false, problem: 'LAST_ACTIVE' });
      expect(last.ok ? '' : last.message).toMatch(/add a new one first/);
      expect(await retirePublicKey(ctx, m, { keyVersion: 9, actor })).toMatchObject({
        ok: false,
        problem: 'NOT_FOUND',
      });
      // A retired key cannot come back as a new version either.
      expect(await addPublicKey(ctx, m, { publicKeyPem: shop.keys.publicKeyPem, actor })).toMatchObject({
        ok: false,
        problem: 'DUPLICATE',
      });

      const creds = await merchantCredentials(ctx, m);
      expect(creds.keys.map((k) => [k.keyVersion, k.status, k.bits])).toEqual([
        [2, 'ACTIVE', 2048],
        [1, 'RETIRED', 2048],
      ]);
      expect(creds.keys[1]?.fingerprint).toBe(keyFingerprint(shop.keys.publicKeyPem));
      expect(creds).toMatchObject({
        clientId: m.clientId,
        partnerId: m.partnerId,
        openApiBaseUrl: `${ctx.publicUrl}/api/open`,
        canChange: true,
      });
      expect(creds.walletKey.fingerprint).toBe(keyFingerprint(ctx.secrets.walletPublicKeyPem));

      const events = await merchantEvents(ctx.store.db, m.id);
      expect(events.map((e) => [e.action, e.actor])).toEqual([
        ['KEY_RETIRED', actor],
        ['KEY_ADDED', actor],
      ]);
      expect(events[1]?.detail).toContain(keyFingerprint(v2));
    });

    it(`allows at most ${MAX_ACTIVE_KEYS} active keys`, async () => {
      const ctx = wallet.ctx;
      const { merchant } = await addMerchant(ctx);
      for (let i = 2; i <= MAX_ACTIVE_KEYS; i++)
        expect(
          await addPublicKey(ctx, merchant, { publicKeyPem: specKeys(true).publicKeyPem, actor }),
        ).toMatchObject({
          ok: true,
          keyVersion: i,
        });
      const extra = specKeys(true).publicKeyPem;
      expect(await addPublicKey(ctx, merchant, { publicKeyPem: extra, actor })).toMatchObject({
        ok: false,
        problem: 'TOO_MANY',
      });
      await retirePublicKey(ctx, merchant, { keyVersion: 1, actor });
      expect(await addPublicKey(ctx, merchant, { publicKeyPem: extra, actor })).toMatchObject({
        ok: true,
        keyVersion: MAX_ACTIVE_KEYS + 1,
      });
    });

    it('changes nothing for a frozen or unverified merchant', async () => {
      const ctx = wallet.ctx;
      const frozen = await addMerchant(ctx);
      await addPublicKey(ctx, frozen.merchant, { publicKeyPem: spkiPem(), actor });
      await setMerchantStatus(ctx.store.db, frozen.merchant.id, 'FROZEN');
      const draft = await addMerchant(ctx, { verified: false });
      for (const [m, status] of [
        [frozen.merchant, 'FROZEN'],
        [draft.merchant, 'DRAFT'],
      ] as const) {
        const before = await merchantKeyVersions(ctx.store.db, m.id);
        const who = { ...m, status };
        const add = await addPublicKey(ctx, who, { publicKeyPem: spkiPem(), actor });
        expect(add).toMatchObject({ ok: false, problem: 'NOT_ALLOWED' });
        expect(await retirePublicKey(ctx, who, { keyVersion: 1, actor })).toMatchObject({
          ok: false,
          problem: 'NOT_ALLOWED',
        });
        expect(await merchantKeyVersions(ctx.store.db, m.id)).toEqual(before);
      }
      // The session's copy of the merchant may be stale: the status is read again in the transaction.
      const stale = { ...frozen.merchant, status: 'VERIFIED' as const };
      expect(await retirePublicKey(ctx, stale, { keyVersion: 1, actor })).toMatchObject({
        ok: false,
        problem: 'NOT_ALLOWED',
      });
      expect((await merchantCredentials(ctx, { ...frozen.merchant, status: 'FROZEN' })).canChange).toBe(
        false,
      );
    });

    it('lets exactly one of two racing retirements of the last two keys win', async () => {
      const ctx = wallet.ctx;
      for (let round = 0; round < 5; round++) {
        const { merchant } = await addMerchant(ctx);
        await addPublicKey(ctx, merchant, { publicKeyPem: specKeys(true).publicKeyPem, actor });
        const results = await Promise.all([
          retirePublicKey(ctx, merchant, { keyVersion: 1, actor }),
          retirePublicKey(ctx, merchant, { keyVersion: 2, actor }),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.problem === 'LAST_ACTIVE')).toHaveLength(1);
        expect(await activeMerchantKeys(ctx.store.db, merchant.id)).toHaveLength(1);
      }
    });
  });
}
