/**
 * The wallet under test, in its own process: the real `startWallet` (HTTP server, notifier, expiry
 * sweeper, as `billetera start --no-demo` runs them) on the data dir and database the bench gives it.
 * Talks to the bench over IPC; exits when the bench goes away, and after a hard time limit in any case.
 */
import { startWallet } from '@billetera/wallet';

const MAX_LIFETIME_MS = 60 * 60_000;

interface Config {
  dataDir: string;
  databaseUrl?: string;
  logLevel: string;
  workers: boolean;
}

const config = JSON.parse(process.env['BENCH_WALLET_CONFIG'] ?? '{}') as Config;
if (!process.send) throw new Error('wallet-entry runs as a child of the bench (with an IPC channel)');

const wallet = await startWallet({
  dataDir: config.dataDir,
  databaseUrl: config.databaseUrl,
  port: 0,
  host: '127.0.0.1',
  logLevel: config.logLevel,
  workers: config.workers,
});

let closing = false;
async function stop(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  const hard = setTimeout(() => process.exit(code), 10_000);
  hard.unref();
  try {
    await wallet.close();
  } finally {
    process.exit(code);
  }
}
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
setTimeout(() => void stop(3), MAX_LIFETIME_MS).unref();

process.send({ type: 'ready', url: wallet.url, walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem });
