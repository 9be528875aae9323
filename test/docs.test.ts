/** Keeps the docs true to the code where a test can tell. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULT_CODES } from '@billetera/protocol';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

describe('docs', () => {
  it('docs/protocol.md lists every result code of the catalogue, and no other', () => {
    const doc = read('docs/protocol.md');
    const table = doc.slice(doc.indexOf('## Result codes'));
    const named = new Set([...table.matchAll(/\b[A-Z][A-Z_]{3,}[A-Z]\b/g)].map((m) => m[0]));
    for (const code of Object.keys(RESULT_CODES))
      expect(named, `docs/protocol.md misses ${code}`).toContain(code);
    const unknown = [...named].filter((w) => /_/.test(w) && !(w in RESULT_CODES));
    expect(unknown).toEqual([]);
  });

  it('the README starts with the two commands', () => {
    const readme = read('README.md');
    const firstBlock = readme.slice(readme.indexOf('```'), readme.indexOf('```', readme.indexOf('```') + 3));
    expect(firstBlock).toContain('npm ci && npm start');
    expect(firstBlock).toContain('npm test');
  });
});
