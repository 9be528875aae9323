/**
 * The API reference, generated from the protocol schemas: `GET /api/open/openapi.json` (OpenAPI 3.1)
 * and `GET /docs/api`, the same document rendered server-side as one self-contained page (no scripts,
 * no external assets). Unsigned and public: it holds no data, only the contract.
 */
import { PATHS, buildOpenApiDocument, type OpenApiDocument } from '@billetera/protocol';
import type { FastifyInstance } from 'fastify';
import type { WalletContext } from '../context.ts';
import { renderApiDocsPage } from './api-docs-page.ts';

/** The page has no scripts and loads nothing: only its inline style is allowed. */
const DOCS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

export function registerApiDocs(app: FastifyInstance, ctx: WalletContext): void {
  // Built once per public URL (it is set when the server starts listening).
  let cached: { url: string; doc: OpenApiDocument; page: string } | undefined;
  const current = () => {
    if (cached?.url !== ctx.publicUrl) {
      const doc = buildOpenApiDocument({ serverUrl: ctx.publicUrl });
      cached = { url: ctx.publicUrl, doc, page: renderApiDocsPage(doc) };
    }
    return cached;
  };
  app.get(PATHS.openApiDocument, async (_req, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(current().doc)),
  );
  app.get(PATHS.apiDocsPage, async (_req, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', DOCS_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(current().page),
  );
}
