/**
 * The OpenAPI 3.1 document of the wallet's signed API, generated from the TypeBox schemas and the
 * operation catalogue (operations.ts), never kept by hand. The wallet serves it at
 * `GET /api/open/openapi.json` and renders it for people at `/docs/api`. Pure: runs anywhere.
 *
 * The signature scheme cannot be expressed in OpenAPI's security schemes (it signs the body), so it is
 * written in `info.description`, modelled as three required header parameters, and summarised in
 * `x-billetera-signing`. Every operation lists its result codes in `x-result-codes`, including the
 * codes the reference lists for it that Billetera never answers, with why.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  NOTIFICATIONS,
  OPERATIONS,
  OPERATION_CODES,
  type CodeUse,
  type NamedSchema,
  type OperationName,
  type OperationSpec,
} from './operations.ts';
import { PATHS } from './paths.ts';
import { RESULT_CODES, type ResultCode } from './result-codes.ts';

export interface ResultCodeEntry {
  resultCode: ResultCode;
  resultStatus: string;
  produced: boolean;
  /** When it is answered (produced), or why it never is. */
  note: string;
}

export type JsonObject = { [key: string]: unknown };

export interface OpenApiDocument extends JsonObject {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, { post: JsonObject }>;
  webhooks: Record<string, { post: JsonObject }>;
  components: { schemas: Record<string, JsonObject> } & JsonObject;
  'x-result-codes': {
    resultCode: string;
    resultStatus: string;
    message: string;
    retryable: boolean;
    origin: string;
  }[];
}

export const API_VERSION = '1.0.0';

/**
 * The worked example: a bash function that signs with openssl and sends with curl, then a v2 pay and a
 * refund. Tests run this very text against a live wallet, so it stays reproducible.
 */
export const WORKED_EXAMPLE = `# Your values: the wallet's URL, your Client-Id and partnerId, your RSA private key (PEM).
# WALLET=http://127.0.0.1:8080 CLIENT=... PARTNER=... KEY=merchant-private-key.pem
call() { # call <path> <json body>: signs one OpenAPI request and POSTs it
  local time sig
  time=$(date -u +%Y-%m-%dT%H:%M:%S+00:00)
  sig=$(printf 'POST %s\\n%s.%s.%s' "$1" "$CLIENT" "$time" "$2" \\
    | openssl dgst -sha256 -sign "$KEY" | openssl base64 -A \\
    | sed -e 's/+/%2B/g' -e 's#/#%2F#g' -e 's/=/%3D/g')
  curl -s "$WALLET$1" -H 'Content-Type: application/json; charset=UTF-8' -H "Client-Id: $CLIENT" \\
    -H "Request-Time: $time" -H "Signature: algorithm=RSA256,keyVersion=1,signature=$sig" --data-raw "$2"
  echo
}
ORDER="curl-$(date +%s)-$RANDOM"
call /api/open/v2/payments/pay '{"paymentRequestId":"'"$ORDER"'","paymentAmount":{"currency":"USD","value":"350"},"order":{"orderDescription":"Coffee"}}'
call /api/open/v1/payments/inquiryPayment '{"partnerId":"'"$PARTNER"'","paymentRequestId":"'"$ORDER"'"}'
# After the payer paid on the cashier page (or: billetera sandbox pay <paymentId> --phone ... --pin ...):
# call /api/open/v2/payments/refund '{"refundRequestId":"'"$ORDER"'-r1","paymentRequestId":"'"$ORDER"'","refundAmount":{"currency":"USD","value":"100"}}'`;

const INTRO = `Billetera speaks the Alipay+ Mini Program OpenAPI. This document is generated from the wallet's
own request and reply schemas.

## Transport

- \`POST <wallet>/api/open/v1/...\` and \`/api/open/v2/...\`, JSON in UTF-8, at most 64 KiB per body.
  v1 and v2 run the same use cases; only field names differ (v1 pay: \`partnerId\`, \`paymentOrderTitle\`,
  \`extraParams.ORDER\`, \`paymentReturnUrl\`, \`actionForm\`; v2 pay: \`order\`, \`paymentRedirectUrl\`,
  \`redirectActionForm\`, \`productCode\` \`CASHIER_PAYMENT\`).
- **Every outcome is HTTP 200** with \`{"result": {"resultStatus", "resultCode", "resultMessage"}}\`:
  \`S\` success, \`F\` failed (the same request fails again), \`U\` unknown (retry the same request, or
  query), \`A\` accepted (pay: send the payer to the cashier). Errors included; never another status.
- Reply headers, in lower case: \`client-id\`, \`response-time\`, \`signature\`, \`trace-id\`; a replayed
  idempotent reply also carries \`idempotent-replayed: true\`.
- Idempotency: \`paymentRequestId\` and \`refundRequestId\` are scoped by merchant and kept for ever. The
  same id with the same fields replays the first reply; with other fields it is
  \`F / REPEAT_REQ_INCONSISTENT\`; concurrent duplicates create one payment or refund. A refused request
  stores nothing, so it can be corrected and sent again with the same id.

## Signing

Request headers \`Client-Id\`, \`Request-Time\`, \`Signature\` (names case-insensitive).

\`\`\`
content to sign:  POST <path>\\n<Client-Id>.<Request-Time>.<raw body bytes>
algorithm:        SHA256withRSA (PKCS#1 v1.5), RSA-2048 keys
Signature header: algorithm=RSA256,keyVersion=<n>,signature=<base64, then percent-encoded>
\`\`\`

- \`Request-Time\` is ISO 8601 with an offset (\`2026-11-25T19:35:54+00:00\`, milliseconds optional) or
  epoch milliseconds, signed exactly as sent, and within 300 s of the wallet clock.
- The signature may be standard or URL-safe base64; pairs may have spaces after the commas.
  \`keyVersion\` picks one of the merchant's registered keys; absent means the newest.
- Replies are signed the same way with the wallet key, over
  \`POST <request path>\\n<client-id>.<response-time>.<reply body>\`; notifications over
  \`POST <notify URL path>\\n<client-id>.<request-time>.<body>\`. The wallet's public key:
  \`GET ${PATHS.walletKeys}\`.

## Worked example (openssl and curl)

\`\`\`bash
${WORKED_EXAMPLE}
\`\`\`

## Notifications

- \`notifyPayment\` when a payment reaches \`SUCCESS\` or \`FAIL\` (expiry); \`notifyRefund\` when a
  refund settles and the refund request gave a \`refundNotifyUrl\`. A cancel is not notified: its reply
  is the answer.
- Acknowledge with HTTP 200 and \`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}\`.
  Anything else is retried 0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h and 15 h after the previous
  attempt; then the delivery is failed until an operator redelivers it. Delivery is at least once.
- Billetera extensions, top-level fields that Alipay+ parsers ignore: \`notificationId\` (the same on
  every retry and redelivery: de-duplicate by it) and \`sequence\` (1, 2, 3... per payment, in the
  order the notifications were written: a payment's SUCCESS comes before its refunds).

## Amounts

\`{"currency": "USD", "value": "1999"}\`: an ISO 4217 code and a string of a positive integer in the
currency's minor unit (19.99 USD). Never floats.`;

/** A TypeBox schema as plain JSON Schema (TypeBox's symbol keys dropped). */
function plain(schema: TSchema): JsonObject {
  return JSON.parse(JSON.stringify(schema)) as JsonObject;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The result codes of an operation, in catalogue order: produced ones first. */
export function resultCodesOf(name: OperationSpec['name']): ResultCodeEntry[] {
  const uses = OPERATION_CODES[name];
  const order = Object.keys(RESULT_CODES) as ResultCode[];
  const entries = order
    .filter((code) => uses[code] !== undefined)
    .map((code) => {
      const use = uses[code] as CodeUse;
      return {
        resultCode: code,
        resultStatus: RESULT_CODES[code].status,
        produced: use.produced,
        note: use.produced ? use.when : use.why,
      };
    });
  return [...entries.filter((e) => e.produced), ...entries.filter((e) => !e.produced)];
}

const SIGNED_HEADERS = [
  { name: 'Client-Id', description: 'the merchant’s Client-Id' },
  {
    name: 'Request-Time',
    description: 'ISO 8601 with an offset, or epoch milliseconds; within 300 s of the wallet clock',
  },
  {
    name: 'Signature',
    description:
      'algorithm=RSA256,keyVersion=<n>,signature=<percent-encoded base64 of SHA256withRSA over POST <path>\\n<Client-Id>.<Request-Time>.<raw body>>',
  },
];

const REPLY_HEADERS = {
  'client-id': { description: 'the caller’s Client-Id', schema: { type: 'string' } },
  'response-time': { description: 'signed with the reply', schema: { type: 'string' } },
  signature: {
    description: 'the wallet’s signature over POST <request path>\\n<client-id>.<response-time>.<reply body>',
    schema: { type: 'string' },
  },
  'trace-id': { description: 'quote it when asking the operator about a call', schema: { type: 'string' } },
  'idempotent-replayed': {
    description: '"true" when the reply is the stored reply of an earlier identical request',
    schema: { type: 'string' },
  },
};

function tagOf(name: OperationName): string {
  if (name === 'refund' || name === 'inquiryRefund') return 'refunds';
  if (name === 'applyToken' || name === 'cancelToken' || name === 'inquiryUserInfo') return 'authorization';
  return 'payments';
}

/** `/api/open/v2/customers/user/inquiryUserInfo` -> `CustomersUser`: keeps an alias's operationId unique. */
function aliasSuffix(path: string): string {
  const parts = path.split('/').slice(4, -1);
  return parts.map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

function operationObject(spec: OperationSpec): JsonObject {
  const codes = resultCodesOf(spec.name);
  return {
    operationId: `${spec.name}${spec.version.toUpperCase()}${spec.aliasOf ? `At${aliasSuffix(spec.path)}` : ''}`,
    summary: spec.summary,
    tags: [tagOf(spec.name)],
    parameters: SIGNED_HEADERS.map((h) => ({ $ref: `#/components/parameters/${h.name}` })),
    requestBody: { required: true, content: { 'application/json': { schema: ref(spec.request.name) } } },
    responses: {
      '200': {
        description:
          'Every outcome, refusals included: read result.resultStatus and result.resultCode (x-result-codes).',
        headers: REPLY_HEADERS,
        content: { 'application/json': { schema: ref(spec.reply.name) } },
      },
    },
    'x-api-version': spec.version,
    'x-result-codes': codes,
  };
}

function webhookObject(summary: string, body: NamedSchema, ack: NamedSchema): JsonObject {
  return {
    summary,
    parameters: [
      { name: 'client-id', in: 'header', required: true, schema: { type: 'string' } },
      { name: 'request-time', in: 'header', required: true, schema: { type: 'string' } },
      {
        name: 'signature',
        in: 'header',
        required: true,
        description: 'the wallet’s signature over POST <notify URL path>\\n<client-id>.<request-time>.<body>',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: ref(body.name) } } },
    responses: {
      '200': {
        description: 'Acknowledged only with resultStatus "S"; anything else is retried on the ladder.',
        content: { 'application/json': { schema: ref(ack.name) } },
      },
    },
  };
}

export function buildOpenApiDocument(options: { serverUrl?: string } = {}): OpenApiDocument {
  const schemas: Record<string, JsonObject> = {};
  const paths: OpenApiDocument['paths'] = {};
  for (const spec of Object.values(OPERATIONS) as OperationSpec[]) {
    schemas[spec.request.name] = plain(spec.request.schema);
    schemas[spec.reply.name] = plain(spec.reply.schema);
    paths[spec.path] = { post: operationObject(spec) };
  }
  const webhooks: OpenApiDocument['webhooks'] = {};
  for (const [name, n] of Object.entries(NOTIFICATIONS)) {
    schemas[n.body.name] = plain(n.body.schema);
    schemas[n.ack.name] = plain(n.ack.schema);
    webhooks[name] = { post: webhookObject(n.summary, n.body, n.ack) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Billetera OpenAPI (Alipay+ Mini Program compatible)',
      version: API_VERSION,
      description: INTRO,
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    tags: [
      { name: 'payments', description: 'pay, inquiryPayment, cancel' },
      { name: 'refunds', description: 'refund, inquiryRefund, notifyRefund' },
      {
        name: 'authorization',
        description: 'applyToken, cancelToken, inquiryUserInfo (after my.getAuthCode)',
      },
    ],
    security: [{ BilleteraSignature: [] }],
    paths,
    webhooks,
    components: {
      schemas,
      parameters: Object.fromEntries(
        SIGNED_HEADERS.map((h) => [
          h.name,
          {
            name: h.name,
            in: 'header',
            required: true,
            description: h.description,
            schema: { type: 'string' },
          },
        ]),
      ),
      securitySchemes: {
        BilleteraSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Signature',
          description:
            'RSA256 over the request (see the Signing section); OpenAPI cannot express it, so it is described here.',
        },
      },
    },
    'x-billetera-signing': {
      algorithm: 'RSA256 (SHA256withRSA, PKCS#1 v1.5)',
      contentToSign: 'POST <path>\\n<Client-Id>.<Request-Time>.<raw body>',
      header: 'algorithm=RSA256,keyVersion=<n>,signature=<standard base64, percent-encoded>',
      requestTimeWindowSeconds: 300,
      walletPublicKey: PATHS.walletKeys,
    },
    'x-result-codes': (Object.keys(RESULT_CODES) as ResultCode[]).map((code) => ({
      resultCode: code,
      resultStatus: RESULT_CODES[code].status,
      message: RESULT_CODES[code].message,
      retryable: RESULT_CODES[code].retryable,
      origin: RESULT_CODES[code].origin,
    })),
  };
}
