/**
 * The Alipay+ signature scheme, as decisions.md fixes it. Pure string handling; the RSA operations are
 * in `signing.ts` (node:crypto), so this file also runs in a browser.
 *
 *   content to sign:  `POST <path>\n<Client-Id>.<Request-Time or Response-Time>.<raw body>`
 *   header:           `algorithm=RSA256,keyVersion=<n>,signature=<percent-encoded standard base64>`
 */
export function contentToSign(
  method: string,
  path: string,
  clientId: string,
  time: string,
  body: string,
): string {
  return `${method.toUpperCase()} ${path}\n${clientId}.${time}.${body}`;
}

/** The wallet's own header, exactly in the order and spelling official SDKs expect. */
export function formatSignatureHeader(base64Signature: string, keyVersion: number): string {
  return `algorithm=RSA256,keyVersion=${keyVersion},signature=${encodeURIComponent(base64Signature)}`;
}

export interface ParsedSignatureHeader {
  algorithm: string;
  /** Undefined when the header has no keyVersion: the newest active key is meant. */
  keyVersion: number | undefined;
  /** Raw signature bytes, decoded from standard or URL-safe base64 after percent-decoding. */
  signature: Uint8Array;
}

export type SignatureHeaderProblem =
  'missing' | 'malformed' | 'unsupported-algorithm' | 'bad-key-version' | 'bad-signature-encoding';

/**
 * Parses a `Signature` header tolerantly: pairs separated by commas with or without spaces, keys
 * case-insensitive, the value percent-decoded and then read as standard or URL-safe base64.
 */
export function parseSignatureHeader(
  header: string | undefined,
): { ok: true; value: ParsedSignatureHeader } | { ok: false; problem: SignatureHeaderProblem } {
  if (header === undefined || header.trim() === '') return { ok: false, problem: 'missing' };
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, problem: 'malformed' };
    const key = part.slice(0, eq).trim().toLowerCase();
    // A part given twice is ambiguous (which copy would a proxy or another verifier read?): refused.
    if (fields.has(key)) return { ok: false, problem: 'malformed' };
    const value = part.slice(eq + 1);
    // The signature is not trimmed at the start: there a leading space is a `+` that form decoding turned
    // into a space (signatures starting with byte 0xF8-0xFB exist for keys whose modulus allows them);
    // decodeSignatureValue puts it back.
    fields.set(key, key === 'signature' ? value.trimEnd() : value.trim());
  }
  const algorithm = fields.get('algorithm') ?? 'RSA256';
  if (!/^(rsa256|sha256withrsa)$/i.test(algorithm)) return { ok: false, problem: 'unsupported-algorithm' };
  const rawVersion = fields.get('keyversion');
  let keyVersion: number | undefined;
  if (rawVersion !== undefined && rawVersion !== '') {
    if (!/^\d{1,9}$/.test(rawVersion)) return { ok: false, problem: 'bad-key-version' };
    keyVersion = Number(rawVersion);
  }
  const rawSignature = fields.get('signature');
  if (!rawSignature) return { ok: false, problem: 'malformed' };
  const signature = decodeSignatureValue(rawSignature);
  if (!signature) return { ok: false, problem: 'bad-signature-encoding' };
  return { ok: true, value: { algorithm, keyVersion, signature } };
}

const BASE64_ANY = /^[A-Za-z0-9+/_-]+={0,2}$/;

function decodeSignatureValue(value: string): Uint8Array | undefined {
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  // A `+` that was not percent-encoded may have turned into a space on the way (form decoding).
  text = text.replace(/ /g, '+');
  if (!BASE64_ANY.test(text)) return undefined;
  const bare = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  const normalised = bare + '='.repeat((4 - (bare.length % 4)) % 4);
  try {
    const bytes = base64ToBytes(normalised);
    return bytes.length > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

function base64ToBytes(b64: string): Uint8Array {
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Case-insensitive header lookup over Node's (already lower-cased) or any other header object. */
export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
