// Result pages: tell the host app (when the cashier runs in its sheet) what happened, and send the user
// back to the merchant when it gave a return URL.
const card = document.querySelector('[data-payment-id]');
const embedded = document.body.classList.contains('embedded');
if (card && embedded && window.parent !== window) {
  window.parent.postMessage(
    { source: 'billetera-cashier', paymentId: card.dataset.paymentId, status: card.dataset.status },
    window.location.origin,
  );
}
document.querySelectorAll('[data-close]').forEach((button) => {
  button.addEventListener('click', () => {
    window.parent.postMessage({ source: 'billetera-cashier', action: 'close' }, window.location.origin);
  });
});
const returnUrl = card && card.dataset.returnUrl;
if (returnUrl) setTimeout(() => window.location.assign(returnUrl), 3000);
