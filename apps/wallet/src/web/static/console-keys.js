// Console credentials: generate an RSA key pair in this browser (WebCrypto), or load a public key file.
// The public key (SPKI, PEM) goes into the form field; the private key (PKCS#8, PEM) only into a file
// download made here (a Blob): it is never put in a form field, never sent, never stored by the page.
// WebCrypto needs a secure context: https, or http://localhost / http://127.0.0.1.
(function () {
  const form = document.getElementById('add-key-form');
  if (!form) return;
  const field = form.querySelector('textarea[name=publicKeyPem]');
  const generateBox = document.getElementById('generate-box');
  const generateButton = document.getElementById('generate-key');
  const fileBox = document.getElementById('file-box');
  const fileInput = document.getElementById('key-file');
  const note = document.getElementById('private-key-note');
  const PRIVATE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File/;

  function say(message, kind) {
    note.textContent = '';
    note.className = kind === 'error' ? 'error' : 'cv-warning';
    note.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    if (Array.isArray(message)) message.forEach((part) => note.append(part));
    else note.textContent = message;
    note.hidden = false;
  }

  function pem(label, buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    const lines = btoa(binary).match(/.{1,64}/g) || [];
    return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
  }

  const canGenerate = window.isSecureContext && window.crypto && window.crypto.subtle;
  if (canGenerate) generateBox.hidden = false;
  fileBox.hidden = false;

  let downloadUrl;
  generateButton.addEventListener('click', async () => {
    generateButton.disabled = true;
    say('Generating an RSA-2048 key pair…');
    try {
      const pair = await window.crypto.subtle.generateKey(
        {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        true,
        ['sign', 'verify'],
      );
      const spki = await window.crypto.subtle.exportKey('spki', pair.publicKey);
      const pkcs8 = await window.crypto.subtle.exportKey('pkcs8', pair.privateKey);
      field.value = pem('PUBLIC KEY', spki);
      if (downloadUrl) URL.revokeObjectURL(downloadUrl);
      downloadUrl = URL.createObjectURL(
        new Blob([pem('PRIVATE KEY', pkcs8)], { type: 'application/x-pem-file' }),
      );
      const fileName = `billetera-${form.dataset.clientId}-v${form.dataset.nextVersion}-private-key.pem`;
      const link = document.createElement('a');
      link.href = downloadUrl;
      link.download = fileName;
      link.id = 'private-key-download';
      link.textContent = 'Download the private key again';
      const strong = document.createElement('strong');
      strong.textContent = 'Keep your private key safe. ';
      say([
        strong,
        `It was saved as ${fileName}. Billetera never sees it and cannot recover it: put it on your server ` +
          'only, and never share it. Then press "Add key" below to register the public key. ',
        link,
      ]);
      link.click();
    } catch (err) {
      say(
        `This browser could not generate a key (${err && err.name ? err.name : 'error'}). Use openssl instead.`,
        'error',
      );
    } finally {
      generateButton.disabled = false;
    }
  });

  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    if (file.size > 16384) {
      fileInput.value = '';
      say('That file is too large to be a PEM public key.', 'error');
      return;
    }
    file.text().then((text) => {
      if (PRIVATE.test(text)) {
        fileInput.value = '';
        say(
          'That file is a PRIVATE key: it was not loaded and nothing was sent. Choose the public key file ' +
            '(-----BEGIN PUBLIC KEY-----) and keep the private key on your server only.',
          'error',
        );
        return;
      }
      field.value = text.trim() + '\n';
      note.hidden = true;
    });
  });

  // The server refuses private keys too; this stops one before it leaves the browser.
  form.addEventListener('submit', (event) => {
    if (PRIVATE.test(field.value)) {
      event.preventDefault();
      field.value = '';
      say(
        'That is a PRIVATE key: it was not sent. Paste the PUBLIC key (-----BEGIN PUBLIC KEY-----) instead, and ' +
          'keep the private key on your server only.',
        'error',
      );
      field.focus();
    }
  });
})();
