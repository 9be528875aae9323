/**
 * The demo shop: a merchant server built only on public pieces (the merchant SDK, the protocol types
 * and HTTP), serving its mini program under /mini/. Orders live in memory: restarting the shop loses
 * them (see order-book.ts).
 */
import { createClient } from '@billetera/sdk-node';
import Fastify, { type FastifyError } from 'fastify';
import { registerMiniPages } from './mini-pages.ts';
import { registerNotify } from './notify-route.ts';
import { OrderBook } from './order-book.ts';
import { SessionBook } from './session-book.ts';
import { registerSessionRoutes } from './session-routes.ts';
import type { ShopContext } from './shop-context.ts';
import { registerCors, registerShopRoutes } from './shop-routes.ts';

export interface DemoShopOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** The wallet's base URL: the OpenAPI, and where the mini program loads `/jsapi/my.js` from. */
  walletUrl: string;
  clientId: string;
  partnerId: string;
  /** The merchant's RSA private key (PEM); the wallet holds the public key. */
  privateKeyPem: string;
  /** The wallet's public key (PEM), from `GET /api/open/keys` or `billetera keys wallet`. */
  walletPublicKeyPem: string;
  /** The shop's mini program appId, sent with `pay` so the wallet answers a `miniProgramUrl`. */
  appId?: string | undefined;
  /** The shop's base URL as the wallet reaches it (notify URL); default the address it listens on. */
  publicUrl?: string | undefined;
  logLevel?: string | undefined;
}

export interface RunningDemoShop {
  /** Where the server listens, e.g. http://127.0.0.1:8081. */
  url: string;
  /** The base URL in notify URLs: `publicUrl`, or `url`. */
  publicUrl: string;
  /** The mini program's entry page (`<publicUrl>/mini/`), to register in the wallet. */
  entryUrl: string;
  close(): Promise<void>;
}

/** Name and description for registering the demo shop's mini program in a wallet. */
export const DEMO_SHOP_MINI_PROGRAM = {
  name: 'Billetera Demo Shop',
  description: 'Coffee, tamales and matcha: a demo merchant paying with my.tradePay.',
} as const;

/** Bodies of the shop's own API are a few dozen bytes. */
const API_BODY_LIMIT_BYTES = 4 * 1024;
/** The orders kept in memory; the oldest is forgotten first. */
const MAX_ORDERS = 10_000;
/** The sign-in sessions kept in memory; the oldest is forgotten first. */
const MAX_SESSIONS = 10_000;
/** A user is waiting on every call to the wallet: fail fast rather than after the SDK's 3 × 10 s. */
const WALLET_TIMEOUT_MS = 5_000;
const WALLET_MAX_RETRIES = 1;

export async function startDemoShop(options: DemoShopOptions): Promise<RunningDemoShop> {
  const walletUrl = httpUrl(options.walletUrl, 'walletUrl');
  if (options.publicUrl !== undefined) httpUrl(options.publicUrl, 'publicUrl');
  const shop: ShopContext = {
    client: createClient({
      baseUrl: options.walletUrl,
      clientId: options.clientId,
      privateKey: options.privateKeyPem,
      walletPublicKey: options.walletPublicKeyPem,
      timeoutMs: WALLET_TIMEOUT_MS,
      maxRetries: WALLET_MAX_RETRIES,
    }),
    partnerId: options.partnerId,
    appId: options.appId,
    publicUrl: '', // known once listening
    orders: new OrderBook(MAX_ORDERS),
    sessions: new SessionBook(MAX_SESSIONS),
  };

  const app = Fastify({
    logger: { level: options.logLevel ?? process.env['LOG_LEVEL'] ?? 'info' },
    bodyLimit: API_BODY_LIMIT_BYTES,
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    // Client mistakes (bad JSON, too large) say what was wrong; faults stay in the log.
    return reply
      .code(status)
      .send(
        status < 500
          ? { error: err.code ?? 'BAD_REQUEST', message: err.message }
          : { error: 'INTERNAL_ERROR', message: 'the shop failed; see its log' },
      );
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: 'no such route' }),
  );
  app.get('/health', async () => ({ status: 'ok' }));
  registerCors(app);
  registerShopRoutes(app, shop);
  registerSessionRoutes(app, shop);
  registerNotify(app, shop);
  registerMiniPages(app, walletUrl);

  const url = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  shop.publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  return {
    url,
    publicUrl: shop.publicUrl,
    entryUrl: `${shop.publicUrl}/mini/`,
    close: () => app.close(),
  };
}

function httpUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`${name} must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`${name} must be an http(s) URL, got ${JSON.stringify(text)}`);
  return url;
}
