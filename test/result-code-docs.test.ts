/**
 * Keeps docs/protocol.md's result-code table true to the operation catalogue: a code the reference lists
 * for an operation that Billetera never answers there is marked "not produced" in its row (with why),
 * and a code some operation produces is not marked as never produced.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATION_CODES, type CodeUse } from '@billetera/protocol';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'protocol.md'), 'utf8');
const table = doc.slice(doc.indexOf('## Result codes'));
const rowOf = (code: string) =>
  table
    .split('\n')
    .find((line) => line.startsWith('|') && new RegExp(`\\b${code}\\b`).test(line.split('|')[1] ?? ''));

describe('docs/protocol.md result codes', () => {
  const uses = Object.entries(OPERATION_CODES).flatMap(([op, codes]) =>
    Object.entries(codes).map(([code, use]) => ({ op, code, use: use as CodeUse })),
  );

  it('marks every code an operation never produces as "not produced" in its row', () => {
    for (const { op, code } of uses.filter((u) => !u.use.produced)) {
      const row = rowOf(code);
      expect(row, `${code} has no row`).toBeDefined();
      expect(row, `${op}: ${code}`).toMatch(/not produced/);
    }
  });

  it('does not call a code that some operation produces "not produced" without naming where it is produced', () => {
    for (const { code } of uses.filter((u) => u.use.produced)) {
      const where = rowOf(code)?.split('|')[3] ?? '';
      expect(where.trim(), code).not.toBe('not produced');
    }
  });
});
