/**
 * The website check against a real local website (node:http on 127.0.0.1): every failure it must name,
 * redirects, the time limit, the body limit, and the SSRF guard (refused by default, allowed with the
 * option; DNS answers and redirects to private addresses refused too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkWebsite,
  isPublicAddress,
  pageTitle,
  productEvidence,
  visibleText,
  type Finding,
  type WebsiteCheckResult,
} from './website-check.ts';
import { SHOP_PAGE, startTestWebsite, unusedPort, type TestWebsite } from './test-website.fixture.ts';

let site: TestWebsite;
beforeAll(async () => {
  site = await startTestWebsite();
});
afterAll(() => site.close());

const check = (path: string, o: Parameters<typeof checkWebsite>[1] = {}) =>
  checkWebsite(site.url + path, { allowPrivate: true, ...o });

function finding(r: WebsiteCheckResult, name: Finding['check']): Finding {
  const f = r.findings.find((x) => x.check === name);
  if (!f) throw new Error(`no finding ${name}`);
  return f;
}
const failed = (r: WebsiteCheckResult) => r.findings.filter((f) => !f.ok).map((f) => f.check);

describe('website check', () => {
  it('passes a shop page with a title, real text and prices, and lists every finding', async () => {
    const r = await check('/shop');
    expect(r.passed).toBe(true);
    expect(r.findings.map((f) => f.check)).toEqual([
      'public address',
      'reachable',
      'status 200',
      'html',
      'title',
      'real text',
      'product information',
    ]);
    expect(r.findings.every((f) => f.ok)).toBe(true);
    expect(finding(r, 'title').detail).toContain('Café Ejemplo · Fresh coffee beans');
    expect(finding(r, 'product information').detail).toBe('price “12.00 USD”');
    expect(finding(r, 'public address').detail).toContain('private addresses are allowed');
  });

  it('fails an unreachable port', async () => {
    const r = await checkWebsite(`http://127.0.0.1:${await unusedPort()}/`, { allowPrivate: true });
    expect(r.passed).toBe(false);
    expect(failed(r)[0]).toBe('reachable');
    expect(finding(r, 'reachable').detail).toContain('connection refused');
    expect(finding(r, 'status 200').detail).toMatch(/not checked/);
  });

  it('fails a 404', async () => {
    const r = await check('/404');
    expect(r.passed).toBe(false);
    expect(finding(r, 'reachable').ok).toBe(true);
    expect(finding(r, 'status 200')).toMatchObject({ ok: false, detail: 'HTTP 404' });
  });

  it('fails an empty page: no title, no text, no products', async () => {
    const r = await check('/empty');
    expect(failed(r)).toEqual(['title', 'real text', 'product information']);
    expect(finding(r, 'real text').detail).toBe('only 0 characters of visible text (200 needed)');
  });

  it('fails a page that is not HTML', async () => {
    const r = await check('/json');
    expect(failed(r)).toEqual(['html', 'title', 'real text', 'product information']);
    expect(finding(r, 'html').detail).toBe('the content type is application/json, not text/html');
  });

  it('fails a page without a title', async () => {
    expect(failed(await check('/no-title'))).toEqual(['title']);
  });

  it('fails a page without product information', async () => {
    expect(failed(await check('/no-products'))).toEqual(['product information']);
  });

  it('fails a page with too little text', async () => {
    expect(failed(await check('/short'))).toEqual(['real text']);
  });

  it('gives up on a slow site at the time limit', async () => {
    const started = Date.now();
    const r = await check('/slow', { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(finding(r, 'reachable')).toMatchObject({ ok: false, detail: 'no answer within 300 ms' });
  });

  it('follows up to 3 redirects, and no more', async () => {
    const ok = await check('/r/3');
    expect(ok.passed).toBe(true);
    expect(ok.finalUrl).toBe(`${site.url}/shop`);
    expect(finding(ok, 'reachable').detail).toContain('after 3 redirects');
    const tooMany = await check('/r/4');
    expect(tooMany.passed).toBe(false);
    expect(finding(tooMany, 'reachable')).toMatchObject({ ok: false, detail: 'more than 3 redirects' });
  });

  it('reads at most the body limit of a big page', async () => {
    const r = await check('/big', { maxBodyBytes: 64 * 1024 });
    expect(r.passed).toBe(true);
  });

  it('refuses loopback and private addresses without the option, and fetches nothing', async () => {
    const before = site.hits.get('/shop') ?? 0;
    const r = await checkWebsite(`${site.url}/shop`);
    expect(r.passed).toBe(false);
    expect(finding(r, 'public address')).toMatchObject({ ok: false });
    expect(finding(r, 'public address').detail).toContain('127.0.0.1');
    expect(finding(r, 'reachable').detail).toMatch(/not checked/);
    expect(site.hits.get('/shop') ?? 0).toBe(before);
    for (const url of ['http://[::1]/', 'http://10.1.2.3/', 'http://169.254.169.254/latest/meta-data/']) {
      expect(finding(await checkWebsite(url), 'public address').ok).toBe(false);
    }
  });

  it('refuses a host name whose DNS answer is private, and a redirect to a private host', async () => {
    const resolve = async (host: string) =>
      host === 'intranet.example' ? ['192.168.1.10'] : host === 'shop.example' ? ['93.184.216.34'] : [];
    const r = await checkWebsite('https://intranet.example/', { resolve });
    expect(finding(r, 'public address').detail).toContain('192.168.1.10');

    const fetched: string[] = [];
    const viaRedirect = await checkWebsite('https://shop.example/', {
      resolve,
      get: async (url, address) => {
        fetched.push(`${url.href} @ ${address}`);
        return { status: 302, location: 'http://intranet.example/admin', body: '' };
      },
    });
    expect(fetched).toEqual(['https://shop.example/ @ 93.184.216.34']);
    expect(finding(viaRedirect, 'public address')).toMatchObject({ ok: false });
    expect(viaRedirect.passed).toBe(false);
  });

  it('answers a URL that is not http(s)', async () => {
    const r = await checkWebsite('ftp://shop.example/');
    expect(finding(r, 'reachable')).toMatchObject({ ok: false, detail: 'not an absolute http(s) URL' });
  });
});

describe('address classification', () => {
  it('knows private, loopback, link-local and mapped addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of [
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPublicAddress(a), a).toBe(true);
    expect(isPublicAddress('not an address')).toBe(false);
  });
});

describe('reading pages', () => {
  it('takes the title and the visible text, not scripts or styles', () => {
    expect(pageTitle(SHOP_PAGE)).toBe('Café Ejemplo · Fresh coffee beans');
    expect(pageTitle('<title>  </title>')).toBe('');
    expect(pageTitle('<p>no title</p>')).toBe('');
    const text = visibleText(SHOP_PAGE);
    expect(text).toContain('We roast single-origin coffee beans');
    expect(text).not.toContain('analytics');
    expect(text).not.toContain('font-family');
    expect(visibleText('a &amp; b&nbsp;&#233;<!-- hidden --> c')).toBe('a & b é c');
  });

  it.each([
    ['Coffee 12.00 USD', 'price “12.00 USD”'],
    ['Coffee $12', 'price “$12”'],
    ['Café € 9,99', 'price “€ 9,99”'],
    ['Tacos MXN 150', 'price “MXN 150”'],
    ['Tee 1,299.00 JPY', 'price “1,299.00 JPY”'],
    ['Tee 9,99€.', 'price “9,99€”'],
    ['Precio: 45 pesos', '“precio” next to a number'],
    ['Price on request for 3 sizes', '“price” next to a number'],
  ])('finds product information in %j', (text, evidence) => {
    expect(productEvidence(`<p>${text}</p>`, text)).toBe(evidence);
  });

  it('finds structured product data', () => {
    expect(productEvidence('<script type="application/ld+json">{"@type": "Product"}</script>', '')).toBe(
      'a schema.org Product (JSON-LD)',
    );
    expect(productEvidence('<div itemtype="https://schema.org/Product">', '')).toBe('a schema.org Product');
    expect(productEvidence('<meta property="og:type" content="product" />', '')).toBe('og:type product');
  });

  it('does not see prices where there are none', () => {
    for (const text of ['ISO 9001 certified since 1998', 'Call us on 555 1234', 'Open 9 to 5, pricey? no'])
      expect(productEvidence(`<p>${text}</p>`, text), text).toBeUndefined();
  });

  it('reads hostile markup in linear time', () => {
    const started = Date.now();
    const nasty = '<script'.repeat(150_000) + '<title'.repeat(100_000) + '<!--'.repeat(100_000);
    visibleText(nasty);
    pageTitle(nasty);
    productEvidence(nasty + '"@type"'.repeat(50_000) + 'og:type'.repeat(50_000), '1'.repeat(1_000_000));
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
