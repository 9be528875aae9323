/**
 * The console's payment views: the payments list (search by id, status, dates; keyset pages), a
 * payment's timeline, and the notification deliveries with their redeliver forms. Server-rendered with
 * the escaping html template: titles, URLs and merchants' reply excerpts are text, never markup.
 * Also the pieces every console view page shares (the frame, times, "not available" and error pages).
 */
import { formatAmount } from '@billetera/protocol';
import type { DeliverySummary, Merchant, MerchantStatus, Payment } from '@billetera/store';
import type {
  NotificationPage,
  NotificationView,
  PaymentPage,
  PaymentTimeline,
  TimelineEvent,
} from '../services/console-views.ts';
import { NOTIFICATION_STATUSES, PAYMENT_STATUSES } from '../services/console-views.ts';
import { consolePage, type ConsoleSection } from './console-layout.ts';
import { html, type Html } from './html.ts';

/** What every signed-in console view page needs. */
export interface ViewFrame {
  merchant: Merchant;
  csrf: string;
}

export function viewPage(
  f: ViewFrame,
  o: { title: string; active: ConsoleSection; body: Html; scripts?: string[] },
): string {
  return consolePage({
    title: o.title,
    active: o.active,
    csrf: f.csrf,
    who: f.merchant.name,
    body: html`<div class="cv">${o.body}</div>`,
    styles: ['console-views.css'],
    ...(o.scripts ? { scripts: o.scripts } : {}),
  });
}

/** `2026-11-25 12:00:05 UTC` */
export const when = (ms: number): string =>
  `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export const timeTag = (ms: number): Html =>
  html`<time datetime="${new Date(ms).toISOString()}">${when(ms)}</time>`;

const MERCHANT_STATUS_LABELS: Record<MerchantStatus, string> = {
  DRAFT: 'Draft: your business details are not submitted yet',
  SUBMITTED: 'Submitted: your business details are being checked',
  CHECK_FAILED: 'Website check failed: see the overview',
  IN_REVIEW: 'In review by our team',
  VERIFIED: 'Verified',
  REJECTED: 'Rejected: see the overview for the reason',
  FROZEN: 'Frozen',
};

/** For a merchant that is not verified (nor frozen): why the page is empty, and where to go. */
export function notAvailablePage(f: ViewFrame, active: ConsoleSection, title: string, what: string): string {
  return viewPage(f, {
    title,
    active,
    body: html`<h1>${title}</h1>
      <section class="card cv-unavailable">
        <p>${what} once your business is verified.</p>
        <p>Status: <strong>${MERCHANT_STATUS_LABELS[f.merchant.status]}</strong>.</p>
        <p><a href="/console" class="button primary cv-inline">Go to the overview</a></p>
      </section>`,
  });
}

/** A plain message page (not found, refused), in the console frame. */
export function messagePage(
  f: ViewFrame,
  active: ConsoleSection,
  title: string,
  message: string,
  back: string,
): string {
  return viewPage(f, {
    title,
    active,
    body: html`<h1>${title}</h1>
      <section class="card">
        <p>${message}</p>
        <p><a href="${back}">Back</a></p>
      </section>`,
  });
}

/** The banner of a frozen merchant's pages. */
export const frozenBanner = (what: string): Html =>
  html`<p class="cv-banner" role="note">
    This merchant is <strong>frozen</strong>: ${what} are read-only until it is unfrozen. Contact support.
  </p>`;

const PAYMENT_STATUS_LABELS: Record<Payment['status'], string> = {
  PROCESSING: 'Awaiting payment',
  SUCCESS: 'Paid',
  FAIL: 'Failed',
  CANCELLED: 'Cancelled',
};

export const paymentBadge = (status: Payment['status']): Html =>
  html`<span class="cv-badge cv-${status.toLowerCase()}">${PAYMENT_STATUS_LABELS[status]}</span>`;

const DELIVERY_LABELS: Record<DeliverySummary['status'], string> = {
  PENDING: 'Pending',
  DELIVERED: 'Delivered',
  FAILED: 'Failed',
};

export const deliveryBadge = (status: DeliverySummary['status']): Html =>
  html`<span class="cv-badge cv-n-${status.toLowerCase()}">${DELIVERY_LABELS[status]}</span>`;

const notificationName = (n: { kind: DeliverySummary['kind']; seq: number }): string =>
  `${n.kind === 'REFUND' ? 'notifyRefund' : 'notifyPayment'} #${n.seq}`;

const notice = (text: string | undefined): Html =>
  text ? html`<p class="cv-notice" role="status">${text}</p>` : html``;
const errorBox = (text: string | undefined): Html =>
  text ? html`<p class="error" role="alert">${text}</p>` : html``;

function link(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---------------------------------------------------------------------------------------------------------
// Payments list.

export function paymentsPage(f: ViewFrame, page: PaymentPage): string {
  const { filter } = page;
  const filtered = Boolean(filter.q || filter.status || filter.from || filter.to);
  const rows = page.rows.map(
    (p) =>
      html`<tr>
        <td data-label="Created">${timeTag(p.createdAt)}</td>
        <td data-label="Payment">
          <a href="/console/payments/${encodeURIComponent(p.id)}"><code>${p.id}</code></a>
        </td>
        <td data-label="paymentRequestId"><code>${p.paymentRequestId}</code></td>
        <td data-label="Title">${p.orderTitle}</td>
        <td data-label="Amount" class="cv-num">${formatAmount(p.amount, p.currency)}</td>
        <td data-label="Status">
          ${paymentBadge(p.status)}
          ${
            p.refundedAmount > 0n
              ? html`<small class="cv-refunded"
                  >refunded ${formatAmount(p.refundedAmount, p.currency)}</small
                >`
              : ''
          }
        </td>
      </tr>`,
  );
  return viewPage(f, {
    title: 'Payments',
    active: 'payments',
    body: html`<h1>Payments</h1>
      <form
        method="get"
        action="/console/payments"
        class="card cv-filters"
        role="search"
        aria-label="Find payments"
      >
        <div class="cv-field cv-wide-field">
          <label for="q">Payment id or paymentRequestId</label>
          <input id="q" name="q" value="${filter.q}" autocomplete="off" spellcheck="false" />
        </div>
        <div class="cv-field">
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">Any</option>
            ${PAYMENT_STATUSES.map(
              (s) =>
                html`<option value="${s}" ${filter.status === s ? html`selected` : ''}>
                  ${s} (${PAYMENT_STATUS_LABELS[s]})
                </option>`,
            )}
          </select>
        </div>
        <div class="cv-field">
          <label for="from">Created from (UTC)</label>
          <input id="from" name="from" type="date" value="${filter.from}" />
        </div>
        <div class="cv-field">
          <label for="to">to (UTC, inclusive)</label>
          <input id="to" name="to" type="date" value="${filter.to}" />
        </div>
        <div class="cv-actions">
          <button type="submit" class="primary">Search</button>
          ${filtered ? html`<a href="/console/payments">Clear</a>` : ''}
        </div>
      </form>
      ${page.errors.map((e) => errorBox(e))}
      ${
        page.errors.length > 0
          ? ''
          : page.rows.length === 0
            ? html`<p class="card cv-empty">
                ${filtered ? 'No payment matches these filters.' : 'No payments yet.'}
                ${page.paged ? html`<a href="${link('/console/payments', { ...filter })}">Back to the newest</a>` : ''}
              </p>`
            : html`<div class="cv-table-wrap">
                  <table class="cv-table">
                    <caption class="cv-sr">
                      Payments, newest first
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Created</th>
                        <th scope="col">Payment</th>
                        <th scope="col">paymentRequestId</th>
                        <th scope="col">Title</th>
                        <th scope="col" class="cv-num">Amount</th>
                        <th scope="col">Status</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${rows}
                    </tbody>
                  </table>
                </div>
                ${pager('/console/payments', { ...filter }, page, 'Older payments')}`
      }`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// A payment's timeline.

const OUTCOME_LABELS: Record<NotificationView['attemptsList'][number]['outcome'], string> = {
  ACKNOWLEDGED: 'Acknowledged',
  NOT_ACKNOWLEDGED: 'Not acknowledged',
  HTTP_ERROR: 'HTTP error',
  TIMEOUT: 'Timed out',
  NETWORK_ERROR: 'Network error',
};

export interface TimelineExtras {
  notice?: string | undefined;
  error?: string | undefined;
  canRedeliver: boolean;
  frozen: boolean;
}

export function timelinePage(f: ViewFrame, t: PaymentTimeline, x: TimelineExtras): string {
  const p = t.payment;
  return viewPage(f, {
    title: `Payment ${p.id}`,
    active: 'payments',
    body: html`<p class="cv-crumbs"><a href="/console/payments">Payments</a> /</p>
      <h1 class="cv-id-title">Payment <code>${p.id}</code></h1>
      ${x.frozen ? frozenBanner('notifications') : ''} ${notice(x.notice)} ${errorBox(x.error)}
      <section class="card">
        <dl class="cv-facts">
          <div>
            <dt>Status</dt>
            <dd>${paymentBadge(p.status)}</dd>
          </div>
          <div>
            <dt>Amount</dt>
            <dd>${formatAmount(p.amount, p.currency)}</dd>
          </div>
          ${
            p.refundedAmount > 0n
              ? html`<div>
                  <dt>Refunded</dt>
                  <dd>${formatAmount(p.refundedAmount, p.currency)}</dd>
                </div>`
              : ''
          }
          <div>
            <dt>Title</dt>
            <dd>${p.orderTitle}</dd>
          </div>
          <div>
            <dt>paymentRequestId</dt>
            <dd><code>${p.paymentRequestId}</code></dd>
          </div>
          <div>
            <dt>Mini program (appId)</dt>
            <dd>${p.appId ? html`<code>${p.appId}</code>` : 'none (web checkout)'}</dd>
          </div>
          <div>
            <dt>API</dt>
            <dd>${p.apiVersion}</dd>
          </div>
        </dl>
      </section>
      <section class="card">
        <h2>Timeline</h2>
        <ol class="cv-timeline">
          ${t.events.map((e) => timelineItem(e, p, f, x))}
        </ol>
      </section>`,
  });
}

function timelineItem(e: TimelineEvent, p: Payment, f: ViewFrame, x: TimelineExtras): Html {
  const at = e.at === null ? html`<span class="muted">time not recorded</span>` : timeTag(e.at);
  switch (e.kind) {
    case 'CREATED':
      return item(
        'created',
        at,
        'Created',
        html`${formatAmount(p.amount, p.currency)} ·
        “${p.orderTitle}”${p.appId ? html` · appId <code>${p.appId}</code>` : ''}`,
      );
    case 'EXPIRES':
      return item('pending', at, 'Expires', html`unpaid orders fail at this time and are notified`);
    case 'PAID':
      return item('ok', at, 'Paid', html`the customer confirmed the payment with their PIN`);
    case 'FAILED':
      return item(
        'bad',
        at,
        e.reason === 'ORDER_EXPIRED' ? 'Expired unpaid' : 'Failed',
        e.reason ? html`paymentFailReason <code>${e.reason}</code>` : html``,
      );
    case 'CANCELLED':
      return item('bad', at, 'Cancelled', html`by your server (payments/cancel)`);
    case 'REFUNDED':
      return item(
        'refund',
        at,
        'Refunded',
        html`${formatAmount(e.refund.amount, e.refund.currency)} · refundRequestId
          <code>${e.refund.refundRequestId}</code> · refundId <code>${e.refund.id}</code>${
            e.refund.reason ? html` · “${e.refund.reason}”` : ''
          }`,
      );
    case 'NOTIFICATION':
      return notificationItem(e.notification, at, f, x);
  }
}

function item(tone: string, at: Html, label: string, detail: Html): Html {
  return html`<li class="cv-event cv-tone-${tone}">
    <div class="cv-event-head"><strong>${label}</strong> ${at}</div>
    <div class="cv-event-body">${detail}</div>
  </li>`;
}

function notificationItem(n: NotificationView, at: Html, f: ViewFrame, x: TimelineExtras): Html {
  return html`<li class="cv-event cv-tone-notify" id="${n.id}">
    <div class="cv-event-head">
      <strong>Notification ${notificationName(n)}</strong> ${at} ${deliveryBadge(n.status)}
    </div>
    <div class="cv-event-body">
      <p class="cv-small">
        <code>${n.id}</code> to <code class="cv-url">${n.url}</code> · ${n.attempts}
        attempt${n.attempts === 1 ? '' : 's'}${n.redeliveries > 0 ? ` · redelivered ${n.redeliveries}×` : ''}${
          n.status === 'PENDING' ? html` · next attempt ${timeTag(n.nextAttemptAt)}` : ''
        }
      </p>
      ${n.attemptsList.length > 0 ? attemptsTable(n) : html`<p class="cv-small muted">No attempt yet.</p>`}
      ${x.canRedeliver ? redeliverForm(n, f, 'timeline') : ''}
    </div>
  </li>`;
}

function attemptsTable(n: NotificationView): Html {
  return html`<div class="cv-table-wrap">
    <table class="cv-table cv-attempts">
      <caption class="cv-sr">
        Attempts of ${n.id}
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">When</th>
          <th scope="col">HTTP</th>
          <th scope="col">Outcome</th>
          <th scope="col" class="cv-num">Latency</th>
          <th scope="col">Reply</th>
        </tr>
      </thead>
      <tbody>
        ${n.attemptsList.map(
          (a) =>
            html`<tr>
              <td data-label="#">${a.attemptNo}</td>
              <td data-label="When">${timeTag(a.startedAt)}</td>
              <td data-label="HTTP">${a.httpStatus ?? '—'}</td>
              <td data-label="Outcome">
                <span class="${a.outcome === 'ACKNOWLEDGED' ? 'cv-good' : 'cv-bad'}"
                  >${OUTCOME_LABELS[a.outcome]}</span
                >
              </td>
              <td data-label="Latency" class="cv-num">${a.latencyMs} ms</td>
              <td data-label="Reply">
                ${
                  a.replyExcerpt !== null && a.replyExcerpt !== ''
                    ? html`<code class="cv-excerpt">${a.replyExcerpt.slice(0, 300)}</code>`
                    : ''
                }
                ${a.error ? html`<span class="cv-small cv-bad">${a.error.slice(0, 300)}</span>` : ''}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/** The redeliver form: for FAILED, one button; for DELIVERED, a required "send again" confirmation. */
function redeliverForm(n: DeliverySummary, f: ViewFrame, back: 'timeline' | 'list', status = ''): Html {
  if (n.status === 'PENDING') return html``;
  return html`<form
    method="post"
    action="/console/notifications/${encodeURIComponent(n.id)}/redeliver"
    class="cv-redeliver"
  >
    <input type="hidden" name="_csrf" value="${f.csrf}" />
    <input type="hidden" name="back" value="${back}" />
    ${status ? html`<input type="hidden" name="status" value="${status}" />` : ''}
    ${
      n.status === 'DELIVERED'
        ? html`<label class="cv-check"
            ><input type="checkbox" name="force" value="1" required /> Send again although delivered</label
          >`
        : ''
    }
    <button type="submit" class="${n.status === 'FAILED' ? 'primary' : ''}" aria-label="Redeliver ${n.id}">
      Redeliver
    </button>
  </form>`;
}

// ---------------------------------------------------------------------------------------------------------
// Notification deliveries.

export interface NotificationsExtras {
  notice?: string | undefined;
  error?: string | undefined;
  canRedeliver: boolean;
  frozen: boolean;
}

export function notificationsPage(f: ViewFrame, page: NotificationPage, x: NotificationsExtras): string {
  const { filter } = page;
  const base = { status: filter.status || undefined, paymentId: filter.paymentId || undefined };
  const rows = page.rows.map(
    (n) =>
      html`<tr>
        <td data-label="Created">${timeTag(n.createdAt)}</td>
        <td data-label="Notification"><code>${n.id}</code><br /><small>${notificationName(n)}</small></td>
        <td data-label="Payment">
          <a href="/console/payments/${encodeURIComponent(n.paymentId)}#${n.id}"
            ><code>${n.paymentId}</code></a
          >
        </td>
        <td data-label="Status">${deliveryBadge(n.status)}</td>
        <td data-label="Attempts" class="cv-num">${n.attempts}</td>
        <td data-label="Last attempt">
          ${n.lastAttemptAt === null ? html`<span class="muted">none yet</span>` : timeTag(n.lastAttemptAt)}
          ${n.status === 'PENDING' ? html`<br /><small>next ${timeTag(n.nextAttemptAt)}</small>` : ''}
          ${n.status !== 'DELIVERED' && n.lastError ? html`<br /><small class="cv-bad">${n.lastError.slice(0, 120)}</small>` : ''}
        </td>
        <td data-label="Action">${x.canRedeliver ? redeliverForm(n, f, 'list', filter.status) : ''}</td>
      </tr>`,
  );
  return viewPage(f, {
    title: 'Notifications',
    active: 'notifications',
    body: html`<h1>Notifications</h1>
      ${x.frozen ? frozenBanner('notifications') : ''} ${notice(x.notice)} ${errorBox(x.error)}
      <p class="cv-lead">
        Every notifyPayment and notifyRefund sent to your server, newest first. A delivery is retried for
        about 24 hours (0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h) until your server answers HTTP 200
        with
        <code>result.resultStatus</code> "S"; after that it is Failed and you can redeliver it here.
      </p>
      <form
        method="get"
        action="/console/notifications"
        class="card cv-filters"
        aria-label="Filter notifications"
      >
        ${filter.paymentId ? html`<input type="hidden" name="paymentId" value="${filter.paymentId}" />` : ''}
        <div class="cv-field">
          <label for="nstatus">Status</label>
          <select id="nstatus" name="status">
            <option value="">Any</option>
            ${NOTIFICATION_STATUSES.map(
              (s) =>
                html`<option value="${s}" ${filter.status === s ? html`selected` : ''}>
                  ${DELIVERY_LABELS[s]}
                </option>`,
            )}
          </select>
        </div>
        <div class="cv-actions">
          <button type="submit" class="primary">Show</button>
          ${
            filter.paymentId
              ? html`<span class="cv-small"
                  >for payment <code>${filter.paymentId}</code> ·
                  <a href="${link('/console/notifications', { status: base.status })}">all payments</a></span
                >`
              : ''
          }
        </div>
      </form>
      ${page.errors.map((e) => errorBox(e))}
      ${
        page.errors.length > 0
          ? ''
          : page.rows.length === 0
            ? html`<p class="card cv-empty">No notifications${filter.status ? ' with this status' : ''}.</p>`
            : html`<div class="cv-table-wrap">
                  <table class="cv-table">
                    <caption class="cv-sr">
                      Notifications, newest first
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Created</th>
                        <th scope="col">Notification</th>
                        <th scope="col">Payment</th>
                        <th scope="col">Status</th>
                        <th scope="col" class="cv-num">Attempts</th>
                        <th scope="col">Last attempt</th>
                        <th scope="col"><span class="cv-sr">Action</span></th>
                      </tr>
                    </thead>
                    <tbody>
                      ${rows}
                    </tbody>
                  </table>
                </div>
                ${pager('/console/notifications', base, page, 'Older notifications')}`
      }`,
  });
}

/** Newest / older links of a keyset-paged list. */
function pager(
  path: string,
  base: Record<string, string | undefined>,
  page: { paged: boolean; next?: string | undefined },
  olderLabel: string,
): Html {
  return html`<nav class="cv-pager" aria-label="Pages">
    ${page.paged ? html`<a href="${link(path, base)}">Newest</a>` : ''}
    ${page.next ? html`<a href="${link(path, { ...base, after: page.next })}" rel="next">${olderLabel}</a>` : ''}
  </nav>`;
}
