/**
 * Hostile input against every signed OpenAPI operation (issue 8, item 5), over real HTTP against a real
 * wallet: fast-check generates malformed JSON, wrong types, missing and extra fields, deep nesting, unicode
 * tricks, broken amounts and currencies, SQL and script payloads, and sends them to every path of the
 * operation catalogue (aliases, v1 and v2 included), both correctly signed with the merchant's key (so the
 * validation and the use cases are reached) and unsigned or mis-signed (refused at the signature step).
 *
 * The property, for every request: an answer within the per-request timeout; HTTP 200 with a signed
 * `result` whose code is one the catalogue says this operation produces (never UNKNOWN_EXCEPTION); and
 * the database fingerprint unchanged, except after the outcomes that are writes by design (an accepted
 * pay, a cancel or refund that succeeded...). Fixed cases add bodies over the size limit. The server
 * answers /health afterwards and still accepts a valid pay.
 *
 * fast-check prints the seed and the shrunk counterexample of a failing run; FUZZ_SEED=<n> replays it.
 */
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OPERATIONS,
  OPERATION_CODES,
  type OperationName,
  type OperationPath,
  type ResultCode,
} from '@billetera/protocol';
import { findPaymentById } from '@billetera/store';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { dbSnapshot, diffSnapshots, type DbSnapshot } from '../../../../test/db-snapshot.ts';
import {
  SQL_PAYLOADS,
  UNICODE_TRICKS,
  XSS_PAYLOADS,
  applyMutations,
  deepJson,
  hostileString,
  malformedJson,
  mutations,
  RawJson,
  rawJson,
  wellFormed,
  type Mutation,
} from '../../../../test/fuzz-arbitraries.ts';
import { LONG, scale, timeoutMs } from '../../../../test/long.ts';
import { isoNow, specKeys, specSign, verifyReply, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import type { RunningWallet } from '../wallet.ts';
import { OPENAPI_BODY_LIMIT_BYTES } from './openapi-routes.ts';

/** A request that has not answered by then is a hang: the property fails. */
const REQUEST_TIMEOUT_MS = 10_000;
const PATHS = Object.keys(OPERATIONS) as OperationPath[];
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined;

/** Outcomes that change the database by design; every other answer must leave it as it was. */
const WRITES: Partial<Record<OperationName, readonly ResultCode[]>> = {
  pay: ['ACCEPT'],
  cancel: ['SUCCESS'],
  refund: ['SUCCESS'],
  applyToken: ['SUCCESS', 'USED_CODE', 'USED_REFRESH_TOKEN'],
  cancelToken: ['SUCCESS'],
};

/** What the signature layer answers to a request it refuses. */
const SIGNATURE_CODES: readonly string[] = [
  'PARAM_ILLEGAL',
  'CLIENT_INVALID',
  'INVALID_SIGNATURE',
  'KEY_NOT_FOUND',
];

type HeaderTrick =
  | { kind: 'none' }
  | { kind: 'client-only' }
  | { kind: 'unknown-client'; clientId: string }
  | { kind: 'garbage-signature'; value: string }
  | { kind: 'other-key' }
  | { kind: 'stale'; secondsAgo: number }
  | { kind: 'future'; secondsAhead: number }
  | { kind: 'other-path' }
  | { kind: 'other-body' }
  | { kind: 'bad-time'; time: string }
  | { kind: 'unknown-key-version'; keyVersion: number };

const ascii = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const headerTrick: fc.Arbitrary<HeaderTrick> = fc.oneof(
  fc.constant<HeaderTrick>({ kind: 'none' }),
  fc.constant<HeaderTrick>({ kind: 'client-only' }),
  ascii(80).map((clientId): HeaderTrick => ({ kind: 'unknown-client', clientId: clientId || 'X' })),
  ascii(120).map((value): HeaderTrick => ({ kind: 'garbage-signature', value })),
  fc.constant<HeaderTrick>({ kind: 'other-key' }),
  fc.integer({ min: 301, max: 400 * 86_400 }).map((s): HeaderTrick => ({ kind: 'stale', secondsAgo: s })),
  fc.integer({ min: 301, max: 86_400 }).map((s): HeaderTrick => ({ kind: 'future', secondsAhead: s })),
  fc.constant<HeaderTrick>({ kind: 'other-path' }),
  fc.constant<HeaderTrick>({ kind: 'other-body' }),
  fc
    .constantFrom('yesterday', '0', '-1', '2026-13-45T99:99:99Z', '9'.repeat(30), '1e20', 'NaN', '')
    .map((time): HeaderTrick => ({ kind: 'bad-time', time })),
  fc
    .integer({ min: 2, max: 1_000_000 })
    .map((v): HeaderTrick => ({ kind: 'unknown-key-version', keyVersion: v })),
);

interface Seeds {
  partnerId: string;
  processingId: string;
  paidId: string;
  paidRequestId: string;
  refundId: string;
}

/** A valid body of each operation, which the mutations then break. Fresh ids come from `fresh`. */
function template(
  name: OperationName,
  version: 'v1' | 'v2',
  s: Seeds,
  fresh: string,
): Record<string, unknown> {
  const v1 = version === 'v1' ? { partnerId: s.partnerId } : {};
  switch (name) {
    case 'pay':
      return version === 'v1'
        ? {
            partnerId: s.partnerId,
            paymentRequestId: fresh,
            paymentOrderTitle: 'Fuzzed coffee',
            paymentAmount: { currency: 'USD', value: '100' },
            paymentNotifyUrl: 'https://shop.example/notify',
            paymentReturnUrl: 'https://shop.example/done',
            extraParams: { ORDER: '{"goods":[{"name":"cup"}]}' },
            extendInfo: '{"k":"v"}',
          }
        : {
            paymentRequestId: fresh,
            paymentAmount: { currency: 'USD', value: '100' },
            order: {
              orderDescription: 'Fuzzed coffee',
              referenceOrderId: 'ref-1',
              goods: [{ goodsName: 'cup' }],
              merchant: { merchantName: 'shop' },
            },
            productCode: 'CASHIER_PAYMENT',
            paymentRedirectUrl: 'https://shop.example/done',
          };
    case 'inquiryPayment':
      return { ...v1, paymentId: s.paidId, paymentRequestId: s.paidRequestId };
    case 'cancel':
      return { ...v1, paymentId: s.processingId };
    case 'refund':
      return {
        ...v1,
        refundRequestId: fresh,
        paymentId: s.paidId,
        refundAmount: { currency: 'USD', value: '1' },
        refundReason: 'fuzz',
      };
    case 'inquiryRefund':
      return { ...v1, refundId: s.refundId };
    case 'applyToken':
      return {
        grantType: 'AUTHORIZATION_CODE',
        authCode: 'a'.repeat(24),
        referenceClientId: '2026000000000000001',
      };
    case 'cancelToken':
    case 'inquiryUserInfo':
      return { accessToken: 't'.repeat(40) };
  }
}

/** The paths of a body's string fields (`['paymentAmount', 'currency']`...). */
function stringPaths(value: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'string'
      ? [[...prefix, k]]
      : v !== null && typeof v === 'object' && !Array.isArray(v)
        ? stringPaths(v as Record<string, unknown>, [...prefix, k])
        : [],
  );
}

interface Sent {
  status: number;
  headers: Record<string, string>;
  raw: string;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<Sent> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, headers: Object.fromEntries(res.headers), raw: await res.text() };
}

for (const backend of BACKENDS) {
  const onSqlite = backend.name === 'sqlite';
  /** Requests per path and property: the bulk on SQLite, a smaller set on PostgreSQL. */
  const signedRuns = onSqlite ? scale(5, 150) : scale(2, 25);
  const unsignedRuns = onSqlite ? scale(3, 60) : scale(1, 10);

  describe(`fuzz the OpenAPI on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let other: TestMerchant;
    let seeds: Seeds;
    let snapshot: DbSnapshot;
    let counter = 0;
    const stats = { requests: 0, writes: 0, codes: new Map<string, number>() };

    const fresh = () => `fuzz-${process.pid}-${++counter}`;

    function signedHeaders(path: string, body: string | Buffer, key: KeyObject = shop.keys.privateKey) {
      const time = isoNow();
      const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
      return {
        'Client-Id': shop.merchant.clientId,
        'Request-Time': time,
        Signature: `algorithm=RSA256,keyVersion=1,signature=${specSign(path, shop.merchant.clientId, time, text, key)}`,
      };
    }

    function trickHeaders(t: HeaderTrick, path: string, body: string): Record<string, string> {
      const clientId = shop.merchant.clientId;
      const signAt = (time: string, p = path, b = body, key = shop.keys.privateKey, v = 1) => ({
        'Client-Id': clientId,
        'Request-Time': time,
        Signature: `algorithm=RSA256,keyVersion=${v},signature=${specSign(p, clientId, time, b, key)}`,
      });
      switch (t.kind) {
        case 'none':
          return {};
        case 'client-only':
          return { 'Client-Id': clientId };
        case 'unknown-client':
          return { ...signAt(isoNow()), 'Client-Id': t.clientId };
        case 'garbage-signature':
          return { 'Client-Id': clientId, 'Request-Time': isoNow(), Signature: t.value };
        case 'other-key':
          return signAt(isoNow(), path, body, other.keys.privateKey);
        case 'stale':
          return signAt(isoNow(Date.now() - t.secondsAgo * 1000));
        case 'future':
          return signAt(isoNow(Date.now() + t.secondsAhead * 1000));
        case 'other-path':
          return signAt(isoNow(), path === PATHS[0] ? (PATHS[1] ?? path) : (PATHS[0] ?? path));
        case 'other-body':
          return signAt(isoNow(), path, `${body} `);
        case 'bad-time':
          return { ...signAt(isoNow()), 'Request-Time': t.time };
        case 'unknown-key-version':
          return signAt(isoNow(), path, body, shop.keys.privateKey, t.keyVersion);
      }
    }

    /**
     * The property's assertions for one answer: signed HTTP 200 with a catalogued code this operation
     * produces, never UNKNOWN_EXCEPTION; the database unchanged unless the outcome is a write by design.
     */
    async function expectAnswer(
      path: OperationPath,
      sent: Sent,
      opts: { signed: boolean; label: string },
    ): Promise<string> {
      stats.requests++;
      const where = `${opts.label} ${path}: HTTP ${sent.status} ${sent.raw.slice(0, 300)}`;
      expect(sent.status, where).toBe(200);
      let body: SpecReply['body'];
      try {
        body = JSON.parse(sent.raw) as SpecReply['body'];
      } catch {
        throw new Error(`not JSON: ${where}`);
      }
      const code = body.result?.resultCode;
      stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
      expect(code, where).not.toBe('UNKNOWN_EXCEPTION');
      const op = OPERATIONS[path];
      expect(
        OPERATION_CODES[op.name][code as ResultCode]?.produced,
        `${code} is not one ${op.name} produces: ${where}`,
      ).toBe(true);
      expect(
        typeof body.result.resultMessage === 'string' && body.result.resultMessage.length > 0,
        where,
      ).toBe(true);
      if (!opts.signed) expect(SIGNATURE_CODES, where).toContain(code);
      const reply: SpecReply = { ...sent, body };
      expect(
        verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem),
        `unsigned reply: ${where}`,
      ).toBe(true);

      const after = await dbSnapshot(wallet.ctx.store);
      const isWrite = opts.signed && (WRITES[op.name] ?? []).includes(code as ResultCode);
      if (isWrite) stats.writes++;
      else expect(diffSnapshots(snapshot, after), `database changed: ${where}`).toEqual([]);
      snapshot = after;
      return code;
    }

    beforeAll(async () => {
      env = await backend.create();
      // Rate limits off: this suite sends thousands of refused calls from one address on purpose (the
      // limits have their own suite, rate-limit.faults.test.ts).
      wallet = await startTestWallet(env, { workers: false, rateLimits: false });
      shop = await addMerchant(wallet.ctx, { name: 'Fuzz Shop' });
      other = await addMerchant(wallet.ctx, { keys: specKeys(true), name: 'Other Shop' });
      const user = await addUser(wallet.ctx, { USD: 10_000_000n });
      const pay = async (value: string) => {
        const paymentRequestId = fresh();
        const body = JSON.stringify({
          partnerId: shop.merchant.partnerId,
          paymentRequestId,
          paymentOrderTitle: 'Seed order',
          paymentAmount: { currency: 'USD', value },
        });
        const path = '/api/open/v1/payments/pay';
        const r = await post(wallet.url + path, body, signedHeaders(path, body));
        const id = (JSON.parse(r.raw) as { paymentId: string }).paymentId;
        expect(id).toMatch(/^pay_/);
        return { id, paymentRequestId };
      };
      const processing = await pay('500');
      const paid = await pay('5000000');
      expect(
        (await confirmPayment(wallet.ctx, { paymentId: paid.id, phone: user.phone, pin: user.pin })).ok,
      ).toBe(true);
      const refundBody = JSON.stringify({
        partnerId: shop.merchant.partnerId,
        refundRequestId: fresh(),
        paymentId: paid.id,
        refundAmount: { currency: 'USD', value: '10' },
      });
      const refundPath = '/api/open/v1/payments/refund';
      const refund = await post(wallet.url + refundPath, refundBody, signedHeaders(refundPath, refundBody));
      const refundId = (JSON.parse(refund.raw) as { refundId: string }).refundId;
      expect(refundId).toMatch(/^rfd_/);
      seeds = {
        partnerId: shop.merchant.partnerId,
        processingId: processing.id,
        paidId: paid.id,
        paidRequestId: paid.paymentRequestId,
        refundId,
      };
      snapshot = await dbSnapshot(wallet.ctx.store);
    });

    afterAll(async () => {
      if (stats.requests > 0) {
        const top = [...stats.codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`);
        console.log(
          `faults: fuzz openapi ${backend.name}: ${stats.requests.toLocaleString('en-US')} requests over ${PATHS.length} paths, 0 errors, ${stats.writes} accepted writes`,
        );
        if (LONG) console.log(`faults: fuzz openapi ${backend.name} codes: ${top.join(', ')}`);
      }
      await wallet?.close();
      await env?.cleanup();
    });

    it(
      'answers every correctly signed hostile body with a catalogued code, never a fault, and changes nothing it refuses',
      async () => {
        for (const path of PATHS) {
          const op = OPERATIONS[path];
          const shape = template(op.name, op.version, seeds, 'shape');
          const body = fc.oneof(
            { weight: 1, arbitrary: malformedJson().map((text) => ({ text }) as { text: string }) },
            { weight: 6, arbitrary: mutations(shape).map((list) => ({ list }) as { list: Mutation[] }) },
          );
          await fc.assert(
            fc.asyncProperty(body, async (c) => {
              const bodyFields =
                'list' in c
                  ? applyMutations(template(op.name, op.version, seeds, fresh()), c.list)
                  : undefined;
              const text = bodyFields ? rawJson(bodyFields) : (c as { text: string }).text;
              const sent = await post(wallet.url + path, text, signedHeaders(path, text));
              const code = await expectAnswer(path, sent, { signed: true, label: 'signed' });
              // An accepted v1 pay stores the title exactly as sent: no mangling, no injection.
              if (
                code === 'ACCEPT' &&
                op.version === 'v1' &&
                typeof bodyFields?.['paymentOrderTitle'] === 'string'
              ) {
                const id = (JSON.parse(sent.raw) as { paymentId: string }).paymentId;
                const stored = await findPaymentById(wallet.ctx.store.db, id);
                expect(stored?.orderTitle).toBe(wellFormed(bodyFields['paymentOrderTitle']));
              }
            }),
            { numRuns: signedRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
          );
        }
      },
      timeoutMs(120_000, 1_800_000),
    );

    it(
      'refuses every unsigned, mis-signed or replayed request at the signature step, whatever the body',
      async () => {
        for (const path of PATHS) {
          const op = OPERATIONS[path];
          const shape = template(op.name, op.version, seeds, 'shape');
          // Bodies travel as RawJson so that a counterexample prints short, even a 60 KB one.
          const body = fc.oneof(
            malformedJson().map((text) => new RawJson(text)),
            mutations(shape).map(
              (list) =>
                new RawJson(rawJson(applyMutations(template(op.name, op.version, seeds, fresh()), list))),
            ),
            fc.constant(new RawJson(rawJson(template(op.name, op.version, seeds, 'valid')))),
          );
          await fc.assert(
            fc.asyncProperty(body, headerTrick, async ({ text }, trick) => {
              const sent = await post(wallet.url + path, text, trickHeaders(trick, path, text));
              const code = await expectAnswer(path, sent, {
                signed: false,
                label: `unsigned (${trick.kind})`,
              });
              // A body over the limit is refused before its headers are looked at; otherwise the trick's
              // own refusal is the answer.
              if (Buffer.byteLength(text) > OPENAPI_BODY_LIMIT_BYTES) return;
              if (trick.kind === 'stale' || trick.kind === 'future')
                expect(JSON.parse(sent.raw).result.resultMessage).toMatch(/outside the window/);
              if (trick.kind === 'other-key' || trick.kind === 'other-path' || trick.kind === 'other-body')
                expect(code).toBe('INVALID_SIGNATURE');
            }),
            { numRuns: unsignedRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
          );
        }
      },
      timeoutMs(120_000, 1_800_000),
    );

    it(
      'takes every payload in every string field of a valid body: stored as sent, or refused without a fault',
      async () => {
        const payloads = onSqlite
          ? scale(
              ['nul\u0000byte', 'lone \ud800 high', `${SQL_PAYLOADS[1] ?? ''}${XSS_PAYLOADS[1] ?? ''}\u202e`],
              [...XSS_PAYLOADS, ...SQL_PAYLOADS, ...UNICODE_TRICKS],
            )
          : scale(['nul\u0000byte'], [...SQL_PAYLOADS, ...UNICODE_TRICKS]);
        for (const path of PATHS) {
          const op = OPERATIONS[path];
          const shape = template(op.name, op.version, seeds, 'shape');
          for (const field of stringPaths(shape)) {
            for (const payload of payloads) {
              const fields = applyMutations(template(op.name, op.version, seeds, fresh()), [
                { kind: 'replace', path: field, value: payload },
              ]);
              const text = rawJson(fields);
              const sent = await post(wallet.url + path, text, signedHeaders(path, text));
              await expectAnswer(path, sent, {
                signed: true,
                label: `${field.join('.')}=${JSON.stringify(payload)}`,
              });
            }
          }
        }
      },
      timeoutMs(60_000, 1_800_000),
    );

    it('refuses bodies over the size limit, signed or not, on every path', async () => {
      const sizes = scale([OPENAPI_BODY_LIMIT_BYTES + 1], [OPENAPI_BODY_LIMIT_BYTES + 1, 4 * 1024 * 1024]);
      for (const path of PATHS) {
        for (const size of sizes) {
          const op = OPERATIONS[path];
          const fields = { ...template(op.name, op.version, seeds, fresh()), extendInfo: 'x'.repeat(size) };
          const text = rawJson(fields);
          for (const signed of [true, false]) {
            const sent = await post(wallet.url + path, text, signed ? signedHeaders(path, text) : {});
            const code = await expectAnswer(path, sent, { signed, label: `${size} bytes` });
            expect(code).toBe('PARAM_ILLEGAL');
            expect(JSON.parse(sent.raw).result.resultMessage).toMatch(/larger than/);
          }
        }
      }
    });

    it('refuses JSON nested too deep to walk, signed, on every path', async () => {
      for (const path of PATHS) {
        const op = OPERATIONS[path];
        for (const deep of [deepJson(33, 'object'), deepJson(10_000, 'array')]) {
          const text = rawJson({ ...template(op.name, op.version, seeds, fresh()), deep });
          const sent = await post(wallet.url + path, text, signedHeaders(path, text));
          const code = await expectAnswer(path, sent, { signed: true, label: `deep ${deep.text.length}` });
          expect(code).toBe('PARAM_ILLEGAL');
          expect(JSON.parse(sent.raw).result.resultMessage).toMatch(/nested more than/);
        }
      }
    });

    it('still answers /health and accepts a valid pay after the fuzzing', async () => {
      const health = await fetch(`${wallet.url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(health.status).toBe(200);
      const path = '/api/open/v1/payments/pay';
      const title = fc.sample(hostileString(), { numRuns: 1, seed: 7 })[0] ?? '';
      const text = JSON.stringify({
        ...template('pay', 'v1', seeds, fresh()),
        paymentOrderTitle: title.slice(0, 200) || 'after the fuzz',
      });
      const sent = await post(wallet.url + path, text, signedHeaders(path, text));
      expect(JSON.parse(sent.raw).result.resultCode).toBe('ACCEPT');
    });
  });
}
