/** The host app's "Authorized mini programs" page: what each mini program was given, and a way to take it back. */
import type { GrantListing } from '../services/authorization.ts';
import { html } from './html.ts';
import { page } from './layout.ts';

const when = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function authorizationsPage(o: {
  grants: GrantListing[];
  csrf: string;
  /** The name of the mini program whose access was just revoked (post/redirect/get). */
  revoked: string | undefined;
}): string {
  return page({
    title: 'Authorized mini programs',
    scripts: ['forms.js'],
    body: html`<section class="card" aria-labelledby="grants-title">
      <h1 id="grants-title">Authorized mini programs</h1>
      ${
        o.revoked === undefined
          ? ''
          : html`<p class="notice" role="status" id="revoked-notice">
              Access revoked: ${o.revoked} no longer receives your information.
            </p>`
      }
      <p class="muted">
        These mini programs can receive the information you allowed them to. Revoking access stops it at once;
        the mini program has to ask you again.
      </p>
      ${
        o.grants.length === 0
          ? html`<p class="muted" id="no-grants">No mini program has access to your information.</p>`
          : html`<ul class="grants" id="grants">
              ${o.grants.map(
                (g) =>
                  html`<li class="grant">
                    <h2>${g.name}</h2>
                    <p class="muted">by ${g.merchantName}</p>
                    <p>Receives:</p>
                    <ul class="shared">
                      ${g.shared.map((s) => html`<li>${s}</li>`)}
                    </ul>
                    <p class="muted">
                      <small
                        >Allowed
                        <time datetime="${new Date(g.grantedAt).toISOString()}"
                          >${when(g.grantedAt)}</time
                        ></small
                      >
                    </p>
                    <form
                      method="post"
                      action="/app/authorizations/${encodeURIComponent(g.grantId)}/revoke"
                      data-once
                    >
                      <input type="hidden" name="_csrf" value="${o.csrf}" />
                      <button type="submit" aria-label="Revoke access for ${g.name}">Revoke access</button>
                    </form>
                  </li>`,
              )}
            </ul>`
      }
      <p><a href="/app">Back to Billetera</a></p>
    </section>`,
  });
}

export function noSuchAuthorizationPage(o: { expired: boolean }): string {
  const title = o.expired ? 'This form has expired' : 'Authorization not found';
  const text = o.expired
    ? 'Nothing was changed. Go back, reload the page and try again.'
    : 'There is no such authorization among yours. Nothing was changed.';
  return page({
    title,
    body: html`<section class="card result" aria-labelledby="state-title">
      <h1 id="state-title">${title}</h1>
      <p>${text}</p>
      <a class="button primary" href="/app/authorizations">Authorized mini programs</a>
    </section>`,
  });
}
