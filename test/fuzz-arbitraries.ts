/**
 * fast-check arbitraries for hostile input (issue 8, item 5), shared by the OpenAPI, form and XSS suites:
 * strings that attack parsers, databases and pages; amounts and currencies that attack the money rules;
 * values of the wrong type; JSON that is malformed, huge or deeply nested.
 *
 * Bodies are built as raw text (`RawJson`), not only through JSON.stringify, so that they can hold what a
 * JavaScript value cannot: `1e999`, `-0`, numbers past 2^53, duplicate keys, truncated documents.
 */
import fc from 'fast-check';

/** Script and markup payloads; each sets `window.__xss` if it ever runs, so a browser test can tell. */
export const XSS_PAYLOADS: readonly string[] = [
  '<script>window.__xss=1</script>',
  '"><img src=x onerror="window.__xss=1">',
  "'><svg onload=window.__xss=1>",
  '</title><script>window.__xss=1</script>',
  '</textarea><script>window.__xss=1</script>',
  'javascript:window.__xss=1',
  '" autofocus onfocus="window.__xss=1" x="',
  "' onmouseover='window.__xss=1' x='",
  '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
  '${window.__xss=1}{{constructor.constructor("window.__xss=1")()}}',
  '<a href="javascript:window.__xss=1">click</a>',
  '</script><script>window.__xss=1</script>',
  '<style>@import "javascript:window.__xss=1"</style>',
];

export const SQL_PAYLOADS: readonly string[] = [
  "' OR '1'='1",
  "'; DROP TABLE payments; --",
  '"; DELETE FROM accounts; --',
  "1' UNION SELECT pin_hash FROM users --",
  "\\'; update accounts set balance = 999999 --",
  '%27%20OR%201%3D1',
  "admin'--",
  '1; SELECT pg_sleep(30)',
  "'||(select sqlite_version())||'",
];

/** Unicode that trips naive code: NUL, lone surrogates, bidi overrides, homoglyphs, zero-width, BOM. */
export const UNICODE_TRICKS: readonly string[] = [
  'nul\u0000byte',
  '\u0000',
  'lone \ud800 high',
  'lone \udfff low',
  'rtl \u202egnp.exe',
  '\u202a\u202b\u202c\u2066\u2067\u2069',
  'раураl', // Cyrillic letters that look like "paypal"
  'Ｂｉｌｌｅｔｅｒａ', // full-width
  'zero\u200bwidth\u200d\u2060',
  '\ufeffbom',
  'e\u0301\u0301\u0301\u0301\u0301\u0301\u0301', // stacked combining marks
  '😀👨‍👩‍👧‍👦🏳️‍🌈',
  '\u2028line\u2029para',
  '\r\n\t\b\f\u000b\u001f',
  '\uffff\ufffe',
  '𝕳𝖊𝖑𝖑𝖔',
];

const OVERLONG: readonly string[] = [
  'x'.repeat(33),
  'x'.repeat(65),
  'é'.repeat(129),
  'y'.repeat(257),
  'z'.repeat(2049),
  '😀'.repeat(3000),
];

/** Any string a hostile client could send: payloads, tricks, overlong text, random unicode. */
export function hostileString(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...XSS_PAYLOADS) },
    { weight: 2, arbitrary: fc.constantFrom(...SQL_PAYLOADS) },
    { weight: 3, arbitrary: fc.constantFrom(...UNICODE_TRICKS) },
    { weight: 1, arbitrary: fc.constantFrom(...OVERLONG) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.constant(' ') },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...XSS_PAYLOADS, ...SQL_PAYLOADS), fc.constantFrom(...UNICODE_TRICKS))
        .map(([a, b]) => a + b),
    },
  );
}

/**
 * A value spliced into a body as raw JSON text (so it can be what JSON.stringify never writes). Build a
 * body with `rawJson(value)`: any RawJson inside is written as is.
 */
export class RawJson {
  constructor(readonly text: string) {}
  /** How fast-check prints it in a counterexample: short, even for a 60 KB document. */
  [fc.toStringMethod](): string {
    return this.text.length <= 60
      ? `RawJson(${this.text})`
      : `RawJson(${this.text.slice(0, 30)}… ${this.text.length} chars)`;
  }
}

/** Amount values: signs, fractions, exponents, leading zeros, overflow, other digits, wrong types. */
export function hostileAmountValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(
      '-1',
      '-0',
      '0',
      '00',
      '0100',
      '1.5',
      '19.99',
      '.5',
      '1e3',
      '1E2',
      '+100',
      ' 100',
      '100 ',
      '1_000',
      '1,000',
      '0x10',
      'NaN',
      'Infinity',
      '-Infinity',
      '9'.repeat(16),
      '9'.repeat(17),
      '1000000000000000',
      '9'.repeat(400),
      '١٢٣', // Arabic-Indic digits
      '１００', // full-width digits
      '12\u0000',
      '',
    ),
    fc.constantFrom<unknown>(
      100,
      -1,
      0,
      1.5,
      null,
      true,
      [],
      {},
      ['100'],
      { value: '100' },
      new RawJson('1e999'),
      new RawJson('-0'),
      new RawJson('18446744073709551617'),
      new RawJson('1.0000000000000000000001'),
    ),
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => String(n)),
    fc.double().map((n) => (Number.isFinite(n) ? String(n) : 'NaN')),
  );
}

/** Currencies: lower case, wrong length, non-monetary, unknown, non-ASCII, wrong types. */
export function hostileCurrency(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom('usd', 'US', 'USDD', 'XAU', 'XXX', 'XDR', 'ABC', '', 'ÜSD', 'U\u0000S', 'US$', 'USD '),
    fc.constantFrom<unknown>(840, null, true, [], { code: 'USD' }),
    fc.string({ maxLength: 5 }),
  );
}

/** A value of another type than the field expects (or the right type with a hostile content). */
export function wrongType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      [],
      {},
      [1, 2],
      { $ne: 1 },
      { $gt: '' },
      JSON.parse('{"__proto__":{"admin":true}}') as unknown, // an own key named __proto__, as JSON.parse makes it
      { constructor: { prototype: { admin: true } } },
      new RawJson('1e999'),
      new RawJson('-0'),
    ),
    fc.integer(),
    fc.array(hostileString(), { maxLength: 3 }),
    hostileString(),
  );
}

/** `[[[...]]]` or `{"a":{"a":...}}` nested `depth` deep, as raw JSON text. */
export function deepJson(depth: number, kind: 'array' | 'object'): RawJson {
  return kind === 'array'
    ? new RawJson('['.repeat(depth) + ']'.repeat(depth))
    : new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
}

/** Serializes a value to JSON text, writing RawJson values verbatim. */
export function rawJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(rawJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${rawJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Text that is not a JSON object: broken JSON, other JSON values, other formats. */
export function malformedJson(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '{',
      '}',
      '{"a":',
      '{"a":1,}',
      "{'a':1}",
      '{a:1}',
      '[]',
      '[{}]',
      'null',
      'true',
      '0',
      '"text"',
      'NaN',
      '{"a":1}{"b":2}',
      '{"a":"\\x41"}',
      '{"a":"\\ud800"',
      '\ufeff{}',
      '<?xml version="1.0"?><a/>',
      'partnerId=1&paymentRequestId=2',
      '\u0000',
      '{"a":1}\u0000',
    ),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))), // a valid document, truncated
  );
}

/** Field names nobody expects: prototype pollution, empty, very long, dotted, bracketed. */
export function hostileKey(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      '',
      'a.b',
      'a[b]',
      '$where',
      'k'.repeat(300),
      'nul\u0000key',
    ),
    fc.string({ maxLength: 20 }),
  );
}

/**
 * A hostile variant of a valid body: a field replaced by a hostile value, dropped, or given a twin, extra
 * fields, nested objects and amounts broken. `template` is a valid body of the operation.
 */
export type Mutation =
  | { kind: 'replace'; path: string[]; value: unknown }
  | { kind: 'drop'; path: string[] }
  | { kind: 'extra'; key: string; value: unknown };

export function mutations(template: Record<string, unknown>): fc.Arbitrary<Mutation[]> {
  const paths = leafPaths(template);
  const amountPaths = paths.filter((p) => p.at(-1) === 'value' || p.at(-1) === 'currency');
  const pathArb = fc.constantFrom(...paths);
  const one: fc.Arbitrary<Mutation> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(pathArb, fc.oneof(hostileString(), wrongType()))
        .map(([path, value]): Mutation => ({ kind: 'replace', path, value })),
    },
    ...(amountPaths.length > 0
      ? [
          {
            weight: 3,
            arbitrary: fc
              .tuple(fc.constantFrom(...amountPaths), hostileAmountValue(), hostileCurrency())
              .map(([path, value, currency]): Mutation => ({
                kind: 'replace',
                path,
                value: path.at(-1) === 'value' ? value : currency,
              })),
          },
        ]
      : []),
    { weight: 2, arbitrary: pathArb.map((path): Mutation => ({ kind: 'drop', path })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(hostileKey(), fc.oneof(hostileString(), wrongType()))
        .map(([key, value]): Mutation => ({ kind: 'extra', key, value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 33, max: 12_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
        .map(([depth, kind]): Mutation => ({ kind: 'extra', key: 'deep', value: deepJson(depth, kind) })),
    },
  );
  return fc.array(one, { minLength: 1, maxLength: 3 });
}

/** Applies mutations to a deep copy of the template. */
export function applyMutations(
  template: Record<string, unknown>,
  list: readonly Mutation[],
): Record<string, unknown> {
  const body = structuredClone(template);
  for (const m of list) {
    if (m.kind === 'extra') {
      // defineProperty: a key named __proto__ becomes a real own field of the JSON, not the prototype.
      Object.defineProperty(body, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    let parent: Record<string, unknown> = body;
    for (const key of m.path.slice(0, -1)) {
      const next = parent[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        parent = {};
        break;
      }
      parent = next as Record<string, unknown>;
    }
    const last = m.path.at(-1) ?? '';
    if (m.kind === 'drop') delete parent[last];
    else parent[last] = m.value;
  }
  return body;
}

function leafPaths(value: Record<string, unknown>, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, v] of Object.entries(value)) {
    out.push([...prefix, k]);
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      out.push(...leafPaths(v as Record<string, unknown>, [...prefix, k]));
  }
  return out;
}

/** A string that is valid in any form field of ours, to mix with hostile ones. */
export function plainText(): fc.Arbitrary<string> {
  return fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{1,20}$/);
}

/** The string as UTF-8 can carry it: each lone surrogate replaced by U+FFFD (String#toWellFormed). */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
