/** The host app's pages: home (balances, mini programs, activity) and the mini program shell. */
import { formatAmount } from '@billetera/protocol';
import type { Balance, HistoryItem, MiniProgram, User } from '@billetera/store';
import { html } from './html.ts';
import { page } from './layout.ts';

function describe(item: HistoryItem): string {
  switch (item.kind) {
    case 'PAYMENT':
      return `${item.merchantName ?? 'Payment'}${item.orderTitle ? ` · ${item.orderTitle}` : ''}`;
    case 'TOPUP':
      return 'Top-up';
    case 'REFUND':
      return `Refund from ${item.merchantName ?? 'a merchant'}${item.orderTitle ? ` · ${item.orderTitle}` : ''}`;
  }
}

export function homePage(o: {
  user: User;
  balances: Balance[];
  apps: MiniProgram[];
  history: HistoryItem[];
  csrf: string;
}): string {
  return page({
    title: 'Wallet',
    body: html` <section class="card" aria-labelledby="hello">
        <h1 id="hello">Hello, ${o.user.displayName ?? o.user.phone}</h1>
        <h2>Balance</h2>
        <ul class="list" id="balances">
          ${o.balances.length === 0 ? html`<li class="muted">No money yet.</li>` : ''}
          ${o.balances.map((b) => html`<li><span>${b.currency}</span><strong>${formatAmount(b.value, b.currency)}</strong></li>`)}
        </ul>
        <form method="post" action="/logout">
          <input type="hidden" name="_csrf" value="${o.csrf}" /><button type="submit">Log out</button>
        </form>
      </section>
      <section class="card" aria-labelledby="apps-title">
        <link rel="stylesheet" href="/static/workspace.css" />
        <h2 id="apps-title">Mini programs</h2>
        <div class="apps">
          ${o.apps.length === 0 ? html`<p class="muted">No mini programs are published yet.</p>` : ''}
          ${o.apps.map(
            (a) =>
              html`<a href="/app/mini/${a.appId}" class="with-logo"
                >${
                  a.logoType
                    ? html`<img src="/app/logo/${a.appId}" alt="" width="48" height="48" class="app-logo" />`
                    : html`<span class="app-logo app-logo-none" aria-hidden="true"
                        >${[...a.name][0] ?? ''}</span
                      >`
                }<span class="app-text"
                  ><strong>${a.name}</strong><span class="muted">${a.description}</span></span
                ></a
              >`,
          )}
        </div>
        <p class="more"><a href="/app/authorizations">Authorized mini programs</a></p>
      </section>
      <section class="card" aria-labelledby="activity-title">
        <h2 id="activity-title">Activity</h2>
        <ul class="list" id="activity">
          ${o.history.length === 0 ? html`<li class="muted">No activity yet.</li>` : ''}
          ${o.history.map(
            (h) =>
              html`<li>
                <span
                  >${describe(h)}<br /><small class="muted"
                    >${new Date(h.at).toISOString().slice(0, 16).replace('T', ' ')} UTC</small
                  ></span
                >
                <span class="${h.amount < 0n ? 'minus' : 'plus'}"
                  >${h.amount < 0n ? '−' : '+'}${formatAmount(h.amount < 0n ? -h.amount : h.amount, h.currency)}</span
                >
              </li>`,
          )}
        </ul>
      </section>`,
  });
}

export function miniProgramPage(o: {
  app: MiniProgram;
  /** Where the frame loads (absolute, or relative to the wallet) and the prefix navigateTo stays under. */
  entry: { url: string; scope: string };
  /** The mini program's ACTIVE features: host.js refuses a JSAPI without its feature (error 4). */
  features: readonly string[];
  resumePaymentId: string | undefined;
  siteName: string;
  /** For host.js's calls to /app/api/auth-codes; the sandboxed iframe cannot read its parent's DOM. */
  csrf: string;
  /** A member's or an operator's preview of a version: a banner with a way back instead of the wallet's. */
  preview?: { label: string; backHref: string; backLabel: string } | undefined;
}): string {
  const body = html`${o.preview ? html`<link rel="stylesheet" href="/static/workspace.css" />` : ''}
    <iframe
      id="mini"
      class="mini-frame"
      title="${o.app.name}"
      sandbox="allow-scripts"
      data-app-id="${o.app.appId}"
      data-app-name="${o.app.name}"
      data-entry-url="${o.entry.url}"
      data-scope="${o.entry.scope}"
      data-features="${o.features.join(' ')}"
      data-resume-payment="${o.resumePaymentId ?? ''}"
      data-site-name="${o.siteName}"
      data-csrf="${o.csrf}"
      referrerpolicy="no-referrer"
    ></iframe>
    <div id="sheet" class="sheet-backdrop" hidden>
      <div class="sheet-panel" role="dialog" aria-modal="true" aria-labelledby="sheet-label">
        <div class="sheet-bar">
          <strong id="sheet-label">Billetera cashier</strong
          ><button type="button" id="sheet-close">Close</button>
        </div>
        <iframe id="sheet-frame" class="sheet-frame" title="Billetera cashier"></iframe>
      </div>
    </div>
    <div id="dialog" class="sheet-backdrop" hidden>
      <div
        class="dialog-box"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        aria-describedby="dialog-text"
      >
        <h2 id="dialog-title"></h2>
        <p id="dialog-text"></p>
        <button type="button" class="primary" id="dialog-ok">OK</button>
      </div>
    </div>
    <div id="consent" class="sheet-backdrop" hidden>
      <div
        class="consent-panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby="consent-title"
        aria-describedby="consent-lead"
      >
        <h2 id="consent-title"></h2>
        <p id="consent-lead"></p>
        <ul id="consent-items" class="consent-items"></ul>
        <p class="muted consent-note">
          <small>You can revoke this at any time under Authorized mini programs in Billetera.</small>
        </p>
        <div class="consent-actions">
          <button type="button" id="consent-deny">Don't allow</button
          ><button type="button" class="primary" id="consent-allow">Allow</button>
        </div>
      </div>
    </div>
    <div id="toast" class="toast" role="status" aria-live="polite" hidden></div>`;
  const header = o.preview
    ? html`<header class="topbar preview-bar">
        <a href="${o.preview.backHref}" class="brand" aria-label="${o.preview.backLabel}">‹ Back</a
        ><span class="app-name">${o.app.name}</span><span class="preview-label">${o.preview.label}</span>
      </header>`
    : html`<header class="topbar">
        <a href="/app" class="brand" aria-label="Back to Billetera">‹ Billetera</a
        ><span class="app-name">${o.app.name}</span>
      </header>`;
  return page({ title: o.app.name, body, scripts: ['host.js'], bodyClass: 'host-mini', header });
}
