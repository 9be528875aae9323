/**
 * The composition root: opens the store and the secrets, and runs the HTTP server, the notifier and the
 * expiry sweeper in one process.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Clock, IdGenerator } from '@billetera/domain';
import { openStore } from '@billetera/store';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import type { WalletContext } from './context.ts';
import { resolveRateLimits, type RateLimitOptions } from './http/rate-limit.ts';
import { buildServer } from './http/server.ts';
import { randomIds, systemClock } from './runtime.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { ExpirySweeper } from './workers/expiry-sweeper.ts';
import { Notifier, type NotifierOptions } from './workers/notifier.ts';
import { WebsiteRecheck } from './workers/website-recheck.ts';

export interface WalletOptions {
  /** Secrets and the SQLite file live here (default ./data). */
  dataDir: string;
  /** PostgreSQL instead of the SQLite file. */
  databaseUrl?: string | undefined;
  /** Public base URL used in cashier links; default http://<host>:<port>. */
  publicUrl?: string | undefined;
  clock?: Clock;
  ids?: IdGenerator;
  logger?: FastifyBaseLogger;
  logLevel?: string;
  /**
   * Let website checks fetch loopback/private/link-local addresses (local use, tests). Default: the
   * environment variable BILLETERA_ALLOW_PRIVATE_WEBSITES=1, else off.
   */
  allowPrivateWebsites?: boolean;
  /**
   * The HTTP rate limits (http/rate-limit.ts): per group a `{perSecond, burst}` or `false` (off); omitted
   * groups keep DEFAULT_RATE_LIMITS; `false` turns them all off. The bench raises them.
   */
  rateLimits?: RateLimitOptions;
}

export {
  DEFAULT_RATE_LIMITS,
  parseRateLimits,
  type Bucket as RateLimitBucket,
  type RateLimitOptions,
  type RateLimitSettings,
} from './http/rate-limit.ts';

export const SQLITE_FILE_NAME = 'billetera.sqlite';

/** Opens what every command needs (store, secrets, clock, ids) without starting anything. */
export async function openWallet(options: WalletOptions): Promise<WalletContext> {
  const dataDir = resolve(options.dataDir);
  const secrets = await loadOrCreateSecrets(dataDir);
  const store = await openStore({
    databaseUrl: options.databaseUrl,
    sqliteFile: join(dataDir, SQLITE_FILE_NAME),
  });
  const logger =
    options.logger ??
    (pino({ level: options.logLevel ?? process.env['LOG_LEVEL'] ?? 'info' }) as FastifyBaseLogger);
  const merchantListeners = new Set<(clientId: string) => void>();
  return {
    store,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? randomIds,
    secrets,
    publicUrl: (options.publicUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    logger,
    onOutbox: () => undefined,
    allowPrivateWebsites:
      options.allowPrivateWebsites ?? process.env['BILLETERA_ALLOW_PRIVATE_WEBSITES'] === '1',
    merchantChanged: (clientId) => {
      for (const listener of merchantListeners) listener(clientId);
    },
    onMerchantChanged: (listener) => {
      merchantListeners.add(listener);
      return () => merchantListeners.delete(listener);
    },
    rateLimits: resolveRateLimits(options.rateLimits),
  };
}

export interface RunningWallet {
  ctx: WalletContext;
  app: FastifyInstance;
  notifier: Notifier;
  sweeper: ExpirySweeper;
  /** Where the server listens, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions extends WalletOptions {
  port: number;
  host?: string;
  /** Run the notifier and the expiry sweeper in this process (default true). */
  workers?: boolean;
  notifier?: Partial<NotifierOptions>;
}

export async function startWallet(options: StartOptions): Promise<RunningWallet> {
  const host = options.host ?? '127.0.0.1';
  const ctx = await openWallet(options);
  const app = buildServer(ctx);
  const notifier = new Notifier(ctx, { owner: `notifier-${randomUUID()}`, ...options.notifier });
  const sweeper = new ExpirySweeper(ctx);
  const recheck = new WebsiteRecheck(ctx);
  ctx.onOutbox = () => notifier.wake();
  let url: string;
  try {
    url = await app.listen({ port: options.port, host });
  } catch (err) {
    await ctx.store.close();
    throw err;
  }
  ctx.publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  if (options.workers !== false) {
    notifier.start();
    sweeper.start();
    recheck.start();
  }
  return {
    ctx,
    app,
    notifier,
    sweeper,
    url,
    async close() {
      await app.close();
      await recheck.stop();
      await sweeper.stop();
      await notifier.stop();
      await ctx.store.close();
    },
  };
}
