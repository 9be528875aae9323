import { randomBytes } from 'node:crypto';
import { addMerchantKey, insertMerchant, type Merchant, type MerchantStatus } from '@billetera/store';
import { loadPublicKey } from '@billetera/protocol/signing';
import type { WalletContext } from '../context.ts';

export interface CreateMerchantInput {
  name: string;
  website?: string | undefined;
  notifyUrl?: string | undefined;
  publicKeyPem: string;
  verified: boolean;
}

export interface CreatedMerchant {
  merchant: Merchant;
  keyVersion: number;
  walletPublicKey: string;
}

/** Client-Id: 16 characters of base32 (80 random bits); partnerId: `P` and 20 digits. */
export function newClientId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
}

export function newPartnerId(): string {
  return 'P' + [...randomBytes(20)].map((b) => String(b % 10)).join('');
}

export async function createMerchant(
  ctx: WalletContext,
  input: CreateMerchantInput,
): Promise<CreatedMerchant> {
  if (!input.name.trim()) throw new Error('the merchant name must not be empty');
  for (const [field, url] of [
    ['website', input.website],
    ['notify URL', input.notifyUrl],
  ] as const) {
    if (url !== undefined && !isHttpUrl(url))
      throw new Error(`the ${field} must be an absolute http(s) URL: ${url}`);
  }
  try {
    loadPublicKey(input.publicKeyPem);
  } catch {
    throw new Error('the public key is not a PEM RSA public key');
  }
  const now = ctx.clock.now();
  const merchant: Merchant = {
    id: ctx.ids.next('mch'),
    clientId: newClientId(),
    partnerId: newPartnerId(),
    name: input.name.trim(),
    website: input.website ?? null,
    notifyUrl: input.notifyUrl ?? null,
    status: (input.verified ? 'VERIFIED' : 'DRAFT') satisfies MerchantStatus,
    createdAt: now,
  };
  const keyVersion = await ctx.store.transaction(async (tx) => {
    await insertMerchant(tx, merchant);
    return addMerchantKey(tx, merchant.id, input.publicKeyPem, now);
  });
  return { merchant, keyVersion, walletPublicKey: ctx.secrets.walletPublicKeyPem };
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
