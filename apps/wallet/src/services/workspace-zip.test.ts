/**
 * The upload checks of a mini program version (workspace-zip.ts), on zips built here with fflate: what a
 * good build gives, and each refusal (paths, size, count, entry file, types, zip bombs, lies in headers).
 */
import { randomBytes } from 'node:crypto';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  MAX_FILES,
  MAX_PATH_LENGTH,
  ZIP_MAX_BYTES,
  ZipRejected,
  pathProblem,
  readMiniProgramZip,
} from './workspace-zip.ts';

const zip = (files: Zippable, level: 0 | 6 = 6): Buffer => Buffer.from(zipSync(files, { level }));
const html = strToU8('<!doctype html><title>x</title>');

function refusal(data: Buffer): string {
  try {
    readMiniProgramZip(data);
  } catch (err) {
    if (err instanceof ZipRejected) return err.message;
    throw err;
  }
  throw new Error('the zip was accepted');
}

describe('reading an uploaded mini program zip', () => {
  it('accepts a build with index.html at the root, with content types by extension', () => {
    const files = readMiniProgramZip(
      zip({
        'index.html': html,
        'app.js': strToU8('console.log(1)'),
        assets: { 'logo.png': new Uint8Array([1, 2, 3]), 'style.css': strToU8('body{}') },
        'data.json': strToU8('{}'),
        'font.woff2': new Uint8Array([0]),
      }),
    );
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual([
      'app.js',
      'assets/logo.png',
      'assets/style.css',
      'data.json',
      'font.woff2',
      'index.html',
    ]);
    expect(byPath['index.html']?.contentType).toBe('text/html; charset=utf-8');
    expect(byPath['app.js']?.contentType).toBe('text/javascript; charset=utf-8');
    expect(byPath['assets/logo.png']?.contentType).toBe('image/png');
    expect(byPath['font.woff2']?.contentType).toBe('font/woff2');
    expect(byPath['app.js']?.data.toString()).toBe('console.log(1)');
  });

  it('strips a single top folder holding index.html, and skips macOS junk', () => {
    const files = readMiniProgramZip(
      zip({
        dist: { 'index.html': html, js: { 'a.js': strToU8('1') }, '.DS_Store': new Uint8Array([0]) },
        __MACOSX: { dist: { '._index.html': new Uint8Array([0]) } },
      }),
    );
    expect(files.map((f) => f.path).sort()).toEqual(['index.html', 'js/a.js']);
  });

  it('stores uncompressed entries too', () => {
    const files = readMiniProgramZip(zip({ 'index.html': html }, 0));
    expect(files[0]?.data.toString()).toContain('doctype');
  });

  it.each([
    ['../x.js', 'points outside'],
    ['a/../../x.js', 'points outside'],
    ['/etc/index.html', 'absolute path'],
    ['C:/x.js', 'absolute path'],
    ['a\\b.js', 'backslash'],
    ['a\u0000.js', 'control character'],
    ['a//b.js', 'not a normalised path'],
    ['./a.js', 'not a normalised path'],
  ])('refuses the path %j', (name, message) => {
    expect(refusal(zip({ 'index.html': html, [name]: strToU8('x') }))).toContain(message);
  });

  it('refuses paths longer than the limit', () => {
    const long = `${'a'.repeat(MAX_PATH_LENGTH - 3)}.js`;
    expect(pathProblem(long)).toBeUndefined();
    expect(refusal(zip({ 'index.html': html, [`x${long}`]: strToU8('x') }))).toContain(
      `longer than ${MAX_PATH_LENGTH}`,
    );
  });

  it('refuses a zip over 5 MiB, and files over 20 MiB unzipped', () => {
    const big = zip({ 'index.html': html, 'a.png': randomBytes(ZIP_MAX_BYTES) }, 0);
    expect(refusal(big)).toMatch(/the zip is 5\.0 MiB: at most 5 MiB/);
    const wide: Zippable = { 'index.html': html };
    for (let i = 0; i < 5; i++) wide[`p${i}.png`] = randomBytes(5 * 1024 * 1024 - 100_000);
    expect(() => readMiniProgramZip(zip(wide, 0))).toThrow(/at most 5 MiB may be uploaded/);
    const huge = zip({ 'index.html': html, 'zeros.txt': new Uint8Array(21 * 1024 * 1024) });
    expect(huge.length).toBeLessThan(ZIP_MAX_BYTES);
    expect(refusal(huge)).toContain('at most 20 MiB are allowed');
  });

  it('refuses more than 500 files', () => {
    const files: Zippable = { 'index.html': html };
    for (let i = 0; i < MAX_FILES; i++) files[`f${i}.txt`] = strToU8(String(i));
    expect(refusal(zip(files))).toContain(`holds ${MAX_FILES + 1} files: at most ${MAX_FILES}`);
  });

  it('refuses a zip without index.html at its root or in its single top folder', () => {
    expect(refusal(zip({ 'main.html': html }))).toContain('no index.html at its root');
    expect(refusal(zip({ a: { 'index.html': html }, b: { 'x.js': strToU8('1') } }))).toContain(
      'no index.html at its root',
    );
    expect(refusal(zip({ a: { b: { 'index.html': html } } }))).toContain('no index.html');
  });

  it('refuses file types outside the allow-list, naming them', () => {
    const message = refusal(
      zip({ 'index.html': html, 'run.exe': strToU8('MZ'), 'x.php': strToU8('<?php'), README: strToU8('x') }),
    );
    expect(message).toContain('"run.exe"');
    expect(message).toContain('"x.php"');
    expect(message).toContain('only these file types are allowed: html, js, css');
  });

  it('refuses a zip bomb by its expansion ratio, before inflating anything', () => {
    const bomb = zip({ 'index.html': html, 'zeros.txt': new Uint8Array(10 * 1024 * 1024) });
    expect(bomb.length).toBeLessThan(100 * 1024);
    expect(refusal(bomb)).toMatch(/expands \d+ times .*this looks like a zip bomb/);
  });

  it('stops an entry that inflates past the size its header declares', () => {
    const data = Buffer.from(zip({ 'index.html': html, 'zeros.txt': new Uint8Array(200_000) }));
    // Make the central directory (the sizes the checks read) claim 1,000 bytes for zeros.txt.
    const name = Buffer.from('zeros.txt');
    const cd = data.lastIndexOf(Buffer.concat([name]));
    const entry = cd - 46;
    expect(data.readUInt32LE(entry)).toBe(0x02014b50);
    data.writeUInt32LE(1000, entry + 24);
    expect(refusal(data)).toContain('inflates to more than the 1000 bytes its header declares');
  });

  it('refuses a corrupt entry (checksum), a symbolic link, duplicates and non-zips', () => {
    const stored = Buffer.from(zip({ 'index.html': html, 'a.txt': strToU8('hello world') }, 0));
    stored[stored.indexOf('hello world')] = 'j'.charCodeAt(0);
    expect(refusal(stored)).toContain('checksum does not match');

    const link = zip({
      'index.html': html,
      'l.js': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
    });
    expect(refusal(link)).toContain('symbolic link');

    const twice = Buffer.from(zip({ 'index.html': html, 'a.js': strToU8('1'), 'b.js': strToU8('2') }));
    for (let at = twice.indexOf('b.js'); at >= 0; at = twice.indexOf('b.js', at + 1))
      twice[at] = 'a'.charCodeAt(0);
    expect(refusal(twice)).toContain('"a.js" appears twice');

    expect(refusal(Buffer.from('not a zip at all, just some text'))).toContain('not a zip archive');
    expect(refusal(Buffer.alloc(0))).toContain('empty');
    expect(refusal(zip({}))).toContain('holds no files');
  });
});
