import { relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { formatAmount } from '@billetera/protocol';
import { balancesOf, findUserByPhone } from '@billetera/store';
import { SQLITE_FILE_NAME, startWallet } from '@billetera/wallet';
import { seedDemo } from './demo.ts';
import { parseIntStrict, withStoreOptions, type StoreOptions } from './options.ts';

interface StartFlags extends StoreOptions {
  port: number;
  host: string;
  publicUrl?: string;
  demo: boolean;
  logLevel: string;
}

export function startCommand(): Command {
  return withStoreOptions(
    new Command('start')
      .description('run the wallet: OpenAPI server, notifier and expiry sweeper')
      .addOption(
        new Option('--port <n>', 'HTTP port')
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
      .option('--no-demo', 'do not create the demo merchant and users')
      .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').default('info')),
  ).action(async (o: StartFlags) => {
    const wallet = await startWallet({
      dataDir: o.dataDir,
      databaseUrl: o.databaseUrl,
      port: o.port,
      host: o.host,
      publicUrl: o.publicUrl,
      logLevel: o.logLevel,
    });
    const stop = async (signal: string) => {
      wallet.ctx.logger.info({ signal }, 'shutting down');
      await wallet.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));

    const lines = [
      '',
      'Billetera is running',
      `  Wallet:        ${wallet.ctx.publicUrl}`,
      `  Health:        ${wallet.url}/health`,
      `  OpenAPI:       POST ${wallet.ctx.publicUrl}/api/open/v1/payments/pay, /inquiryPayment (signed, RSA256)`,
      `  Wallet key:    ${wallet.ctx.publicUrl}/api/open/keys`,
      `  Data:          ${o.databaseUrl ? wallet.ctx.store.location : relativePath(resolve(o.dataDir, SQLITE_FILE_NAME))} (secrets in ${relativePath(resolve(o.dataDir, 'secrets'))})`,
    ];
    if (o.demo) {
      const demo = await seedDemo(wallet.ctx, resolve(o.dataDir));
      lines.push(
        '',
        `Demo merchant "${demo.merchant.name}"`,
        `  Client-Id:     ${demo.merchant.clientId}`,
        `  partnerId:     ${demo.merchant.partnerId}`,
        `  Private key:   ${relativePath(demo.merchant.privateKeyFile)} (keyVersion ${demo.merchant.keyVersion})`,
        '',
        'Demo users (phone / PIN / balance)',
      );
      for (const u of demo.users) {
        const user = await findUserByPhone(wallet.ctx.store.db, u.phone);
        const balances = user ? await balancesOf(wallet.ctx.store.db, 'USER', user.id) : [];
        lines.push(
          `  ${u.phone} / ${u.pin} / ${balances.map((b) => formatAmount(b.value, b.currency)).join(', ') || '-'}`,
        );
      }
      lines.push(
        '',
        `Try a payment:  npm run demo:pay${o.dataDir === './data' ? '' : ` -- --data-dir ${o.dataDir}`}`,
      );
    }
    lines.push('', 'Stop with Ctrl+C.', '');
    process.stdout.write(lines.join('\n') + '\n');
  });
}

/** Paths under the working directory are shown relative to it, others in full. */
const relativePath = (p: string): string => {
  const rel = relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
};
