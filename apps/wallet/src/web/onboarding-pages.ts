/**
 * The merchant console's onboarding pages: sign up, sign in, the overview (status, what it means, the
 * website check's findings, the rejection reason, history) and the licence form. Server-rendered with
 * the escaping html`` tag; every form carries a CSRF token. Shared pieces (status badges, findings,
 * history) are used by the ops pages too.
 */
import type { LicenceSubmission, MerchantEvent, MerchantStatus } from '@billetera/store';
import type { FieldErrors } from '../services/staff-accounts.ts';
import { PASSWORD_MIN_LENGTH } from '../services/staff-accounts.ts';
import {
  COUNTRIES,
  SUBMITTABLE,
  eventDetail,
  type LicenceInput,
  type OnboardingView,
} from '../services/onboarding.ts';
import type { Finding, StoredCheck } from '../services/website-check.ts';
import { consolePage } from './console-layout.ts';
import { html, type Html } from './html.ts';

// ---------------------------------------------------------------------------------------------------------
// Shared pieces.

export const STATUS_LABELS: Record<MerchantStatus, string> = {
  DRAFT: 'Draft',
  SUBMITTED: 'Checking website',
  CHECK_FAILED: 'Website check failed',
  IN_REVIEW: 'In review',
  VERIFIED: 'Verified',
  REJECTED: 'Rejected',
  FROZEN: 'Frozen',
};

export function statusBadge(status: MerchantStatus): Html {
  return html`<span class="ob-badge ob-badge-${status.toLowerCase().replace('_', '-')}"
    >${STATUS_LABELS[status]}</span
  >`;
}

export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const CHECK_LABELS: Record<string, string> = {
  'public address': 'Public address',
  reachable: 'Reachable',
  'status 200': 'Answers HTTP 200',
  html: 'Is an HTML page',
  title: 'Has a title',
  'real text': 'Has real text',
  'product information': 'Shows products or prices',
};

/** The website check's findings as a list of ✓ / ✗ lines ("–" for checks that did not run). */
export function findingsList(check: StoredCheck): Html {
  return html`<ul class="ob-findings">
    ${check.findings.map((f: Finding) => {
      const state = f.ok ? 'ok' : f.detail.startsWith('not checked') ? 'skip' : 'bad';
      const [mark, sr] = FINDING_MARKS[state];
      return html`<li class="ob-${state}">
        <span class="ob-mark" aria-hidden="true">${mark}</span>
        <span class="ob-sr">${sr}</span>
        <strong>${CHECK_LABELS[f.check] ?? f.check}</strong>
        <span class="ob-detail">${f.detail}</span>
      </li>`;
    })}
  </ul>`;
}

const FINDING_MARKS: Record<'ok' | 'bad' | 'skip', [string, string]> = {
  ok: ['✓', 'Passed:'],
  bad: ['✗', 'Failed:'],
  skip: ['–', 'Not checked:'],
};

/** The check's summary line and findings, or a note when it has not run. */
export function checkSection(
  submission: LicenceSubmission | undefined,
  check: StoredCheck | undefined,
): Html {
  if (!submission) return html``;
  const when = submission.checkedAt
    ? html` <span class="muted">(${formatTime(submission.checkedAt)})</span>`
    : '';
  switch (submission.checkStatus) {
    case 'PENDING':
      return html`<p>
        The website check of <span class="ob-url">${submission.websiteUrl}</span> is running.
      </p>`;
    case 'SKIPPED':
      return html`<p>The website check was skipped by an operator.${when}</p>`;
    default:
      return html`<p>
          Website check of <span class="ob-url">${check?.url ?? submission.websiteUrl}</span>:
          <strong class="${submission.checkStatus === 'PASSED' ? 'ob-ok' : 'ob-bad'}"
            >${submission.checkStatus === 'PASSED' ? 'passed' : 'failed'}</strong
          >${when}
        </p>
        ${
          check && check.finalUrl && check.finalUrl !== check.url
            ? html`<p class="muted">After redirects: <span class="ob-url">${check.finalUrl}</span></p>`
            : ''
        }
        ${check ? findingsList(check) : ''}`;
  }
}

const ACTION_TEXT: Record<string, string> = {
  SIGNED_UP: 'Signed up',
  SUBMITTED: 'Licence submitted',
  CHECK_PASSED: 'Website check passed',
  CHECK_FAILED: 'Website check failed',
  APPROVED: 'Approved',
  REJECTED: 'Rejected',
  FROZEN: 'Frozen',
  UNFROZEN: 'Unfrozen',
};

/** The history, newest first; `actorName` says who did it, as the reader may know it. */
export function historyList(events: MerchantEvent[], actorName: (actor: string) => string): Html {
  if (events.length === 0) return html`<p class="muted">Nothing yet.</p>`;
  return html`<ol class="ob-history">
    ${events.map((e) => {
      const d = eventDetail(e);
      return html`<li>
        <time datetime="${new Date(e.at).toISOString()}">${formatTime(e.at)}</time>
        <span class="ob-what"
          ><strong>${ACTION_TEXT[e.action] ?? e.action}</strong>${
            d.to && d.from && d.from !== d.to
              ? html` <span class="muted"
                  >${STATUS_LABELS[d.from as MerchantStatus] ?? d.from} →
                  ${STATUS_LABELS[d.to as MerchantStatus] ?? d.to}</span
                >`
              : ''
          }
          · ${actorName(e.actor)}</span
        >
        ${d.overrideCheck ? html`<span class="ob-note">despite the failed website check</span>` : ''}
        ${d.skippedWebsiteCheck ? html`<span class="ob-note">website check skipped</span>` : ''}
        ${
          d.failed && d.failed.length > 0
            ? html`<span class="ob-note"
                >failed: ${d.failed.map((c) => CHECK_LABELS[c] ?? c).join(', ')}</span
              >`
            : ''
        }
        ${d.reason ? html`<span class="ob-reason">“${d.reason}”</span>` : ''}
      </li>`;
    })}
  </ol>`;
}

/** A labelled input with its error (aria-invalid and aria-describedby point at it). */
export function field(o: {
  name: string;
  label: string;
  value: string;
  error?: string | undefined;
  type?: string;
  autocomplete?: string;
  hint?: string;
  required?: boolean;
  maxlength?: number;
  inputmode?: string;
}): Html {
  const id = `f-${o.name}`;
  return html`<div class="ob-field">
    <label for="${id}"
      >${o.label}${o.required === false ? html` <span class="muted">(optional)</span>` : ''}</label
    >
    ${o.hint ? html`<span class="ob-hint">${o.hint}</span>` : ''}
    <input
      id="${id}"
      name="${o.name}"
      type="${o.type ?? 'text'}"
      value="${o.value}"
      ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
      ${o.maxlength ? html`maxlength="${o.maxlength}"` : ''}
      ${o.inputmode ? html`inputmode="${o.inputmode}"` : ''}
      ${o.required === false ? '' : html`required`}
      ${o.error ? html`aria-invalid="true" aria-describedby="${id}-error"` : ''}
    />
    ${o.error ? html`<span class="ob-field-error" id="${id}-error">${o.error}</span>` : ''}
  </div>`;
}

/** The list of errors at the top of a form, each linking to its field. */
export function errorSummary(errors: FieldErrors, labels: Record<string, string>): Html {
  const entries = Object.entries(errors);
  if (entries.length === 0) return html``;
  return html`<div class="error ob-summary" role="alert">
    <p>Please correct ${entries.length === 1 ? 'this' : `these ${entries.length}`}:</p>
    <ul>
      ${entries.map(([k, v]) => html`<li><a href="#f-${k}">${labels[k] ?? k}</a>: ${v}</li>`)}
    </ul>
  </div>`;
}

// ---------------------------------------------------------------------------------------------------------
// Signed out.

export function consoleSignUpPage(o: {
  csrf: string;
  values?: { name: string; email: string };
  errors?: FieldErrors;
}): string {
  const e = o.errors ?? {};
  return consolePage({
    title: 'Create a merchant account',
    body: html`<section class="card ob-auth" aria-labelledby="signup-title">
      <h1 id="signup-title">Create a merchant account</h1>
      <p class="muted">
        Sell in mini programs on Billetera. After signing up you submit your business licence and website;
        payments open once they are verified.
      </p>
      ${errorSummary(e, { name: 'Shop name', email: 'Email', password: 'Password' })}
      <form method="post" action="/console/sign-up" class="stack" novalidate data-once>
        <input type="hidden" name="_csrf" value="${o.csrf}" />
        ${field({
          name: 'name',
          label: 'Shop name',
          hint: 'Shown to payers in the cashier.',
          value: o.values?.name ?? '',
          error: e['name'],
          autocomplete: 'organization',
          maxlength: 100,
        })}
        ${field({
          name: 'email',
          label: 'Email',
          type: 'email',
          value: o.values?.email ?? '',
          error: e['email'],
          autocomplete: 'email',
        })}
        ${field({
          name: 'password',
          label: 'Password',
          type: 'password',
          hint: `At least ${PASSWORD_MIN_LENGTH} characters.`,
          value: '',
          error: e['password'],
          autocomplete: 'new-password',
        })}
        <button type="submit" class="primary">Create account</button>
      </form>
      <p>Already have an account? <a href="/console/sign-in">Sign in</a></p>
    </section>`,
    scripts: ['forms.js'],
  });
}

/** The sign-in form shared by the console and ops: the same fields, each area's own action. */
export function staffSignInForm(o: {
  area: 'console' | 'ops';
  csrf: string;
  next: string;
  email?: string | undefined;
  error?: string | undefined;
}): Html {
  return html`${o.error ? html`<p class="error" role="alert" id="signin-error">${o.error}</p>` : ''}
    <form method="post" action="/${o.area}/sign-in" class="stack" novalidate data-once>
      <input type="hidden" name="_csrf" value="${o.csrf}" />
      <input type="hidden" name="next" value="${o.next}" />
      <label for="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        autocomplete="${o.area === 'ops' ? 'username' : 'email'}"
        required
        value="${o.email ?? ''}"
        ${o.error ? html`aria-describedby="signin-error"` : ''}
      />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit" class="primary">Sign in</button>
    </form>`;
}

export function consoleSignInPage(o: { csrf: string; next: string; email?: string; error?: string }): string {
  return consolePage({
    title: 'Sign in',
    body: html`<section class="card ob-auth" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to the merchant console</h1>
      ${staffSignInForm({ area: 'console', ...o })}
      <p>New to Billetera? <a href="/console/sign-up">Create a merchant account</a></p>
    </section>`,
    scripts: ['forms.js'],
  });
}

/** A short page for refusals (an expired form, an action not allowed now), with a way back. */
export function consoleMessagePage(o: {
  title: string;
  message: string;
  back: string;
  csrf?: string | undefined;
  who?: string | undefined;
}): string {
  return consolePage({
    title: o.title,
    ...(o.csrf !== undefined ? { csrf: o.csrf, active: 'overview' as const } : {}),
    ...(o.who !== undefined ? { who: o.who } : {}),
    body: html`<section class="card ob-auth">
      <h1>${o.title}</h1>
      <p class="error" role="alert">${o.message}</p>
      <p><a href="${o.back}">Go back</a></p>
    </section>`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// The overview.

const EXPLANATIONS: Record<MerchantStatus, string> = {
  DRAFT:
    'Tell us about your business: submit your business licence and your website. We check the website automatically, then a Billetera operator reviews the licence. Payment APIs are off until you are verified.',
  SUBMITTED:
    'We received your licence and are checking your website now. This takes a few seconds: reload this page.',
  CHECK_FAILED:
    'Your website did not pass the automatic check. Fix what is marked ✗ below (on your website, or the address in the form) and resubmit.',
  IN_REVIEW:
    'Your website passed the automatic check. A Billetera operator is now reviewing your licence; the decision will appear here.',
  VERIFIED:
    'You are verified: your server can call the payment APIs. Add your public key under Credentials to sign your calls.',
  REJECTED:
    'A Billetera operator could not approve your licence. The reason is below: fix what it asks for and resubmit.',
  FROZEN:
    'Billetera has frozen this merchant: payment calls are refused and the licence cannot be changed. Contact Billetera support.',
};

const STEPS: {
  label: string;
  /** The label when this step is where it went wrong. */
  failed?: string;
  done: (s: MerchantStatus) => boolean;
  current: (s: MerchantStatus) => boolean;
}[] = [
  {
    label: 'Licence submitted',
    done: (s) => s !== 'DRAFT',
    current: (s) => s === 'DRAFT',
  },
  {
    label: 'Website checked',
    failed: 'Website check failed',
    done: (s) => s === 'IN_REVIEW' || s === 'VERIFIED' || s === 'REJECTED',
    current: (s) => s === 'SUBMITTED' || s === 'CHECK_FAILED',
  },
  {
    label: 'Reviewed by Billetera',
    failed: 'Rejected by Billetera',
    done: (s) => s === 'VERIFIED',
    current: (s) => s === 'IN_REVIEW' || s === 'REJECTED',
  },
  { label: 'Verified', done: (s) => s === 'VERIFIED', current: () => false },
];

function steps(status: MerchantStatus): Html {
  if (status === 'FROZEN') return html``;
  const bad = status === 'CHECK_FAILED' || status === 'REJECTED';
  return html`<ol class="ob-steps" aria-label="Progress">
    ${STEPS.map((step) => {
      const done = step.done(status);
      const current = !done && step.current(status);
      const failed = current && bad;
      const cls = done ? 'ob-step-done' : failed ? 'ob-step-bad' : current ? 'ob-step-current' : '';
      return html`<li class="${cls}" ${current ? html`aria-current="step"` : ''}>
        ${failed ? (step.failed ?? step.label) : step.label}
      </li>`;
    })}
  </ol>`;
}

export interface ConsoleFrame {
  csrf: string;
  merchantName: string;
}

export function consoleOverviewPage(
  o: ConsoleFrame & { view: OnboardingView; accountId: string; notice?: string },
): string {
  const { merchant, latest, check, events } = o.view;
  const status = merchant.status;
  const canSubmit = SUBMITTABLE.includes(status);
  const rejected = status === 'REJECTED' && latest?.decision === 'REJECTED' ? latest.decisionReason : null;
  const actorName = (actor: string) => (actor === `merchant:${o.accountId}` ? 'you' : 'Billetera');
  return consolePage({
    title: 'Overview',
    active: 'overview',
    csrf: o.csrf,
    who: o.merchantName,
    body: html`${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
      <section class="card ob-status" aria-labelledby="status-title">
        <h1 id="status-title">${merchant.name}</h1>
        <p class="ob-status-line">Status: ${statusBadge(status)}</p>
        ${
          // A merchant verified by an operator's command never went through the steps: no step bar then.
          latest || status !== 'VERIFIED' ? steps(status) : ''
        }
        <p>${EXPLANATIONS[status]}</p>
        ${
          rejected
            ? html`<div class="ob-rejection">
                <h2>Reason given by Billetera</h2>
                <p>${rejected}</p>
              </div>`
            : ''
        }
        ${
          status === 'VERIFIED'
            ? html`<dl class="summary ob-ids">
                  <div>
                    <dt>Client-Id</dt>
                    <dd><code id="client-id">${merchant.clientId}</code></dd>
                  </div>
                  <div>
                    <dt>partnerId</dt>
                    <dd><code id="partner-id">${merchant.partnerId}</code></dd>
                  </div>
                </dl>
                <p>
                  <a class="button primary ob-inline" href="/console/credentials">Credentials and keys</a>
                  <a class="button ob-inline" href="/console/apps">Mini programs</a>
                </p>`
            : ''
        }
        ${
          canSubmit
            ? html`<p>
                <a class="button primary ob-inline" href="/console/licence" id="licence-link"
                  >${status === 'DRAFT' ? 'Submit your business licence' : 'Fix and resubmit'}</a
                >
              </p>`
            : ''
        }
      </section>
      ${
        latest
          ? html`<section class="card" aria-labelledby="check-title">
                <h2 id="check-title">Website check</h2>
                ${checkSection(latest, check)}
              </section>
              <section class="card" aria-labelledby="licence-title">
                <h2 id="licence-title">Your licence</h2>
                ${licenceSummary(latest)}
              </section>`
          : ''
      }
      <section class="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        ${historyList(events, actorName)}
      </section>`,
  });
}

export function licenceSummary(s: LicenceSubmission): Html {
  const country = COUNTRIES.find((c) => c.code === s.country)?.name ?? s.country;
  const rows: [string, string | Html][] = [
    ['Legal name', s.legalName],
    ['Licence number', s.licenceNumber],
    ['Country', `${country} (${s.country})`],
    ['Address', s.address],
    ['Website', html`<span class="ob-url">${s.websiteUrl}</span>`],
    ['Contact', `${s.contactName} · ${s.contactEmail}${s.contactPhone ? ` · ${s.contactPhone}` : ''}`],
    ['Submitted', formatTime(s.submittedAt)],
  ];
  return html`<dl class="ob-facts">
    ${rows.map(
      ([k, v]) =>
        html`<div>
          <dt>${k}</dt>
          <dd>${v}</dd>
        </div>`,
    )}
  </dl>`;
}

// ---------------------------------------------------------------------------------------------------------
// The licence form.

export const LICENCE_LABELS: Record<keyof LicenceInput, string> = {
  legalName: 'Legal name',
  licenceNumber: 'Licence number',
  country: 'Country',
  address: 'Registered address',
  websiteUrl: 'Website',
  contactName: 'Contact name',
  contactEmail: 'Contact email',
  contactPhone: 'Contact phone',
};

export function licenceFormPage(
  o: ConsoleFrame & {
    status: MerchantStatus;
    values: LicenceInput;
    errors?: FieldErrors;
    /** A previous submission's problem to fix (rejection reason). */
    reason?: string | null | undefined;
    check?: StoredCheck | undefined;
  },
): string {
  const e = o.errors ?? {};
  const v = o.values;
  const resubmit = o.status !== 'DRAFT';
  return consolePage({
    title: resubmit ? 'Fix and resubmit' : 'Business licence',
    active: 'overview',
    csrf: o.csrf,
    who: o.merchantName,
    body: html`<p class="ob-crumbs"><a href="/console">← Overview</a></p>
      <section class="card" aria-labelledby="licence-form-title">
        <h1 id="licence-form-title">
          ${resubmit ? 'Fix and resubmit your licence' : 'Your business licence'}
        </h1>
        <p class="muted">
          Enter the details as they appear on your business licence. After you submit, we check your website
          automatically (it must answer over HTTP(S), be an HTML page with a title, real text, and show your
          products with prices), then a Billetera operator reviews the licence.
        </p>
        ${
          o.reason
            ? html`<div class="ob-rejection">
                <h2>What to fix</h2>
                <p>${o.reason}</p>
              </div>`
            : ''
        }
        ${
          o.check && !o.check.passed
            ? html`<details class="ob-last-check" open>
                <summary>The last website check</summary>
                ${findingsList(o.check)}
              </details>`
            : ''
        }
        ${errorSummary(e, LICENCE_LABELS)}
        <form method="post" action="/console/licence" class="ob-form" novalidate data-once>
          <input type="hidden" name="_csrf" value="${o.csrf}" />
          <fieldset>
            <legend>The business</legend>
            ${field({
              name: 'legalName',
              label: LICENCE_LABELS.legalName,
              value: v.legalName,
              error: e['legalName'],
              autocomplete: 'organization',
              maxlength: 200,
            })}
            ${field({
              name: 'licenceNumber',
              label: LICENCE_LABELS.licenceNumber,
              value: v.licenceNumber,
              error: e['licenceNumber'],
              maxlength: 64,
            })}
            ${countrySelect(v.country, e['country'])}
            ${field({
              name: 'address',
              label: LICENCE_LABELS.address,
              value: v.address,
              error: e['address'],
              autocomplete: 'street-address',
              maxlength: 300,
            })}
            ${field({
              name: 'websiteUrl',
              label: LICENCE_LABELS.websiteUrl,
              hint: 'The full address of the page that shows your products, e.g. https://shop.example.com',
              value: v.websiteUrl,
              error: e['websiteUrl'],
              type: 'url',
              autocomplete: 'url',
              maxlength: 1024,
              inputmode: 'url',
            })}
          </fieldset>
          <fieldset>
            <legend>Who we contact</legend>
            ${field({
              name: 'contactName',
              label: LICENCE_LABELS.contactName,
              value: v.contactName,
              error: e['contactName'],
              autocomplete: 'name',
              maxlength: 100,
            })}
            ${field({
              name: 'contactEmail',
              label: LICENCE_LABELS.contactEmail,
              value: v.contactEmail,
              error: e['contactEmail'],
              type: 'email',
              autocomplete: 'email',
            })}
            ${field({
              name: 'contactPhone',
              label: LICENCE_LABELS.contactPhone,
              value: v.contactPhone,
              error: e['contactPhone'],
              type: 'tel',
              autocomplete: 'tel',
              required: false,
              maxlength: 24,
            })}
          </fieldset>
          <button type="submit" class="primary ob-inline">
            ${resubmit ? 'Resubmit and check my website' : 'Submit and check my website'}
          </button>
          <p class="muted ob-small">The check takes up to a few seconds.</p>
        </form>
      </section>`,
    scripts: ['forms.js'],
  });
}

function countrySelect(value: string, error: string | undefined): Html {
  return html`<div class="ob-field">
    <label for="f-country">${LICENCE_LABELS.country}</label>
    <select
      id="f-country"
      name="country"
      required
      autocomplete="country"
      ${error ? html`aria-invalid="true" aria-describedby="f-country-error"` : ''}
    >
      <option value="">Choose a country…</option>
      ${COUNTRIES.map(
        (c) => html`<option value="${c.code}" ${c.code === value ? html`selected` : ''}>${c.name}</option>`,
      )}
    </select>
    ${error ? html`<span class="ob-field-error" id="f-country-error">${error}</span>` : ''}
  </div>`;
}
