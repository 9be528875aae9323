/**
 * Starts a real wallet (real HTTP socket, real database) for a test, and the helpers tests share:
 * merchants and users created through the same services the CLI uses, and the CLI run as a child process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Clock } from '@billetera/domain';
import {
  createMerchant,
  createUser,
  startWallet,
  topUpUser,
  type NotifierOptions,
  type RateLimitOptions,
  type RunningWallet,
  type WalletContext,
} from '@billetera/wallet';
import type { Merchant } from '@billetera/store';
import type { BackendEnv } from './backends.ts';
import { specKeys, type SpecKeys } from './spec-merchant.ts';

export async function startTestWallet(
  env: BackendEnv,
  opts: {
    clock?: Clock;
    workers?: boolean;
    notifier?: Partial<NotifierOptions>;
    /** Passed to startWallet (defaults: DEFAULT_RATE_LIMITS). */
    rateLimits?: RateLimitOptions;
  } = {},
): Promise<RunningWallet> {
  return startWallet({
    dataDir: env.dataDir,
    databaseUrl: env.databaseUrl,
    port: 0,
    logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.notifier ? { notifier: opts.notifier } : {}),
    ...(opts.rateLimits !== undefined ? { rateLimits: opts.rateLimits } : {}),
  });
}

export interface TestMerchant {
  merchant: Merchant;
  keys: SpecKeys;
}

export async function addMerchant(
  ctx: WalletContext,
  opts: { notifyUrl?: string; verified?: boolean; keys?: SpecKeys; name?: string } = {},
): Promise<TestMerchant> {
  const keys = opts.keys ?? specKeys();
  const created = await createMerchant(ctx, {
    name: opts.name ?? 'Test Shop',
    notifyUrl: opts.notifyUrl,
    publicKeyPem: keys.publicKeyPem,
    verified: opts.verified ?? true,
  });
  return { merchant: created.merchant, keys };
}

let phoneCounter = 0;
/** A user with a fresh phone number and the given balances (minor units). */
export async function addUser(
  ctx: WalletContext,
  balances: Record<string, bigint> = {},
  pin = '123456',
): Promise<{ phone: string; pin: string; id: string }> {
  const phone = `+1555${process.pid % 1000}${String(++phoneCounter).padStart(5, '0')}`;
  const user = await createUser(ctx, { phone, pin });
  for (const [currency, amountMinor] of Object.entries(balances))
    await topUpUser(ctx, { phone, amountMinor, currency });
  return { phone, pin, id: user.id };
}

const CLI = join(import.meta.dirname, '..', 'apps', 'cli', 'bin', 'billetera.js');

/** Runs `billetera <args>` as a separate process, with the backend's --data-dir / --database-url. */
export function runCli(
  env: BackendEnv,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const full = [
    ...args,
    '--data-dir',
    env.dataDir,
    ...(env.databaseUrl ? ['--database-url', env.databaseUrl] : []),
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...full], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
