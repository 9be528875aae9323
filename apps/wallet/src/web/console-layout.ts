/**
 * The page frame of the merchant console (/console) and the operators' back office (/ops): the wallet's
 * one stylesheet plus console.css, a top bar with the section's navigation, and a sign-out form. Pages
 * are desktop-first but must still work on a phone (the nav wraps).
 */
import { html, type Html } from './html.ts';

export type ConsoleSection = 'overview' | 'credentials' | 'apps' | 'payments' | 'notifications';
export type OpsSection = 'merchants' | 'reviews';

const CONSOLE_NAV: [ConsoleSection, string, string][] = [
  ['overview', '/console', 'Overview'],
  ['credentials', '/console/credentials', 'Credentials'],
  ['apps', '/console/apps', 'Mini programs'],
  ['payments', '/console/payments', 'Payments'],
  ['notifications', '/console/notifications', 'Notifications'],
];
const OPS_NAV: [OpsSection, string, string][] = [
  ['merchants', '/ops', 'Merchants'],
  ['reviews', '/ops/reviews', 'Reviews'],
];

export interface StaffPageOptions<S extends string> {
  title: string;
  body: Html;
  /** The highlighted nav entry; omitted on signed-out pages (no nav is shown then). */
  active?: S;
  /** Signed in: the session's CSRF token for the sign-out form. */
  csrf?: string;
  /** Shown at the right of the top bar: the merchant's name or the operator's email. */
  who?: string;
  /** Extra scripts from /static (the CSP forbids inline scripts). */
  scripts?: string[];
  /** Extra stylesheets from /static, after console.css. */
  styles?: string[];
}

function frame<S extends string>(
  area: 'console' | 'ops',
  brand: string,
  nav: [S, string, string][],
  o: StaffPageOptions<S>,
): string {
  const signedIn = o.csrf !== undefined;
  const header = html`<header class="topbar staff-bar">
    <a href="/${area}" class="brand">${brand}</a>
    ${
      signedIn
        ? html`<nav aria-label="${brand}" class="staff-nav">
              ${nav.map(
                ([key, href, label]) =>
                  html`<a href="${href}" ${key === o.active ? html`aria-current="page"` : ''}>${label}</a>`,
              )}
            </nav>
            <form method="post" action="/${area}/sign-out" class="staff-signout">
              <input type="hidden" name="_csrf" value="${o.csrf}" />
              ${o.who ? html`<span class="staff-who">${o.who}</span>` : ''}
              <button type="submit" class="link-button">Sign out</button>
            </form>`
        : ''
    }
  </header>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · ${brand}</title>
        <link rel="stylesheet" href="/static/billetera.css" />
        <link rel="stylesheet" href="/static/console.css" />
        ${(o.styles ?? []).map((s) => html`<link rel="stylesheet" href="/static/${s}" />`)}
        ${(o.scripts ?? []).map((s) => html`<script src="/static/${s}" defer></script>`)}
      </head>
      <body class="staff ${area}">
        ${header}
        <main id="main" tabindex="-1">${o.body}</main>
      </body>
    </html>`.value;
}

export const consolePage = (o: StaffPageOptions<ConsoleSection>): string =>
  frame('console', 'Billetera Console', CONSOLE_NAV, o);

export const opsPage = (o: StaffPageOptions<OpsSection>): string => frame('ops', 'Billetera Ops', OPS_NAV, o);
