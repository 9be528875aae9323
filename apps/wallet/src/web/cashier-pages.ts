/** The cashier's pages: sign-in, payment sheet, PIN, success, and one page for each state that cannot be paid. */
import { formatAmount, formatWireTime } from '@billetera/protocol';
import type { Payment } from '@billetera/store';
import { html, type Html } from './html.ts';
import { page } from './layout.ts';

export interface SheetView {
  payment: Payment;
  payee: string;
  balance: bigint;
  csrf: string;
  embedded: boolean;
}

const amountOf = (p: Payment): string => formatAmount(p.amount, p.currency);
const q = (embedded: boolean): string => (embedded ? '?embed=1' : '');

function orderSummary(payment: Payment, payee: string): Html {
  return html`<dl class="summary">
    <div>
      <dt>Pay to</dt>
      <dd class="payee">${payee}</dd>
    </div>
    <div>
      <dt>Order</dt>
      <dd class="order-title">${payment.orderTitle}</dd>
    </div>
    <div>
      <dt>Amount</dt>
      <dd class="amount">${amountOf(payment)}</dd>
    </div>
  </dl>`;
}

export function signInPage(o: {
  next: string;
  csrf: string;
  error?: string | undefined;
  phone?: string;
  embedded: boolean;
  heading?: string;
}): string {
  return page({
    title: 'Log in',
    embedded: o.embedded,
    body: html`<section class="card" aria-labelledby="signin-title">
      <h1 id="signin-title">${o.heading ?? 'Log in to Billetera'}</h1>
      ${o.error ? html`<p class="error" role="alert" id="signin-error">${o.error}</p>` : ''}
      <form method="post" action="/login" class="stack" novalidate>
        <input type="hidden" name="_csrf" value="${o.csrf}" />
        <input type="hidden" name="next" value="${o.next}" />
        <label for="phone">Phone number</label>
        <input
          id="phone"
          name="phone"
          type="tel"
          inputmode="tel"
          autocomplete="tel"
          required
          value="${o.phone ?? ''}"
          ${o.error ? html`aria-describedby="signin-error"` : ''}
        />
        <label for="pin">PIN</label>
        <input
          id="pin"
          name="pin"
          type="password"
          inputmode="numeric"
          pattern="[0-9]{6}"
          maxlength="6"
          autocomplete="current-password"
          required
        />
        <button type="submit" class="primary">Log in</button>
      </form>
    </section>`,
    scripts: ['forms.js'],
  });
}

export function sheetPage(v: SheetView): string {
  const enough = v.balance >= v.payment.amount;
  return page({
    title: 'Confirm payment',
    embedded: v.embedded,
    body: html`<section class="card sheet" aria-labelledby="sheet-title">
      <h1 id="sheet-title">Confirm payment</h1>
      ${orderSummary(v.payment, v.payee)}
      <p class="balance">Your balance: <strong>${formatAmount(v.balance, v.payment.currency)}</strong></p>
      ${
        enough
          ? html`<a class="button primary" id="pay" href="/cashier/${v.payment.id}/pin${q(v.embedded)}"
              >Pay</a
            >`
          : html`<p class="error" role="alert">
              Balance too low: you need ${amountOf(v.payment)} and have
              ${formatAmount(v.balance, v.payment.currency)}.
            </p>`
      }
    </section>`,
  });
}

export function pinPage(v: SheetView & { error?: string | undefined }): string {
  return page({
    title: 'Enter your PIN',
    embedded: v.embedded,
    body: html`<section class="card sheet" aria-labelledby="pin-title">
      <h1 id="pin-title">Pay ${amountOf(v.payment)}</h1>
      ${orderSummary(v.payment, v.payee)}
      ${v.error ? html`<p class="error" role="alert" id="pin-error">${v.error}</p>` : ''}
      <form method="post" action="/cashier/${v.payment.id}/confirm${q(v.embedded)}" class="stack" data-once>
        <input type="hidden" name="_csrf" value="${v.csrf}" />
        <label for="pin">PIN</label>
        <input
          id="pin"
          name="pin"
          type="password"
          inputmode="numeric"
          pattern="[0-9]{6}"
          maxlength="6"
          autocomplete="off"
          required
          autofocus
          ${v.error ? html`aria-describedby="pin-error"` : ''}
        />
        <button type="submit" class="primary" id="confirm">Pay ${amountOf(v.payment)}</button>
      </form>
      <p><a href="/cashier/${v.payment.id}${q(v.embedded)}">Back</a></p>
    </section>`,
    scripts: ['forms.js'],
  });
}

export function successPage(o: { payment: Payment; payee: string; embedded: boolean }): string {
  const p = o.payment;
  return page({
    title: 'Payment successful',
    embedded: o.embedded,
    bodyClass: 'state-success',
    body: html`<section
      class="card result"
      aria-labelledby="result-title"
      data-payment-id="${p.id}"
      data-status="SUCCESS"
      data-return-url="${!o.embedded && p.returnUrl ? p.returnUrl : ''}"
    >
      <p class="icon" aria-hidden="true">✓</p>
      <h1 id="result-title">Payment successful</h1>
      <dl class="summary">
        <div>
          <dt>Paid to</dt>
          <dd class="payee">${o.payee}</dd>
        </div>
        <div>
          <dt>Amount</dt>
          <dd class="amount">${amountOf(p)}</dd>
        </div>
        <div>
          <dt>Time</dt>
          <dd>
            <time datetime="${formatWireTime(p.paidAt ?? p.createdAt)}"
              >${humanTime(p.paidAt ?? p.createdAt)}</time
            >
          </dd>
        </div>
      </dl>
      ${
        o.embedded
          ? html`<button type="button" class="primary" data-close>Done</button>`
          : p.returnUrl
            ? html`<a class="button primary" id="return" href="${p.returnUrl}">Return to ${o.payee}</a>`
            : ''
      }
    </section>`,
    scripts: ['result.js'],
  });
}

export type StateKind =
  'expired' | 'cancelled' | 'already-paid' | 'failed' | 'balance-too-low' | 'locked' | 'not-found';

const STATES: Record<StateKind, { title: string; text: string }> = {
  expired: {
    title: 'This order has expired',
    text: 'The time to pay this order is over. Go back to the merchant to order again.',
  },
  cancelled: {
    title: 'This order was cancelled',
    text: 'The merchant cancelled this order, so it can no longer be paid.',
  },
  'already-paid': {
    title: 'This order is already paid',
    text: 'Someone has already paid this order. Nothing more was charged.',
  },
  failed: {
    title: 'This order can no longer be paid',
    text: 'The payment failed. Go back to the merchant to order again.',
  },
  'balance-too-low': {
    title: 'Balance too low',
    text: 'Your balance does not cover this payment. Nothing was charged.',
  },
  locked: { title: 'Account locked', text: '' },
  'not-found': {
    title: 'Payment not found',
    text: 'There is no payment at this address. Check the link the merchant gave you.',
  },
};

export function statePage(o: {
  kind: StateKind;
  payment?: Payment | undefined;
  payee?: string | undefined;
  embedded: boolean;
  detail?: string | undefined;
}): string {
  const s = STATES[o.kind];
  return page({
    title: s.title,
    embedded: o.embedded,
    bodyClass: `state-${o.kind}`,
    body: html`<section
      class="card result"
      aria-labelledby="result-title"
      data-payment-id="${o.payment?.id ?? ''}"
      data-status="${o.payment?.status ?? ''}"
    >
      <p class="icon" aria-hidden="true">!</p>
      <h1 id="result-title">${s.title}</h1>
      <p role="status">${o.detail ?? s.text}</p>
      ${o.payment && o.payee ? orderSummary(o.payment, o.payee) : ''}
      ${o.embedded ? html`<button type="button" data-close>Close</button>` : ''}
    </section>`,
    scripts: ['result.js'],
  });
}

function humanTime(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}
