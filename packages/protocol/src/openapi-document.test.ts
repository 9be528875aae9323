/**
 * The operation catalogue and the OpenAPI document generated from it: every code the reference lists for
 * an API is either produced or explained, the document carries exactly the TypeBox schemas, and it is a
 * well-formed OpenAPI 3.1 document (every $ref resolves, every operation has its headers and codes).
 */
import { describe, expect, it } from 'vitest';
import {
  NOTIFICATIONS,
  OPERATIONS,
  OPERATION_CODES,
  type OperationName,
  type OperationSpec,
} from './operations.ts';
import { WORKED_EXAMPLE, buildOpenApiDocument, resultCodesOf } from './openapi-document.ts';
import { PATHS } from './paths.ts';
import { API_RESULT_CODES, RESULT_CODES, type ResultCode } from './result-codes.ts';

const REFERENCE_LISTS: Record<string, OperationName> = {
  'v1/payments/pay': 'pay',
  'v1/payments/inquiryPayment': 'inquiryPayment',
  'v1/payments/cancel': 'cancel',
  'v1/payments/refund': 'refund',
  'v1/authorizations/applyToken': 'applyToken',
  'v1/authorizations/cancelToken': 'cancelToken',
  'v1/users/inquiryUserInfo': 'inquiryUserInfo',
};

describe('operation catalogue', () => {
  it('serves every path of PATHS under /api/open/v1 and /v2, each once, in both versions', () => {
    const paths = Object.keys(OPERATIONS).sort();
    const expected = Object.values(PATHS)
      .filter((p) => /^\/api\/open\/v[12]\//.test(p))
      .sort();
    expect(paths).toEqual(expected);
    for (const name of Object.keys(OPERATION_CODES)) {
      const versions = Object.values(OPERATIONS)
        .filter((o: OperationSpec) => o.name === name && o.aliasOf === undefined)
        .map((o) => o.version)
        .sort();
      expect(versions, name).toEqual(['v1', 'v2']);
    }
  });

  it('says, for every code the reference lists for an API, whether it is produced, and if not, why', () => {
    for (const [api, name] of Object.entries(REFERENCE_LISTS)) {
      const uses = OPERATION_CODES[name];
      for (const code of API_RESULT_CODES[api as keyof typeof API_RESULT_CODES])
        expect(uses[code as ResultCode], `${name}: ${code}`).toBeDefined();
    }
    for (const [name, uses] of Object.entries(OPERATION_CODES)) {
      for (const [code, use] of Object.entries(uses)) {
        expect(RESULT_CODES[code as ResultCode].origin, `${name}: ${code}`).toBe('reference');
        expect((use.produced ? use.when : use.why).length, `${name}: ${code}`).toBeGreaterThan(10);
      }
      const produced = resultCodesOf(name as OperationName).filter((c) => c.produced);
      expect(produced.length, name).toBeGreaterThan(5);
    }
  });

  it('answers success as the reference says: A for pay, S for the others', () => {
    expect(OPERATION_CODES.pay.ACCEPT?.produced).toBe(true);
    expect(OPERATION_CODES.pay.SUCCESS?.produced).toBe(false);
    for (const name of [
      'inquiryPayment',
      'cancel',
      'refund',
      'inquiryRefund',
      'applyToken',
      'cancelToken',
      'inquiryUserInfo',
    ] as const)
      expect(OPERATION_CODES[name].SUCCESS?.produced, name).toBe(true);
  });
});

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument({ serverUrl: 'https://wallet.example' });

  it('is OpenAPI 3.1 with one POST per operation, its signed headers, its schemas and its codes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'https://wallet.example' }]);
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(OPERATIONS).sort());
    for (const [path, spec] of Object.entries(OPERATIONS)) {
      const post = doc.paths[path]!.post;
      expect(post['parameters']).toEqual([
        { $ref: '#/components/parameters/Client-Id' },
        { $ref: '#/components/parameters/Request-Time' },
        { $ref: '#/components/parameters/Signature' },
      ]);
      expect(post['x-result-codes']).toEqual(resultCodesOf(spec.name));
      // The document carries the TypeBox schemas themselves, not a hand-kept copy.
      expect(doc.components.schemas[spec.request.name]).toEqual(
        JSON.parse(JSON.stringify(spec.request.schema)),
      );
      expect(doc.components.schemas[spec.reply.name]).toEqual(JSON.parse(JSON.stringify(spec.reply.schema)));
    }
    expect(Object.keys(doc.webhooks).sort()).toEqual(Object.keys(NOTIFICATIONS).sort());
  });

  it('resolves every $ref it contains', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], doc);
      expect(target, ref).toBeDefined();
    }
  });

  it('documents the signing scheme, the worked example and the whole result catalogue', () => {
    expect(doc.info.description).toContain('POST <path>\\n<Client-Id>.<Request-Time>.<raw body bytes>');
    expect(doc.info.description).toContain(WORKED_EXAMPLE);
    expect(WORKED_EXAMPLE).toMatch(/openssl dgst -sha256 -sign/);
    expect(WORKED_EXAMPLE).toMatch(/curl -s/);
    expect(doc['x-result-codes'].map((c) => c.resultCode).sort()).toEqual(Object.keys(RESULT_CODES).sort());
    expect(doc['x-billetera-signing']).toMatchObject({ requestTimeWindowSeconds: 300 });
  });

  it('documents the notification extensions on both notification bodies', () => {
    for (const name of ['NotifyPayment', 'NotifyRefund']) {
      const properties = doc.components.schemas[name]!['properties'] as Record<string, { type: string }>;
      expect(properties['notificationId']?.type, name).toBe('string');
      expect(properties['sequence']?.type, name).toBe('integer');
    }
  });
});
