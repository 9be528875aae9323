// Progressive enhancement for forms marked data-once: the first submit disables the button, so a double
// click sends one request (the server is safe either way: a second confirm cannot debit twice).
document.querySelectorAll('form[data-once]').forEach((form) => {
  form.addEventListener('submit', (event) => {
    if (form.dataset.submitted === '1') {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = '1';
    form.querySelectorAll('button[type=submit]').forEach((b) => {
      b.setAttribute('aria-disabled', 'true');
      b.classList.add('busy');
    });
  });
});
const firstError = document.querySelector('[role=alert]');
if (firstError) {
  const field = document.querySelector('input[aria-describedby]');
  if (field) field.focus();
}
