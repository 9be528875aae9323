/**
 * What a Billetera run needs before it is measured: a verified merchant with an RSA key whose notify URL
 * is a local ack server, users with money and signed-in cashier sessions, and payments stored in bulk.
 * Created through the wallet's own services (openWallet in the bench process, on the same data dir and
 * database the wallet process uses), except the bulk payments, which are plain batched INSERTs.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { insertSession, type Merchant } from '@billetera/store';
import { createMerchant, createUser, topUpUser, type WalletContext } from '@billetera/wallet';

export interface BenchMerchant {
  merchant: Merchant;
  privateKeyPem: string;
  keyVersion: number;
}

export async function addBenchMerchant(ctx: WalletContext, notifyUrl: string): Promise<BenchMerchant> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const created = await createMerchant(ctx, {
    name: 'Bench Shop',
    notifyUrl,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    verified: true,
  });
  return {
    merchant: created.merchant,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyVersion: created.keyVersion,
  };
}

export interface CashierUser {
  phone: string;
  pin: string;
  userId: string;
  cookie: string;
  csrf: string;
}

/** Users with a large USD balance, each signed in (a session row, as the cashier's sign-in makes one). */
export async function addCashierUsers(
  ctx: WalletContext,
  count: number,
  tag: string,
): Promise<CashierUser[]> {
  const users: CashierUser[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `+1999${tag}${String(i).padStart(5, '0')}`;
    const pin = '123456';
    const user = await createUser(ctx, { phone, pin });
    await topUpUser(ctx, { phone, amountMinor: 1_000_000_000_00n, currency: 'USD' });
    const value = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = ctx.clock.now();
    await insertSession(ctx.store.db, {
      idHash: createHash('sha256').update(value).digest('base64url'),
      userId: user.id,
      csrfToken: csrf,
      createdAt: now,
      expiresAt: now + 12 * 3600_000,
    });
    users.push({ phone, pin, userId: user.id, cookie: `__Host-billetera_session=${value}`, csrf });
  }
  return users;
}

/** Stores `count` PROCESSING payments of 1.00 USD for the merchant, in batches; returns their ids. */
export async function insertPayments(
  ctx: WalletContext,
  merchantId: string,
  count: number,
  opts: { keepIds?: boolean; batch?: number } = {},
): Promise<string[]> {
  const ids: string[] = [];
  const batch = opts.batch ?? 500;
  const now = BigInt(ctx.clock.now());
  const tag = randomBytes(4).toString('hex');
  for (let done = 0; done < count;) {
    const txRows = Math.min(count - done, batch * 20);
    await ctx.store.transaction(async (tx) => {
      for (let k = 0; k < txRows; k += batch) {
        const rows = [];
        for (let j = 0; j < Math.min(batch, txRows - k); j++) {
          const n = done + k + j;
          const id = `pay_bench${tag}${n.toString(36).padStart(8, '0')}`;
          if (opts.keepIds !== false) ids.push(id);
          rows.push({
            id,
            merchant_id: merchantId,
            payment_request_id: `seed-${tag}-${n}`,
            request_hash: 'seed',
            api_version: 'v1',
            status: 'PROCESSING',
            currency: 'USD',
            amount: 100n,
            order_title: 'Seeded order',
            app_id: null,
            notify_url: null,
            return_url: null,
            extend_info: null,
            order_json: null,
            reply_json: '{}',
            expires_at: now + 86_400_000n,
            created_at: now,
            paid_at: null,
            user_id: null,
            fail_reason: null,
            cancelled_at: null,
          });
        }
        await tx.insertInto('payments').values(rows).execute();
      }
    });
    done += txRows;
  }
  return ids;
}

/**
 * Stores `count` PROCESSING payments of 1.00 USD for the merchant with set-based INSERT ... SELECT over a
 * generated series (SQLite's recursive CTE; PostgreSQL's generate_series), 100,000 per transaction:
 * 1e6 rows take seconds, not the minutes of row-by-row inserts. The ids are not returned.
 */
export async function seedPayments(ctx: WalletContext, merchantId: string, count: number): Promise<void> {
  const now = ctx.clock.now();
  const tag = randomBytes(4).toString('hex');
  const chunk = 100_000;
  for (let from = 0; from < count; from += chunk) {
    const to = Math.min(count, from + chunk) - 1;
    const series =
      ctx.store.dialect === 'sqlite'
        ? sql`with recursive seq(n) as (select ${BigInt(from)} union all select n + 1 from seq where n < ${BigInt(to)})`
        : sql``;
    const source =
      ctx.store.dialect === 'sqlite'
        ? sql`seq`
        : sql`generate_series(${from}::bigint, ${to}::bigint) as seq(n)`;
    await ctx.store.transaction((tx) =>
      sql`${series} insert into payments (id, merchant_id, payment_request_id, request_hash, api_version, status,
          currency, amount, order_title, reply_json, expires_at, created_at)
        select 'pay_seed' || ${tag} || n, ${merchantId}, 'seed-' || ${tag} || '-' || n, 'seed', 'v1', 'PROCESSING',
          'USD', 100, 'Seeded order', '{}', ${BigInt(now + 86_400_000)}, ${BigInt(now)}
        from ${source}`.execute(tx),
    );
  }
}

/** A merchant's notify endpoint that acknowledges at once and remembers when each payment's came. */
export async function startAckServer(): Promise<{
  url: string;
  acks: Map<string, number>;
  count(): number;
  close(): Promise<void>;
}> {
  const acks = new Map<string, number>();
  let count = 0;
  const ACK = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      count++;
      const m = /"paymentId":"([^"]+)"/.exec(Buffer.concat(chunks).toString('utf8'));
      if (m?.[1] && !acks.has(m[1])) acks.set(m[1], at);
      res.writeHead(200, { 'content-type': 'application/json' }).end(ACK);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    acks,
    count: () => count,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
