/**
 * The console's workspace pages: the merchant's mini programs with the create form, and one mini
 * program's page (versions with preview, submit, publish and roll back; the upload form; features;
 * details). Server-rendered, no JavaScript needed: every action is a form (post/redirect/get), each with
 * the console session's CSRF token; uploads are multipart forms. Names, descriptions, notes and review
 * reasons are merchant or operator text, always escaped by the html template.
 */
import { FEATURES, type Feature } from '@billetera/domain';
import type {
  FeatureState,
  FeatureStatus,
  Merchant,
  MiniProgram,
  MiniProgramVersion,
} from '@billetera/store';
import {
  DESCRIPTION_MAX,
  LOGO_MAX_BYTES,
  MAX_SERVER_ORIGINS,
  NAME_MAX,
  NAME_MIN,
  NOTE_MAX,
} from '../services/workspace.ts';
import { CONTENT_TYPES, MAX_FILES, UNZIPPED_MAX_BYTES, ZIP_MAX_BYTES } from '../services/workspace-zip.ts';
import { consolePage } from './console-layout.ts';
import { html, type Html } from './html.ts';

export interface ConsoleFrame {
  merchant: Merchant;
  csrf: string;
}

/** `2026-11-25 12:00 UTC` in a <time>. */
export const timeTag = (ms: number): Html =>
  html`<time datetime="${new Date(ms).toISOString()}"
    >${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC</time
  >`;

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const mib = (n: number) => `${n / 1024 / 1024} MiB`;

function frame(f: ConsoleFrame, title: string, body: Html): string {
  return consolePage({
    title,
    active: 'apps',
    csrf: f.csrf,
    who: f.merchant.name,
    styles: ['workspace.css'],
    body: html`<div class="ws">${body}</div>`,
  });
}

const csrfField = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}" />`;

function messages(notice: string | undefined, error: string | undefined): Html {
  return html`${notice ? html`<p class="ws-notice" role="status">${notice}</p>` : ''}
  ${error ? html`<p class="error ws-error" role="alert" id="ws-error">${error}</p>` : ''}`;
}

const logoImg = (app: MiniProgram, size: number) =>
  app.logoType
    ? html`<img
        src="/console/apps/${app.appId}/logo"
        alt=""
        width="${size}"
        height="${size}"
        class="ws-logo ws-logo-${size}"
      />`
    : html`<span class="ws-logo ws-logo-none ws-logo-${size}" aria-hidden="true"
        >${[...app.name][0] ?? '?'}</span
      >`;

const FEATURE_LABEL: Record<FeatureStatus, string> = {
  ACTIVE: 'active',
  PENDING: 'awaiting approval',
  REJECTED: 'rejected',
};

function featureChips(features: Map<string, FeatureStatus> | undefined): Html {
  const list = [...(features ?? new Map<string, FeatureStatus>())];
  if (list.length === 0) return html`<span class="muted">None</span>`;
  return html`<ul class="ws-chips">
    ${list.map(
      ([f, s]) =>
        html`<li class="ws-chip ws-chip-${s.toLowerCase()}">
          ${FEATURES[f as Feature]?.title ?? f}${s === 'ACTIVE' ? '' : html` <small>(${FEATURE_LABEL[s]})</small>`}
        </li>`,
    )}
  </ul>`;
}

function liveText(app: MiniProgram): Html {
  if (app.hosting === 'EXTERNAL')
    return app.status === 'PUBLISHED'
      ? html`Live (your server)`
      : html`<span class="muted">Not listed</span>`;
  return app.publishedVersion === null
    ? html`<span class="muted">Not published yet</span>`
    : html`Live: version ${app.publishedVersion}`;
}

/** The merchant's onboarding state in words, for why the workspace is read-only. */
const MERCHANT_STATUS: Record<Merchant['status'], string> = {
  DRAFT: 'not submitted for verification yet',
  SUBMITTED: 'being checked',
  CHECK_FAILED: 'waiting for a new website check',
  IN_REVIEW: 'in review by the wallet',
  VERIFIED: 'verified',
  REJECTED: 'rejected',
  FROZEN: 'frozen',
};

// --------------------------------------------------------------------------------------------- list

export interface ListPage {
  apps: MiniProgram[];
  features: Map<string, Map<string, FeatureStatus>>;
  notice?: string | undefined;
  error?: string | undefined;
  /** The create form's values after a refusal. */
  form?: { name: string; description: string; serverOrigins: string } | undefined;
}

export function appsListPage(f: ConsoleFrame, p: ListPage): string {
  const verified = f.merchant.status === 'VERIFIED';
  const body = html`<h1>Mini programs</h1>
    ${messages(p.notice, p.error)}
    ${
      verified
        ? ''
        : html`<section class="card ws-warning" id="not-verified">
            <h2>Creating mini programs needs a verified business</h2>
            <p>
              Your business is <strong>${MERCHANT_STATUS[f.merchant.status]}</strong>. Once the wallet has
              verified your business licence and website, you can create mini programs here, upload them and
              publish them.
            </p>
            <p><a href="/console">See your status on the overview</a></p>
          </section>`
    }
    <section class="card" aria-labelledby="apps-title">
      <h2 id="apps-title">Your mini programs</h2>
      ${
        p.apps.length === 0
          ? html`<p class="muted" id="no-apps">You have no mini programs yet.</p>`
          : html`<div class="ws-table-wrap">
              <table class="ws-table" id="apps-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">appId</th>
                    <th scope="col">Live</th>
                    <th scope="col">Features</th>
                  </tr>
                </thead>
                <tbody>
                  ${p.apps.map(
                    (a) =>
                      html`<tr>
                        <td data-label="Name">
                          <a href="/console/apps/${a.appId}" class="ws-app-link"
                            >${logoImg(a, 32)}<span>${a.name}</span></a
                          >
                        </td>
                        <td data-label="appId"><code>${a.appId}</code></td>
                        <td data-label="Live">${liveText(a)}</td>
                        <td data-label="Features">${featureChips(p.features.get(a.appId))}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
    </section>
    ${verified ? createForm(f, p.form) : ''}`;
  return frame(f, 'Mini programs', body);
}

function createForm(f: ConsoleFrame, form: ListPage['form']): Html {
  return html`<section class="card" aria-labelledby="create-title">
    <h2 id="create-title">Create a mini program</h2>
    <p class="muted">
      It gets its appId at once. Upload a version next, preview it, submit it for review, and publish it once
      approved.
    </p>
    <form method="post" action="/console/apps" enctype="multipart/form-data" class="stack" id="create-form">
      ${csrfField(f.csrf)}
      <label for="app-name">Name</label>
      <input
        id="app-name"
        name="name"
        required
        minlength="${NAME_MIN}"
        maxlength="${NAME_MAX}"
        value="${form?.name ?? ''}"
        aria-describedby="app-name-hint"
      />
      <small id="app-name-hint" class="muted"
        >${NAME_MIN} to ${NAME_MAX} characters, shown in the wallet.</small
      >
      <label for="app-description">Description <span class="muted">(optional)</span></label>
      <textarea id="app-description" name="description" maxlength="${DESCRIPTION_MAX}" rows="2">
${form?.description ?? ''}</textarea>
      <label for="app-logo">Logo <span class="muted">(optional)</span></label>
      <input
        id="app-logo"
        name="logo"
        type="file"
        accept="image/png,image/jpeg"
        aria-describedby="app-logo-hint"
      />
      <small id="app-logo-hint" class="muted"
        >A square PNG or JPEG, at most ${LOGO_MAX_BYTES / 1024} KiB.</small
      >
      ${serverOriginsField(form?.serverOrigins ?? '')}
      <button type="submit" class="primary ws-inline">Create mini program</button>
    </form>
  </section>`;
}

function serverOriginsField(value: string): Html {
  return html`<label for="app-servers">Server origins <span class="muted">(optional)</span></label>
    <textarea
      id="app-servers"
      name="serverOrigins"
      rows="2"
      aria-describedby="app-servers-hint"
      placeholder="https://api.example.com"
    >
${value}</textarea>
    <small id="app-servers-hint" class="muted"
      >Your servers the mini program may call (fetch) and load images from: up to ${MAX_SERVER_ORIGINS}
      origins, one a line. They must answer CORS requests from the origin <code>null</code> (or
      <code>*</code>).</small
    >`;
}

// ------------------------------------------------------------------------------------------- detail

export interface DetailPage {
  app: MiniProgram;
  versions: MiniProgramVersion[];
  features: FeatureState[];
  notice?: string | undefined;
  error?: string | undefined;
}

const VERSION_STATUS: Record<MiniProgramVersion['status'], string> = {
  UPLOADED: 'Uploaded',
  IN_REVIEW: 'In review',
  APPROVED: 'Approved',
  REJECTED: 'Rejected',
};

export function appDetailPage(f: ConsoleFrame, p: DetailPage): string {
  const { app } = p;
  const canChange = f.merchant.status === 'VERIFIED';
  const body = html`<p class="ws-crumbs"><a href="/console/apps">Mini programs</a> ›</p>
    <div class="ws-title">
      ${logoImg(app, 56)}
      <div>
        <h1>${app.name}</h1>
        <p class="ws-sub">
          appId <code id="app-id">${app.appId}</code> · <span id="live">${liveText(app)}</span>
        </p>
      </div>
    </div>
    ${app.description ? html`<p class="ws-description">${app.description}</p>` : ''}
    ${messages(p.notice, p.error)}
    ${
      canChange
        ? ''
        : html`<p class="ws-warning" id="not-verified">
            Your business is <strong>${MERCHANT_STATUS[f.merchant.status]}</strong>: changes are possible
            again once it is verified.
          </p>`
    }
    ${
      app.hosting === 'UPLOADED'
        ? html`${versionsSection(f, p, canChange)} ${canChange ? uploadSection(f, app) : ''}`
        : html`<section class="card">
            <h2>Served from your server</h2>
            <p>The wallet frames <code>${app.entryUrl}</code> for this mini program.</p>
          </section>`
    }
    ${featuresSection(f, p, canChange)} ${canChange ? detailsSection(f, app) : ''}`;
  return frame(f, app.name, body);
}

function versionsSection(f: ConsoleFrame, p: DetailPage, canChange: boolean): Html {
  const { app } = p;
  const newestApproved = p.versions.find((v) => v.status === 'APPROVED')?.version;
  return html`<section class="card" aria-labelledby="versions-title">
    <h2 id="versions-title">Versions</h2>
    ${
      p.versions.length === 0
        ? html`<p class="muted" id="no-versions">No version uploaded yet: upload a zip below.</p>`
        : html`<div class="ws-table-wrap">
              <table class="ws-table" id="versions-table">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Status</th>
                    <th scope="col">Size</th>
                    <th scope="col">Uploaded</th>
                    <th scope="col">Review</th>
                    <th scope="col"><span class="ws-sr">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${p.versions.map((v) => {
                    const live = app.publishedVersion === v.version;
                    return html`<tr id="version-${v.version}" class="${live ? 'ws-live' : ''}">
                      <td data-label="Version">
                        <strong>${v.version}</strong>${live ? html` <span class="ws-badge">Live</span>` : ''}
                        ${v.note ? html`<br /><small class="muted">${v.note}</small>` : ''}
                      </td>
                      <td data-label="Status">
                        <span class="ws-status ws-status-${v.status.toLowerCase()}"
                          >${VERSION_STATUS[v.status]}</span
                        >
                      </td>
                      <td data-label="Size">${sizeText(v.sizeBytes)}, ${v.fileCount} files</td>
                      <td data-label="Uploaded">${timeTag(v.uploadedAt)}</td>
                      <td data-label="Review">
                        ${v.reviewedAt !== null ? timeTag(v.reviewedAt) : html`<span class="muted">—</span>`}
                        ${v.reviewReason ? html`<br /><small class="ws-reason">${v.reviewReason}</small>` : ''}
                      </td>
                      <td class="ws-actions">
                        <a
                          href="/console/apps/${app.appId}/versions/${v.version}/preview"
                          class="button ws-inline"
                          aria-label="Preview version ${v.version}"
                          >Preview</a
                        >
                        ${
                          canChange && v.status === 'UPLOADED'
                            ? actionForm(
                                f,
                                `/console/apps/${app.appId}/versions/${v.version}/submit`,
                                'Submit for review',
                                true,
                                `Submit version ${v.version} for review`,
                              )
                            : ''
                        }
                        ${
                          canChange && v.status === 'APPROVED' && !live
                            ? actionForm(
                                f,
                                `/console/apps/${app.appId}/versions/${v.version}/publish`,
                                app.publishedVersion !== null && v.version < app.publishedVersion
                                  ? 'Roll back to this'
                                  : 'Publish',
                                v.version === newestApproved,
                                `${app.publishedVersion !== null && v.version < app.publishedVersion ? 'Roll back to' : 'Publish'} version ${v.version}`,
                              )
                            : ''
                        }
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>
            <p class="muted ws-small">
              Preview opens a version in the wallet's mini program frame (for an hour, for you only). Payments
              in a preview need you to be signed in to the wallet app in this browser too.
            </p>`
    }
  </section>`;
}

function actionForm(f: ConsoleFrame, action: string, label: string, primary: boolean, aria: string): Html {
  return html`<form method="post" action="${action}" class="ws-inline-form">
    ${csrfField(f.csrf)}<button
      type="submit"
      class="${primary ? 'primary ' : ''}ws-inline"
      aria-label="${aria}"
    >
      ${label}
    </button>
  </form>`;
}

function uploadSection(f: ConsoleFrame, app: MiniProgram): Html {
  return html`<section class="card" aria-labelledby="upload-title">
    <h2 id="upload-title">Upload a version</h2>
    <form
      method="post"
      action="/console/apps/${app.appId}/versions"
      enctype="multipart/form-data"
      class="stack"
      id="upload-form"
    >
      ${csrfField(f.csrf)}
      <label for="zip">Zip of your mini program</label>
      <input
        id="zip"
        name="zip"
        type="file"
        accept=".zip,application/zip"
        required
        aria-describedby="zip-hint"
      />
      <small id="zip-hint" class="muted"
        ><code>index.html</code> at the top (or in one folder holding everything). At most
        ${mib(ZIP_MAX_BYTES)} zipped, ${mib(UNZIPPED_MAX_BYTES)} unzipped, ${MAX_FILES} files. File types:
        ${Object.keys(CONTENT_TYPES).join(', ')}. Load the bridge with
        <code>&lt;script src="/jsapi/my.js"&gt;&lt;/script&gt;</code>; no inline scripts.</small
      >
      <label for="note">What changed <span class="muted">(optional)</span></label>
      <input id="note" name="note" maxlength="${NOTE_MAX}" />
      <button type="submit" class="primary ws-inline">Upload</button>
    </form>
  </section>`;
}

function featuresSection(f: ConsoleFrame, p: DetailPage, canChange: boolean): Html {
  const states = new Map(p.features.map((s) => [s.feature, s]));
  const base = `/console/apps/${p.app.appId}/features`;
  const row = (feature: Feature, body: Html) =>
    html`<li class="ws-feature" id="feature-${feature}">
      <div>
        <strong>${FEATURES[feature].title}</strong>
        <p class="muted ws-small">${FEATURES[feature].description}</p>
      </div>
      ${body}
    </li>`;
  const button = (feature: Feature, op: 'add' | 'remove', label: string, aria: string) =>
    canChange ? actionForm(f, `${base}/${feature}/${op}`, label, op === 'add', aria) : '';

  const payment = states.get('PAYMENT');
  const userInfo = states.get('USER_INFO');
  return html`<section class="card" aria-labelledby="features-title">
    <h2 id="features-title">Features</h2>
    <p class="muted ws-small">
      Features decide which JSAPIs and OpenAPIs this mini program may use. Without one, the JSAPI fails in the
      mini program with error 4 and the OpenAPI answers <code>ACCESS_DENIED</code>.
    </p>
    <ul class="ws-features">
      ${row(
        'PAYMENT',
        payment?.status === 'ACTIVE'
          ? html`<div class="ws-feature-state">
              <span class="ws-status ws-status-approved">Active</span>
              ${button('PAYMENT', 'remove', 'Remove', 'Remove the Payment feature')}
            </div>`
          : html`<div class="ws-feature-state">
              <span class="ws-status">Not added</span>
              ${button('PAYMENT', 'add', 'Add', 'Add the Payment feature')}
            </div>`,
      )}
      ${row(
        'USER_INFO',
        userInfo === undefined
          ? html`<div class="ws-feature-state">
              <span class="ws-status">Not added</span>
              ${button('USER_INFO', 'add', 'Add', 'Add the User information feature')}
            </div>`
          : userInfo.status === 'PENDING'
            ? html`<div class="ws-feature-state">
                <span class="ws-status ws-status-in_review">Awaiting approval</span>
                <p class="ws-small">Only the user id is shared until an operator approves.</p>
                ${button('USER_INFO', 'remove', 'Withdraw', 'Withdraw the User information request')}
              </div>`
            : userInfo.status === 'ACTIVE'
              ? html`<div class="ws-feature-state">
                  <span class="ws-status ws-status-approved">Active</span>
                  ${button('USER_INFO', 'remove', 'Remove', 'Remove the User information feature')}
                </div>`
              : html`<div class="ws-feature-state">
                  <span class="ws-status ws-status-rejected">Rejected</span>
                  ${
                    userInfo.decisionReason
                      ? html`<p class="ws-small ws-reason">${userInfo.decisionReason}</p>`
                      : ''
                  }
                  ${button('USER_INFO', 'add', 'Request again', 'Request the User information feature again')}
                </div>`,
      )}
    </ul>
  </section>`;
}

function detailsSection(f: ConsoleFrame, app: MiniProgram): Html {
  return html`<section class="card" aria-labelledby="details-title">
    <h2 id="details-title">Details</h2>
    <form
      method="post"
      action="/console/apps/${app.appId}/details"
      enctype="multipart/form-data"
      class="stack"
      id="details-form"
    >
      ${csrfField(f.csrf)}
      <label for="details-description">Description</label>
      <textarea id="details-description" name="description" maxlength="${DESCRIPTION_MAX}" rows="2">
${app.description}</textarea>
      <label for="details-logo">New logo <span class="muted">(optional)</span></label>
      <input id="details-logo" name="logo" type="file" accept="image/png,image/jpeg" />
      ${app.hosting === 'UPLOADED' ? serverOriginsField(app.serverOrigins.join('\n')) : ''}
      <button type="submit" class="ws-inline">Save details</button>
    </form>
  </section>`;
}

/** Not found, not allowed, or refused: a message in the console frame. */
export function workspaceMessagePage(f: ConsoleFrame, title: string, message: string): string {
  return frame(
    f,
    title,
    html`<h1>${title}</h1>
      <section class="card">
        <p>${message}</p>
        <p><a href="/console/apps">Back to your mini programs</a></p>
      </section>`,
  );
}
