/**
 * The wallet under test, in its own process: the real `startWallet` (HTTP server, notifier, expiry
 * sweeper, as `billetera start --no-demo` runs them) on the data dir and database the bench gives it.
 * Talks to the bench over IPC; exits when the bench goes away, and after a hard time limit in any case.
 */
import { startWallet } from '@billetera/wallet';

const MAX_LIFETIME_MS = 60 * 60_000;
const UNLIMITED = { perSecond: 1e9, burst: 1e9 };

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
  // The load comes from one address (loopback) on behalf of many users and one merchant: the limits stay
  // on (their cost is measured) but far above the load, as a deployment behind a balancer would set them.
  rateLimits: {
    merchant: UNLIMITED,
    openApiIp: UNLIMITED,
    signIn: UNLIMITED,
    pin: UNLIMITED,
  },
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

process.on('message', (m: { type?: string }) => {
  if (m.type === 'stats')
    process.send?.({ type: 'stats', commits: wallet.ctx.store.commitStats?.() ?? null });
});

process.send({ type: 'ready', url: wallet.url, walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem });
