// The demo shop's mini program. Plain browser JavaScript, no build. It runs in the wallet's sandboxed
// iframe: `my` comes from the wallet's /jsapi/my.js, and every API call goes to the shop's own server
// (absolute URLs from this page's URL; the iframe's origin is opaque, so they are CORS requests).
//
// The result page shows what the SHOP SERVER confirmed (from the wallet's signed notification, or from
// its inquiry), never just what tradePay's resultCode claims.
//
// "Sign in with Billetera" runs only when the user taps it: my.getAuthCode asks the user, and only a
// granted authCode goes to the shop, which exchanges it with the wallet. The sign-in lives in this
// page's memory (the sandboxed iframe has no cookies or storage): reloading the mini program forgets it.
'use strict';

/** How often the result page asks the shop, and for how long before offering "Check again". */
const POLL_INTERVAL_MS = 500;
const POLL_LIMIT_MS = 20_000;
/** After 9000 the notification normally arrives at once; past this, the shop also asks the wallet. */
const INQUIRY_AFTER_MS = 3_000;

const $ = (id) => document.getElementById(id);
const apiUrl = (path) => new URL(path, location.href).toString();

/** The order on the result page: { orderId, tradeNO, productName, formattedAmount }. */
let current = null;
/** Bumped whenever the result page is left or restarted, so an old polling loop stops. */
let pollGeneration = 0;
/** The shop's sign-in, once the user signed in: { sessionId, customerId, nickName? }. */
let session = null;

const NOT_SIGNED_IN = 'Not signed in: nothing was shared with the shop.';

const hasWallet = () => typeof my !== 'undefined';

function toast(content, type) {
  if (hasWallet()) my.showToast({ content, type }).catch(() => undefined);
}

function alertUser(title, content) {
  if (hasWallet()) my.alert({ title, content, buttonText: 'OK' }).catch(() => undefined);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function requestJson(path, init) {
  const response = await fetch(apiUrl(path), init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || `the shop answered HTTP ${response.status}`);
    error.code = body.error;
    throw error;
  }
  return body;
}

// ---- sign in with Billetera ------------------------------------------------------------------------

function showSignedOut(text) {
  session = null;
  $('greeting').textContent = text;
  $('sign-in-hint').hidden = false;
  $('sign-in').hidden = false;
  $('sign-in').disabled = false;
}

async function signIn() {
  const button = $('sign-in');
  if (!hasWallet()) {
    $('greeting').textContent = NOT_SIGNED_IN;
    $('products-message').textContent = 'Open this mini program in the Billetera app to sign in.';
    return;
  }
  button.disabled = true;
  let authCode;
  try {
    ({ authCode } = await my.getAuthCode({ scopes: ['auth_user'] }));
  } catch {
    // Refused (error 11) or failed: the wallet gave the shop nothing, and the shop is told nothing.
    return showSignedOut(NOT_SIGNED_IN);
  }
  if (typeof authCode !== 'string' || !authCode) return showSignedOut(NOT_SIGNED_IN);
  try {
    const signedIn = await requestJson('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ authCode }),
    });
    session = {
      sessionId: signedIn.sessionId,
      customerId: signedIn.customerId,
      nickName: signedIn.nickName,
    };
    $('greeting').textContent = `Hola, ${session.nickName || 'friend'}!`;
    $('sign-in-hint').hidden = true;
    button.hidden = true;
  } catch (err) {
    showSignedOut(`Could not sign in: ${err.message}`);
  }
}

$('sign-in').addEventListener('click', () => void signIn());

// ---- products -------------------------------------------------------------------------------------

async function loadProducts() {
  const message = $('products-message');
  try {
    const { products } = await requestJson('/api/products');
    const list = $('product-list');
    list.replaceChildren(...products.map(productCard));
    message.textContent = hasWallet() ? '' : 'Open this mini program in the Billetera app to pay.';
  } catch (err) {
    message.textContent = `Could not load the products: ${err.message}`;
  }
}

function productCard(product) {
  const item = document.createElement('li');
  item.className = 'product';
  const name = document.createElement('h3');
  name.textContent = product.name;
  const description = document.createElement('p');
  description.textContent = product.description;
  const price = document.createElement('p');
  price.className = 'price';
  price.textContent = product.formattedPrice;
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.product = product.id;
  button.textContent = `Buy ${product.name}`;
  button.addEventListener('click', () => void buy(product, button));
  item.append(name, description, price, button);
  return item;
}

async function siteName() {
  try {
    const info = await my.getSiteInfo();
    return typeof info.siteName === 'string' && info.siteName ? info.siteName : undefined;
  } catch {
    return undefined; // optional: the order works without it
  }
}

async function buy(product, button) {
  if (!hasWallet()) {
    $('products-message').textContent = 'Open this mini program in the Billetera app to pay.';
    return;
  }
  button.disabled = true;
  try {
    const site = await siteName();
    const request = { productId: product.id };
    if (site) request.siteName = site;
    if (session) request.sessionId = session.sessionId;
    const order = await requestJson('/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    current = {
      orderId: order.orderId,
      tradeNO: order.tradeNO,
      productName: product.name,
      formattedAmount: order.formattedAmount,
    };
    showResultView();
    await pay();
  } catch (err) {
    // The shop restarted and forgot the sign-in: offer it again rather than ordering as someone else.
    if (err.code === 'SESSION_NOT_FOUND') showSignedOut('The shop forgot your sign-in: sign in again.');
    alertUser('Could not place the order', err.message);
  } finally {
    button.disabled = false;
  }
}

// ---- result page ----------------------------------------------------------------------------------

function showResultView() {
  $('order-product').textContent = current.productName;
  $('order-amount').textContent = current.formattedAmount;
  $('order-id').textContent = current.orderId;
  $('products-view').hidden = true;
  $('result-view').hidden = false;
  $('result-heading').focus();
}

function showProducts() {
  pollGeneration += 1;
  current = null;
  $('result-view').hidden = true;
  $('products-view').hidden = false;
  $('products-heading').focus();
}

/** One element for every state; tests and assistive tech read `data-status`. */
function setStatus(status, text, detail, buttons = {}) {
  const element = $('order-status');
  element.dataset.status = status;
  element.textContent = text;
  $('order-detail').textContent = detail || '';
  $('try-again').hidden = !buttons.tryAgain;
  $('check-again').hidden = !buttons.checkAgain;
  $('refund').hidden = !buttons.refund;
}

async function pay() {
  const generation = ++pollGeneration;
  setStatus('AWAITING_PAYMENT', 'Waiting for payment…', 'Confirm the payment in the Billetera cashier.');
  let resultCode;
  try {
    ({ resultCode } = await my.tradePay({ tradeNO: current.tradeNO }));
  } catch (err) {
    setStatus('AWAITING_PAYMENT', 'Could not open the cashier', err.errorMessage || String(err), {
      tryAgain: true,
    });
    alertUser('Could not open the cashier', err.errorMessage || String(err));
    return;
  }
  if (generation !== pollGeneration) return;
  switch (resultCode) {
    case '9000':
      return follow(generation, INQUIRY_AFTER_MS);
    case '6001':
      return afterCancel(generation);
    case '4000':
      return afterFailure(generation);
    default:
      // 8000 (processing), 6004 (unknown), 6002 (network): only the wallet knows; the shop asks it.
      setStatus('AWAITING_PAYMENT', 'Checking the payment…', 'Asking the wallet how the payment went.');
      return follow(generation, 0);
  }
}

/** Reads the order from the shop; with `refresh` the shop asks the wallet when it has no answer yet. */
function fetchOrder(refresh) {
  const path = `/api/orders/${encodeURIComponent(current.orderId)}${refresh ? '?refresh=1' : ''}`;
  return requestJson(path);
}

/** Polls the shop until the order is settled, asking the wallet through the shop from `inquiryAfterMs`. */
async function follow(generation, inquiryAfterMs) {
  const started = Date.now();
  while (Date.now() - started < POLL_LIMIT_MS) {
    if (generation !== pollGeneration) return;
    try {
      const order = await fetchOrder(Date.now() - started >= inquiryAfterMs);
      if (generation !== pollGeneration) return;
      if (settled(order)) return;
    } catch {
      // The shop or the wallet hiccuped: keep polling until the limit.
    }
    await sleep(POLL_INTERVAL_MS);
  }
  if (generation !== pollGeneration) return;
  setStatus(
    'AWAITING_PAYMENT',
    'Payment not confirmed yet',
    'The shop has no confirmation from the wallet yet. Your order is kept: check again in a moment.',
    { checkAgain: true },
  );
}

/** Shows a final status; false while the order still waits for payment. */
function settled(order) {
  if (order.status === 'PAID') {
    const how = order.confirmedBy === 'inquiry' ? 'by asking the wallet' : "by the wallet's notification";
    setStatus('PAID', 'Paid', `${order.formattedAmount} for ${order.product.name}, confirmed ${how}.`, {
      refund: true,
    });
    toast('Payment received', 'success');
    return true;
  }
  if (order.status === 'FAILED') {
    setStatus('FAILED', 'Payment failed', 'The wallet says this order was not paid (it may have expired).');
    alertUser('Payment failed', 'The wallet says this order was not paid.');
    return true;
  }
  return false;
}

/** 6001: the user closed the cashier. The order still waits; unless the shop says otherwise, offer to retry. */
async function afterCancel(generation) {
  const order = await fetchOrder(true).catch(() => undefined);
  if (generation !== pollGeneration) return;
  if (order && order.status !== 'AWAITING_PAYMENT') return void settled(order);
  setStatus(
    'CANCELLED_BY_USER',
    'Payment cancelled — you closed the cashier',
    'Your order is still waiting for payment.',
    { tryAgain: true },
  );
}

/** 4000: the cashier reported a failure (a balance too low, a locked PIN...). The order may still be paid later. */
async function afterFailure(generation) {
  const order = await fetchOrder(true).catch(() => undefined);
  if (generation !== pollGeneration) return;
  if (order && order.status === 'PAID') return void settled(order);
  const payable = !order || order.status === 'AWAITING_PAYMENT';
  setStatus(
    'FAILED',
    'Payment failed',
    payable
      ? 'The payment did not go through. Your order is still open: you can try again.'
      : 'This order can no longer be paid.',
    { tryAgain: payable },
  );
  alertUser('Payment failed', 'The payment did not go through.');
}

$('try-again').addEventListener('click', () => {
  if (current) void pay();
});
$('check-again').addEventListener('click', () => {
  if (!current) return;
  setStatus('AWAITING_PAYMENT', 'Checking the payment…', 'Asking the wallet how the payment went.');
  void follow(++pollGeneration, 0);
});
$('back').addEventListener('click', showProducts);
$('refund').addEventListener('click', async () => {
  if (!current) return;
  $('refund').disabled = true;
  try {
    const order = await requestJson(`/api/orders/${encodeURIComponent(current.orderId)}/refund`, {
      method: 'POST',
    });
    if (order.status === 'REFUNDED') {
      setStatus('REFUNDED', 'Refunded', `${order.formattedAmount} went back to your Billetera balance.`);
      toast('Refunded', 'success');
    }
  } catch (err) {
    alertUser('Could not refund', err.message);
  } finally {
    $('refund').disabled = false;
  }
});

void loadProducts();
