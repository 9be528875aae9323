/**
 * Issue 8, security: the signature layer against forgery and replay, over real HTTP with real RSA keys,
 * on a SQLite file and a real PostgreSQL. openapi-refusals.test.ts checks one refusal of each kind on
 * `pay`; this suite checks every kind on EVERY operation of the catalogue, moves valid signatures to other
 * paths, bodies, Client-Ids, times and key versions, replays them across the ±300 s window edge (fake
 * clock), feeds the Signature header missing, malformed and duplicated parts, and retires a key. Every
 * refusal must be a catalogued F code in a reply signed by the wallet, and must write nothing (the whole
 * database is compared). A replay of the same signed request inside the window is harmless: one order.
 *
 * The long version (`npm run test:faults`) adds random mutations of signed requests (fast-check).
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { FakeClock } from '@billetera/domain';
import { OPERATIONS, type OperationPath } from '@billetera/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { LONG, scale, timeoutMs } from '../../../../test/long.ts';
import { isoNow, specKeys, verifyReply, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { addPublicKey, retirePublicKey } from '../services/credentials.ts';
import type { RunningWallet } from '../wallet.ts';

const PAY = '/api/open/v1/payments/pay';
const REFUND = '/api/open/v1/payments/refund';
const INQUIRY = '/api/open/v1/payments/inquiryPayment';
const PATHS = Object.keys(OPERATIONS) as OperationPath[];

/** A request exactly as it goes on the wire. */
interface Wire {
  path: string;
  clientId: string;
  time: string;
  body: string;
  /** The whole Signature header value. */
  signature: string;
}

const b64sig = (content: string, key: KeyObject): string =>
  sign('sha256', Buffer.from(content, 'utf8'), key).toString('base64');

/** Signs like the reference: `POST <path>\n<clientId>.<time>.<body>`, header with keyVersion. */
function signed(
  path: string,
  clientId: string,
  time: string,
  body: string,
  key: KeyObject,
  keyVersion = 1,
): Wire {
  const value = encodeURIComponent(b64sig(`POST ${path}\n${clientId}.${time}.${body}`, key));
  return {
    path,
    clientId,
    time,
    body,
    signature: `algorithm=RSA256,keyVersion=${keyVersion},signature=${value}`,
  };
}

/** Sends a request; `extra` headers are sent as given (an array sends the header once per value). */
function send(baseUrl: string, w: Wire, extra: Record<string, string | string[]> = {}): Promise<SpecReply> {
  const url = new URL(baseUrl + w.path);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        timeout: 10_000,
        headers: {
          'content-type': 'application/json; charset=UTF-8',
          'client-id': w.clientId,
          'request-time': w.time,
          signature: w.signature,
          ...extra,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers,
              raw,
              body: JSON.parse(raw) as SpecReply['body'],
            });
          } catch (err) {
            reject(new Error(`not JSON (${res.statusCode}): ${raw.slice(0, 200)}: ${String(err)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(w.body);
  });
}

/** Every table, every row, as one string: "nothing written" is this string unchanged. */
async function snapshot(wallet: RunningWallet): Promise<string> {
  const db = wallet.ctx.store.db;
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- every table, whatever its columns
    const rows = await (db as any).selectFrom(table).selectAll().execute();
    out[table] = (rows as unknown[]).map((r) => JSON.stringify(r, jsonSafe)).sort();
  }
  return JSON.stringify(out);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return createHash('sha256').update(value).digest('hex');
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer')
    return createHash('sha256')
      .update(Buffer.from((value as { data: number[] }).data))
      .digest('hex');
  return value;
}

for (const backend of BACKENDS) {
  describe(`signatures under attack on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let other: TestMerchant;
    const clock = new FakeClock(Date.now());
    let n = 0;
    const uid = (p: string) => `${p}-${process.pid}-${++n}`;

    const payBody = (over: Record<string, unknown> = {}) =>
      JSON.stringify({
        partnerId: shop.merchant.partnerId,
        paymentRequestId: uid('sig'),
        paymentOrderTitle: 'Signed shoes',
        paymentAmount: { currency: 'USD', value: '1999' },
        ...over,
      });
    /** A plausible body for each path (the signature layer answers before the body is read). */
    const bodyFor = (path: OperationPath): string =>
      OPERATIONS[path].name === 'pay'
        ? path === PAY
          ? payBody()
          : JSON.stringify({
              paymentRequestId: uid('sig2'),
              paymentAmount: { currency: 'USD', value: '100' },
              order: { orderDescription: 'Signed v2' },
            })
        : JSON.stringify({ paymentId: 'pay_doesnotexist', accessToken: 'x'.repeat(40) });
    const valid = (path: OperationPath | string, body: string, key = shop.keys.privateKey, kv = 1) =>
      signed(path, shop.merchant.clientId, isoNow(clock.now()), body, key, kv);

    /** A signed F reply with this code (and message), on this path. */
    function expectRefused(reply: SpecReply, code: string, path: string, message?: RegExp) {
      expect(reply.status).toBe(200);
      expect(reply.body.result.resultStatus, reply.raw).toBe('F');
      expect(reply.body.result.resultCode, reply.raw).toBe(code);
      if (message) expect(reply.body.result.resultMessage).toMatch(message);
      expect(verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem)).toBe(true);
    }

    beforeAll(async () => {
      env = await backend.create();
      // Rate limits are rate-limit.faults.test.ts's: here every request must reach the check under test.
      wallet = await startTestWallet(env, { clock, workers: false, rateLimits: false });
      shop = await addMerchant(wallet.ctx, { name: 'Signed Shop' });
      other = await addMerchant(wallet.ctx, { name: 'Other Shop', keys: specKeys(true) });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('refuses forged, foreign, moved and re-timed signatures on every operation, writing nothing', async () => {
      const before = await snapshot(wallet);
      let refused = 0;
      for (const path of PATHS) {
        const body = bodyFor(path);
        const good = valid(path, body);
        const elsewhere = path === INQUIRY ? PAY : INQUIRY;
        const epoch = String(clock.now());
        const attacks: Array<[string, Wire, string]> = [
          // Random bytes of the right length.
          [
            'forged',
            {
              ...good,
              signature: `algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(randomBytes(256).toString('base64'))}`,
            },
            'INVALID_SIGNATURE',
          ],
          // Another merchant's (valid) key, under this Client-Id.
          ['foreign key', valid(path, body, other.keys.privateKey), 'INVALID_SIGNATURE'],
          // A valid signature of the same body for another path, sent here.
          ['other path', { ...good, signature: valid(elsewhere, body).signature }, 'INVALID_SIGNATURE'],
          // The same headers over another body (one character changed).
          ['other body', { ...good, body: body.replace(/"}$|}$/, ' }') }, 'INVALID_SIGNATURE'],
          // The same headers and body under another merchant's Client-Id.
          ['other Client-Id', { ...good, clientId: other.merchant.clientId }, 'INVALID_SIGNATURE'],
          // Request-Time moved by a millisecond, and the same instant spelled as epoch milliseconds.
          ['time +1 ms', { ...good, time: isoNow(clock.now() + 1) }, 'INVALID_SIGNATURE'],
          ['time respelled', { ...good, time: epoch }, 'INVALID_SIGNATURE'],
          // Signed with key version 1, the header naming a version this merchant does not have.
          [
            'unknown key version',
            { ...good, signature: good.signature.replace('keyVersion=1', 'keyVersion=7') },
            'KEY_NOT_FOUND',
          ],
        ];
        for (const [what, wire, code] of attacks) {
          const reply = await send(wallet.url, wire);
          expect(reply.body.result.resultCode, `${path}: ${what}`).toBe(code);
          expectRefused(reply, code, path);
          refused++;
        }
      }
      expect(await snapshot(wallet)).toBe(before);
      // The control: the untouched request is accepted (so the refusals above were the attacks' doing).
      const ok = await send(wallet.url, valid(PAY, payBody()));
      expect(ok.body.result.resultCode).toBe('ACCEPT');
      expect(refused).toBe(PATHS.length * 8);
      if (LONG)
        console.log(
          `faults: signatures ${backend.name}: ${refused} forged or moved requests refused on ${PATHS.length} paths, 0 written`,
        );
    });

    it('accepts a replay up to 300 s, refuses it 1 ms later, and refuses a fresh request outside the window', async () => {
      const t0 = clock.now();
      const first = valid(PAY, payBody());
      const accepted = await send(wallet.url, first);
      expect(accepted.body.result.resultCode).toBe('ACCEPT');

      clock.set(t0 + 300_000); // the edge of the window: still the same request, replayed harmlessly
      const replayed = await send(wallet.url, first);
      expect(replayed.body['paymentId']).toBe(accepted.body['paymentId']);
      expect(replayed.headers['idempotent-replayed']).toBe('true');

      const before = await snapshot(wallet);
      clock.set(t0 + 300_001);
      expectRefused(await send(wallet.url, first), 'INVALID_SIGNATURE', PAY, /outside the window/);
      // A request never sent before, signed at t0 and sent late: refused, no order.
      const late = signed(PAY, shop.merchant.clientId, isoNow(t0), payBody(), shop.keys.privateKey);
      expectRefused(await send(wallet.url, late), 'INVALID_SIGNATURE', PAY, /outside the window/);
      // Signed for the future beyond the window (a pre-made replay): refused too.
      const ahead = signed(
        PAY,
        shop.merchant.clientId,
        isoNow(t0 + 600_002),
        payBody(),
        shop.keys.privateKey,
      );
      expectRefused(await send(wallet.url, ahead), 'INVALID_SIGNATURE', PAY, /outside the window/);
      // Epoch-millisecond times obey the same window.
      const epochLate = signed(PAY, shop.merchant.clientId, String(t0), payBody(), shop.keys.privateKey);
      expectRefused(await send(wallet.url, epochLate), 'INVALID_SIGNATURE', PAY, /outside the window/);
      expect(await snapshot(wallet)).toBe(before);
      clock.set(t0 + 1_000);
    });

    it('refuses a replayed refund after the window, and refunds once however often it is replayed inside', async () => {
      const user = await addUser(wallet.ctx, { USD: 100_000n });
      const order = await send(wallet.url, valid(PAY, payBody()));
      const paymentId = order.body['paymentId'] as string;
      expect(await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin })).toMatchObject(
        { ok: true },
      );
      const refund = valid(
        REFUND,
        JSON.stringify({
          partnerId: shop.merchant.partnerId,
          refundRequestId: uid('rf'),
          paymentId,
          refundAmount: { currency: 'USD', value: '500' },
        }),
      );
      const copies = scale(10, 100);
      const replies = await Promise.all(Array.from({ length: copies }, () => send(wallet.url, refund)));
      const ids = new Set(replies.map((r) => r.body['refundId']));
      expect(replies.every((r) => r.body.result.resultCode === 'SUCCESS')).toBe(true);
      expect(ids.size).toBe(1);
      const refunds = await wallet.ctx.store.db
        .selectFrom('refunds')
        .selectAll()
        .where('payment_id', '=', paymentId)
        .execute();
      expect(refunds).toHaveLength(1);
      const before = await snapshot(wallet);
      const t = clock.now();
      clock.set(t + 300_001);
      expectRefused(await send(wallet.url, refund), 'INVALID_SIGNATURE', REFUND, /outside the window/);
      expect(await snapshot(wallet)).toBe(before);
      clock.set(t + 1_000);
      if (LONG)
        console.log(
          `faults: signatures ${backend.name}: ${copies} concurrent replays of one signed refund, 1 refund`,
        );
    });

    it('treats the same signed pay sent many times at once as one order (idempotent replay)', async () => {
      const copies = scale(20, 300);
      const wire = valid(PAY, payBody());
      const replies = await Promise.all(Array.from({ length: copies }, () => send(wallet.url, wire)));
      expect(replies.map((r) => r.body.result.resultCode)).toEqual(Array(copies).fill('ACCEPT'));
      const ids = new Set(replies.map((r) => r.body['paymentId']));
      expect(ids.size).toBe(1);
      const rows = await wallet.ctx.store.db
        .selectFrom('payments')
        .select('id')
        .where('merchant_id', '=', shop.merchant.id)
        .where('payment_request_id', '=', JSON.parse(wire.body).paymentRequestId)
        .execute();
      expect(rows.map((r) => r.id)).toEqual([...ids]);
      // Every copy but the one that created the order says it is a replay.
      expect(replies.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(copies - 1);
      if (LONG)
        console.log(
          `faults: signatures ${backend.name}: ${copies} concurrent replays of one signed pay, 1 order`,
        );
    });

    it('refuses missing, malformed and duplicated Signature header parts, and repeated headers', async () => {
      const body = payBody();
      const good = valid(PAY, body);
      const value = /signature=(.*)$/.exec(good.signature)?.[1] ?? '';
      const foreign = valid(PAY, body, other.keys.privateKey).signature.replace(/^.*signature=/, '');
      const truncated = encodeURIComponent(
        Buffer.from(decodeURIComponent(value), 'base64').subarray(0, 255).toString('base64'),
      );
      const headers: Array<[string, string, RegExp]> = [
        ['', 'INVALID_SIGNATURE', /missing/],
        ['algorithm=RSA256,keyVersion=1', 'INVALID_SIGNATURE', /malformed/],
        ['algorithm=RSA256,keyVersion=1,signature=', 'INVALID_SIGNATURE', /malformed/],
        [`algorithm=RSA256,keyVersion=1,${value}`, 'INVALID_SIGNATURE', /malformed/],
        [`algorithm=none,keyVersion=1,signature=${value}`, 'INVALID_SIGNATURE', /unsupported-algorithm/],
        [`algorithm=HS256,keyVersion=1,signature=${value}`, 'INVALID_SIGNATURE', /unsupported-algorithm/],
        [`algorithm=RSA512,keyVersion=1,signature=${value}`, 'INVALID_SIGNATURE', /unsupported-algorithm/],
        [`algorithm=,keyVersion=1,signature=${value}`, 'INVALID_SIGNATURE', /unsupported-algorithm/],
        [`algorithm=RSA256,keyVersion=one,signature=${value}`, 'INVALID_SIGNATURE', /bad-key-version/],
        [`algorithm=RSA256,keyVersion=1.0,signature=${value}`, 'INVALID_SIGNATURE', /bad-key-version/],
        [`algorithm=RSA256,keyVersion=0x1,signature=${value}`, 'INVALID_SIGNATURE', /bad-key-version/],
        [`algorithm=RSA256,keyVersion=-1,signature=${value}`, 'INVALID_SIGNATURE', /bad-key-version/],
        [`algorithm=RSA256,keyVersion=0,signature=${value}`, 'KEY_NOT_FOUND', /keyVersion 0/],
        [`algorithm=RSA256,keyVersion=1,signature=${value}!`, 'INVALID_SIGNATURE', /bad-signature-encoding/],
        [
          `algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(value)}`,
          'INVALID_SIGNATURE',
          /bad-signature-encoding/,
        ],
        [`algorithm=RSA256,keyVersion=1,signature=${truncated}`, 'INVALID_SIGNATURE', /does not match/],
        // Duplicated parts: ambiguous, so refused whichever copy is the valid one.
        [
          `algorithm=RSA256,keyVersion=1,signature=${foreign},signature=${value}`,
          'INVALID_SIGNATURE',
          /malformed/,
        ],
        [
          `algorithm=RSA256,keyVersion=1,signature=${value},signature=${foreign}`,
          'INVALID_SIGNATURE',
          /malformed/,
        ],
        [
          `algorithm=RSA256,keyVersion=1,signature=${value},signature=${value}`,
          'INVALID_SIGNATURE',
          /malformed/,
        ],
        [`algorithm=RSA256,keyVersion=7,keyVersion=1,signature=${value}`, 'INVALID_SIGNATURE', /malformed/],
        [
          `algorithm=HS256,algorithm=RSA256,keyVersion=1,signature=${value}`,
          'INVALID_SIGNATURE',
          /malformed/,
        ],
      ];
      const before = await snapshot(wallet);
      for (const [header, code, message] of headers) {
        const reply = await send(wallet.url, { ...good, signature: header });
        expect(reply.body.result.resultCode, header).toBe(code);
        expectRefused(reply, code, PAY, message);
      }
      // The whole header twice on the wire (a proxy adding its own, or a smuggling attempt).
      expectRefused(
        await send(wallet.url, good, { signature: [good.signature, good.signature] }),
        'INVALID_SIGNATURE',
        PAY,
        /malformed/,
      );
      // Client-Id or Request-Time twice: never read as the first or the last copy.
      expectRefused(
        await send(wallet.url, good, { 'client-id': [good.clientId, other.merchant.clientId] }),
        'CLIENT_INVALID',
        PAY,
      );
      expectRefused(
        await send(wallet.url, good, { 'request-time': [good.time, good.time] }),
        'PARAM_ILLEGAL',
        PAY,
        /Request-Time/,
      );
      expect(await snapshot(wallet)).toBe(before);
      // The control: the same signature in a well-formed header, and the documented tolerated forms.
      expect((await send(wallet.url, good)).body.result.resultCode).toBe('ACCEPT');
      const again = valid(PAY, payBody());
      const v = /signature=(.*)$/.exec(again.signature)?.[1] ?? '';
      expect(
        (
          await send(wallet.url, {
            ...again,
            signature: `signature=${v}, keyVersion=1, algorithm=SHA256withRSA`,
          })
        ).body.result.resultCode,
      ).toBe('ACCEPT');
    });

    it('refuses a retired key version on every operation at once, and the newest key is the default', async () => {
      const rotating = await addMerchant(wallet.ctx, { name: 'Rotating', keys: specKeys(true) });
      const next = specKeys(true);
      const added = await addPublicKey(wallet.ctx, rotating.merchant, {
        publicKeyPem: next.publicKeyPem,
        actor: 'cli',
      });
      expect(added).toMatchObject({ ok: true, keyVersion: 2 });
      const as = (path: string, body: string, key: KeyObject, kv: number) =>
        signed(path, rotating.merchant.clientId, isoNow(clock.now()), body, key, kv);
      const rotBody = () =>
        JSON.stringify({
          partnerId: rotating.merchant.partnerId,
          paymentRequestId: uid('rot'),
          paymentOrderTitle: 'Rotation',
          paymentAmount: { currency: 'USD', value: '100' },
        });
      expect(
        (await send(wallet.url, as(PAY, rotBody(), rotating.keys.privateKey, 1))).body.result.resultCode,
      ).toBe('ACCEPT');
      expect(
        await retirePublicKey(wallet.ctx, rotating.merchant, { keyVersion: 1, actor: 'cli' }),
      ).toMatchObject({ ok: true });
      const before = await snapshot(wallet);
      for (const path of PATHS) {
        const body = OPERATIONS[path].name === 'pay' && path === PAY ? rotBody() : bodyFor(path);
        expectRefused(
          await send(wallet.url, as(path, body, rotating.keys.privateKey, 1)),
          'KEY_NOT_FOUND',
          path,
          /keyVersion 1/,
        );
        // Signed with the retired key but naming no version: checked against v2, and refused.
        const noVersion = as(path, body, rotating.keys.privateKey, 1);
        expectRefused(
          await send(wallet.url, {
            ...noVersion,
            signature: noVersion.signature.replace('keyVersion=1,', ''),
          }),
          'INVALID_SIGNATURE',
          path,
        );
      }
      expect(await snapshot(wallet)).toBe(before);
      expect((await send(wallet.url, as(PAY, rotBody(), next.privateKey, 2))).body.result.resultCode).toBe(
        'ACCEPT',
      );
    });

    it(
      'refuses every random mutation of a signed request (property)',
      { timeout: timeoutMs(30_000, 600_000) },
      async () => {
        const before = await snapshot(wallet);
        let mutations = 0;
        const base = valid(PAY, payBody({ paymentRequestId: 'prop-base' }));
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              // One byte of the body replaced.
              fc.record({
                kind: fc.constant('body' as const),
                at: fc.nat(),
                ch: fc.integer({ min: 32, max: 126 }),
              }),
              // The time moved by up to ±300 s (still inside the window).
              fc.record({
                kind: fc.constant('time' as const),
                at: fc.integer({ min: -300_000, max: 300_000 }).filter((d) => d !== 0),
                ch: fc.constant(0),
              }),
              // One character of the path changed to another operation's.
              fc.record({
                kind: fc.constant('path' as const),
                at: fc.nat({ max: PATHS.length - 1 }),
                ch: fc.constant(0),
              }),
              // One bit of the signature flipped.
              fc.record({
                kind: fc.constant('sig' as const),
                at: fc.nat({ max: 255 * 8 }),
                ch: fc.constant(0),
              }),
            ),
            async (m) => {
              let wire: Wire = base;
              if (m.kind === 'body') {
                const i = m.at % base.body.length;
                const body = base.body.slice(0, i) + String.fromCharCode(m.ch) + base.body.slice(i + 1);
                if (body === base.body) return;
                wire = { ...base, body };
              } else if (m.kind === 'time') {
                wire = { ...base, time: isoNow(Date.parse(base.time.replace('+00:00', 'Z')) + m.at) };
              } else if (m.kind === 'path') {
                const path = PATHS[m.at] ?? INQUIRY;
                if (path === PAY) return;
                wire = { ...base, path };
              } else {
                const raw = Buffer.from(
                  decodeURIComponent(/signature=(.*)$/.exec(base.signature)?.[1] ?? ''),
                  'base64',
                );
                raw[m.at >> 3] = (raw[m.at >> 3] ?? 0) ^ (1 << (m.at & 7));
                wire = {
                  ...base,
                  signature: `algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(raw.toString('base64'))}`,
                };
              }
              const reply = await send(wallet.url, wire);
              mutations++;
              expect(reply.body.result.resultStatus, reply.raw).toBe('F');
              expect(['INVALID_SIGNATURE', 'PARAM_ILLEGAL'], reply.raw).toContain(
                reply.body.result.resultCode,
              );
            },
          ),
          { numRuns: scale(50, 2_000), seed: Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31) },
        );
        expect(await snapshot(wallet)).toBe(before);
        expect(mutations).toBeGreaterThan(0);
        if (LONG)
          console.log(
            `faults: signatures ${backend.name}: ${mutations} random mutations of a signed pay refused, 0 written`,
          );
      },
    );
  });
}
