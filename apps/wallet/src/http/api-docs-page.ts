/**
 * Renders the OpenAPI document as one self-contained HTML page (server-side, no scripts, no external
 * assets: the network may be closed). Everything on it comes from the document: the introduction
 * (a small Markdown subset), each operation's request and reply fields (walked from the JSON schemas),
 * its result codes, the notifications and the whole result-code catalogue.
 */
import type { JsonObject, OpenApiDocument, ResultCodeEntry } from '@billetera/protocol';

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline Markdown: `code` and **bold**, on escaped text. */
function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? `<code>${esc(part.slice(1, -1))}</code>`
        : esc(part).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>'),
    )
    .join('');
}

/** The Markdown subset the document's descriptions use: ## headings, paragraphs, - lists, ``` fences. */
export function renderMarkdown(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let paragraph: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${inline(paragraph.join(' '))}</p>`);
    if (list.length) out.push(`<ul>${list.map((item) => `<li>${inline(item)}</li>`).join('')}</ul>`);
    paragraph = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) code.push(lines[i] ?? '');
      out.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`);
    } else if (/^#{2,4} /.test(line)) {
      flush();
      const level = Math.min((line.match(/^#+/)?.[0].length ?? 2) + 1, 5);
      out.push(`<h${level}>${inline(line.replace(/^#+ /, ''))}</h${level}>`);
    } else if (line.startsWith('- ')) {
      if (paragraph.length) flush();
      list.push(line.slice(2));
    } else if (line.startsWith('  ') && list.length) {
      list[list.length - 1] += ' ' + line.trim();
    } else if (line.trim() === '') {
      flush();
    } else {
      if (list.length) flush();
      paragraph.push(line.trim());
    }
  }
  flush();
  return out.join('\n');
}

interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  notes: string;
}

const asObject = (v: unknown): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;

function typeOf(schema: JsonObject): string {
  if ('const' in schema) return JSON.stringify(schema['const']);
  const anyOf = schema['anyOf'];
  if (Array.isArray(anyOf)) return anyOf.map((s) => typeOf(asObject(s) ?? {})).join(' | ');
  if (schema['type'] === 'array') return `array of ${typeOf(asObject(schema['items']) ?? {})}`;
  return typeof schema['type'] === 'string' ? schema['type'] : 'any';
}

function notesOf(schema: JsonObject): string {
  const notes: string[] = [];
  if (typeof schema['description'] === 'string') notes.push(schema['description']);
  if (typeof schema['minLength'] === 'number' && schema['minLength'] > 0) notes.push('not empty');
  if (typeof schema['maxLength'] === 'number') notes.push(`at most ${schema['maxLength']} characters`);
  if (typeof schema['maxItems'] === 'number') notes.push(`at most ${schema['maxItems']} items`);
  if (typeof schema['pattern'] === 'string' && typeof schema['description'] !== 'string')
    notes.push(`pattern ${schema['pattern']}`);
  return notes.join('; ');
}

/** The fields of an object schema, nested objects flattened as `a.b` (to a named depth). */
export function fieldRows(schema: JsonObject, prefix = '', depth = 0): FieldRow[] {
  const MAX_DEPTH = 2;
  const properties = asObject(schema['properties']) ?? {};
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  const rows: FieldRow[] = [];
  for (const [name, value] of Object.entries(properties)) {
    const prop = asObject(value) ?? {};
    const full = prefix + name;
    rows.push({ name: full, type: typeOf(prop), required: required.has(name), notes: notesOf(prop) });
    if (prop['type'] === 'object' && depth < MAX_DEPTH && name !== 'result')
      rows.push(...fieldRows(prop, `${full}.`, depth + 1));
  }
  return rows;
}

function fieldsTable(schema: JsonObject | undefined): string {
  if (!schema) return '';
  const rows = fieldRows(schema);
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Notes</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td><code>${esc(r.name)}</code></td><td>${esc(r.type)}</td><td>${r.required ? 'yes' : ''}</td><td>${esc(r.notes)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function codesTable(codes: ResultCodeEntry[]): string {
  return `<table><thead><tr><th>resultCode</th><th>Status</th><th>Answered</th><th>When, or why never</th></tr></thead><tbody>${codes
    .map(
      (c) =>
        `<tr class="${c.produced ? 'produced' : 'not-produced'}"><td><code>${esc(c.resultCode)}</code></td><td>${esc(c.resultStatus)}</td><td>${c.produced ? 'yes' : 'not produced'}</td><td>${esc(c.note)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

const schemaRef = (doc: OpenApiDocument, content: unknown): JsonObject | undefined => {
  const ref = asObject(asObject(asObject(content)?.['application/json'])?.['schema'])?.['$ref'];
  if (typeof ref !== 'string') return undefined;
  return doc.components.schemas[ref.replace('#/components/schemas/', '')];
};

const anchor = (path: string) => path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem 2rem;color:#1d2430}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccd}h3{margin-top:2rem}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{background:#f4f5f8;padding:.8rem;overflow-x:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem}th,td{border:1px solid #d8dbe3;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f5}tr.not-produced td{color:#667}nav ul{columns:2}.path{font-family:ui-monospace,monospace;background:#eef0f5;padding:.2rem .5rem;border-radius:4px}`;

export function renderApiDocsPage(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).map(([path, item]) => ({ path, op: item.post }));
  const nav = operations
    .map(
      ({ path, op }) =>
        `<li><a href="#${anchor(path)}">${esc(path)}</a> ${esc(String(op['summary'] ?? ''))}</li>`,
    )
    .join('');
  const sections = operations.map(({ path, op }) => {
    const request = schemaRef(doc, asObject(op['requestBody'])?.['content']);
    const reply = schemaRef(doc, asObject(asObject(op['responses'])?.['200'])?.['content']);
    return `<section id="${anchor(path)}"><h3><span class="path">POST ${esc(path)}</span></h3>
<p>${inline(String(op['summary'] ?? ''))}</p>
<h4>Request body</h4>${fieldsTable(request)}
<h4>Reply body (HTTP 200, signed)</h4>${fieldsTable(reply)}
<h4>Result codes</h4>${codesTable((op['x-result-codes'] as ResultCodeEntry[] | undefined) ?? [])}</section>`;
  });
  const webhooks = Object.entries(doc.webhooks).map(([name, item]) => {
    const body = schemaRef(doc, asObject(item.post['requestBody'])?.['content']);
    return `<section id="${esc(name)}"><h3>${esc(name)} (wallet &rarr; merchant)</h3><p>${inline(String(item.post['summary'] ?? ''))}</p>${fieldsTable(body)}</section>`;
  });
  const catalogue = doc['x-result-codes']
    .map(
      (c) =>
        `<tr><td><code>${esc(c.resultCode)}</code></td><td>${esc(c.resultStatus)}</td><td>${esc(c.message)}</td><td>${c.retryable ? 'yes' : ''}</td><td>${c.origin === 'billetera' ? 'Billetera (cashier and CLI only, never on the OpenAPI wire)' : 'Alipay+ reference'}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)}</title><style>${STYLE}</style></head>
<body><h1>${esc(doc.info.title)}</h1>
<p>API version ${esc(doc.info.version)} &middot; machine-readable: <a href="/api/open/openapi.json">openapi.json</a> (OpenAPI ${esc(doc.openapi)})</p>
<nav><h2>Contents</h2><ul><li><a href="#overview">Overview: transport, signing, worked example, notifications</a></li>${nav}<li><a href="#notifications">Notifications</a></li><li><a href="#result-codes">Result codes</a></li></ul></nav>
<h2 id="overview">Overview</h2>
${renderMarkdown(doc.info.description)}
<h2>Operations</h2>
${sections.join('\n')}
<h2 id="notifications">Notifications</h2>
${webhooks.join('\n')}
<h2 id="result-codes">Result codes</h2>
<table><thead><tr><th>resultCode</th><th>Status</th><th>Message</th><th>Retryable</th><th>Origin</th></tr></thead><tbody>${catalogue}</tbody></table>
</body></html>
`;
}
