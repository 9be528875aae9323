/**
 * Mini programs: each has an appId and belongs to one merchant. Until the workspace (upload, review,
 * publish) arrives, a mini program is registered with the URL its index page is served at, published.
 */
import { randomInt } from 'node:crypto';
import {
  findMerchantByClientId,
  findMiniProgram,
  insertMiniProgram,
  updateMiniProgramEntry,
  type MiniProgram,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { isHttpUrl } from './merchants.ts';
import { UserInputError } from './users.ts';

/** Alipay-style numeric appId: 19 digits. */
function newAppId(): string {
  let digits = '2026';
  while (digits.length < 19) digits += String(randomInt(10));
  return digits;
}

export async function createMiniProgram(
  ctx: WalletContext,
  input: { clientId: string; name: string; description?: string | undefined; entryUrl: string },
): Promise<MiniProgram> {
  if (!input.name.trim()) throw new UserInputError('the mini program name must not be empty');
  if (!isHttpUrl(input.entryUrl)) throw new UserInputError('the entry URL must be an absolute http(s) URL');
  const merchant = await findMerchantByClientId(ctx.store.db, input.clientId);
  if (!merchant) throw new UserInputError(`no merchant with Client-Id ${input.clientId}`);
  const mini: MiniProgram = {
    appId: newAppId(),
    merchantId: merchant.id,
    name: input.name.trim(),
    description: input.description?.trim() ?? '',
    logoUrl: null,
    entryUrl: input.entryUrl,
    status: 'PUBLISHED',
    createdAt: ctx.clock.now(),
  };
  await insertMiniProgram(ctx.store.db, mini);
  return mini;
}

/** Points a mini program at a new entry URL (the demo shop's port may change between starts). */
export async function moveMiniProgram(ctx: WalletContext, appId: string, entryUrl: string): Promise<void> {
  if (!isHttpUrl(entryUrl)) throw new UserInputError('the entry URL must be an absolute http(s) URL');
  if (!(await findMiniProgram(ctx.store.db, appId))) throw new UserInputError(`no mini program ${appId}`);
  await updateMiniProgramEntry(ctx.store.db, appId, entryUrl);
}
