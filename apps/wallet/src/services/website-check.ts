/**
 * The automated website check of a merchant's licence submission (decisions.md "Platform": a live
 * website with clear business and product information). One GET of the URL, within a total time limit,
 * following at most a few redirects (each one checked again), reading at most 1 MiB; then the findings:
 *
 *   public address       the host does not resolve to a loopback, private or link-local address (SSRF
 *                        guard; allowed with the wallet option `allowPrivateWebsites`)
 *   reachable            it answered (no refused connection, DNS failure, TLS error or timeout)
 *   status 200           the final answer is HTTP 200
 *   html                 its content type is text/html
 *   title                a non-empty <title>
 *   real text            at least 200 characters of visible text (tags, scripts and styles removed)
 *   product information  a price (`12.00 USD`, `$12`, `€ 9,99`, `MXN 150`), or a schema.org Product,
 *                        og:type product, or words like "price", "precio", "add to cart" next to a number
 *
 * The check passes only if every finding is ok. Every parser here is linear in the page size (a page is
 * the merchant's input: no backtracking regular expression runs over it).
 *
 * The default fetcher connects to the very address that was checked (the DNS answer is pinned for the
 * connection), so a host that resolves to a public address for the check and a private one for the
 * request (DNS rebinding) cannot slip through.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { currencyInfo } from '@billetera/protocol';

export type CheckName =
  'public address' | 'reachable' | 'status 200' | 'html' | 'title' | 'real text' | 'product information';

export const CHECK_NAMES: readonly CheckName[] = [
  'public address',
  'reachable',
  'status 200',
  'html',
  'title',
  'real text',
  'product information',
];

export interface Finding {
  check: CheckName;
  ok: boolean;
  detail: string;
}

export interface WebsiteCheckResult {
  url: string;
  /** Where the redirects ended (the URL whose page was examined). */
  finalUrl: string;
  passed: boolean;
  findings: Finding[];
}

/** One answer, without following redirects. */
export interface FetchedPage {
  status: number;
  /** The Location header, if any. */
  location?: string | undefined;
  /** The Content-Type header, if any. */
  contentType?: string | undefined;
  /** The body decoded as text, at most maxBodyBytes of it. */
  body: string;
}

export interface WebsiteCheckOptions {
  /** Allow loopback, private and link-local addresses (local use, tests). Default false. */
  allowPrivate?: boolean;
  /** The whole check's time limit, DNS and redirects included. Default 5 s. */
  timeoutMs?: number;
  /** Default 3. */
  maxRedirects?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
  /** Resolves a host name to its addresses. Default: the system resolver (every address). */
  resolve?: (hostname: string, signal: AbortSignal) => Promise<string[]>;
  /** One GET connecting to `address`, redirects not followed. Default: node:http / node:https. */
  get?: (url: URL, address: string, o: { signal: AbortSignal; maxBodyBytes: number }) => Promise<FetchedPage>;
}

export const WEBSITE_CHECK_TIMEOUT_MS = 5_000;
export const WEBSITE_CHECK_MAX_REDIRECTS = 3;
export const WEBSITE_CHECK_MAX_BODY_BYTES = 1024 * 1024;
/** Visible characters a page needs to count as having real text. */
export const MIN_VISIBLE_TEXT = 200;

const USER_AGENT = 'BilleteraWebsiteCheck/1.0 (+merchant onboarding)';

export async function checkWebsite(rawUrl: string, o: WebsiteCheckOptions = {}): Promise<WebsiteCheckResult> {
  const timeoutMs = o.timeoutMs ?? WEBSITE_CHECK_TIMEOUT_MS;
  const maxRedirects = o.maxRedirects ?? WEBSITE_CHECK_MAX_REDIRECTS;
  const maxBodyBytes = o.maxBodyBytes ?? WEBSITE_CHECK_MAX_BODY_BYTES;
  const resolve = o.resolve ?? systemResolve;
  const get = o.get ?? nodeGet;
  const findings: Finding[] = [];
  const done = (finalUrl: string): WebsiteCheckResult => {
    for (const check of CHECK_NAMES) {
      if (!findings.some((f) => f.check === check))
        findings.push({ check, ok: false, detail: 'not checked: an earlier check failed' });
    }
    findings.sort((a, b) => CHECK_NAMES.indexOf(a.check) - CHECK_NAMES.indexOf(b.check));
    return { url: rawUrl, finalUrl, passed: findings.every((f) => f.ok), findings };
  };

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const timeoutText = `no answer within ${formatSeconds(timeoutMs)}`;
  try {
    let url = parseHttpUrl(rawUrl);
    if (!url) {
      findings.push({ check: 'reachable', ok: false, detail: 'not an absolute http(s) URL' });
      return done(rawUrl);
    }
    const addressesSeen: string[] = [];
    for (let hop = 0; ; hop++) {
      // Resolve and vet the host of every hop before connecting to it.
      const host = bareHost(url);
      let addresses: string[];
      try {
        addresses = isIP(host)
          ? [host]
          : await abortable(resolve(host, controller.signal), controller.signal);
      } catch (err) {
        findings.push({
          check: 'reachable',
          ok: false,
          detail: controller.signal.aborted ? timeoutText : `${host} does not resolve (${errorText(err)})`,
        });
        return done(url.href);
      }
      const address = addresses[0];
      if (address === undefined) {
        findings.push({ check: 'reachable', ok: false, detail: `${host} has no address` });
        return done(url.href);
      }
      const refused = addresses.find((a) => !isPublicAddress(a));
      if (refused !== undefined && !o.allowPrivate) {
        findings.push({
          check: 'public address',
          ok: false,
          detail: `${host} resolves to ${refused}, a loopback, private or link-local address: not fetched`,
        });
        return done(url.href);
      }
      addressesSeen.push(...addresses.filter((a) => !addressesSeen.includes(a)));

      let page: FetchedPage;
      try {
        page = await abortable(
          get(url, address, { signal: controller.signal, maxBodyBytes }),
          controller.signal,
        );
      } catch (err) {
        findings.push(publicFinding(addressesSeen, o.allowPrivate));
        findings.push({
          check: 'reachable',
          ok: false,
          detail: controller.signal.aborted ? timeoutText : `${url.host}: ${errorText(err)}`,
        });
        return done(url.href);
      }
      if (REDIRECTS.has(page.status) && page.location) {
        const next = parseHttpUrl(page.location, url);
        if (!next) {
          findings.push(publicFinding(addressesSeen, o.allowPrivate));
          findings.push({
            check: 'reachable',
            ok: false,
            detail: `HTTP ${page.status} redirects to something that is not an http(s) URL`,
          });
          return done(url.href);
        }
        if (hop + 1 > maxRedirects) {
          findings.push(publicFinding(addressesSeen, o.allowPrivate));
          findings.push({ check: 'reachable', ok: false, detail: `more than ${maxRedirects} redirects` });
          return done(next.href);
        }
        url = next;
        continue;
      }
      findings.push(publicFinding(addressesSeen, o.allowPrivate));
      findings.push({
        check: 'reachable',
        ok: true,
        detail:
          hop === 0
            ? `${url.host} answered`
            : `answered after ${hop} redirect${hop > 1 ? 's' : ''}: ${url.href}`,
      });
      examine(page, findings);
      return done(url.href);
    }
  } finally {
    clearTimeout(timer);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function publicFinding(addresses: string[], allowPrivate: boolean | undefined): Finding {
  const list = addresses.slice(0, 4).join(', ');
  const anyPrivate = addresses.some((a) => !isPublicAddress(a));
  return {
    check: 'public address',
    ok: true,
    detail:
      anyPrivate && allowPrivate
        ? `resolves to ${list} (private addresses are allowed on this wallet)`
        : `resolves to ${list}`,
  };
}

/** The findings about the final page itself. */
function examine(page: FetchedPage, findings: Finding[]): void {
  if (page.status !== 200) {
    findings.push({ check: 'status 200', ok: false, detail: `HTTP ${page.status}` });
    return;
  }
  findings.push({ check: 'status 200', ok: true, detail: 'HTTP 200' });
  const type = (page.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'text/html') {
    findings.push({
      check: 'html',
      ok: false,
      detail: type ? `the content type is ${type.slice(0, 100)}, not text/html` : 'no content type',
    });
    return;
  }
  findings.push({ check: 'html', ok: true, detail: 'text/html' });
  const title = pageTitle(page.body);
  findings.push(
    title
      ? { check: 'title', ok: true, detail: `“${clip(title, 120)}”` }
      : { check: 'title', ok: false, detail: 'no <title>, or an empty one' },
  );
  const text = visibleText(page.body);
  findings.push(
    text.length >= MIN_VISIBLE_TEXT
      ? {
          check: 'real text',
          ok: true,
          detail: `${text.length.toLocaleString('en')} characters of visible text`,
        }
      : {
          check: 'real text',
          ok: false,
          detail: `only ${text.length} characters of visible text (${MIN_VISIBLE_TEXT} needed)`,
        },
  );
  const product = productEvidence(page.body, text);
  findings.push(
    product
      ? { check: 'product information', ok: true, detail: product }
      : {
          check: 'product information',
          ok: false,
          detail: 'no prices or products found (e.g. “12.00 USD”, “$12”, a schema.org Product)',
        },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Addresses.

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** False for loopback, private, link-local and other non-public addresses (IPv4, IPv6, IPv4-mapped). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !PRIVATE.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address: judge that one.
  const embedded = embeddedIpv4(lower);
  if (embedded !== undefined) return isPublicAddress(embedded);
  return !PRIVATE.check(lower, 'ipv6');
}

function embeddedIpv4(v6: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d{1,3}(?:\.\d{1,3}){3})|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(v6);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2] ?? '0', 16);
  const lo = parseInt(m[3] ?? '0', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

async function systemResolve(hostname: string): Promise<string[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

// ---------------------------------------------------------------------------------------------------------
// Fetching.

function parseHttpUrl(value: string, base?: URL): URL | undefined {
  try {
    const u = new URL(value, base);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** The URL's host without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** A GET connecting to `address` (the vetted DNS answer), reading at most maxBodyBytes. */
function nodeGet(
  url: URL,
  address: string,
  o: { signal: AbortSignal; maxBodyBytes: number },
): Promise<FetchedPage> {
  const host = bareHost(url);
  const family = isIP(address);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePage, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: host,
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: 'GET',
        agent: false,
        signal: o.signal,
        headers: { 'user-agent': USER_AGENT, accept: 'text/html,*/*;q=0.5', 'accept-encoding': 'identity' },
        ...(isIP(host) ? {} : { servername: host }),
        // The connection goes to the checked address, whatever the resolver would say now.
        lookup: ((_h: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          if (opts.all) cb(null, [{ address, family }]);
          else cb(null, address, family);
        }) as never,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          const type = res.headers['content-type'];
          resolvePage({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            contentType: type,
            body: decode(Buffer.concat(chunks), type),
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (finished) return;
          const room = o.maxBodyBytes - size;
          chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
          size += Math.min(chunk.length, room);
          if (size >= o.maxBodyBytes) {
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', (err) => (finished ? undefined : reject(err)));
        res.on('close', () => {
          if (!finished) reject(new Error('the connection closed before the page was complete'));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function decode(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset="?([\w-]+)/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Rejects when the signal aborts, even if `p` never settles (a resolver that ignores the signal). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolveIt, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolveIt(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the name server did not answer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the TLS certificate is for another host name',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the TLS certificate cannot be verified',
};

function errorText(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return ERROR_TEXT[code] ?? code;
  return clip(err instanceof Error ? err.message : String(err), 200);
}

// ---------------------------------------------------------------------------------------------------------
// Reading the page (linear scans only).

/** Elements whose content is never visible text. */
const RAW_ELEMENTS = new Set(['script', 'style', 'noscript', 'template', 'title', 'svg', 'textarea']);

/** The page's visible text: tags, comments, scripts and styles removed, entities decoded, spaces collapsed. */
export function visibleText(src: string): string {
  const lower = src.toLowerCase();
  const parts: string[] = [];
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    if (lt === -1) {
      parts.push(src.slice(i));
      break;
    }
    parts.push(src.slice(i, lt), ' ');
    if (lower.startsWith('<!--', lt)) {
      const end = lower.indexOf('-->', lt + 4);
      i = end === -1 ? src.length : end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt);
    if (gt === -1) break;
    const name = tagName(lower, lt + 1);
    if (name && RAW_ELEMENTS.has(name)) {
      const close = lower.indexOf(`</${name}`, gt);
      const closeEnd = close === -1 ? -1 : lower.indexOf('>', close);
      i = closeEnd === -1 ? src.length : closeEnd + 1;
      continue;
    }
    i = gt + 1;
  }
  return decodeEntities(parts.join('')).replace(/\s+/g, ' ').trim();
}

function tagName(lower: string, at: number): string | undefined {
  let end = at;
  while (end < lower.length && end - at < 20 && /[a-z0-9-]/.test(lower[end] ?? '')) end++;
  return end > at && /[a-z]/.test(lower[at] ?? '') ? lower.slice(at, end) : undefined;
}

/** The text of the first <title>, entities decoded and spaces collapsed; '' when there is none. */
export function pageTitle(src: string): string {
  const lower = src.toLowerCase();
  let at = lower.indexOf('<title');
  while (at !== -1 && /[a-z0-9-]/.test(lower[at + 6] ?? '')) at = lower.indexOf('<title', at + 6);
  if (at === -1) return '';
  const open = lower.indexOf('>', at);
  if (open === -1) return '';
  const close = lower.indexOf('</title', open);
  const raw = src.slice(open + 1, close === -1 ? Math.min(src.length, open + 1 + 1000) : close);
  return decodeEntities(raw).replace(/\s+/g, ' ').trim();
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  copy: '©',
  reg: '®',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    }
    return NAMED[body.toLowerCase()] ?? whole;
  });
}

const SYMBOLS = '$€£¥₹₩₽₱₺₫₪฿₦';
const NUMBER = /^\d{1,3}(?:[.,\u00a0 ]\d{3})*(?:[.,]\d{1,2})?$|^\d+(?:[.,]\d{1,2})?$/;
/** Words that, next to a number, say "this is a price" or "this is sold here". */
const PRODUCT_WORDS = [
  'price',
  'prices',
  'precio',
  'precios',
  'preço',
  'prix',
  'preis',
  'add to cart',
  'add to basket',
  'buy now',
  'añadir al carrito',
  'agregar al carrito',
  'comprar',
];

/** Why the page shows product information, or undefined when nothing says so. */
export function productEvidence(src: string, text: string): string | undefined {
  const tokens = text.split(' ').map(trimPunctuation);
  const isNumber = (t: string | undefined) => t !== undefined && t.length <= 24 && NUMBER.test(t);
  const isCode = (t: string | undefined) =>
    t !== undefined && /^[A-Z]{3}$/.test(t) && currencyInfo(t) !== undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (t.length === 0 || t.length > 28) continue;
    const next = tokens[i + 1];
    // $12, €9,99, 9,99€, USD12.00
    if (SYMBOLS.includes(t[0] ?? '') && isNumber(t.slice(1))) return `price “${t}”`;
    if (SYMBOLS.includes(t.at(-1) ?? '') && isNumber(t.slice(0, -1))) return `price “${t}”`;
    if (isCode(t.slice(0, 3)) && isNumber(t.slice(3))) return `price “${t}”`;
    // € 9,99 / MXN 150 / 12.00 USD
    if ((SYMBOLS.includes(t) && t.length === 1) || isCode(t)) {
      if (isNumber(next)) return `price “${t} ${next}”`;
    }
    if (isNumber(t) && (isCode(next) || (next?.length === 1 && SYMBOLS.includes(next))))
      return `price “${t} ${next}”`;
  }
  const lower = src.toLowerCase();
  if (lower.includes('schema.org/product')) return 'a schema.org Product';
  for (let at = lower.indexOf('"@type"'); at !== -1; at = lower.indexOf('"@type"', at + 7)) {
    if (/^"@type"\s{0,10}:\s{0,10}(?:\[\s{0,10})?"product"/.test(lower.slice(at, at + 60)))
      return 'a schema.org Product (JSON-LD)';
  }
  for (let at = lower.indexOf('og:type'); at !== -1; at = lower.indexOf('og:type', at + 7)) {
    // The tag around it: at most 200 characters either side (a bounded look, never a scan back).
    const before = lower.slice(Math.max(0, at - 200), at);
    const window = before.slice(before.lastIndexOf('<') + 1) + lower.slice(at, at + 200);
    if (/content\s{0,10}=\s{0,10}["']?product/.test(window)) return 'og:type product';
  }
  const lowerText = text.toLowerCase();
  for (const word of PRODUCT_WORDS) {
    for (let at = lowerText.indexOf(word); at !== -1; at = lowerText.indexOf(word, at + word.length)) {
      const before = lowerText[at - 1];
      const after = lowerText[at + word.length];
      if ((before && /\p{L}/u.test(before)) || (after && /\p{L}/u.test(after))) continue;
      const near = lowerText.slice(Math.max(0, at - 40), at + word.length + 40);
      if (/\d/.test(near)) return `“${word}” next to a number`;
    }
  }
  return undefined;
}

function trimPunctuation(token: string): string {
  let start = 0;
  let end = token.length;
  while (start < end && /[([{"'“‘«:]/.test(token[start] ?? '')) start++;
  while (end > start && /[)\]}"'”’».,;:!?*]/.test(token[end - 1] ?? '')) end--;
  return token.slice(start, end);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The findings as stored on a licence submission (check_findings). */
export interface StoredCheck {
  url: string;
  finalUrl: string;
  passed: boolean;
  findings: Finding[];
}

export function findingsJson(r: WebsiteCheckResult): string {
  return JSON.stringify({ url: r.url, finalUrl: r.finalUrl, passed: r.passed, findings: r.findings });
}

/** Reads stored findings back; anything malformed reads as no findings. */
export function parseStoredCheck(json: string | null): StoredCheck | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as Partial<StoredCheck>;
    if (!Array.isArray(v.findings)) return undefined;
    const findings = v.findings.filter(
      (f): f is Finding =>
        typeof f === 'object' && f !== null && typeof f.check === 'string' && typeof f.ok === 'boolean',
    );
    return {
      url: String(v.url ?? ''),
      finalUrl: String(v.finalUrl ?? v.url ?? ''),
      passed: v.passed === true,
      findings: findings.map((f) => ({ check: f.check, ok: f.ok, detail: String(f.detail ?? '') })),
    };
  } catch {
    return undefined;
  }
}
