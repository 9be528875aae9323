/**
 * The wallet's own secrets (decisions.md): its RSA signing key pair and the PIN key. Generated at first
 * use, kept outside the database as files with mode 0600 under the data dir, or given by environment
 * (BILLETERA_WALLET_PRIVATE_KEY: PEM, BILLETERA_PIN_KEY and BILLETERA_PREVIEW_KEY: base64 of at least 32
 * bytes). Never logged.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair, loadPrivateKey, type KeyObject } from '@billetera/protocol/signing';

export interface WalletSecrets {
  walletPrivateKey: KeyObject;
  walletPublicKeyPem: string;
  walletKeyVersion: number;
  pinKey: Buffer;
  /** HMAC key of the workspace's preview links (services/workspace.ts): 32 random bytes. */
  previewKey: Buffer;
}

const PRIVATE_KEY_FILE = 'wallet-private-key.pem';
const PIN_KEY_FILE = 'pin.key';
const PREVIEW_KEY_FILE = 'preview.key';
const MIN_PIN_KEY_BYTES = 32;

export async function loadOrCreateSecrets(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<WalletSecrets> {
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privatePem =
    env['BILLETERA_WALLET_PRIVATE_KEY'] ??
    (await readOrCreate(join(dir, PRIVATE_KEY_FILE), async () => (await generateRsaKeyPair()).privateKeyPem));
  const pinKeyText =
    env['BILLETERA_PIN_KEY'] ??
    (await readOrCreate(join(dir, PIN_KEY_FILE), async () => randomBytes(32).toString('base64')));
  const pinKey = Buffer.from(pinKeyText.trim(), 'base64');
  if (pinKey.length < MIN_PIN_KEY_BYTES)
    throw new Error(`the PIN key must be at least ${MIN_PIN_KEY_BYTES} bytes (base64)`);
  const previewKeyText =
    env['BILLETERA_PREVIEW_KEY'] ??
    (await readOrCreate(join(dir, PREVIEW_KEY_FILE), async () => randomBytes(32).toString('base64')));
  const previewKey = Buffer.from(previewKeyText.trim(), 'base64');
  if (previewKey.length < MIN_PIN_KEY_BYTES)
    throw new Error(`the preview key must be at least ${MIN_PIN_KEY_BYTES} bytes (base64)`);
  const walletPrivateKey = loadPrivateKey(privatePem);
  const walletPublicKeyPem = createPublicKey(walletPrivateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { walletPrivateKey, walletPublicKeyPem, walletKeyVersion: 1, pinKey, previewKey };
}

/**
 * Reads a secret file, or creates it exclusively (flag `wx`) so two processes starting at once agree on
 * one secret: the loser of the race reads the winner's file.
 */
async function readOrCreate(file: string, make: () => Promise<string>): Promise<string> {
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const value = await make();
  try {
    writeFileSync(file, value, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw err;
  }
}
