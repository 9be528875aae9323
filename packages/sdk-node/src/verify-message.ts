/**
 * Checks a message the wallet signed (a reply or a notification): the headers are there, the Client-Id
 * is ours, and RSA256 holds over `POST <path>\n<Client-Id>.<time>.<raw body bytes>` with the wallet key.
 * On failure it says which of these went wrong, so a merchant can fix a configuration without guessing.
 */
import { constants, createHash, publicDecrypt } from 'node:crypto';
import { headerValue, parseSignatureHeader } from '@billetera/protocol';
import { contentBytes, verifySignature, type KeyObject } from '@billetera/protocol/signing';
import { SignatureVerificationError, type SignatureFailureReason } from './sdk-errors.ts';

/** Node's header object (any case), a plain record, or a WHATWG `Headers` (fetch, undici). */
export type HeaderInput = Headers | Record<string, string | string[] | undefined>;

export function readHeader(headers: HeaderInput, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return headerValue(headers, name);
}

/** The signed request line's path: a path with its query as is, or a full URL's path and query. */
export function requestPath(pathOrUrl: string): string {
  if (!/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  const url = new URL(pathOrUrl);
  return url.pathname + url.search;
}

export interface SignedMessage {
  kind: 'reply' | 'notification';
  /** The request line's path: the request's for a reply, the notify URL's for a notification. */
  path: string;
  headers: HeaderInput;
  /** `response-time` for a reply, `request-time` for a notification. */
  timeHeader: string;
  body: Uint8Array;
}

export interface Verifier {
  publicKey: KeyObject;
  expectedClientId: string;
  attempts: number;
}

/** Verifies the signature and returns the signed time header, exactly as received. */
export function verifySignedMessage(message: SignedMessage, verifier: Verifier): string {
  const fail = (reason: SignatureFailureReason, why: string): SignatureVerificationError =>
    new SignatureVerificationError(`${message.kind} rejected: ${why}`, {
      attempts: verifier.attempts,
      reason,
    });
  const clientId = readHeader(message.headers, 'client-id');
  const time = readHeader(message.headers, message.timeHeader);
  const rawSignature = readHeader(message.headers, 'signature');
  if (clientId === undefined) throw fail('missing-header', 'the client-id header is missing');
  if (time === undefined) throw fail('missing-header', `the ${message.timeHeader} header is missing`);
  if (rawSignature === undefined) throw fail('missing-header', 'the signature header is missing');
  if (clientId !== verifier.expectedClientId) {
    throw fail(
      'client-id-mismatch',
      `it is for Client-Id ${JSON.stringify(clientId.slice(0, 64))}, not ${JSON.stringify(verifier.expectedClientId)}`,
    );
  }
  const parsed = parseSignatureHeader(rawSignature);
  if (!parsed.ok) throw fail('malformed-header', `the signature header is malformed (${parsed.problem})`);
  const content = contentBytes('POST', message.path, clientId, time, message.body);
  if (verifySignature(content, parsed.value.signature, verifier.publicKey)) return time;
  throw diagnosisError(diagnoseMismatch(content, parsed.value.signature, verifier.publicKey), message, fail);
}

function diagnosisError(
  diagnosis: 'wrong-key' | 'content-changed',
  message: SignedMessage,
  fail: (reason: SignatureFailureReason, why: string) => SignatureVerificationError,
): SignatureVerificationError {
  if (diagnosis === 'wrong-key') {
    return fail(
      'wrong-key',
      'the signature was not made with the configured wallet public key (wrong key, or another wallet)',
    );
  }
  return fail(
    'content-changed',
    `the signature is the wallet's, but over other content: the body, the ${message.timeHeader} or the path ` +
      `(${message.path}) changed on the way${message.kind === 'notification' ? ', or the body was re-serialised before verifying' : ''}`,
  );
}

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256; the 32 digest bytes follow it. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * Tells why a verification failed. An RSA PKCS#1 v1.5 signature "opened" with the right public key gives
 * back the signed digest; with another key it gives noise that fails the padding check. So a signature
 * that opens to a SHA-256 DigestInfo came from this key, and failed only because the content differs.
 */
export function diagnoseMismatch(
  content: Uint8Array,
  signature: Uint8Array,
  publicKey: KeyObject,
): 'wrong-key' | 'content-changed' {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return 'wrong-key';
  }
  const isDigestInfo =
    recovered.length === SHA256_DIGEST_INFO.length + 32 &&
    recovered.subarray(0, SHA256_DIGEST_INFO.length).equals(SHA256_DIGEST_INFO);
  if (!isDigestInfo) return 'wrong-key';
  const digest = createHash('sha256').update(content).digest();
  // Equal digests would mean the signature verifies; callers ask only after it did not.
  return digest.equals(recovered.subarray(SHA256_DIGEST_INFO.length)) ? 'wrong-key' : 'content-changed';
}
