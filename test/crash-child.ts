/**
 * The processes the crash tests (test/crash-*.faults.test.ts) start and kill with SIGKILL. One entry, three
 * roles, chosen by the config the test sends over IPC:
 *
 * - `wallet`:   `startWallet` as `billetera start --no-demo` runs it: HTTP server, notifier, expiry sweeper;
 * - `api`:      the HTTP server only (`workers: false`);
 * - `workers`:  the notifier and the expiry sweeper only, on `openWallet` (no HTTP server), so the
 *               notifier can be killed on its own.
 *
 * Talks to the test over IPC. Loading the wallet's modules takes seconds on a busy machine, so a child is
 * spawned ahead as a standby: it loads them, says `{ type: 'loaded' }`, and waits; the test sends
 * `{ type: 'go', config }` right after killing the process it replaces, and the child opens the data and
 * serves, then says `{ type: 'ready', url }`. Exits when the test goes away (the IPC channel closes) and
 * after a hard time limit in any case, so nothing outlives a test run.
 */
import { randomUUID } from 'node:crypto';
import { ExpirySweeper, Notifier, openWallet, startWallet } from '@billetera/wallet';

/** Nothing a crash test starts may outlive it, whatever happens to the test process. */
const MAX_LIFETIME_MS = 30 * 60_000;

export interface CrashChildConfig {
  role: 'wallet' | 'api' | 'workers';
  dataDir: string;
  databaseUrl?: string | undefined;
  /** 0 picks a free port; a restart passes the port of the process it replaces. */
  port: number;
  /** Notifier lease and delivery timeout: shorter than the defaults so a killed lease runs out in seconds. */
  leaseMs: number;
  timeoutMs: number;
  logLevel: string;
}

if (!process.send) throw new Error('crash-child runs as a child of a crash test (with an IPC channel)');
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();

const config = await new Promise<CrashChildConfig>((resolve) => {
  process.on('message', (m: { type: string; config: CrashChildConfig }) => {
    if (m.type === 'go') resolve(m.config);
  });
  process.send!({ type: 'loaded' });
});

const notifierOptions = {
  owner: `notifier-${process.pid}-${randomUUID()}`,
  leaseMs: config.leaseMs,
  timeoutMs: config.timeoutMs,
};

let close: () => Promise<void>;
let url = '';
if (config.role === 'workers') {
  const ctx = await openWallet({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    logLevel: config.logLevel,
  });
  const notifier = new Notifier(ctx, notifierOptions);
  const sweeper = new ExpirySweeper(ctx);
  notifier.start();
  sweeper.start();
  close = async () => {
    await sweeper.stop();
    await notifier.stop();
    await ctx.store.close();
  };
} else {
  const wallet = await startWallet({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    port: config.port,
    host: '127.0.0.1',
    logLevel: config.logLevel,
    workers: config.role === 'wallet',
    notifier: notifierOptions,
  });
  url = wallet.url;
  close = () => wallet.close();
}

let closing = false;
async function stop(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(code), 10_000).unref();
  try {
    await close();
  } finally {
    process.exit(code);
  }
}
process.removeAllListeners('disconnect');
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

process.send({ type: 'ready', url, pid: process.pid });
