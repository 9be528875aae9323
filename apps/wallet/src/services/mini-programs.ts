/**
 * Mini programs: each has an appId and belongs to one merchant. These are EXTERNAL ones, registered by
 * the CLI with the URL their index page is served at, and published at once; the workspace
 * (services/workspace.ts) creates UPLOADED ones, whose versions the wallet serves.
 */
import { randomInt } from 'node:crypto';
import { DEFAULT_FEATURES, isFeature, type Feature } from '@billetera/domain';
import {
  setFeature,
  findMerchantByClientId,
  findMiniProgram,
  insertMiniProgram,
  updateMiniProgramEntry,
  type FeatureStatus,
  type MiniProgram,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { isHttpUrl } from './merchants.ts';
import { UserInputError } from './users.ts';

/** Alipay-style numeric appId: 19 digits. */
export function newAppId(): string {
  let digits = '2026';
  while (digits.length < 19) digits += String(randomInt(10));
  return digits;
}

export async function createMiniProgram(
  ctx: WalletContext,
  input: {
    clientId: string;
    name: string;
    description?: string | undefined;
    entryUrl: string;
    /** Added on top of the default ones (PAYMENT), ACTIVE at once: an operator's command. */
    features?: readonly string[] | undefined;
  },
): Promise<MiniProgram> {
  const extra = input.features ?? [];
  const unknown = extra.filter((f) => !isFeature(f));
  if (unknown.length > 0) throw new UserInputError(`unknown feature ${unknown.join(', ')}`);
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
    hosting: 'EXTERNAL',
    publishedVersion: null,
    logoType: null,
    serverOrigins: [],
  };
  await ctx.store.transaction(async (tx) => {
    await insertMiniProgram(tx, mini);
    for (const feature of new Set<Feature>([...DEFAULT_FEATURES, ...(extra as Feature[])]))
      await setFeature(tx, mini.appId, feature, 'ACTIVE', mini.createdAt);
  });
  return mini;
}

/** Points a mini program at a new entry URL (the demo shop's port may change between starts). */
export async function moveMiniProgram(ctx: WalletContext, appId: string, entryUrl: string): Promise<void> {
  if (!isHttpUrl(entryUrl)) throw new UserInputError('the entry URL must be an absolute http(s) URL');
  if (!(await findMiniProgram(ctx.store.db, appId))) throw new UserInputError(`no mini program ${appId}`);
  await updateMiniProgramEntry(ctx.store.db, appId, entryUrl);
}

/** Sets a feature's status on a mini program (an operator's decision; the workspace builds on it). */
export async function setMiniProgramFeature(
  ctx: WalletContext,
  appId: string,
  feature: string,
  status: FeatureStatus,
): Promise<void> {
  if (!isFeature(feature)) throw new UserInputError(`unknown feature ${feature}`);
  if (!(await findMiniProgram(ctx.store.db, appId))) throw new UserInputError(`no mini program ${appId}`);
  await setFeature(ctx.store.db, appId, feature, status, ctx.clock.now());
}
