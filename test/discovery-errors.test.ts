import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { baseOptions, buildApp, capturingLogger } from './helpers/app.js';
import { assertOidcError } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { lateServer, type LateServer } from './helpers/late-server.js';

/** GET /login of an app whose issuer is served by `provider` (or by nothing at all). */
async function loginAgainst(provider: LateServer, issuerPath = ''): Promise<{ message: string; url: string }> {
  const app = await lateServer();
  try {
    const issuer = `${provider.url}${issuerPath}`;
    const { lines, logger } = capturingLogger();
    app.setHandler(buildApp({ ...baseOptions(issuer, app.url), logger }, { jsonErrors: true }));
    const page = await new Browser().get(`${app.url}/login`);
    const body = assertOidcError(page, 503, 'OIDC_PROVIDER_UNAVAILABLE');
    // The log says as much as the page.
    const logged = lines.find((l) => l.level === 'warn' && l.message === 'provider discovery failed');
    assert.equal(logged?.fields['reason'], body.message);
    return { message: body.message, url: `${issuer}/.well-known/openid-configuration` };
  } finally {
    await app.close();
  }
}

describe('discovery failures say which URL was tried and what came back', () => {
  test('a 404 (a realm name typo) names the URL and the status, and points at the "issuer" option', async () => {
    const provider = await lateServer();
    provider.setHandler((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Realm does not exist</h1>');
    });
    try {
      const { message, url } = await loginAgainst(provider, '/realms/tyop');
      assert.ok(message.includes(url), message);
      assert.match(message, /HTTP 404/);
      assert.match(message, /check the "issuer" option/);
      assert.doesNotMatch(message, /try again shortly/, 'a wrong issuer is not an outage');
    } finally {
      await provider.close();
    }
  });

  test('a 500 names the URL and the status, as an outage', async () => {
    const provider = await lateServer();
    provider.setHandler((_req, res) => {
      res.writeHead(500).end();
    });
    try {
      const { message, url } = await loginAgainst(provider);
      assert.ok(message.includes(url), message);
      assert.match(message, /HTTP 500/);
      assert.match(message, /try again shortly/);
    } finally {
      await provider.close();
    }
  });

  test('no answer at all (nothing listens) names the URL, without a status', async () => {
    const provider = await lateServer();
    await provider.stop();
    try {
      const { message, url } = await loginAgainst(provider);
      assert.ok(message.includes(`no answer from ${url}`), message);
      assert.doesNotMatch(message, /HTTP \d/);
    } finally {
      await provider.close();
    }
  });
});
