/**
 * RSA256 (SHA256withRSA, PKCS#1 v1.5) signing and verification with node:crypto. Node only: import it
 * as `@billetera/protocol/signing`.
 *
 * Keys are parsed once into KeyObjects (parsing a PEM per call costs several times the verify itself).
 * Signing goes through node:crypto's callback API, which runs on libuv's thread pool, so a 2048-bit
 * signature (~0.4 ms of CPU) never blocks the event loop.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { contentToSign, formatSignatureHeader } from './signature.ts';

export type { KeyObject };

export function loadPrivateKey(pem: string | KeyObject): KeyObject {
  return typeof pem === 'string' ? createPrivateKey(pem) : pem;
}

export function loadPublicKey(pem: string | KeyObject): KeyObject {
  if (typeof pem !== 'string') return pem.type === 'private' ? createPublicKey(pem) : pem;
  return createPublicKey(pem);
}

/** Standard base64 RSA-SHA256 signature of `content`, computed off the event loop. */
export function signAsync(content: string | Uint8Array, privateKey: KeyObject): Promise<string> {
  return new Promise((resolve, reject) => {
    sign(
      'sha256',
      typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
      privateKey,
      (err, sig) => (err ? reject(err) : resolve(sig.toString('base64'))),
    );
  });
}

/** Verifies a raw signature. Synchronous: a verify is ~25 us, less than a thread-pool round trip. */
export function verifySignature(
  content: string | Uint8Array,
  signature: Uint8Array,
  publicKey: KeyObject,
): boolean {
  try {
    return verify(
      'sha256',
      typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
      publicKey,
      signature,
    );
  } catch {
    return false;
  }
}

/**
 * Builds the content-to-sign bytes without re-encoding the body: the header line and the
 * `<clientId>.<time>.` prefix are UTF-8, the body bytes are appended exactly as received.
 */
export function contentBytes(
  method: string,
  path: string,
  clientId: string,
  time: string,
  body: Uint8Array,
): Buffer {
  return Buffer.concat([Buffer.from(contentToSign(method, path, clientId, time, ''), 'utf8'), body]);
}

export interface SignedHeaders {
  time: string;
  signature: string;
}

/** Signs a message (request, reply or notification) and returns the `Signature` header value. */
export async function signMessage(args: {
  path: string;
  clientId: string;
  time: string;
  body: string | Uint8Array;
  privateKey: KeyObject;
  keyVersion: number;
}): Promise<string> {
  const body = typeof args.body === 'string' ? Buffer.from(args.body, 'utf8') : args.body;
  const sig = await signAsync(
    contentBytes('POST', args.path, args.clientId, args.time, body),
    args.privateKey,
  );
  return formatSignatureHeader(sig, args.keyVersion);
}

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh RSA-2048 key pair in PEM (PKCS#8 private, SPKI public). */
export function generateRsaKeyPair(): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ privateKeyPem, publicKeyPem })),
    );
  });
}
