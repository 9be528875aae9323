/**
 * `npm run demo:pay`: one payment through the whole signed path, against a running `npm start`.
 * The merchant side uses only the merchant SDK and the demo merchant's key from the data dir; the user
 * side is the same confirm use case as `billetera sandbox pay`.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { formatAmount, parseMinor } from '@billetera/protocol';
import { createClient, type NotifyPayment } from '@billetera/sdk-node';
import { confirmPayment, openWallet } from '@billetera/wallet';

const program = new Command('demo:pay')
  .option('--url <url>', 'the running wallet', 'http://127.0.0.1:8080')
  .option('--data-dir <dir>', 'the data dir of that wallet', './data')
  .option('--database-url <url>', 'its PostgreSQL, if it uses one')
  .option('--phone <phone>', 'the paying demo user', '+15550000001')
  .option('--pin <pin>', "that user's PIN", '123456')
  .option('--amount <minor>', 'amount in minor units', '1999')
  .option('--currency <code>', 'currency', 'USD')
  .parse();
const o = program.opts<{
  url: string;
  dataDir: string;
  databaseUrl?: string;
  phone: string;
  pin: string;
  amount: string;
  currency: string;
}>();

const dataDir = resolve(o.dataDir);
const demo = JSON.parse(readFileSync(join(dataDir, 'demo', 'merchant.json'), 'utf8')) as {
  clientId: string;
  partnerId: string;
  privateKeyFile: string;
  name: string;
};
const keys = (await (await fetch(`${o.url}/api/open/keys`)).json()) as { keys: { publicKey: string }[] };
const client = createClient({
  baseUrl: o.url,
  clientId: demo.clientId,
  privateKey: readFileSync(demo.privateKeyFile, 'utf8'),
  walletPublicKey: keys.keys[0]!.publicKey,
});

// The merchant's notify endpoint, for this run.
let resolveNotification: (n: NotifyPayment) => void = () => undefined;
const notified = new Promise<NotifyPayment>((r) => (resolveNotification = r));
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const n = client.verifyNotification(Buffer.concat(chunks), req.headers, { path: req.url ?? '/' });
        const ack = await client.acknowledgement({ path: req.url ?? '/' });
        res.writeHead(ack.statusCode, ack.headers).end(ack.body);
        resolveNotification(n);
      } catch (err) {
        console.error('  notification refused:', err instanceof Error ? err.message : err);
        res.writeHead(400).end();
      }
    })();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;

async function run(): Promise<void> {
  const amount = parseMinor(o.amount);
  if (amount === undefined) throw new Error('--amount must be a positive whole number of minor units');
  const paymentRequestId = `demo-${Date.now()}`;
  console.log(
    `1. ${demo.name} asks the wallet for ${formatAmount(amount, o.currency)} (signed payments/pay)`,
  );
  const pay = await client.pay({
    partnerId: demo.partnerId,
    paymentRequestId,
    paymentOrderTitle: 'Demo order',
    paymentAmount: { currency: o.currency, value: o.amount },
    paymentNotifyUrl: notifyUrl,
    paymentFactor: { isCashierPayment: true },
  });
  console.log(`   ${pay.result.resultStatus}/${pay.result.resultCode}: paymentId ${pay.paymentId}`);
  console.log(`   cashier: ${pay.actionForm?.redirectionUrl}`);

  console.log(`2. ${o.phone} confirms with the PIN (as the cashier or \`billetera sandbox pay\` would)`);
  const ctx = await openWallet({ dataDir, databaseUrl: o.databaseUrl, logLevel: 'silent' });
  try {
    const confirmed = await confirmPayment(ctx, { paymentId: pay.paymentId!, phone: o.phone, pin: o.pin });
    if (!confirmed.ok) throw new Error(`${confirmed.code}: ${confirmed.result.resultMessage}`);
    console.log('   paid');
  } finally {
    await ctx.store.close();
  }

  console.log('3. the wallet notifies the merchant (signed notifyPayment, verified by the SDK)');
  const n = await Promise.race([
    notified,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no notification within 15 s')), 15_000),
    ),
  ]);
  console.log(`   ${n.paymentId}: ${n.paymentStatus} at ${n.paymentTime}`);

  console.log('4. the merchant double-checks with inquiryPayment');
  const inquiry = await client.inquiryPayment({ partnerId: demo.partnerId, paymentRequestId });
  console.log(
    `   paymentStatus ${inquiry.paymentStatus}, ${formatAmount(BigInt(inquiry.paymentAmount!.value), inquiry.paymentAmount!.currency)}`,
  );
}

try {
  await run();
} catch (err) {
  console.error(`demo:pay stopped: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  server.close();
}
