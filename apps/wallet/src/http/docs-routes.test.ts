/**
 * The served API reference: `GET /api/open/openapi.json` is the generated document (every path in it is
 * a live operation), `GET /docs/api` renders all of it on one self-contained page, and the worked
 * example in it, run as written with bash, openssl and curl, really pays against the wallet.
 * The database does not matter here: SQLite only.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATIONS, RESULT_CODES, WORKED_EXAMPLE, type OpenApiDocument } from '@billetera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';

describe('API reference served by the wallet', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: TestMerchant;
  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, { workers: false });
    shop = await addMerchant(wallet.ctx);
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  it('serves the OpenAPI document, whose every path is a live signed operation', async () => {
    const res = await fetch(`${wallet.url}/api/open/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: wallet.ctx.publicUrl }]);
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(OPERATIONS).sort());
    for (const path of Object.keys(doc.paths)) {
      const reply = await specCall(wallet.url, path, '{}', {
        clientId: shop.merchant.clientId,
        privateKey: shop.keys.privateKey,
      });
      expect(reply.body.result.resultCode, path).not.toBe('INVALID_API');
      expect(reply.body.result.resultCode, path).toBe('PARAM_ILLEGAL');
    }
  });

  it('renders the same document as one page: every operation, field, code and the example; nothing external', async () => {
    const res = await fetch(`${wallet.url}/docs/api`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await res.text();
    for (const path of Object.keys(OPERATIONS)) expect(html).toContain(`POST ${path}`);
    for (const code of Object.keys(RESULT_CODES)) expect(html).toContain(`<code>${code}</code>`);
    for (const field of [
      'refundRequestId',
      'redirectActionForm.redirectionUrl',
      'order.orderDescription',
      'notificationId',
      'sequence',
    ])
      expect(html).toContain(`<code>${field}</code>`);
    expect(html).toContain('notifyRefund');
    expect(html).toContain('not produced');
    // The worked example, escaped for HTML, verbatim.
    expect(html).toContain(
      WORKED_EXAMPLE.replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;'),
    );
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=/i);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.every((h) => h.startsWith('#') || h === '/api/open/openapi.json')).toBe(true);
  });

  it('has a worked example that pays and inquires as written, with bash, openssl and curl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'billetera-example-'));
    const key = join(dir, 'merchant-private-key.pem');
    writeFileSync(key, shop.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['--norc', '--noprofile', '-c', WORKED_EXAMPLE],
        {
          env: {
            PATH: process.env['PATH'] ?? '',
            WALLET: wallet.url,
            CLIENT: shop.merchant.clientId,
            PARTNER: shop.merchant.partnerId,
            KEY: key,
          },
          timeout: 20_000,
        },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      );
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [pay, inquiry] = out.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(pay).toMatchObject({ result: { resultStatus: 'A', resultCode: 'ACCEPT' } });
    expect(pay!['redirectActionForm']).toMatchObject({ method: 'GET' });
    expect(inquiry).toMatchObject({
      result: { resultStatus: 'S', resultCode: 'SUCCESS' },
      paymentId: pay!['paymentId'],
      paymentStatus: 'PROCESSING',
      paymentAmount: { currency: 'USD', value: '350' },
    });
  });
});
