/**
 * The mini program's files under /mini/. index.html is a template: the wallet's jsapi script tag is
 * written in at start-up (its URL depends on which wallet the shop talks to), so the files are read once
 * and served from memory. Restart the shop after editing them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const MINI_DIR = join(import.meta.dirname, '..', 'mini');
/** Where index.html wants the wallet's `my` script. */
const JSAPI_PLACEHOLDER = '<!-- billetera-jsapi -->';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** The URL of the wallet's jsapi bundle; a path prefix of the wallet URL is kept. */
export function jsapiScriptUrl(walletUrl: URL): string {
  return `${walletUrl.origin}${walletUrl.pathname.replace(/\/+$/, '')}/jsapi/my.js`;
}

/**
 * The mini program's pages run in the wallet's sandboxed iframe: scripts only from the shop and the
 * wallet (the jsapi), fetches only to the shop, and framed only by the wallet's host app.
 */
export function miniContentSecurityPolicy(walletOrigin: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${walletOrigin}`,
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    `frame-ancestors 'self' ${walletOrigin}`,
    "base-uri 'none'",
    "object-src 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderIndexHtml(template: string, walletUrl: URL): string {
  const parts = template.split(JSAPI_PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`mini/index.html must contain ${JSAPI_PLACEHOLDER} exactly once`);
  const tag = `<script src="${escapeHtml(jsapiScriptUrl(walletUrl))}"></script>`;
  return parts.join(tag);
}

interface MiniFile {
  body: string;
  contentType: string;
}

export function registerMiniPages(app: FastifyInstance, walletUrl: URL): void {
  const read = (name: string) => readFileSync(join(MINI_DIR, name), 'utf8');
  const index: MiniFile = {
    body: renderIndexHtml(read('index.html'), walletUrl),
    contentType: 'text/html; charset=utf-8',
  };
  const files: Record<string, MiniFile> = {
    'index.html': index,
    'app.js': { body: read('app.js'), contentType: 'text/javascript; charset=utf-8' },
    'app.css': { body: read('app.css'), contentType: 'text/css; charset=utf-8' },
  };
  const csp = miniContentSecurityPolicy(walletUrl.origin);

  const send = (reply: FastifyReply, file: MiniFile) =>
    reply
      .header('content-type', file.contentType)
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      // Short-lived demo files: always revalidate, so an edit shows after a restart.
      .header('cache-control', 'no-cache')
      .send(file.body);

  // Relative URLs in index.html (app.js, app.css) need the trailing slash.
  app.get('/mini', async (_req, reply) => reply.redirect('/mini/', 301));
  app.get('/mini/', async (_req, reply) => send(reply, index));
  app.get<{ Params: { file: string } }>('/mini/:file', async (req, reply) => {
    const file = Object.hasOwn(files, req.params.file) ? files[req.params.file] : undefined;
    if (!file) return reply.code(404).send({ error: 'NOT_FOUND', message: 'no such file' });
    return send(reply, file);
  });
}
