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
  const appId = frame.dataset.appId;
  const entry = new URL(frame.dataset.entryUrl);
  const ERR = { INVALID_PARAMS: 2, UNKNOWN: 3, NOT_AUTHORIZED: 4 };
  let active = null; // the payment whose cashier sheet is open: { paymentId, lastStatus, done }

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
      if (target.origin !== entry.origin)
        throw fail(ERR.INVALID_PARAMS, 'url must stay inside the mini program');
      frame.src = target.href;
      return {};
    },
    tradePay: (p) => tradePay(p),
    getAuthCode: () => {
      throw fail(ERR.NOT_AUTHORIZED, 'my.getAuthCode is not available yet');
    },
  };

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
    if (!res.ok) throw new Error(`status ${res.status}`);
    return res.json();
  }

  async function tradePay(p) {
    const paymentId = paymentIdOf(p);
    if (active) throw fail(ERR.UNKNOWN, 'another payment is already in progress');
    await statusOf(paymentId); // refuses payments of other merchants before anything opens
    return openSheet(paymentId);
  }

  function openSheet(paymentId) {
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
    if (e.key === 'Escape' && active) closeSheet();
  });

  // The mini program is loaded only now, with the bridge listening: a `my` call it makes while starting
  // can never arrive before this script is ready to answer it.
  frame.src = entry.href;
  const resume = frame.dataset.resumePayment;
  if (resume) void openSheet(resume);
})();
