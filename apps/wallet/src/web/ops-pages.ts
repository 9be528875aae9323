/**
 * The operators' back office (/ops): sign in, the merchants list (filter by status, those waiting for a
 * review first), and a merchant's page: its latest licence with every website check finding in view, the
 * history, and the decisions (approve, reject with a reason, freeze, unfreeze), each a CSRF-protected
 * form.
 */
import type { LicenceSubmission, MerchantListRow, MerchantStatus } from '@billetera/store';
import type { OnboardingView } from '../services/onboarding.ts';
import { REASON_MAX, REJECTABLE } from '../services/onboarding.ts';
import { opsPage } from './console-layout.ts';
import { html } from './html.ts';
import {
  STATUS_LABELS,
  checkSection,
  formatTime,
  historyList,
  licenceSummary,
  staffSignInForm,
  statusBadge,
} from './onboarding-pages.ts';

export interface OpsFrame {
  csrf: string;
  email: string;
}

export function opsSignInPage(o: { csrf: string; next: string; email?: string; error?: string }): string {
  return opsPage({
    title: 'Sign in',
    body: html`<section class="card ob-auth" aria-labelledby="signin-title">
      <h1 id="signin-title">Operators’ sign-in</h1>
      ${staffSignInForm({ area: 'ops', ...o })}
      <p class="muted ob-small">
        Operators are created with <code>billetera operator create --email E</code>.
      </p>
    </section>`,
    scripts: ['forms.js'],
  });
}

/** The order of the default list: what needs an operator first. */
export const STATUS_ORDER: readonly MerchantStatus[] = [
  'IN_REVIEW',
  'CHECK_FAILED',
  'SUBMITTED',
  'REJECTED',
  'DRAFT',
  'VERIFIED',
  'FROZEN',
];

export function opsMerchantsPage(
  o: OpsFrame & {
    rows: MerchantListRow[];
    filter: MerchantStatus | undefined;
    counts: Map<MerchantStatus, number>;
  },
): string {
  const total = [...o.counts.values()].reduce((a, b) => a + b, 0);
  const chip = (status: MerchantStatus | undefined, label: string, n: number) =>
    html`<a
      href="${status ? `/ops?status=${status}` : '/ops'}"
      class="ob-chip"
      ${status === o.filter ? html`aria-current="page"` : ''}
      >${label} <span class="ob-count">${n}</span></a
    >`;
  return opsPage({
    title: 'Merchants',
    active: 'merchants',
    csrf: o.csrf,
    who: o.email,
    body: html`<h1>Merchants</h1>
      <nav class="ob-chips" aria-label="Filter by status">
        ${chip(undefined, 'All', total)}
        ${STATUS_ORDER.map((s) => chip(s, STATUS_LABELS[s], o.counts.get(s) ?? 0))}
      </nav>
      ${
        o.rows.length === 0
          ? html`<p class="card muted">No merchants${o.filter ? ` in “${STATUS_LABELS[o.filter]}”` : ''}.</p>`
          : html`<div class="ob-table-wrap card">
              <table class="ob-table">
                <caption class="ob-sr">
                  Merchants${o.filter ? `, ${STATUS_LABELS[o.filter]}` : ', waiting for a review first'}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Merchant</th>
                    <th scope="col">Status</th>
                    <th scope="col">Account</th>
                    <th scope="col">Signed up</th>
                  </tr>
                </thead>
                <tbody>
                  ${o.rows.map(
                    (r) =>
                      html`<tr>
                        <td><a href="/ops/merchants/${r.id}">${r.name}</a></td>
                        <td>${statusBadge(r.status)}</td>
                        <td class="ob-email">${r.accountEmail ?? html`<span class="muted">CLI</span>`}</td>
                        <td>${formatTime(r.createdAt)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }`,
  });
}

export function opsMerchantPage(
  o: OpsFrame & {
    view: OnboardingView;
    accountEmail: string | undefined;
    submissions: LicenceSubmission[];
    actorName: (actor: string) => string;
    notice?: string | undefined;
    error?: string | undefined;
  },
): string {
  const { merchant, latest, check, events } = o.view;
  const s = merchant.status;
  const base = `/ops/merchants/${merchant.id}`;
  const csrf = html`<input type="hidden" name="_csrf" value="${o.csrf}" />`;
  const canApprove = s === 'IN_REVIEW' || s === 'CHECK_FAILED';
  const canReject = REJECTABLE.includes(s);
  return opsPage({
    title: merchant.name,
    active: 'merchants',
    csrf: o.csrf,
    who: o.email,
    body: html`<p class="ob-crumbs"><a href="/ops">← Merchants</a></p>
      ${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
      ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
      <div class="ob-page-head">
        <h1 id="merchant-title">${merchant.name}</h1>
        ${statusBadge(s)}
        ${
          s === 'FROZEN' && o.view.frozenFrom
            ? html`<span class="muted">(frozen from ${STATUS_LABELS[o.view.frozenFrom]})</span>`
            : ''
        }
      </div>
      <div class="ob-columns">
        <div>
          <section class="card" aria-labelledby="check-title">
            <h2 id="check-title">Website check</h2>
            ${latest ? checkSection(latest, check) : html`<p class="muted">Nothing to check yet.</p>`}
          </section>
          <section class="card" aria-labelledby="licence-title">
            <h2 id="licence-title">Latest licence</h2>
            ${
              latest
                ? html`${licenceSummary(latest)}
                  ${
                    latest.decision
                      ? html`<p>
                          Decision:
                          <strong>${latest.decision === 'APPROVED' ? 'approved' : 'rejected'}</strong>
                          ${latest.decidedAt ? html`on ${formatTime(latest.decidedAt)}` : ''}
                          ${latest.decidedBy ? html`by ${o.actorName(latest.decidedBy)}` : ''}
                          ${latest.decisionReason ? html`: “${latest.decisionReason}”` : ''}
                        </p>`
                      : ''
                  }`
                : html`<p class="muted">No licence submitted yet.</p>`
            }
            ${
              o.submissions.length > 1
                ? html`<p class="muted ob-small">
                    ${o.submissions.length} submissions in all; earlier ones are in the history.
                  </p>`
                : ''
            }
          </section>
        </div>
        <div>
          <section class="card ob-actions" aria-labelledby="actions-title">
            <h2 id="actions-title">Decision</h2>
            ${
              canApprove
                ? html`<form method="post" action="${base}/approve" class="stack" data-once>
                    ${csrf}
                    ${
                      s === 'CHECK_FAILED'
                        ? html`<p class="ob-warning">The website check failed: see the findings.</p>
                            <label class="ob-check"
                              ><input type="checkbox" name="override" value="1" required /> Override the
                              website check: I have looked at the website myself</label
                            >`
                        : html`<p class="muted ob-small">The website check passed: see the findings.</p>`
                    }
                    <button type="submit" class="primary">Approve</button>
                  </form>`
                : ''
            }
            ${
              canReject
                ? html`<form method="post" action="${base}/reject" class="stack" data-once>
                    ${csrf}
                    <label for="reason">Reason for rejecting (the merchant sees it)</label>
                    <textarea
                      id="reason"
                      name="reason"
                      rows="3"
                      required
                      minlength="3"
                      maxlength="${REASON_MAX}"
                    ></textarea>
                    <button type="submit" class="ob-danger">Reject</button>
                  </form>`
                : ''
            }
            ${
              !canApprove && !canReject
                ? html`<p class="muted">
                    ${
                      s === 'VERIFIED'
                        ? 'Verified: nothing to decide.'
                        : s === 'FROZEN'
                          ? 'Frozen: unfreeze the merchant to decide.'
                          : s === 'SUBMITTED'
                            ? 'The website check is running.'
                            : 'Waiting for the merchant to submit a licence.'
                    }
                  </p>`
                : ''
            }
            <hr />
            ${
              s === 'FROZEN'
                ? html`<form method="post" action="${base}/unfreeze" class="stack" data-once>
                    ${csrf}
                    <p class="muted ob-small">
                      Unfreezing returns the merchant to
                      ${o.view.frozenFrom ? STATUS_LABELS[o.view.frozenFrom] : STATUS_LABELS.DRAFT}.
                    </p>
                    <button type="submit">Unfreeze</button>
                  </form>`
                : html`<form method="post" action="${base}/freeze" class="stack" data-once>
                    ${csrf}
                    <label for="freeze-reason">Freeze (payment calls are refused at once)</label>
                    <input
                      id="freeze-reason"
                      name="reason"
                      type="text"
                      maxlength="${REASON_MAX}"
                      placeholder="Reason (for the history)"
                    />
                    <button type="submit" class="ob-danger">Freeze</button>
                  </form>`
            }
          </section>
          <section class="card" aria-labelledby="facts-title">
            <h2 id="facts-title">Merchant</h2>
            <dl class="ob-facts">
              <div>
                <dt>Account</dt>
                <dd>${o.accountEmail ?? 'none (created with the CLI)'}</dd>
              </div>
              <div>
                <dt>Client-Id</dt>
                <dd><code>${merchant.clientId}</code></dd>
              </div>
              <div>
                <dt>partnerId</dt>
                <dd><code>${merchant.partnerId}</code></dd>
              </div>
              <div>
                <dt>Signed up</dt>
                <dd>${formatTime(merchant.createdAt)}</dd>
              </div>
            </dl>
          </section>
          <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">History</h2>
            ${historyList(events, o.actorName)}
          </section>
        </div>
      </div>`,
    scripts: ['forms.js'],
  });
}

export function opsMessagePage(o: { title: string; message: string; back: string; status?: number }): string {
  return opsPage({
    title: o.title,
    body: html`<section class="card ob-auth">
      <h1>${o.title}</h1>
      <p class="error" role="alert">${o.message}</p>
      <p><a href="${o.back}">Go back</a></p>
    </section>`,
  });
}
