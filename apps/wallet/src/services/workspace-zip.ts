/**
 * Reads an uploaded mini program version: a zip of static files with `index.html` at its root (or in a
 * single top folder, which is stripped). Everything is checked before anything is stored, and nothing is
 * decompressed before the archive's own directory passes the limits:
 *
 * - the zip ≤ 5 MiB; its files ≤ 20 MiB together, ≤ 500 of them, and at most 100 times the zip's size
 *   once past 1 MiB (a zip bomb compresses far better than any web build);
 * - each entry is inflated with node:zlib and a hard output cap of its declared size, so an entry that
 *   lies about its size stops at once instead of filling memory, and its CRC-32 must match;
 * - paths: UTF-8, relative, `/`-separated, no `.` or `..` segments, no backslashes, NUL or other control
 *   characters, ≤ 200 characters; no symbolic links, no encrypted entries, no duplicates;
 * - extensions from an allow-list, each served with a fixed content type (CONTENT_TYPES).
 *
 * macOS Finder's `__MACOSX/` folder and `.DS_Store` files are skipped rather than refused.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import type { VersionFile } from '@billetera/store';

export const ZIP_MAX_BYTES = 5 * 1024 * 1024;
export const UNZIPPED_MAX_BYTES = 20 * 1024 * 1024;
export const MAX_FILES = 500;
export const MAX_PATH_LENGTH = 200;
/** Past this much unzipped, the archive may not expand more than MAX_RATIO times. */
const RATIO_FLOOR_BYTES = 1024 * 1024;
export const MAX_RATIO = 100;

/** The file types a mini program may contain, and the content type each is served with. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
};

export const ENTRY_FILE = 'index.html';

/** A refusal with a message the merchant can act on. */
export class ZipRejected extends Error {}

const kib = (n: number) => `${Math.round(n / 1024)} KiB`;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const UNIX_HOST = 3;

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The file's extension, lower case, or '' (none). */
export function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** Why this entry name is not an acceptable relative path, or undefined when it is. */
export function pathProblem(name: string): string | undefined {
  if (name.length === 0) return 'an entry has an empty name';
  if (name.length > MAX_PATH_LENGTH)
    return `"${name.slice(0, 60)}…" is longer than ${MAX_PATH_LENGTH} characters`;
  if (name.includes('\\')) return `"${name}" contains a backslash: use / between folders`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    return `"${printable(name)}" contains a NUL or another control character`;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return `"${name}" is an absolute path`;
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return `"${name}" points outside the mini program (..)`;
  if (segments.some((s) => s === '.' || s === '')) return `"${name}" is not a normalised path`;
  return undefined;
}

const printable = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const isJunk = (path: string): boolean =>
  path.startsWith('__MACOSX/') || path === '.DS_Store' || path.endsWith('/.DS_Store');

/** The central directory's entries (directories left out), checked against the limits. */
function readDirectory(zip: Buffer): Entry[] {
  const tooShort = () => new ZipRejected('the file is not a zip archive');
  if (zip.length < EOCD_MIN) throw tooShort();
  let eocd = -1;
  for (let i = zip.length - EOCD_MIN; i >= Math.max(0, zip.length - EOCD_MIN - MAX_COMMENT); i--) {
    if (zip.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw tooShort();
  const disk = zip.readUInt16LE(eocd + 4);
  const cdDisk = zip.readUInt16LE(eocd + 6);
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  if (disk !== 0 || cdDisk !== 0) throw new ZipRejected('multi-part zip archives are not supported');
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff)
    throw new ZipRejected('ZIP64 archives are not supported: a mini program is far smaller than 4 GiB');
  if (cdOffset + cdSize > eocd)
    throw new ZipRejected('the zip archive is corrupt (its directory is cut off)');

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const entries: Entry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || zip.readUInt32LE(at) !== SIG_CENTRAL)
      throw new ZipRejected('the zip archive is corrupt (a directory entry is damaged)');
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const externalAttrs = zip.readUInt32LE(at + 38);
    const localOffset = zip.readUInt32LE(at + 42);
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (at > eocd) throw new ZipRejected('the zip archive is corrupt (a directory entry is cut off)');

    let name: string;
    try {
      name = utf8.decode(nameBytes);
    } catch {
      throw new ZipRejected(
        `an entry's name is not valid UTF-8${flags & FLAG_UTF8 ? '' : ' (zip it with UTF-8 names)'}`,
      );
    }
    const problem = pathProblem(name);
    if (problem) throw new ZipRejected(problem);
    const mode = madeBy === UNIX_HOST ? (externalAttrs >>> 16) & S_IFMT : 0;
    if (mode === S_IFLNK) throw new ZipRejected(`"${name}" is a symbolic link: include the file itself`);
    const isDirectory = name.endsWith('/') || mode === S_IFDIR;
    if (isDirectory) {
      if (size !== 0) throw new ZipRejected(`"${name}" is a folder with data in it`);
      continue;
    }
    if (isJunk(name)) continue;
    if (flags & FLAG_ENCRYPTED) throw new ZipRejected(`"${name}" is encrypted: upload an unencrypted zip`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE)
      throw new ZipRejected(`"${name}" uses a compression method other than deflate (method ${method})`);
    entries.push({ name, method, crc, compressedSize, size, localOffset });
  }
  return entries;
}

/** Where an entry's data starts (after its local header) and its bytes, as stored. */
function storedBytes(zip: Buffer, e: Entry): Buffer {
  const at = e.localOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== SIG_LOCAL)
    throw new ZipRejected(`the zip archive is corrupt (the data of "${e.name}" is missing)`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const end = start + e.compressedSize;
  if (end > zip.length) throw new ZipRejected(`the zip archive is corrupt ("${e.name}" is cut off)`);
  return zip.subarray(start, end);
}

function inflate(zip: Buffer, e: Entry): Buffer {
  const stored = storedBytes(zip, e);
  let data: Buffer;
  if (e.method === METHOD_STORED) {
    data = stored;
  } else {
    try {
      // The cap stops a lying entry as soon as it passes its declared size.
      data = inflateRawSync(stored, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      const tooBig = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      throw new ZipRejected(
        tooBig
          ? `"${e.name}" inflates to more than the ${e.size} bytes its header declares (a zip bomb?)`
          : `"${e.name}" is corrupt and cannot be decompressed`,
      );
    }
  }
  if (data.length !== e.size)
    throw new ZipRejected(`"${e.name}" is ${data.length} bytes, not the ${e.size} its header declares`);
  if (crc32(data) >>> 0 !== e.crc >>> 0)
    throw new ZipRejected(`"${e.name}" is corrupt (its checksum does not match)`);
  return Buffer.from(data);
}

/** Strips a single top folder when `index.html` is inside it rather than at the root. */
function rootOf(names: readonly string[]): string {
  if (names.includes(ENTRY_FILE)) return '';
  const tops = new Set(names.map((n) => (n.includes('/') ? n.slice(0, n.indexOf('/') + 1) : '')));
  const [top] = tops;
  if (tops.size === 1 && top && names.includes(`${top}${ENTRY_FILE}`)) return top;
  throw new ZipRejected(
    `the zip has no ${ENTRY_FILE} at its root: put your mini program's ${ENTRY_FILE} at the top of the ` +
      'zip (or in a single folder holding everything)',
  );
}

/** Reads and checks an uploaded zip; the files to store, with their served content types. */
export function readMiniProgramZip(zip: Buffer): VersionFile[] {
  if (zip.length === 0) throw new ZipRejected('the file is empty');
  if (zip.length > ZIP_MAX_BYTES)
    throw new ZipRejected(`the zip is ${mib(zip.length)}: at most ${mib(ZIP_MAX_BYTES)} may be uploaded`);
  const entries = readDirectory(zip);
  if (entries.length === 0) throw new ZipRejected('the zip holds no files');
  if (entries.length > MAX_FILES)
    throw new ZipRejected(`the zip holds ${entries.length} files: at most ${MAX_FILES} are allowed`);
  const total = entries.reduce((n, e) => n + e.size, 0);
  if (total > UNZIPPED_MAX_BYTES)
    throw new ZipRejected(
      `the files come to ${mib(total)} unzipped: at most ${mib(UNZIPPED_MAX_BYTES)} are allowed`,
    );
  if (total > RATIO_FLOOR_BYTES && total > zip.length * MAX_RATIO)
    throw new ZipRejected(
      `the zip expands ${Math.round(total / zip.length)} times (${kib(zip.length)} to ${mib(total)}): ` +
        `at most ${MAX_RATIO} times is accepted (this looks like a zip bomb)`,
    );

  const names = entries.map((e) => e.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new ZipRejected(`"${name}" appears twice in the zip`);
    seen.add(name);
  }
  const root = rootOf(names);
  const refused = entries.filter((e) => !(extensionOf(e.name) in CONTENT_TYPES));
  if (refused.length > 0) {
    const list = refused
      .slice(0, 3)
      .map((e) => `"${e.name}"`)
      .join(', ');
    throw new ZipRejected(
      `${list}${refused.length > 3 ? ` and ${refused.length - 3} more` : ''}: only these file types are ` +
        `allowed: ${Object.keys(CONTENT_TYPES).join(', ')}`,
    );
  }

  return entries.map((e) => ({
    path: e.name.slice(root.length),
    contentType: CONTENT_TYPES[extensionOf(e.name)] ?? 'application/octet-stream',
    data: inflate(zip, e),
  }));
}
