// The host side of the `my` bridge (protocol: packages/jsapi/src/bridge-protocol.ts). The mini program runs
// in a sandboxed iframe with an opaque origin, so it is recognised by its window, never by its origin: only
// messages whose event.source is this page's mini program iframe are answered, and only for its appId.
(() => {
  const frame = document.getElementById('mini');
  const sheet = document.getElementById('sheet');
  const sheetFrame = document.getElementById('sheet-frame');
  const sheetClose = document.getElementById('sheet-close');
  const dialog = document.getElementById('dialog');
  const toast = document.getElementById('toast');
  const consent = document.getElementById('consent');
  const consentAllow = document.getElementById('consent-allow');
  const consentDeny = document.getElementById('consent-deny');
  const appId = frame.dataset.appId;
  const appName = frame.dataset.appName || 'This mini program';
  // The entry is absolute (a merchant's server) or relative (a version the wallet hosts under /mp/).
  const entry = new URL(frame.dataset.entryUrl, window.location.href);
  // navigateTo stays under this prefix: the merchant's origin, or the hosted version's own folder.
  const scope = new URL(frame.dataset.scope || '/', entry).href;
  // The mini program's active features: a JSAPI that needs a missing one fails with error 4 (the
  // server checks again: this is for a clear, immediate answer, not the guard).
  const features = new Set((frame.dataset.features || '').split(' ').filter(Boolean));
  // The session's CSRF token, for /app/api/auth-codes. The iframe (an opaque origin) cannot read this page,
  // and the attribute goes anyway: the token lives only in this closure from here on.
  const csrf = frame.dataset.csrf || '';
  frame.removeAttribute('data-csrf');
  const ERR = { INVALID_PARAMS: 2, UNKNOWN: 3, NOT_AUTHORIZED: 4, USER_CANCELLED: 11 };
  const DEFAULT_SCOPES = ['auth_base'];
  const MAX_SCOPES = 32;
  const MAX_SCOPE_LENGTH = 64;
  const SCOPE_NOT_GRANTED = '40006';
  // Allow answers only this long after the sheet opens: a tap meant for the mini program cannot grant.
  const ALLOW_DELAY_MS = 500;
  let active = null; // the payment whose cashier sheet is open: { paymentId, lastStatus, done }
  let asking = null; // the open consent sheet: { decide, opener, decided, timer }

  function answer(id, ok, payload) {
    const base = { source: 'billetera-host', version: 1, id };
    frame.contentWindow.postMessage(
      ok ? { ...base, ok: true, result: payload } : { ...base, ok: false, error: payload },
      '*',
    );
  }
  const fail = (error, errorMessage) => ({ error, errorMessage });

  window.addEventListener('message', (event) => {
    if (
      sheetFrame.contentWindow &&
      event.source === sheetFrame.contentWindow &&
      event.origin === window.location.origin
    ) {
      onCashierMessage(event.data);
      return;
    }
    if (event.source !== frame.contentWindow) return;
    const msg = event.data;
    if (!msg || msg.source !== 'billetera-jsapi' || msg.version !== 1 || typeof msg.id !== 'string') return;
    const handler = METHODS[msg.method];
    if (!handler) {
      answer(
        msg.id,
        false,
        fail(ERR.NOT_AUTHORIZED, `my.${String(msg.method)} is not available in Billetera`),
      );
      return;
    }
    Promise.resolve()
      .then(() => handler(msg.params || {}))
      .then(
        (result) => answer(msg.id, true, result),
        (err) =>
          answer(msg.id, false, err && typeof err.error === 'number' ? err : fail(ERR.UNKNOWN, String(err))),
      );
  });

  const METHODS = {
    getSiteInfo: () => ({ siteName: frame.dataset.siteName }),
    showToast: (p) => {
      toast.textContent = String(p.content || '');
      toast.hidden = false;
      setTimeout(() => (toast.hidden = true), Number(p.duration) > 0 ? Number(p.duration) : 2000);
      return {};
    },
    alert: (p) =>
      new Promise((resolve) => {
        document.getElementById('dialog-title').textContent = String(p.title || '');
        document.getElementById('dialog-text').textContent = String(p.content || '');
        const ok = document.getElementById('dialog-ok');
        ok.textContent = String(p.buttonText || 'OK');
        dialog.hidden = false;
        ok.focus();
        ok.addEventListener('click', () => ((dialog.hidden = true), resolve({})), { once: true });
      }),
    navigateTo: (p) => {
      let target;
      try {
        target = new URL(String(p.url), frame.src || entry);
      } catch {
        throw fail(ERR.INVALID_PARAMS, 'url is not a valid URL');
      }
      if (target.origin !== entry.origin || !target.href.startsWith(scope))
        throw fail(ERR.INVALID_PARAMS, 'url must stay inside the mini program');
      frame.src = target.href;
      return {};
    },
    tradePay: (p) => tradePay(p),
    getAuthCode: (p) => getAuthCode(p),
  };

  // ------------------------------------------------------------------------------ my.getAuthCode

  function scopesOf(p) {
    const raw = p.scopes === undefined || p.scopes === null ? DEFAULT_SCOPES : p.scopes;
    const list = typeof raw === 'string' ? [raw] : raw;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.length > MAX_SCOPES ||
      !list.every((s) => typeof s === 'string' && s.length > 0 && s.length <= MAX_SCOPE_LENGTH)
    )
      throw fail(ERR.INVALID_PARAMS, `scopes must be a scope or a list of 1 to ${MAX_SCOPES} scopes`);
    return list;
  }

  /** Asks the wallet for a code; `consent` says the user has just allowed it on the sheet. */
  async function requestAuthCode(scopes, consent) {
    let res;
    try {
      res = await fetch('/app/api/auth-codes', {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ appId, scopes, consent }),
      });
    } catch {
      throw fail(ERR.UNKNOWN, 'the wallet could not be reached');
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      /* not JSON */
    }
    if (res.ok && body && (body.consentRequired === true || typeof body.authCode === 'string')) return body;
    if (body && typeof body.error === 'number' && typeof body.errorMessage === 'string') {
      const err = fail(body.error, body.errorMessage);
      if (body.authErrorScopes && typeof body.authErrorScopes === 'object')
        err.authErrorScopes = body.authErrorScopes;
      throw err;
    }
    throw fail(ERR.UNKNOWN, `the wallet answered ${res.status}`);
  }

  const codeOf = (body) => ({
    authCode: body.authCode,
    authSuccessScopes: body.authSuccessScopes,
    authErrorScopes: body.authErrorScopes || {},
  });

  async function getAuthCode(p) {
    const scopes = scopesOf(p);
    const first = await requestAuthCode(scopes, false);
    if (!first.consentRequired) return codeOf(first);
    const allowed = await askConsent(first);
    if (!allowed) {
      // Nothing reaches the wallet: no grant, no code.
      const refused = {};
      for (const s of scopes) refused[s] = SCOPE_NOT_GRANTED;
      throw { error: ERR.USER_CANCELLED, errorMessage: 'the user refused', authErrorScopes: refused };
    }
    try {
      const second = await requestAuthCode(scopes, true);
      if (second.consentRequired) throw fail(ERR.UNKNOWN, 'the wallet did not take the consent');
      return codeOf(second);
    } finally {
      closeConsent();
    }
  }

  /** Shows the consent sheet; resolves true (Allow) or false (Don't allow, Escape). */
  function askConsent(info) {
    if (asking) throw fail(ERR.UNKNOWN, 'another authorization is already waiting for the user');
    if (active) throw fail(ERR.UNKNOWN, 'a payment is in progress: ask again once it is over');
    const name = String(info.appName || 'This mini program');
    const items = Array.isArray(info.items) ? info.items : [];
    document.getElementById('consent-title').textContent = `Allow ${name} to use your information?`;
    document.getElementById('consent-lead').textContent =
      `${String(info.merchantName || name)} will receive:`;
    document.getElementById('consent-items').replaceChildren(
      ...items.map((text) => {
        const li = document.createElement('li');
        li.textContent = String(text);
        return li;
      }),
    );
    return new Promise((resolve) => {
      asking = { decide: resolve, opener: document.activeElement, decided: false, timer: 0 };
      for (const b of [consentAllow, consentDeny]) {
        b.classList.remove('busy');
        b.removeAttribute('aria-disabled');
      }
      consentAllow.disabled = true;
      asking.timer = setTimeout(() => (consentAllow.disabled = false), ALLOW_DELAY_MS);
      frame.inert = true;
      consent.hidden = false;
      consentDeny.focus();
    });
  }

  function decideConsent(allowed) {
    if (!asking || asking.decided) return;
    asking.decided = true;
    const { decide } = asking;
    if (allowed) {
      for (const b of [consentAllow, consentDeny]) {
        b.classList.add('busy');
        b.setAttribute('aria-disabled', 'true');
      }
    } else {
      closeConsent();
    }
    decide(allowed);
  }

  function closeConsent() {
    if (!asking) return;
    const { opener, timer } = asking;
    asking = null;
    clearTimeout(timer);
    consent.hidden = true;
    frame.inert = false;
    if (opener && opener.focus) opener.focus();
  }

  consentAllow.addEventListener('click', () => decideConsent(true));
  consentDeny.addEventListener('click', () => decideConsent(false));
  consent.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || !asking) return;
    // Focus stays in the sheet: Tab and Shift+Tab go round its buttons.
    const buttons = [consentDeny, consentAllow].filter((b) => !b.disabled);
    const at = buttons.indexOf(document.activeElement);
    const next = buttons[(at + (e.shiftKey ? -1 : 1) + buttons.length) % buttons.length];
    e.preventDefault();
    if (next) next.focus();
  });

  // ------------------------------------------------------------------------------ my.tradePay

  function paymentIdOf(p) {
    if (typeof p.tradeNO === 'string' && p.tradeNO) return p.tradeNO;
    if (typeof p.paymentUrl === 'string') {
      try {
        const url = new URL(p.paymentUrl, window.location.href);
        const m = /^\/cashier\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
        if (url.origin === window.location.origin && m) return m[1];
      } catch {
        /* fall through */
      }
      throw fail(ERR.INVALID_PARAMS, 'paymentUrl is not a cashier URL of this wallet');
    }
    if (typeof p.orderStr === 'string')
      throw fail(ERR.INVALID_PARAMS, 'orderStr is not supported: pass tradeNO or paymentUrl');
    throw fail(ERR.INVALID_PARAMS, 'tradeNO or paymentUrl is required');
  }

  async function statusOf(paymentId) {
    const res = await fetch(
      `/app/api/payments/${encodeURIComponent(paymentId)}?appId=${encodeURIComponent(appId)}`,
      {
        credentials: 'same-origin',
        cache: 'no-store',
      },
    );
    if (res.status === 404) throw fail(ERR.INVALID_PARAMS, 'this mini program has no such payment');
    if (res.status === 401)
      throw fail(ERR.UNKNOWN, 'not signed in to Billetera: sign in to the wallet in this browser first');
    if (res.status === 403) {
      const body = await res.json().catch(() => null);
      throw body && typeof body.error === 'number'
        ? fail(body.error, String(body.errorMessage))
        : fail(ERR.NOT_AUTHORIZED, 'this mini program may not take payments');
    }
    if (!res.ok) throw new Error(`status ${res.status}`);
    return res.json();
  }

  async function tradePay(p) {
    if (!features.has('PAYMENT'))
      throw fail(ERR.NOT_AUTHORIZED, `${appName} has not added the Payment feature`);
    const paymentId = paymentIdOf(p);
    if (active) throw fail(ERR.UNKNOWN, 'another payment is already in progress');
    if (asking) throw fail(ERR.UNKNOWN, 'an authorization is waiting for the user');
    await statusOf(paymentId); // refuses payments of other merchants before anything opens
    return openSheet(paymentId);
  }

  function openSheet(paymentId) {
    if (asking) return Promise.reject(fail(ERR.UNKNOWN, 'an authorization is waiting for the user'));
    return new Promise((resolve) => {
      active = { paymentId, lastStatus: '', done: resolve, opener: document.activeElement };
      sheetFrame.src = `/cashier/${encodeURIComponent(paymentId)}?embed=1`;
      sheet.hidden = false;
      sheetClose.focus();
    });
  }

  function onCashierMessage(data) {
    if (!active || !data || data.source !== 'billetera-cashier') return;
    if (data.action === 'close') closeSheet();
    else if (typeof data.status === 'string') active.lastStatus = data.status;
  }

  async function closeSheet() {
    if (!active) return;
    const current = active;
    active = null;
    sheet.hidden = true;
    sheetFrame.removeAttribute('src');
    if (current.opener && current.opener.focus) current.opener.focus();
    let resultCode;
    try {
      const s = await statusOf(current.paymentId);
      if (s.status === 'SUCCESS') resultCode = '9000';
      else if (s.status === 'FAIL' || s.status === 'CANCELLED' || s.expired) resultCode = '4000';
      else resultCode = current.lastStatus === 'SUCCESS' ? '8000' : '6001';
    } catch {
      resultCode = '6004';
    }
    current.done({ resultCode });
  }

  sheetClose.addEventListener('click', closeSheet);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (asking) decideConsent(false);
    else if (active) closeSheet();
  });

  // The mini program is loaded only now, with the bridge listening: a `my` call it makes while starting
  // can never arrive before this script is ready to answer it.
  frame.src = entry.href;
  const resume = frame.dataset.resumePayment;
  if (resume && features.has('PAYMENT')) void openSheet(resume);
})();
