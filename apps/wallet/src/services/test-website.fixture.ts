/**
 * A merchant website for tests of the onboarding website check, on 127.0.0.1 (so checks against it need
 * `allowPrivate` / `allowPrivateWebsites`). Pages:
 *
 *   /shop          a good shop page (title, real text, prices)       /no-title     no <title>
 *   /404           HTTP 404                                            /no-products  text, no prices
 *   /empty         HTTP 200, an empty body                             /short        a title and a price, little text
 *   /json          application/json                                    /slow         answers after 2 s
 *   /r/N           redirects N times, then /shop                       /big          2 MiB of HTML
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const SHOP_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Café Ejemplo · Fresh coffee beans</title>
    <style>body { font-family: sans-serif; }</style>
    <script>window.analytics = { hidden: 'this script text is not visible and must not count' };</script>
  </head>
  <body>
    <h1>Café Ejemplo</h1>
    <p>We roast single-origin coffee beans every morning in our small workshop and ship them the same day
      to customers all over the country. Every bag comes with tasting notes and brewing advice.</p>
    <ul>
      <li><h2>Ethiopia Yirgacheffe, 250 g</h2><p>Floral, bergamot and lemon.</p><p class="price">12.00 USD</p>
        <button>Add to cart</button></li>
      <li><h2>Colombia Huila, 250 g</h2><p>Caramel and red apple.</p><p class="price">$10.50</p></li>
    </ul>
    <footer>Café Ejemplo S.A. de C.V. · Calle Falsa 123, Ciudad de México · contact@cafe.example</footer>
  </body>
</html>`;

const LONG_TEXT =
  'Our company has been serving the community for many years with dedication and care. '.repeat(4);

const PAGES: Record<string, { status?: number; type?: string; body: string }> = {
  '/shop': { body: SHOP_PAGE },
  '/404': { status: 404, body: '<!doctype html><title>Not found</title><p>Not found</p>' },
  '/empty': { body: '' },
  '/json': { type: 'application/json', body: JSON.stringify({ price: '12.00 USD', text: LONG_TEXT }) },
  '/no-title': {
    body: `<!doctype html><html><body><p>${LONG_TEXT}</p><p>Coffee 12.00 USD</p></body></html>`,
  },
  '/no-products': { body: `<!doctype html><title>About us</title><p>${LONG_TEXT}</p>` },
  '/short': { body: '<!doctype html><title>Shop</title><p>Coffee $12</p>' },
};

export interface TestWebsite {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** How many requests each path received. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startTestWebsite(): Promise<TestWebsite> {
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const redirect = /^\/r\/(\d+)$/.exec(path);
    if (redirect) {
      const n = Number(redirect[1]);
      res.writeHead(302, { location: n > 1 ? `/r/${n - 1}` : '/shop' }).end();
      return;
    }
    if (path === '/slow') {
      const timer = setTimeout(
        () => res.writeHead(200, { 'content-type': 'text/html' }).end(SHOP_PAGE),
        2_000,
      );
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (path === '/big') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write(SHOP_PAGE.replace('</body>', ''));
      const chunk = `<p>${'x'.repeat(1020)}</p>`;
      let sent = 0;
      const more = () => {
        while (sent < 2 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('</body></html>');
      };
      res.on('error', () => undefined);
      more();
      return;
    }
    const page = PAGES[path];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
      return;
    }
    res
      .writeHead(page.status ?? 200, { 'content-type': page.type ?? 'text/html; charset=utf-8' })
      .end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
