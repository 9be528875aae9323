import { Option, type Command } from 'commander';
import { openWallet, type WalletContext } from '@billetera/wallet';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string;
}

/** Every command takes the same place to find the data: a data dir (SQLite + secrets) and optionally PostgreSQL. */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--data-dir <dir>', 'where the SQLite file and the wallet secrets live')
        .env('BILLETERA_DATA_DIR')
        .default('./data'),
    )
    .addOption(
      new Option('--database-url <url>', 'use PostgreSQL (postgres://...) instead of the SQLite file').env(
        'BILLETERA_DATABASE_URL',
      ),
    );
}

export function parseIntStrict(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new Error(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

/** Opens the wallet quietly for one command and always closes it. */
export async function withWallet<T>(opts: StoreOptions, run: (ctx: WalletContext) => Promise<T>): Promise<T> {
  const ctx = await openWallet({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, logLevel: 'silent' });
  try {
    return await run(ctx);
  } finally {
    await ctx.store.close();
  }
}

/** Prints a command's result: JSON with --json, a line for people otherwise. */
export const print = (json: boolean, value: unknown, text: string): void => {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text + '\n');
};
