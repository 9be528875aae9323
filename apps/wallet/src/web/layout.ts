import { html, type Html } from './html.ts';

export interface PageOptions {
  title: string;
  body: Html;
  /** Extra scripts from /static (no inline scripts: the CSP forbids them). */
  scripts?: string[];
  /** Inside the host's cashier sheet: no page chrome. */
  embedded?: boolean;
  bodyClass?: string;
  /** Replaces the default top bar (the mini program shell shows the app's name and a way back). */
  header?: Html;
}

/** The one page frame: mobile-first, a single stylesheet, a main landmark, the page title as h1 by convention. */
export function page(o: PageOptions): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · Billetera</title>
        <link rel="stylesheet" href="/static/billetera.css" />
        ${(o.scripts ?? []).map((s) => html`<script src="/static/${s}" defer></script>`)}
      </head>
      <body class="${o.embedded ? 'embedded' : ''} ${o.bodyClass ?? ''}">
        ${o.embedded ? '' : (o.header ?? html`<header class="topbar"><a href="/app" class="brand">Billetera</a></header>`)}
        <main id="main" tabindex="-1">${o.body}</main>
      </body>
    </html>`.value;
}
