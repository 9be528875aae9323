/**
 * The operators' review queue (/ops/reviews): mini program versions waiting for review, each with a
 * preview link, and feature requests waiting for activation (User information). Each has one form with a
 * reason and two buttons, Approve and Reject (a rejection needs the reason: the merchant sees it).
 */
import { FEATURES, type Feature } from '@billetera/domain';
import type { FeatureRequest, VersionInReview } from '@billetera/store';
import { WORKSPACE_REASON_MAX } from '../services/workspace.ts';
import { opsPage } from './console-layout.ts';
import { html, type Html } from './html.ts';
import { sizeText, timeTag } from './workspace-pages.ts';

export interface ReviewsPage {
  versions: VersionInReview[];
  requests: FeatureRequest[];
  notice?: string | undefined;
  error?: string | undefined;
}

export interface OpsFrame {
  email: string;
  csrf: string;
}

function decisionForm(csrf: string, action: string, id: string, what: string): Html {
  return html`<form method="post" action="${action}" class="ws-decide">
    <input type="hidden" name="_csrf" value="${csrf}" />
    <label for="reason-${id}"
      >Reason <span class="muted">(required to reject; the merchant sees it)</span></label
    >
    <textarea id="reason-${id}" name="reason" rows="2" maxlength="${WORKSPACE_REASON_MAX}"></textarea>
    <div class="ws-decide-buttons">
      <button
        type="submit"
        name="decision"
        value="APPROVE"
        class="primary ws-inline"
        aria-label="Approve ${what}"
      >
        Approve
      </button>
      <button
        type="submit"
        name="decision"
        value="REJECT"
        class="ws-inline ws-danger"
        aria-label="Reject ${what}"
      >
        Reject
      </button>
    </div>
  </form>`;
}

export function reviewsPage(f: OpsFrame, p: ReviewsPage): string {
  const body = html`<div class="ws">
    <h1>Reviews</h1>
    ${p.notice ? html`<p class="ws-notice" role="status">${p.notice}</p>` : ''}
    ${p.error ? html`<p class="error ws-error" role="alert" id="ws-error">${p.error}</p>` : ''}
    <section class="card" aria-labelledby="versions-title">
      <h2 id="versions-title">Mini program versions <span class="ws-count">${p.versions.length}</span></h2>
      ${
        p.versions.length === 0
          ? html`<p class="muted" id="no-versions">No version is waiting for review.</p>`
          : html`<ul class="ws-queue" id="version-queue">
              ${p.versions.map((v) => {
                const what = `${v.appName} version ${v.version}`;
                return html`<li class="ws-queue-item" id="review-${v.id}">
                  <div class="ws-queue-head">
                    <div>
                      <strong>${v.appName}</strong> · version ${v.version}
                      <p class="muted ws-small">
                        ${v.merchantName} · appId <code>${v.appId}</code> · ${sizeText(v.sizeBytes)},
                        ${v.fileCount} files · submitted
                        ${v.submittedAt !== null ? timeTag(v.submittedAt) : '—'}
                      </p>
                      ${v.note ? html`<p class="ws-small">“${v.note}”</p>` : ''}
                    </div>
                    <a
                      href="/ops/reviews/versions/${v.id}/preview"
                      class="button ws-inline"
                      aria-label="Preview ${what}"
                      >Preview</a
                    >
                  </div>
                  ${decisionForm(f.csrf, `/ops/reviews/versions/${v.id}`, v.id, what)}
                </li>`;
              })}
            </ul>`
      }
    </section>
    <section class="card" aria-labelledby="requests-title">
      <h2 id="requests-title">Feature requests <span class="ws-count">${p.requests.length}</span></h2>
      <p class="muted ws-small">
        While a User information request waits, the mini program may ask only for the user's id (silent
        scopes). Approving lets it ask users for profile details, with their consent.
      </p>
      ${
        p.requests.length === 0
          ? html`<p class="muted" id="no-requests">No feature request is waiting.</p>`
          : html`<ul class="ws-queue" id="request-queue">
              ${p.requests.map((r) => {
                const title = FEATURES[r.feature as Feature]?.title ?? r.feature;
                const what = `${title} for ${r.appName}`;
                const id = `${r.appId}-${r.feature}`;
                return html`<li class="ws-queue-item" id="request-${id}">
                  <div>
                    <strong>${title}</strong> for <strong>${r.appName}</strong>
                    <p class="muted ws-small">
                      ${r.merchantName} · appId <code>${r.appId}</code> · requested ${timeTag(r.requestedAt)}
                    </p>
                  </div>
                  ${decisionForm(f.csrf, `/ops/reviews/features/${r.appId}/${r.feature}`, id, what)}
                </li>`;
              })}
            </ul>`
      }
    </section>
  </div>`;
  return opsPage({
    title: 'Reviews',
    active: 'reviews',
    csrf: f.csrf,
    who: f.email,
    styles: ['workspace.css'],
    body,
  });
}

export function opsMessagePage(f: OpsFrame, title: string, message: string): string {
  return opsPage({
    title,
    active: 'reviews',
    csrf: f.csrf,
    who: f.email,
    styles: ['workspace.css'],
    body: html`<div class="ws">
      <h1>${title}</h1>
      <section class="card">
        <p>${message}</p>
        <p><a href="/ops/reviews">Back to the reviews</a></p>
      </section>
    </div>`,
  });
}
