/**
 * `billetera start` as a newcomer runs it (a real process): it prints where everything is, serves /health
 * and the host app, starts the demo shop with its mini program, and stops cleanly on SIGTERM. Also the
 * registration commands a merchant uses.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '@billetera/wallet';
import { BACKENDS, type BackendEnv } from './backends.ts';
import { runCli } from './wallet-harness.ts';

const CLI = join(import.meta.dirname, '..', 'apps', 'cli', 'bin', 'billetera.js');

describe('billetera start', () => {
  let env: BackendEnv;
  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('serves the wallet and the demo shop, prints the demo credentials, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'start', '--port', '0', '--data-dir', env.dataDir, '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      for (let i = 0; i < 300 && !out.includes('Stop with Ctrl+C'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('Billetera is running');
      const walletUrl = /Host app:\s+(http:\/\/127\.0\.0\.1:\d+)\/app/.exec(out)?.[1];
      const shopUrl = /Demo shop \(a merchant built on sdk-node\): (http:\/\/127\.0\.0\.1:\d+)/.exec(
        out,
      )?.[1];
      expect(walletUrl).toBeDefined();
      expect(shopUrl).toBeDefined();
      expect(out).toContain('+15550000001 / 123456 / 100,000 JPY, 1,000.00 USD');
      expect(await (await fetch(`${walletUrl}/health`)).json()).toEqual({ status: 'ok', database: 'sqlite' });
      expect((await fetch(`${walletUrl}/app`)).status).toBe(200);
      expect((await fetch(`${shopUrl}/health`)).status).toBe(200);
      expect(await (await fetch(`${shopUrl}/mini/`)).text()).toContain(`${walletUrl}/jsapi/my.js`);
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    // The printed console and ops sign-ins are real accounts with those passwords.
    const console_ = /Console:\s+\S+\/console\s+(\S+) \/ (\S+)/.exec(out);
    const ops = /Ops:\s+\S+\/ops\s+(\S+) \/ (\S+)/.exec(out);
    expect(console_ && ops).toBeTruthy();
    const store = await env.openStore();
    try {
      const account = await store.db
        .selectFrom('merchant_accounts as a')
        .innerJoin('merchants as m', 'm.id', 'a.merchant_id')
        .select(['a.password_hash', 'm.name'])
        .where('a.email', '=', console_![1]!)
        .executeTakeFirstOrThrow();
      expect(account.name).toBe('Billetera Demo Shop');
      expect(await verifyPassword(console_![2]!, account.password_hash)).toBe(true);
      const operator = await store.db
        .selectFrom('operators')
        .select('password_hash')
        .where('email', '=', ops![1]!)
        .executeTakeFirstOrThrow();
      expect(await verifyPassword(ops![2]!, operator.password_hash)).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('registers a merchant and its mini program from the command line', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const pemFile = join(env.dataDir, 'merchant-public.pem');
    writeFileSync(pemFile, pem);
    const created = await runCli(env, [
      'merchant',
      'create',
      '--name',
      'Taquería',
      '--public-key',
      pemFile,
      '--verified',
      '--json',
    ]);
    expect(created.stderr).toBe('');
    const merchant = JSON.parse(created.stdout) as {
      clientId: string;
      partnerId: string;
      walletPublicKey: string;
      status: string;
    };
    expect(merchant).toMatchObject({ status: 'VERIFIED', keyVersion: 1 });
    expect(merchant.walletPublicKey).toContain('BEGIN PUBLIC KEY');
    const mini = await runCli(env, [
      'miniprogram',
      'create',
      '--client-id',
      merchant.clientId,
      '--name',
      'Tacos',
      '--entry-url',
      'http://127.0.0.1:9/mini/',
      '--json',
    ]);
    expect(JSON.parse(mini.stdout)).toMatchObject({
      name: 'Tacos',
      status: 'PUBLISHED',
      appId: expect.stringMatching(/^\d{19}$/),
    });
    const bad = await runCli(env, [
      'miniprogram',
      'create',
      '--client-id',
      'NOPE',
      '--name',
      'X',
      '--entry-url',
      'http://127.0.0.1:9/',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no merchant with Client-Id NOPE');
  }, 60_000);
});
