/**
 * Type-checks mini-types-compat.typetest.ts in a program of its own, with @mini-types/my and the DOM
 * library loaded, as a TypeScript mini program would have them. The repo-wide `tsc` cannot load
 * @mini-types/my: it declares a global `my` that would leak into every file (see the typetest's header).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const TYPETEST = join(import.meta.dirname, 'mini-types-compat.typetest.ts');
const MINI_TYPES = createRequire(import.meta.url).resolve('@mini-types/my/types/index.d.ts');

/** In-memory files: one proves Alipay's declarations were really loaded, one that errors are reported. */
const PROBE = join(import.meta.dirname, '__mini-types-probe__.ts');
const PROBE_TEXT = `
import type { AlipayTradePayOptions, MiniTypesLoaded } from './mini-types-compat.typetest.ts';
import { createForWindows } from './mini-types-compat.typetest.ts';
export const loaded: MiniTypesLoaded = true;
// @ts-expect-error Alipay's declarations do not know paymentUrl (so these options are not 'any')
export const options: AlipayTradePayOptions = { tradeNO: 'T', paymentUrl: 'https://wallet.example/c' };
export const fromRealWindow = createForWindows(window, window.parent);
`;
const CANARY = join(import.meta.dirname, '__mini-types-canary__.ts');
const CANARY_TEXT = `export const canary: number = 'not a number';\n`;
const VIRTUAL = new Map([
  [PROBE, PROBE_TEXT],
  [CANARY, CANARY_TEXT],
]);

function compile(): readonly ts.Diagnostic[] {
  const configFile = join(REPO_ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, (path) => ts.sys.readFile(path));
  const withDom = { ...config, compilerOptions: { ...config.compilerOptions, lib: ['ES2022', 'DOM'] } };
  const { options } = ts.parseJsonConfigFileContent(withDom, ts.sys, REPO_ROOT, undefined, configFile);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = VIRTUAL.get(fileName);
    return text === undefined
      ? getSourceFile.call(host, fileName, languageVersion, ...rest)
      : ts.createSourceFile(fileName, text, languageVersion);
  };
  host.fileExists = (fileName) => VIRTUAL.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => VIRTUAL.get(fileName) ?? readFile.call(host, fileName);
  const program = ts.createProgram({ rootNames: [MINI_TYPES, TYPETEST, PROBE, CANARY], options, host });
  return ts.getPreEmitDiagnostics(program);
}

const describeDiagnostic = (d: ts.Diagnostic) =>
  `${d.file?.fileName ?? '(program)'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;

describe('compatibility with @mini-types/my', () => {
  it('the typetest compiles with Alipay declarations loaded, and the canary error is reported', () => {
    const diagnostics = compile();
    const canary = diagnostics.filter((d) => d.file?.fileName === CANARY);
    const others = diagnostics.filter((d) => d.file?.fileName !== CANARY);
    expect(others.map(describeDiagnostic)).toEqual([]);
    expect(canary.map((d) => d.code)).toEqual([2322]);
  });
});
