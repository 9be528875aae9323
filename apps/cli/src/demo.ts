/**
 * Demo data for `billetera start` (skipped with --no-demo): a verified merchant whose private key is
 * written under the data dir (so a newcomer can sign requests at once), and two users with balances.
 * Idempotent: a second start finds what the first made.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair } from '@billetera/protocol/signing';
import {
  findMerchantByClientId,
  findMiniProgram,
  findUserByPhone,
  insertMerchantAccount,
} from '@billetera/store';
import {
  createMerchant,
  createMiniProgram,
  createOperator,
  createUser,
  hashPassword,
  moveMiniProgram,
  setMiniProgramFeature,
  topUpUser,
  type WalletContext,
} from '@billetera/wallet';

export interface DemoUser {
  phone: string;
  pin: string;
  name: string;
  profile: { fullName: string; gender: 'F' | 'M'; birthDate: string; nationality: string };
  topUps: { currency: string; amountMinor: bigint }[];
}

export const DEMO_USERS: DemoUser[] = [
  {
    phone: '+15550000001',
    pin: '123456',
    name: 'Ana',
    profile: { fullName: 'Ana Demo García', gender: 'F', birthDate: '1990-04-12', nationality: 'ES' },
    topUps: [
      { currency: 'USD', amountMinor: 100_000n },
      { currency: 'JPY', amountMinor: 100_000n },
    ],
  },
  {
    phone: '+15550000002',
    pin: '654321',
    name: 'Bruno',
    profile: { fullName: 'Bruno Demo Silva', gender: 'M', birthDate: '1985-09-30', nationality: 'MX' },
    topUps: [{ currency: 'USD', amountMinor: 500n }],
  },
];

export interface DemoMerchant {
  merchantId: string;
  name: string;
  clientId: string;
  partnerId: string;
  keyVersion: number;
  privateKeyFile: string;
  publicKeyFile: string;
}

const DEMO_MERCHANT_NAME = 'Billetera Demo Shop';

/** Sign-ins for the console (the demo merchant) and the back office, printed by `start`. */
export const DEMO_STAFF = {
  merchant: { email: 'shop@billetera.demo', password: 'billetera-demo-shop' },
  operator: { email: 'ops@billetera.demo', password: 'billetera-demo-ops' },
} as const;

export async function seedDemo(
  ctx: WalletContext,
  dataDir: string,
): Promise<{ merchant: DemoMerchant; users: DemoUser[] }> {
  const dir = join(dataDir, 'demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const merchant = await ensureDemoMerchant(ctx, dir);
  for (const u of DEMO_USERS) {
    if (await findUserByPhone(ctx.store.db, u.phone)) continue;
    await createUser(ctx, { phone: u.phone, pin: u.pin, displayName: u.name, profile: u.profile });
    for (const t of u.topUps)
      await topUpUser(ctx, { phone: u.phone, amountMinor: t.amountMinor, currency: t.currency });
  }
  await ensureDemoStaff(ctx, merchant.merchantId);
  return { merchant, users: DEMO_USERS };
}

/** The demo merchant's console account and a demo operator, unless they exist. */
async function ensureDemoStaff(ctx: WalletContext, merchantId: string): Promise<void> {
  const db = ctx.store.db;
  const account = await db
    .selectFrom('merchant_accounts')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  const emailTaken = await db
    .selectFrom('merchant_accounts')
    .select('id')
    .where('email', '=', DEMO_STAFF.merchant.email)
    .executeTakeFirst();
  if (!account && !emailTaken) {
    await insertMerchantAccount(db, {
      id: ctx.ids.next('macc'),
      merchantId,
      email: DEMO_STAFF.merchant.email,
      passwordHash: await hashPassword(DEMO_STAFF.merchant.password),
      createdAt: ctx.clock.now(),
    });
  }
  const operator = await db
    .selectFrom('operators')
    .select('id')
    .where('email', '=', DEMO_STAFF.operator.email)
    .executeTakeFirst();
  if (!operator) await createOperator(ctx, DEMO_STAFF.operator);
}

async function ensureDemoMerchant(ctx: WalletContext, dir: string): Promise<DemoMerchant> {
  const recordFile = join(dir, 'merchant.json');
  if (existsSync(recordFile)) {
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as DemoMerchant;
    if (await findMerchantByClientId(ctx.store.db, record.clientId)) return record;
  }
  const keys = await generateRsaKeyPair();
  const privateKeyFile = join(dir, 'merchant-private-key.pem');
  const publicKeyFile = join(dir, 'merchant-public-key.pem');
  writeFileSync(privateKeyFile, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKeyFile, keys.publicKeyPem);
  const created = await createMerchant(ctx, {
    name: DEMO_MERCHANT_NAME,
    website: 'https://shop.example',
    publicKeyPem: keys.publicKeyPem,
    verified: true,
  });
  const record: DemoMerchant = {
    merchantId: created.merchant.id,
    name: created.merchant.name,
    clientId: created.merchant.clientId,
    partnerId: created.merchant.partnerId,
    keyVersion: created.keyVersion,
    privateKeyFile,
    publicKeyFile,
  };
  writeFileSync(recordFile, JSON.stringify(record, null, 2) + '\n');
  return record;
}

const DEMO_MINI_PROGRAM = {
  name: 'Demo Shop',
  description: 'Coffee, tamales and matcha: pay with Billetera',
};

/**
 * The demo merchant's mini program, pointed at where the demo shop serves it now (its port can change
 * between starts). Returns its appId.
 */
export async function ensureDemoMiniProgram(
  ctx: WalletContext,
  dataDir: string,
  merchant: DemoMerchant,
  entryUrl: string,
): Promise<string> {
  const file = join(dataDir, 'demo', 'mini-program.json');
  if (existsSync(file)) {
    const { appId } = JSON.parse(readFileSync(file, 'utf8')) as { appId: string };
    if (await findMiniProgram(ctx.store.db, appId)) {
      await moveMiniProgram(ctx, appId, entryUrl);
      // A data dir from before user authorization: the demo greets its users, so it needs the feature.
      await setMiniProgramFeature(ctx, appId, 'USER_INFO', 'ACTIVE');
      return appId;
    }
  }
  const created = await createMiniProgram(ctx, {
    clientId: merchant.clientId,
    ...DEMO_MINI_PROGRAM,
    entryUrl,
    features: ['USER_INFO'],
  });
  writeFileSync(file, JSON.stringify({ appId: created.appId }, null, 2) + '\n');
  return created.appId;
}
