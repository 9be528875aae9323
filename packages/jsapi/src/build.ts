/**
 * Node only: bundles the browser entry into one classic script, which the wallet serves at
 * `/jsapi/my.js`. Built once per process, in memory.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./browser-entry.ts', import.meta.url));

let bundle: Promise<string> | undefined;

export function buildJsapiBundle(): Promise<string> {
  bundle ??= buildOnce().catch((err: unknown) => {
    bundle = undefined; // a failed build is not cached: the next call tries again
    throw err;
  });
  return bundle;
}

async function buildOnce(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: false,
    write: false,
    logLevel: 'silent',
    banner: {
      js: '/* Billetera jsapi: defines window.my for mini programs (see @billetera/jsapi README). */',
    },
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error('esbuild produced no output for the jsapi bundle');
  return output.text;
}
