import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { startDemoShop } from '@billetera/demo-shop';
import { formatAmount } from '@billetera/protocol';
import { balancesOf, findUserByPhone } from '@billetera/store';
import {
  SQLITE_FILE_NAME,
  parseRateLimits,
  startWallet,
  type RateLimitOptions,
  type RunningWallet,
} from '@billetera/wallet';
import { DEMO_STAFF, ensureDemoMiniProgram, seedDemo } from './demo.ts';
import { parseIntStrict, withStoreOptions, type StoreOptions } from './options.ts';

interface StartFlags extends StoreOptions {
  port: number;
  host: string;
  publicUrl?: string;
  demo: boolean;
  demoShopPort?: number;
  logLevel: string;
  rateLimits?: RateLimitOptions;
}

export function startCommand(): Command {
  return withStoreOptions(
    new Command('start')
      .description('run the wallet (OpenAPI, cashier, host app, notifier, expiry sweeper) and the demo shop')
      .addOption(
        new Option('--port <n>', 'HTTP port of the wallet')
          .env('PORT')
          .default(8080)
          .argParser(parseIntStrict('--port', 0, 65535)),
      )
      .addOption(
        new Option('--host <address>', 'address to listen on').env('BILLETERA_HOST').default('127.0.0.1'),
      )
      .addOption(
        new Option('--public-url <url>', 'base URL users reach the wallet at (cashier links)').env(
          'BILLETERA_PUBLIC_URL',
        ),
      )
      .option('--no-demo', 'no demo merchant, users or demo shop')
      .addOption(
        new Option('--demo-shop-port <n>', 'port of the demo shop (default: the wallet port + 1)').argParser(
          parseIntStrict('--demo-shop-port', 0, 65535),
        ),
      )
      .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info'))
      .addOption(
        new Option(
          '--rate-limits <json>',
          'rate limits per process: false, or groups merchant, openApiIp, signIn, pin, each {"perSecond":n,"burst":n} or false (docs/protocol.md "Limits")',
        )
          .env('BILLETERA_RATE_LIMITS')
          .argParser(parseRateLimits),
      ),
  ).action(async (o: StartFlags) => {
    const wallet = await startWallet({
      dataDir: o.dataDir,
      databaseUrl: o.databaseUrl,
      port: o.port,
      host: o.host,
      publicUrl: o.publicUrl,
      logLevel: o.logLevel,
      ...(o.rateLimits !== undefined ? { rateLimits: o.rateLimits } : {}),
      // `start` is for running Billetera locally: merchants' test websites on 127.0.0.1 or the LAN may
      // pass the onboarding website check (a production deployment leaves this off: SSRF guard).
      allowPrivateWebsites: true,
    });
    const closers: (() => Promise<void>)[] = [() => wallet.close()];
    const stop = async (signal: string) => {
      wallet.ctx.logger.info({ signal }, 'shutting down');
      for (const close of closers.reverse()) await close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));

    const lines = [
      '',
      'Billetera is running',
      `  Host app:      ${wallet.ctx.publicUrl}/app   (the super-app: sign in, balances, mini programs)`,
      `  Cashier:       ${wallet.ctx.publicUrl}/cashier/<paymentId>`,
      `  OpenAPI:       POST ${wallet.ctx.publicUrl}/api/open/{v1,v2}/payments/{pay,inquiryPayment,cancel,refund,inquiryRefund} (signed, RSA256)`,
      `                 POST ${wallet.ctx.publicUrl}/api/open/{v1,v2}/authorizations/{applyToken,cancelToken}, /users/inquiryUserInfo`,
      `  API reference: ${wallet.ctx.publicUrl}/docs/api`,
      `  Wallet key:    ${wallet.ctx.publicUrl}/api/open/keys`,
      `  Console:       ${wallet.ctx.publicUrl}/console   (merchants: sign up, licence, keys, mini programs)`,
      `  Ops:           ${wallet.ctx.publicUrl}/ops   (operators; create one with: npx billetera operator create --email E)`,
      `  Health:        ${wallet.url}/health`,
      '  Website checks may fetch private addresses (local use); see docs/onboarding.md.',
      `  Data:          ${o.databaseUrl ? wallet.ctx.store.location : relativePath(resolve(o.dataDir, SQLITE_FILE_NAME))} (secrets in ${relativePath(resolve(o.dataDir, 'secrets'))})`,
    ];
    if (o.demo) lines.push(...(await startDemo(wallet, o, closers)));
    lines.push('', 'Stop with Ctrl+C.', '');
    process.stdout.write(lines.join('\n') + '\n');
  });
}

async function startDemo(
  wallet: RunningWallet,
  o: StartFlags,
  closers: (() => Promise<void>)[],
): Promise<string[]> {
  const dataDir = resolve(o.dataDir);
  const demo = await seedDemo(wallet.ctx, dataDir);
  const walletPort = Number(new URL(wallet.url).port);
  const shopPort = o.demoShopPort ?? (o.port === 0 ? 0 : walletPort + 1);
  // The mini program exists before the shop starts (the shop sends its appId); its entry URL follows the shop.
  const appId = await ensureDemoMiniProgram(
    wallet.ctx,
    dataDir,
    demo.merchant,
    `http://${o.host}:${shopPort}/mini/`,
  );
  const shop = await startDemoShop({
    port: shopPort,
    host: o.host,
    walletUrl: wallet.ctx.publicUrl,
    clientId: demo.merchant.clientId,
    partnerId: demo.merchant.partnerId,
    privateKeyPem: readFileSync(demo.merchant.privateKeyFile, 'utf8'),
    walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
    appId,
    logLevel: o.logLevel,
  });
  closers.push(() => shop.close());
  await ensureDemoMiniProgram(wallet.ctx, dataDir, demo.merchant, `${shop.url}/mini/`);

  const lines = [
    '',
    `Demo shop (a merchant built on sdk-node): ${shop.url}`,
    `  Mini program:  "Demo Shop", appId ${appId}: open it from the host app`,
    `  Merchant:      "${demo.merchant.name}", Client-Id ${demo.merchant.clientId}, partnerId ${demo.merchant.partnerId}`,
    `  Private key:   ${relativePath(demo.merchant.privateKeyFile)} (keyVersion ${demo.merchant.keyVersion})`,
    `  Console:       ${wallet.ctx.publicUrl}/console  ${DEMO_STAFF.merchant.email} / ${DEMO_STAFF.merchant.password}`,
    `  Ops:           ${wallet.ctx.publicUrl}/ops  ${DEMO_STAFF.operator.email} / ${DEMO_STAFF.operator.password}`,
    '',
    'Demo users (phone / PIN / balance)',
  ];
  for (const u of demo.users) {
    const user = await findUserByPhone(wallet.ctx.store.db, u.phone);
    const balances = user ? await balancesOf(wallet.ctx.store.db, 'USER', user.id) : [];
    lines.push(
      `  ${u.phone} / ${u.pin} / ${balances.map((b) => formatAmount(b.value, b.currency)).join(', ') || '-'}`,
    );
  }
  lines.push(
    '',
    `Try a payment from the command line:  npm run demo:pay${o.dataDir === './data' ? '' : ` -- --data-dir ${o.dataDir}`}`,
  );
  return lines;
}

/** Paths under the working directory are shown relative to it, others in full. */
const relativePath = (p: string): string => {
  const rel = relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
};
