/**
 * The console's credentials page: the merchant's Client-Id, partnerId and OpenAPI base URL, its public
 * key versions (add one by pasting a PEM or generating a pair in this browser; retire one after a
 * confirmation page), and the wallet's public key. static/console-keys.js generates the pair with
 * WebCrypto: the public key goes into the form, the private key only into a file download.
 */
import type { Credentials, KeyVersionView } from '../services/credentials.ts';
import { html, type Html } from './html.ts';
import { frozenBanner, timeTag, viewPage, type ViewFrame } from './payments-pages.ts';

export const WALLET_KEY_DOWNLOAD = '/console/credentials/wallet-public-key.pem';

export interface CredentialsExtras {
  notice?: string | undefined;
  error?: string | undefined;
}

export function credentialsPage(f: ViewFrame, c: Credentials, x: CredentialsExtras = {}): string {
  const active = c.keys.filter((k) => k.status === 'ACTIVE');
  const nextVersion = (c.keys[0]?.keyVersion ?? 0) + 1;
  const newest = active[0]?.keyVersion;
  return viewPage(f, {
    title: 'Credentials',
    active: 'credentials',
    scripts: c.canChange ? ['console-keys.js'] : [],
    body: html`<h1>Credentials</h1>
      ${f.merchant.status === 'FROZEN' ? frozenBanner('keys') : ''}
      ${x.notice ? html`<p class="cv-notice" role="status">${x.notice}</p>` : ''}
      ${x.error ? html`<p class="error" role="alert" id="key-error">${x.error}</p>` : ''}
      <section class="card" aria-labelledby="identity">
        <h2 id="identity">Your API identity</h2>
        <dl class="cv-facts">
          <div>
            <dt>Client-Id</dt>
            <dd><code id="client-id">${c.clientId}</code></dd>
          </div>
          <div>
            <dt>partnerId</dt>
            <dd><code id="partner-id">${c.partnerId}</code></dd>
          </div>
          <div>
            <dt>OpenAPI base URL</dt>
            <dd><code>${c.openApiBaseUrl}</code></dd>
          </div>
        </dl>
        <p class="cv-small">
          Sign every call with SHA256withRSA over
          <code>POST &lt;path&gt;\\n&lt;Client-Id&gt;.&lt;Request-Time&gt;.&lt;body&gt;</code> and send
          <code>Signature: algorithm=RSA256,keyVersion=${newest ?? 1},signature=…</code>. The keyVersion picks
          one of your active keys below; without it, the newest active key is used.
        </p>
      </section>

      <section class="card" aria-labelledby="keys">
        <h2 id="keys">Your public keys</h2>
        <div class="cv-table-wrap">
          <table class="cv-table" id="key-table">
            <caption class="cv-sr">
              Key versions, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Added</th>
                <th scope="col">Fingerprint</th>
                <th scope="col"><span class="cv-sr">Action</span></th>
              </tr>
            </thead>
            <tbody>
              ${c.keys.map((k) => keyRow(k, c.canChange, active.length))}
            </tbody>
          </table>
        </div>
        <p class="cv-small muted">
          Fingerprint: the first 16 hex digits of the SHA-256 of the key's DER (SPKI) bytes:
          <code>openssl pkey -pubin -in public.pem -outform DER | sha256sum | cut -c1-16</code>
        </p>
      </section>

      ${c.canChange ? addKeySection(f, c, nextVersion) : ''}

      <section class="card" aria-labelledby="rotation">
        <h2 id="rotation">Rotating a key</h2>
        <ol class="cv-steps">
          <li>Add the new public key: it gets the next version and works at once, beside the old one.</li>
          <li>Deploy your server with the new private key, signing with that <code>keyVersion</code>.</li>
          <li>
            When no call uses the old version any more, retire it: from then on it gets
            <code>KEY_NOT_FOUND</code>.
          </li>
        </ol>
      </section>

      <section class="card" aria-labelledby="wallet-key">
        <h2 id="wallet-key">Wallet public key</h2>
        <p>
          Verify the wallet's replies and notifications with this key (keyVersion ${c.walletKey.keyVersion},
          fingerprint <code>${c.walletKey.fingerprint}</code>).
        </p>
        <pre class="cv-pem">${c.walletKey.pem}</pre>
        <p>
          <a class="button cv-inline" href="${WALLET_KEY_DOWNLOAD}" download>Download wallet public key</a>
        </p>
      </section>`,
  });
}

const STATUS_TEXT: Record<KeyVersionView['status'], string> = { ACTIVE: 'Active', RETIRED: 'Retired' };

function keyRow(k: KeyVersionView, canChange: boolean, activeCount: number): Html {
  const retire =
    canChange && k.status === 'ACTIVE'
      ? activeCount > 1
        ? html`<a
            href="/console/credentials/keys/${k.keyVersion}/retire"
            aria-label="Retire key version ${k.keyVersion}"
            >Retire…</a
          >`
        : html`<span class="cv-small muted">your only active key</span>`
      : '';
  return html`<tr id="key-${k.keyVersion}">
    <td data-label="Version"><strong>v${k.keyVersion}</strong></td>
    <td data-label="Status">
      <span class="cv-badge ${k.status === 'ACTIVE' ? 'cv-success' : 'cv-cancelled'}"
        >${STATUS_TEXT[k.status]}</span
      >
    </td>
    <td data-label="Added">${timeTag(k.createdAt)}</td>
    <td data-label="Fingerprint">
      <code>${k.fingerprint}</code>${k.bits ? html` <small>(${k.bits} bits)</small>` : ''}
    </td>
    <td data-label="Action">${retire}</td>
  </tr>`;
}

function addKeySection(f: ViewFrame, c: Credentials, nextVersion: number): Html {
  return html`<section class="card" aria-labelledby="add-key">
    <h2 id="add-key">Add a key</h2>
    <form
      method="post"
      action="/console/credentials/keys"
      id="add-key-form"
      class="stack"
      data-client-id="${c.clientId}"
      data-next-version="${nextVersion}"
    >
      <input type="hidden" name="_csrf" value="${f.csrf}" />
      <div class="cv-generate" id="generate-box" hidden>
        <p>
          <strong>Generate in this browser</strong>: an RSA-2048 key pair is made here. The public key fills
          the field below; the private key is saved as a file on this computer and never sent to Billetera.
        </p>
        <button type="button" id="generate-key" class="primary">Generate a key pair</button>
      </div>
      <p class="cv-warning" id="private-key-note" role="status" hidden></p>
      <label for="public-key-pem">Public key (PEM)</label>
      <textarea
        id="public-key-pem"
        name="publicKeyPem"
        rows="9"
        spellcheck="false"
        autocomplete="off"
        autocapitalize="off"
        placeholder="-----BEGIN PUBLIC KEY-----"
        aria-describedby="pem-help"
        required
      ></textarea>
      <p class="cv-small" id="pem-help">
        An RSA public key of 2048 bits or more, starting with <code>-----BEGIN PUBLIC KEY-----</code>. Never
        paste a private key. Made with openssl:
        <code>openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private.pem</code> then
        <code>openssl pkey -in private.pem -pubout -out public.pem</code>.
      </p>
      <div class="cv-file" id="file-box" hidden>
        <label for="key-file">or load a public key file</label>
        <input type="file" id="key-file" accept=".pem,.pub,.key,.txt,text/plain" />
      </div>
      <button type="submit" class="primary">Add key as version ${nextVersion}</button>
    </form>
  </section>`;
}

export function retireConfirmPage(f: ViewFrame, k: KeyVersionView, others: KeyVersionView[]): string {
  return viewPage(f, {
    title: `Retire key version ${k.keyVersion}`,
    active: 'credentials',
    body: html`<p class="cv-crumbs"><a href="/console/credentials">Credentials</a> /</p>
      <h1>Retire key version ${k.keyVersion}?</h1>
      <section class="card">
        <p>
          From the moment you retire it, every call signed with
          <code>keyVersion=${k.keyVersion}</code> (fingerprint <code>${k.fingerprint}</code>) is refused with
          <code>KEY_NOT_FOUND</code>. A retired key cannot be reactivated.
        </p>
        <p>
          Your other active key${others.length === 1 ? '' : 's'}:
          ${others.map((o, i) => html`${i > 0 ? ', ' : ''}<strong>v${o.keyVersion}</strong> (<code>${o.fingerprint}</code>)`)}.
          Make sure your server signs with ${others.length === 1 ? 'it' : 'one of them'} first.
        </p>
        <form method="post" action="/console/credentials/keys/${k.keyVersion}/retire" class="stack">
          <input type="hidden" name="_csrf" value="${f.csrf}" />
          <button type="submit" class="primary cv-danger">Retire version ${k.keyVersion}</button>
        </form>
        <p><a href="/console/credentials">Keep it</a></p>
      </section>`,
  });
}
