/**
 * A merchant written only from the spec (decisions.md, alipay-plus-reference.md), with node:crypto and
 * nothing of Billetera's: end-to-end tests use it so that the wallet is checked against the documents,
 * not against its own protocol package.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpecKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
}

let cached: SpecKeys | undefined;
/** One RSA-2048 key pair per test process (generating one costs ~100 ms). */
export function specKeys(fresh = false): SpecKeys {
  if (cached && !fresh) return cached;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keys = { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  if (!fresh) cached = keys;
  return keys;
}

/** `2026-11-25T12:00:00.000+00:00`-style time, as merchants' SDKs send it. */
export const isoNow = (ms = Date.now()): string => new Date(ms).toISOString().replace('Z', '+00:00');

export interface SpecRequestOptions {
  clientId: string;
  privateKey: KeyObject;
  keyVersion?: number | undefined;
  requestTime?: string;
  /** Overrides the signature header entirely. */
  signatureHeader?: string;
  /** Sign these bytes instead of the body (to forge a mismatch). */
  signBody?: string;
  /** Sign this path instead of the request path. */
  signPath?: string;
  headers?: Record<string, string>;
}

export interface SpecReply {
  status: number;
  headers: Record<string, string>;
  raw: string;
  body: { result: { resultStatus: string; resultCode: string; resultMessage: string }; [k: string]: unknown };
}

/** content = `POST <path>\n<clientId>.<time>.<body>`, SHA256withRSA, base64, then URL-encoded. */
export function specSign(path: string, clientId: string, time: string, body: string, key: KeyObject): string {
  const content = `POST ${path}\n${clientId}.${time}.${body}`;
  return encodeURIComponent(sign('sha256', Buffer.from(content, 'utf8'), key).toString('base64'));
}

export async function specCall(
  baseUrl: string,
  path: string,
  body: string,
  o: SpecRequestOptions,
): Promise<SpecReply> {
  const time = o.requestTime ?? isoNow();
  const signature = specSign(o.signPath ?? path, o.clientId, time, o.signBody ?? body, o.privateKey);
  const header =
    o.signatureHeader ?? `algorithm=RSA256, keyVersion=${o.keyVersion ?? 1}, signature=${signature}`;
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json; charset=UTF-8',
      'Client-Id': o.clientId,
      'Request-Time': time,
      Signature: header,
      ...o.headers,
    },
    body,
  });
  const raw = await res.text();
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    raw,
    body: JSON.parse(raw) as SpecReply['body'],
  };
}

/** Verifies a wallet reply or notification: `POST <path>\n<client-id>.<time>.<raw body>` with the wallet key. */
export function specVerify(args: {
  path: string;
  clientId: string;
  time: string;
  rawBody: string;
  signatureHeader: string;
  walletPublicKeyPem: string;
}): boolean {
  const fields = Object.fromEntries(
    args.signatureHeader.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const sig = Buffer.from(decodeURIComponent(fields['signature'] ?? ''), 'base64');
  const content = `POST ${args.path}\n${args.clientId}.${args.time}.${args.rawBody}`;
  return verify('sha256', Buffer.from(content, 'utf8'), createPublicKey(args.walletPublicKeyPem), sig);
}

export function verifyReply(reply: SpecReply, path: string, walletPublicKeyPem: string): boolean {
  return specVerify({
    path,
    clientId: reply.headers['client-id'] ?? '',
    time: reply.headers['response-time'] ?? '',
    rawBody: reply.raw,
    signatureHeader: reply.headers['signature'] ?? '',
    walletPublicKeyPem,
  });
}

export interface ReceivedNotification {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  at: number;
}

/**
 * A merchant's notify endpoint on 127.0.0.1: records every request and answers with `respond` (default:
 * the documented acknowledgement).
 */
export async function startNotifyReceiver(
  respond: (
    n: ReceivedNotification,
    index: number,
  ) => { status: number; body: string; delayMs?: number } = () => ({
    status: 200,
    body: '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
  }),
): Promise<{
  url: string;
  received: ReceivedNotification[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}> {
  const received: ReceivedNotification[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = {
        path: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(n);
      const reply = respond(n, received.length - 1);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify/payment`,
    received,
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} notifications, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const loadKey = (pem: string): KeyObject => createPrivateKey(pem);
