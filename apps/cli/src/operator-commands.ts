/**
 * Operators' commands: `operator create`, and `merchant verify | freeze | unfreeze` (added to the
 * `merchant` command). Each runs the same use case as the back office (/ops); events are recorded with
 * the actor `cli`. A status change reaches a running server's OpenAPI within 30 s (its merchant cache).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  createOperator,
  freezeMerchant,
  generatePassword,
  unfreezeMerchant,
  verifyMerchantByCli,
  type Finding,
  type WalletContext,
} from '@billetera/wallet';
import { findMerchantByClientId, type Merchant } from '@billetera/store';
import { print, withStoreOptions, withWallet, type StoreOptions } from './options.ts';

export function operatorCommand(): Command {
  const operator = new Command('operator').description('manage back-office operators (/ops)');
  withStoreOptions(
    operator
      .command('create')
      .description(
        'create an operator who signs in at /ops; without --password-file a strong password is generated and printed once',
      )
      .requiredOption('--email <email>', "the operator's email (the sign-in name)")
      .option('--password-file <file>', 'read the password (12 characters or more) from this file')
      .option('--json', 'print JSON'),
  ).action(async (o: StoreOptions & { email: string; passwordFile?: string; json?: boolean }) => {
    const generated = o.passwordFile === undefined;
    const password = generated ? generatePassword() : readPasswordFile(o.passwordFile ?? '');
    const out = await withWallet(o, (ctx) => createOperator(ctx, { email: o.email, password }));
    if (!out.ok) throw new Error(out.message);
    print(
      o.json === true,
      { operatorId: out.operatorId, email: out.email, ...(generated ? { password } : {}) },
      generated
        ? `Operator ${out.email} created (${out.operatorId}).\n  Password: ${password}\n\nIt is shown only this once: keep it in a password manager. Sign in at /ops.`
        : `Operator ${out.email} created (${out.operatorId}). Sign in at /ops.`,
    );
  });
  return operator;
}

/** The first line of the file, without its line ending (a file written by `echo` ends with one). */
function readPasswordFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  return (text.split(/\r?\n/)[0] ?? '').trimEnd();
}

function findingsText(findings: Finding[]): string {
  return findings.map((f) => `  ${f.ok ? '✓' : '✗'} ${f.check}: ${f.detail}`).join('\n');
}

async function merchantOrThrow(ctx: WalletContext, clientId: string): Promise<Merchant> {
  const m = await findMerchantByClientId(ctx.store.db, clientId);
  if (!m) throw new Error(`no merchant with Client-Id ${clientId}`);
  return m;
}

export function addMerchantOperatorCommands(merchant: Command): void {
  withStoreOptions(
    merchant
      .command('verify')
      .description(
        'verify a merchant: runs the website check on its latest licence submission (unless skipped) and, if it passes, the merchant may call the payment APIs; exits 1 with the findings when it fails',
      )
      .requiredOption('--client-id <clientId>', "the merchant's Client-Id")
      .option(
        '--skip-website-check',
        'verify without checking the website (also for merchants without a licence)',
        false,
      )
      .option('--json', 'print JSON'),
  ).action(async (o: StoreOptions & { clientId: string; skipWebsiteCheck: boolean; json?: boolean }) => {
    const out = await withWallet(o, (ctx) =>
      verifyMerchantByCli(ctx, { clientId: o.clientId, skipWebsiteCheck: o.skipWebsiteCheck }),
    );
    const check = out.check
      ? { passed: out.check.passed, url: out.check.url, findings: out.check.findings }
      : null;
    if (!out.ok) {
      if (o.json === true)
        print(true, { ok: false, message: out.message, status: out.merchant?.status, check }, '');
      else if (out.check)
        process.stdout.write(`Website check of ${out.check.url}:\n${findingsText(out.check.findings)}\n`);
      throw new Error(out.message);
    }
    const m = out.merchant;
    print(
      o.json === true,
      {
        ok: true,
        clientId: m.clientId,
        partnerId: m.partnerId,
        status: m.status,
        alreadyVerified: out.alreadyVerified,
        check,
      },
      [
        ...(out.check ? [`Website check of ${out.check.url}:`, findingsText(out.check.findings), ''] : []),
        out.alreadyVerified
          ? `Merchant ${m.name} (${m.clientId}) was already VERIFIED.`
          : `Merchant ${m.name} (${m.clientId}) is VERIFIED${o.skipWebsiteCheck ? ' (website check skipped)' : ''}.`,
      ].join('\n'),
    );
  });

  for (const action of ['freeze', 'unfreeze'] as const) {
    const cmd = merchant
      .command(action)
      .description(
        action === 'freeze'
          ? 'freeze a merchant: its payment calls answer PARTNER_STATUS_ABNORMAL until it is unfrozen'
          : 'unfreeze a merchant: back to the state it was frozen from',
      )
      .requiredOption('--client-id <clientId>', "the merchant's Client-Id");
    if (action === 'freeze') cmd.option('--reason <text>', 'why (kept in the history)');
    withStoreOptions(cmd.option('--json', 'print JSON')).action(
      async (o: StoreOptions & { clientId: string; reason?: string; json?: boolean }) => {
        const out = await withWallet(o, async (ctx) => {
          const m = await merchantOrThrow(ctx, o.clientId);
          return action === 'freeze'
            ? freezeMerchant(ctx, { merchantId: m.id, actor: 'cli', reason: o.reason })
            : unfreezeMerchant(ctx, { merchantId: m.id, actor: 'cli' });
        });
        if (!out.ok) throw new Error(out.message);
        const m = out.value;
        print(
          o.json === true,
          { ok: true, clientId: m.clientId, status: m.status },
          `Merchant ${m.name} (${m.clientId}) is now ${m.status}.`,
        );
      },
    );
  }
}
