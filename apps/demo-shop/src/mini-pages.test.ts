import { describe, expect, it } from 'vitest';
import { escapeHtml, jsapiScriptUrl, miniContentSecurityPolicy, renderIndexHtml } from './mini-pages.ts';

describe('mini program pages', () => {
  it('writes the jsapi script tag where the template asks, escaped', () => {
    const html = renderIndexHtml(
      '<body><!-- billetera-jsapi --><script src="app.js"></script>',
      new URL('https://w.example/pay/'),
    );
    expect(html).toBe(
      '<body><script src="https://w.example/pay/jsapi/my.js"></script><script src="app.js"></script>',
    );
    expect(escapeHtml(`"><script>alert('x')</script>&`)).toBe(
      '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;',
    );
    expect(jsapiScriptUrl(new URL('http://127.0.0.1:8080'))).toBe('http://127.0.0.1:8080/jsapi/my.js');
  });

  it('refuses a template without exactly one placeholder', () => {
    expect(() => renderIndexHtml('<body></body>', new URL('http://w'))).toThrow(/exactly once/);
    expect(() =>
      renderIndexHtml('<!-- billetera-jsapi --><!-- billetera-jsapi -->', new URL('http://w')),
    ).toThrow(/exactly once/);
  });

  it('lets scripts come only from the shop and the wallet', () => {
    expect(miniContentSecurityPolicy('https://w.example')).toContain("script-src 'self' https://w.example;");
  });
});
