import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from './paths.ts';
import { contentToSign, parseSignatureHeader } from './signature.ts';
import {
  contentBytes,
  generateRsaKeyPair,
  loadPrivateKey,
  loadPublicKey,
  signAsync,
  signMessage,
  verifySignature,
  type KeyObject,
} from './signing.ts';

const CLIENT_ID = 'TEST_5X00000000000000';
const TIME = '2019-05-28T12:12:12+08:00';
const BODY =
  '{"partnerId":"P000000000000001","paymentRequestId":"req-1","paymentAmount":{"currency":"USD","value":"1999"}}';

let privateKey: KeyObject;
let publicKey: KeyObject;
let otherPublicKey: KeyObject;

beforeAll(async () => {
  const [pair, other] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  privateKey = loadPrivateKey(pair.privateKeyPem);
  publicKey = loadPublicKey(pair.publicKeyPem);
  otherPublicKey = loadPublicKey(other.publicKeyPem);
});

/** Parses a Signature header the way the wallet does and verifies it over the given message parts. */
function verifies(
  header: string,
  parts: { method?: string; path?: string; clientId?: string; time?: string; body: string | Uint8Array },
  key: KeyObject = publicKey,
): boolean {
  const parsed = parseSignatureHeader(header);
  if (!parsed.ok) throw new Error(`header did not parse: ${parsed.problem}`);
  const body = typeof parts.body === 'string' ? Buffer.from(parts.body, 'utf8') : parts.body;
  const content = contentBytes(
    parts.method ?? 'POST',
    parts.path ?? PATHS.payV1,
    parts.clientId ?? CLIENT_ID,
    parts.time ?? TIME,
    body,
  );
  return verifySignature(content, parsed.value.signature, key);
}

function sign(body: string | Uint8Array, extra: { path?: string; time?: string } = {}): Promise<string> {
  return signMessage({
    path: extra.path ?? PATHS.payV1,
    clientId: CLIENT_ID,
    time: extra.time ?? TIME,
    body,
    privateKey,
    keyVersion: 1,
  });
}

describe('keys', () => {
  it('loads KeyObjects, and derives the public key from a private KeyObject', () => {
    expect(privateKey.type).toBe('private');
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(loadPrivateKey(privateKey)).toBe(privateKey);
    expect(loadPublicKey(publicKey)).toBe(publicKey);
    const derived = loadPublicKey(privateKey);
    expect(derived.type).toBe('public');
    expect(derived.equals(publicKey)).toBe(true);
  });
});

describe('signMessage + parseSignatureHeader + verifySignature (RSA-2048)', () => {
  it('round-trips, with the header in the exact wallet format', async () => {
    const header = await sign(BODY);
    const match = /^algorithm=RSA256,keyVersion=1,signature=([A-Za-z0-9%]+)$/.exec(header);
    expect(match).not.toBeNull();
    const value = decodeURIComponent(match?.[1] ?? '');
    expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/); // standard base64 under the percent-encoding
    expect(value).toHaveLength(344); // 256 bytes
    expect(encodeURIComponent(value)).toBe(match?.[1]);
    expect(verifies(header, { body: BODY })).toBe(true);
  });

  it('signs the bytes contentToSign describes', async () => {
    const header = await sign(BODY);
    const parsed = parseSignatureHeader(header);
    if (!parsed.ok) throw new Error(parsed.problem);
    const text = contentToSign('POST', PATHS.payV1, CLIENT_ID, TIME, BODY);
    expect(contentBytes('POST', PATHS.payV1, CLIENT_ID, TIME, Buffer.from(BODY))).toEqual(
      Buffer.from(text, 'utf8'),
    );
    expect(verifySignature(text, parsed.value.signature, publicKey)).toBe(true);
  });

  it('still verifies when the header arrives in the tolerated variants', async () => {
    const header = await sign(BODY);
    const raw = decodeURIComponent(header.slice(header.indexOf('signature=') + 'signature='.length));
    const urlSafe = raw.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    for (const variant of [
      `algorithm=RSA256, keyVersion=1, signature=${encodeURIComponent(raw)}`,
      `Algorithm=RSA256,KEYVERSION=1,Signature=${encodeURIComponent(raw)}`,
      `algorithm=RSA256,signature=${encodeURIComponent(raw)}`,
      `algorithm=RSA256,keyVersion=1,signature=${urlSafe}`,
      `algorithm=RSA256,keyVersion=1,signature=${raw}`,
      `algorithm=RSA256,keyVersion=1,signature=${raw.replace(/\+/g, ' ')}`,
    ]) {
      expect(verifies(variant, { body: BODY }), variant).toBe(true);
    }
  });

  it('fails when the body, path, method, Client-Id or time is tampered with, or the key is another', async () => {
    const header = await sign(BODY);
    expect(verifies(header, { body: BODY.replace('1999', '1998') })).toBe(false);
    expect(verifies(header, { body: BODY + ' ' })).toBe(false);
    expect(verifies(header, { body: BODY, path: PATHS.inquiryPaymentV1 })).toBe(false);
    expect(verifies(header, { body: BODY, path: '/api/open/v1/payments/pay?x=1' })).toBe(false);
    expect(verifies(header, { body: BODY, method: 'PUT' })).toBe(false);
    expect(verifies(header, { body: BODY, clientId: 'TEST_5X00000000000001' })).toBe(false);
    expect(verifies(header, { body: BODY, time: '2019-05-28T12:12:13+08:00' })).toBe(false);
    // The same instant written differently is a different string: the time is signed as received.
    expect(verifies(header, { body: BODY, time: '2019-05-28T04:12:12Z' })).toBe(false);
    expect(verifies(header, { body: BODY }, otherPublicKey)).toBe(false);
  });

  it('fails (without throwing) on a signature of the wrong length or all zeros', () => {
    const content = contentBytes('POST', PATHS.payV1, CLIENT_ID, TIME, Buffer.from(BODY));
    expect(verifySignature(content, new Uint8Array(10), publicKey)).toBe(false);
    expect(verifySignature(content, new Uint8Array(256), publicKey)).toBe(false);
    expect(verifySignature(content, new Uint8Array(0), publicKey)).toBe(false);
  });
});

describe('the body is verified byte for byte', () => {
  const text = '{"paymentOrderTitle":"Café ☕ 東京 🧾","note":"naïve"}';

  it('verifies a non-ASCII UTF-8 body over its exact bytes', async () => {
    const header = await sign(text);
    const utf8 = Buffer.from(text, 'utf8');
    expect(utf8.length).toBeGreaterThan(text.length);
    expect(verifies(header, { body: utf8 })).toBe(true);
    expect(verifies(header, { body: text })).toBe(true);
  });

  it('fails for the same text in other bytes: Latin-1, decomposed accents, re-serialised JSON', async () => {
    const header = await sign(text);
    expect(verifies(header, { body: Buffer.from(text, 'latin1') })).toBe(false);
    expect(text.normalize('NFD')).not.toBe(text);
    expect(verifies(header, { body: text.normalize('NFD') })).toBe(false);
    expect(verifies(header, { body: JSON.stringify(JSON.parse(text), null, 1) })).toBe(false);
    expect(verifies(header, { body: '\uFEFF' + text })).toBe(false);
  });

  it('signs a string body and its UTF-8 bytes identically (PKCS#1 v1.5 is deterministic)', async () => {
    expect(await sign(text)).toBe(await sign(Buffer.from(text, 'utf8')));
  });

  it('signAsync gives standard base64 of a 256-byte signature', async () => {
    const sig = await signAsync('hello', privateKey);
    expect(Buffer.from(sig, 'base64')).toHaveLength(256);
    expect(Buffer.from(sig, 'base64').toString('base64')).toBe(sig);
    expect(verifySignature('hello', Buffer.from(sig, 'base64'), publicKey)).toBe(true);
  });
});

describe('property: random UTF-8 bodies', () => {
  it('sign/verify round-trips, and any single-byte change of the body fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (body, position, xor) => {
          const header = await sign(body);
          const bytes = Buffer.from(body, 'utf8');
          expect(verifies(header, { body: bytes })).toBe(true);
          const changed = Buffer.from(bytes);
          const at = position % changed.length;
          changed[at] = (changed[at] ?? 0) ^ xor;
          expect(verifies(header, { body: changed })).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
