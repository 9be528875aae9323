/**
 * A merchant's OpenAPI credentials in the console: its Client-Id and partnerId, the API's base URL, its
 * public key versions (add one, retire one: rotation with overlap) and the wallet's public key.
 *
 * Only public keys ever reach the server. A private key pasted by mistake is refused without being kept,
 * logged or shown back. Keys are stored as SPKI PEM (a PKCS#1 `RSA PUBLIC KEY` is converted); the
 * fingerprint shown everywhere is the SHA-256 of the SPKI DER bytes, first 16 hex digits:
 *
 *   openssl pkey -pubin -in public.pem -outform DER | sha256sum | cut -c1-16
 *
 * Changes go through one transaction per change with the merchant row locked (two retirements racing
 * for the last two keys cannot both win), then reach this process's OpenAPI at once: a retired version
 * is KEY_NOT_FOUND from the next call on.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import {
  addMerchantKey,
  findMerchantById,
  lockMerchant,
  merchantKeyVersions,
  insertMerchantEvent,
  retireMerchantKey,
  type Merchant,
  type MerchantKey,
  type MerchantStatus,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import type { Actor } from './onboarding.ts';
import { merchantEventId } from './staff-accounts.ts';

/** RSA moduli accepted for merchant keys. */
export const MIN_KEY_BITS = 2048;
export const MAX_KEY_BITS = 8192;
/** The most ACTIVE key versions a merchant may have at once (an overlap needs two). */
export const MAX_ACTIVE_KEYS = 5;
/** A PEM public key of 8192 bits is under 1.5 KB; anything much longer is not one. */
const MAX_PEM_CHARS = 8_000;

export type KeyProblem =
  'EMPTY' | 'PRIVATE_KEY' | 'CERTIFICATE' | 'NOT_PEM' | 'NOT_RSA' | 'TOO_SHORT' | 'TOO_LONG';

export type KeyCheck =
  | { ok: true; pem: string; fingerprint: string; bits: number }
  | { ok: false; problem: KeyProblem; message: string };

/** SHA-256 of the key's SPKI DER encoding, first 16 hex digits (lower case). */
export function keyFingerprint(key: string | KeyObject): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key;
  const der = object.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

const PRIVATE_MARKERS = [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, /PuTTY-User-Key-File/];
const PUBLIC_BLOCK = /-----BEGIN (RSA )?PUBLIC KEY-----[\s\S]*?-----END (RSA )?PUBLIC KEY-----/g;

function looksPrivate(text: string): boolean {
  if (PRIVATE_MARKERS.some((re) => re.test(text))) return true;
  try {
    createPrivateKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks what a merchant pasted as its public key: one PEM RSA public key of 2048 to 8192 bits. The
 * messages never repeat the input (it may be a private key).
 */
export function checkPublicKeyPem(input: string): KeyCheck {
  const text = input.trim();
  if (!text) return bad('EMPTY', 'Paste a PEM public key, or generate one in this browser.');
  if (looksPrivate(text)) {
    return bad(
      'PRIVATE_KEY',
      'That is a PRIVATE key. Billetera did not keep it. Paste the PUBLIC key (-----BEGIN PUBLIC KEY-----) ' +
        'instead, and keep the private key on your server only. The private key has left your machine, so ' +
        'the safest course is to generate a new key pair and register its public key.',
    );
  }
  if (/-----BEGIN CERTIFICATE-----/.test(text)) {
    return bad(
      'CERTIFICATE',
      'That is a certificate, not a public key. Extract the key with ' +
        '`openssl x509 -pubkey -noout -in certificate.pem` and paste that.',
    );
  }
  if (text.length > MAX_PEM_CHARS) return bad('NOT_PEM', 'That is too long to be a PEM public key.');
  const blocks = text.match(PUBLIC_BLOCK) ?? [];
  if (blocks.length !== 1) {
    return bad(
      'NOT_PEM',
      blocks.length === 0
        ? 'That is not a PEM public key: it must start with -----BEGIN PUBLIC KEY-----.'
        : 'Paste one public key at a time.',
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: blocks[0] ?? '', format: 'pem' });
  } catch {
    return bad('NOT_PEM', 'That public key could not be read: check that it was copied whole.');
  }
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa')
    return bad('NOT_RSA', 'Billetera needs an RSA key (RSA256 signatures); that key is not RSA.');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_KEY_BITS)
    return bad('TOO_SHORT', `That RSA key has ${bits} bits; at least ${MIN_KEY_BITS} are needed.`);
  if (bits > MAX_KEY_BITS)
    return bad('TOO_LONG', `That RSA key has ${bits} bits; at most ${MAX_KEY_BITS} are accepted.`);
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { ok: true, pem, fingerprint: keyFingerprint(key), bits };
}

function bad(problem: KeyProblem, message: string): KeyCheck {
  return { ok: false, problem, message };
}

/** Key changes are for verified merchants; a frozen one sees its credentials but changes nothing. */
export const canViewCredentials = (status: MerchantStatus): boolean =>
  status === 'VERIFIED' || status === 'FROZEN';
export const canChangeCredentials = (status: MerchantStatus): boolean => status === 'VERIFIED';

export interface KeyVersionView {
  keyVersion: number;
  status: MerchantKey['status'];
  createdAt: number;
  fingerprint: string;
  bits: number | null;
}

export interface Credentials {
  clientId: string;
  partnerId: string;
  /** Where the merchant's server sends its calls: `<wallet>/api/open`. */
  openApiBaseUrl: string;
  keys: KeyVersionView[];
  walletKey: { keyVersion: number; fingerprint: string; pem: string };
  canChange: boolean;
}

export async function merchantCredentials(ctx: WalletContext, merchant: Merchant): Promise<Credentials> {
  const keys = await merchantKeyVersions(ctx.store.db, merchant.id);
  return {
    clientId: merchant.clientId,
    partnerId: merchant.partnerId,
    openApiBaseUrl: `${ctx.publicUrl}/api/open`,
    keys: keys.map(toView),
    walletKey: {
      keyVersion: ctx.secrets.walletKeyVersion,
      fingerprint: keyFingerprint(ctx.secrets.walletPublicKeyPem),
      pem: ctx.secrets.walletPublicKeyPem,
    },
    canChange: canChangeCredentials(merchant.status),
  };
}

function toView(k: MerchantKey): KeyVersionView {
  try {
    const key = createPublicKey(k.publicKeyPem);
    return {
      keyVersion: k.keyVersion,
      status: k.status,
      createdAt: k.createdAt,
      fingerprint: keyFingerprint(key),
      bits: key.asymmetricKeyDetails?.modulusLength ?? null,
    };
  } catch {
    return {
      keyVersion: k.keyVersion,
      status: k.status,
      createdAt: k.createdAt,
      fingerprint: '?',
      bits: null,
    };
  }
}

export type AddKeyResult =
  | { ok: true; keyVersion: number; fingerprint: string }
  | {
      ok: false;
      problem: KeyProblem | 'NOT_ALLOWED' | 'DUPLICATE' | 'TOO_MANY';
      message: string;
    };

/** Registers a new public key version (the next number) for a verified merchant. */
export async function addPublicKey(
  ctx: WalletContext,
  merchant: Merchant,
  input: { publicKeyPem: string; actor: Actor },
): Promise<AddKeyResult> {
  if (!canChangeCredentials(merchant.status)) return notAllowed(merchant.status);
  const checked = checkPublicKeyPem(input.publicKeyPem);
  if (!checked.ok) return checked;
  const now = ctx.clock.now();
  const result = await ctx.store.transaction(async (tx): Promise<AddKeyResult> => {
    await lockMerchant(tx, merchant.id);
    const current = await findMerchantById(tx, merchant.id);
    if (!current || !canChangeCredentials(current.status)) return notAllowed(current?.status ?? 'DRAFT');
    const existing = (await merchantKeyVersions(tx, merchant.id)).map(toView);
    const same = existing.find((k) => k.fingerprint === checked.fingerprint);
    if (same) {
      return {
        ok: false,
        problem: 'DUPLICATE',
        message: `That key is already registered as version ${same.keyVersion} (${same.status.toLowerCase()}). Generate a new key pair for a new version.`,
      };
    }
    if (existing.filter((k) => k.status === 'ACTIVE').length >= MAX_ACTIVE_KEYS) {
      return {
        ok: false,
        problem: 'TOO_MANY',
        message: `You already have ${MAX_ACTIVE_KEYS} active keys: retire one before adding another.`,
      };
    }
    const keyVersion = await addMerchantKey(tx, merchant.id, checked.pem, now);
    await insertMerchantEvent(tx, {
      id: merchantEventId(ctx.clock.now()),
      merchantId: merchant.id,
      at: now,
      actor: input.actor,
      action: 'KEY_ADDED',
      detail: `keyVersion ${keyVersion}, fingerprint ${checked.fingerprint}, ${checked.bits} bits`,
    });
    return { ok: true, keyVersion, fingerprint: checked.fingerprint };
  });
  // Calls without a keyVersion use the newest active key: this process must see the new one now.
  if (result.ok) ctx.merchantChanged(merchant.clientId);
  return result;
}

export type RetireKeyResult =
  | { ok: true; keyVersion: number }
  | { ok: false; problem: 'NOT_ALLOWED' | 'NOT_FOUND' | 'ALREADY_RETIRED' | 'LAST_ACTIVE'; message: string };

/**
 * Retires a key version: from the next call on, requests signed with it are KEY_NOT_FOUND. Refused for
 * the last ACTIVE version (add the new one first, then retire the old one).
 */
export async function retirePublicKey(
  ctx: WalletContext,
  merchant: Merchant,
  input: { keyVersion: number; actor: Actor },
): Promise<RetireKeyResult> {
  if (!canChangeCredentials(merchant.status)) return notAllowed(merchant.status);
  const now = ctx.clock.now();
  const result = await ctx.store.transaction(async (tx): Promise<RetireKeyResult> => {
    await lockMerchant(tx, merchant.id);
    const current = await findMerchantById(tx, merchant.id);
    if (!current || !canChangeCredentials(current.status)) return notAllowed(current?.status ?? 'DRAFT');
    const outcome = await retireMerchantKey(tx, merchant.id, input.keyVersion);
    switch (outcome) {
      case 'NOT_FOUND':
        return { ok: false, problem: outcome, message: `There is no key version ${input.keyVersion}.` };
      case 'ALREADY_RETIRED':
        return {
          ok: false,
          problem: outcome,
          message: `Key version ${input.keyVersion} is already retired.`,
        };
      case 'LAST_ACTIVE':
        return {
          ok: false,
          problem: outcome,
          message: `Key version ${input.keyVersion} is your only active key: add a new one first, switch your server to it, then retire this one.`,
        };
      case 'RETIRED':
        await insertMerchantEvent(tx, {
          id: merchantEventId(ctx.clock.now()),
          merchantId: merchant.id,
          at: now,
          actor: input.actor,
          action: 'KEY_RETIRED',
          detail: `keyVersion ${input.keyVersion}`,
        });
        return { ok: true, keyVersion: input.keyVersion };
    }
  });
  if (result.ok) ctx.merchantChanged(merchant.clientId);
  return result;
}

function notAllowed(status: MerchantStatus): { ok: false; problem: 'NOT_ALLOWED'; message: string } {
  return {
    ok: false,
    problem: 'NOT_ALLOWED',
    message:
      status === 'FROZEN'
        ? 'This merchant is frozen: its keys cannot be changed until it is unfrozen.'
        : 'Keys can be changed once the merchant is verified.',
  };
}
