/**
 * A stand-in for the wallet's signing key, for merchants' own tests: it signs notifications and
 * OpenAPI replies exactly as the wallet does (same content, same header spelling), so a notify handler
 * or a client setup can be tested without a wallet. Configure the code under test with
 * `walletPublicKey: signer.walletPublicKeyPem`.
 */
import { randomUUID } from 'node:crypto';
import { formatWireTime, type NotifyPayment, type NotifyRefund } from '@billetera/protocol';
import {
  generateRsaKeyPair,
  loadPrivateKey,
  loadPublicKey,
  signMessage,
  type KeyObject,
} from '@billetera/protocol/signing';
import { requestPath } from './verify-message.ts';

export interface SignedHttpMessage {
  body: string;
  /** Lower-case header names, as the wallet writes them. */
  headers: Record<string, string>;
}

export interface FixtureSignerOptions {
  /** The "wallet" private key; a fresh RSA-2048 pair is generated when absent. */
  walletPrivateKey?: string | KeyObject;
  keyVersion?: number;
  /** The clock used for Request-Time / Response-Time, in epoch milliseconds. */
  now?: () => number;
}

export interface FixtureSigner {
  readonly walletPrivateKey: KeyObject;
  readonly walletPublicKey: KeyObject;
  /** SPKI PEM: what the wallet publishes at GET /api/open/keys. */
  readonly walletPublicKeyPem: string;
  readonly keyVersion: number;
  /** A notifyPayment (or notifyRefund) as the wallet POSTs it to `path` (the notify URL's path and query, or the URL). */
  signNotification(args: {
    notification: NotifyPayment | NotifyRefund;
    path: string;
    clientId: string;
    /** The Request-Time to sign as is; defaults to now. */
    time?: string;
  }): Promise<SignedHttpMessage>;
  /** An OpenAPI reply to a request on `path` by `clientId`; `reply` is JSON-serialised unless a string. */
  signReply(args: {
    reply: string | object;
    path: string;
    clientId: string;
    time?: string;
  }): Promise<SignedHttpMessage>;
}

export async function createFixtureSigner(options: FixtureSignerOptions = {}): Promise<FixtureSigner> {
  const walletPrivateKey = loadPrivateKey(
    options.walletPrivateKey ?? (await generateRsaKeyPair()).privateKeyPem,
  );
  const walletPublicKey = loadPublicKey(walletPrivateKey);
  const keyVersion = options.keyVersion ?? 1;
  const now = options.now ?? Date.now;
  const sign = async (path: string, clientId: string, time: string, body: string) =>
    signMessage({ path: requestPath(path), clientId, time, body, privateKey: walletPrivateKey, keyVersion });

  return {
    walletPrivateKey,
    walletPublicKey,
    walletPublicKeyPem: walletPublicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyVersion,
    async signNotification({ notification, path, clientId, time = formatWireTime(now()) }) {
      const body = JSON.stringify(notification);
      const signature = await sign(path, clientId, time, body);
      return { body, headers: { ...JSON_TYPE, 'client-id': clientId, 'request-time': time, signature } };
    },
    async signReply({ reply, path, clientId, time = formatWireTime(now()) }) {
      const body = typeof reply === 'string' ? reply : JSON.stringify(reply);
      const signature = await sign(path, clientId, time, body);
      const headers = { 'client-id': clientId, 'response-time': time, signature, 'trace-id': randomUUID() };
      return { body, headers: { ...JSON_TYPE, ...headers } };
    },
  };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=UTF-8' } as const;

export { generateRsaKeyPair };
