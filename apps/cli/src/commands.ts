import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { formatAmount } from '@billetera/protocol';
import {
  confirmPayment,
  createMerchant,
  createMiniProgram,
  createUser,
  issueAuthCode,
  showUser,
  topUpUser,
} from '@billetera/wallet';
import { findMerchantByClientId, findUserByPhone } from '@billetera/store';
import { addMerchantOperatorCommands } from './operator-commands.ts';
import { print, withStoreOptions, withWallet, type StoreOptions } from './options.ts';

export function merchantCommand(): Command {
  const merchant = new Command('merchant').description('manage merchants');
  withStoreOptions(
    merchant
      .command('create')
      .description(
        'register a merchant with its RSA public key; prints its Client-Id, partnerId and the wallet public key',
      )
      .requiredOption('--name <name>', 'display name shown to payers')
      .option('--website <url>', "the merchant's website")
      .option('--notify-url <url>', 'default URL for notifyPayment')
      .requiredOption('--public-key <pemFile>', "file with the merchant's RSA public key (PEM)")
      .option('--verified', 'mark the business licence as verified (payments are refused until it is)', false)
      .option('--json', 'print JSON'),
  ).action(
    async (
      o: StoreOptions & {
        name: string;
        website?: string;
        notifyUrl?: string;
        publicKey: string;
        verified: boolean;
        json?: boolean;
      },
    ) => {
      const pem = readFileSync(o.publicKey, 'utf8');
      const created = await withWallet(o, (ctx) =>
        createMerchant(ctx, {
          name: o.name,
          website: o.website,
          notifyUrl: o.notifyUrl,
          publicKeyPem: pem,
          verified: o.verified,
        }),
      );
      const m = created.merchant;
      print(
        o.json === true,
        {
          merchantId: m.id,
          clientId: m.clientId,
          partnerId: m.partnerId,
          status: m.status,
          keyVersion: created.keyVersion,
          walletPublicKey: created.walletPublicKey,
        },
        `Merchant ${m.name} (${m.status})\n  Client-Id: ${m.clientId}\n  partnerId: ${m.partnerId}\n  keyVersion: ${created.keyVersion}\n\nWallet public key:\n${created.walletPublicKey}`,
      );
    },
  );
  addMerchantOperatorCommands(merchant);
  return merchant;
}

export function userCommand(): Command {
  const user = new Command('user').description('manage wallet users');
  withStoreOptions(
    user
      .command('create')
      .description('create a wallet user with a six-digit PIN')
      .requiredOption('--phone <phone>', 'phone number, e.g. +15550000001')
      .requiredOption('--pin <pin>', 'six digits')
      .option('--name <name>', 'nickname (shown in the wallet; USER_NICKNAME)')
      .option('--full-name <name>', 'full name (USER_NAME)')
      .option('--gender <F|M>', 'gender (USER_GENDER)')
      .option('--birth-date <YYYY-MM-DD>', 'date of birth (USER_BIRTHDAY)')
      .option('--nationality <CC>', 'ISO 3166 alpha-2 country (USER_NATIONALITY)')
      .option('--avatar-url <url>', 'avatar image URL (USER_AVATAR)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      o: StoreOptions & {
        phone: string;
        pin: string;
        name?: string;
        fullName?: string;
        gender?: string;
        birthDate?: string;
        nationality?: string;
        avatarUrl?: string;
        json?: boolean;
      },
    ) => {
      const u = await withWallet(o, (ctx) =>
        createUser(ctx, {
          phone: o.phone,
          pin: o.pin,
          displayName: o.name,
          profile: {
            fullName: o.fullName ?? null,
            gender: (o.gender as 'F' | 'M' | undefined) ?? null,
            birthDate: o.birthDate ?? null,
            nationality: o.nationality ?? null,
            avatarUrl: o.avatarUrl ?? null,
          },
        }),
      );
      print(o.json === true, { userId: u.id, phone: u.phone }, `User ${u.phone} created (${u.id})`);
    },
  );
  withStoreOptions(
    user
      .command('topup')
      .description('add sandbox money to a user from the platform funding account')
      .requiredOption('--phone <phone>', 'phone number')
      .requiredOption('--amount <minor>', 'amount in minor units (1999 = 19.99 USD)', parseMinorArg)
      .requiredOption('--currency <code>', 'ISO 4217 code, e.g. USD')
      .option('--json', 'print JSON'),
  ).action(async (o: StoreOptions & { phone: string; amount: bigint; currency: string; json?: boolean }) => {
    const balances = await withWallet(o, (ctx) =>
      topUpUser(ctx, { phone: o.phone, amountMinor: o.amount, currency: o.currency.toUpperCase() }),
    );
    print(
      o.json === true,
      { balances: balances.map((b) => ({ currency: b.currency, value: b.value.toString() })) },
      `Balances of ${o.phone}: ${balances.map((b) => formatAmount(b.value, b.currency)).join(', ')}`,
    );
  });
  withStoreOptions(
    user
      .command('show')
      .description("show a user's balances")
      .requiredOption('--phone <phone>', 'phone number')
      .option('--json', 'print JSON'),
  ).action(async (o: StoreOptions & { phone: string; json?: boolean }) => {
    const found = await withWallet(o, (ctx) => showUser(ctx, o.phone));
    if (!found) throw new Error(`no user with phone ${o.phone}`);
    const balances = found.balances.map((b) => ({ currency: b.currency, value: b.value.toString() }));
    print(
      o.json === true,
      { userId: found.user.id, phone: found.user.phone, status: found.user.status, balances },
      `User ${found.user.phone} (${found.user.id})\n  ${found.balances.map((b) => formatAmount(b.value, b.currency)).join('\n  ') || 'no balance yet'}`,
    );
  });
  return user;
}

export function sandboxCommand(): Command {
  const sandbox = new Command('sandbox').description('act as a wallet user, for testing without a browser');
  withStoreOptions(
    sandbox
      .command('pay')
      .description("confirm a payment with a user's PIN, exactly as the cashier does")
      .argument('<paymentId>', 'the paymentId returned by payments/pay')
      .requiredOption('--phone <phone>', 'phone number of the paying user')
      .requiredOption('--pin <pin>', "the user's PIN")
      .option('--json', 'print JSON'),
  ).action(async (paymentId: string, o: StoreOptions & { phone: string; pin: string; json?: boolean }) => {
    const outcome = await withWallet(o, (ctx) =>
      confirmPayment(ctx, { paymentId, phone: o.phone, pin: o.pin }),
    );
    if (!outcome.ok) {
      if (o.json === true) print(true, { ok: false, ...outcome.result }, '');
      throw new Error(`payment refused: ${outcome.code}: ${outcome.result.resultMessage}`);
    }
    const p = outcome.payment;
    print(
      o.json === true,
      {
        ok: true,
        paymentId: p.id,
        paymentStatus: p.status,
        paymentAmount: { currency: p.currency, value: p.amount.toString() },
        payee: outcome.merchant.name,
      },
      `Paid ${formatAmount(p.amount, p.currency)} to ${outcome.merchant.name} (${p.id})`,
    );
  });
  withStoreOptions(
    sandbox
      .command('auth-code')
      .description(
        'issue an authCode as my.getAuthCode would, with the user’s consent given: for tests without a browser',
      )
      .requiredOption('--phone <phone>', 'phone number of the consenting user')
      .requiredOption('--client-id <clientId>', 'the merchant that will redeem the code with applyToken')
      .option('--app-id <appId>', 'the mini program asking (its features limit the scopes)')
      .option(
        '--scopes <list>',
        'comma-separated scopes, e.g. auth_base or USER_ID,USER_NICKNAME',
        'auth_base',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      o: StoreOptions & { phone: string; clientId: string; appId?: string; scopes: string; json?: boolean },
    ) => {
      const scopes = o.scopes
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const issued = await withWallet(o, async (ctx) => {
        const user = await findUserByPhone(ctx.store.db, o.phone);
        if (!user) throw new Error(`no user with phone ${o.phone}`);
        const merchant = await findMerchantByClientId(ctx.store.db, o.clientId);
        if (!merchant) throw new Error(`no merchant with Client-Id ${o.clientId}`);
        return issueAuthCode(ctx, { userId: user.id, merchantId: merchant.id, appId: o.appId, scopes });
      });
      print(
        o.json === true,
        {
          authCode: issued.authCode,
          scopes: issued.scopes,
          expiresAt: new Date(issued.expiresAt).toISOString(),
        },
        `authCode ${issued.authCode} (scopes ${issued.scopes.join(', ')}; redeem with applyToken before ${new Date(issued.expiresAt).toISOString()})`,
      );
    },
  );
  return sandbox;
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('wallet keys');
  withStoreOptions(
    keys
      .command('wallet')
      .description("print the wallet's public key (PEM), to verify replies and notifications"),
  ).action(async (o: StoreOptions) => {
    const pem = await withWallet(o, async (ctx) => ctx.secrets.walletPublicKeyPem);
    process.stdout.write(pem);
  });
  return keys;
}

function parseMinorArg(value: string): bigint {
  if (!/^[1-9][0-9]{0,15}$/.test(value))
    throw new InvalidArgumentError('the amount must be a positive whole number of minor units');
  return BigInt(value);
}

export function miniProgramCommand(): Command {
  const mini = new Command('miniprogram').description('manage mini programs');
  withStoreOptions(
    mini
      .command('create')
      .description("register a merchant's mini program (published) and print its appId")
      .requiredOption('--client-id <clientId>', "the owning merchant's Client-Id")
      .requiredOption('--name <name>', 'name shown in the host app')
      .option('--description <text>', 'one line shown under the name')
      .requiredOption('--entry-url <url>', "URL of the mini program's index page")
      .option(
        '--feature <feature...>',
        'features to add besides PAYMENT (on by default), active at once: USER_INFO',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      o: StoreOptions & {
        clientId: string;
        name: string;
        description?: string;
        entryUrl: string;
        feature?: string[];
        json?: boolean;
      },
    ) => {
      const created = await withWallet(o, (ctx) =>
        createMiniProgram(ctx, {
          clientId: o.clientId,
          name: o.name,
          description: o.description,
          entryUrl: o.entryUrl,
          features: o.feature?.map((f) => f.toUpperCase()),
        }),
      );
      print(
        o.json === true,
        { appId: created.appId, name: created.name, entryUrl: created.entryUrl, status: created.status },
        `Mini program ${created.name}: appId ${created.appId}`,
      );
    },
  );
  return mini;
}
