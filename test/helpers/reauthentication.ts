import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Browser, isProviderAnswer, type Page } from './browser.js';
import type { TestProvider } from './provider.js';

/** Where a login ended up at the provider: its login form (credentials asked), its consent page, or straight back to the app's callback. */
export type LoginOutcome = 'login form' | 'consent' | 'back to the callback';

export interface NextLogin {
  outcome: LoginOutcome;
  /** the authorization request as the app sent the browser to it (`/login`'s Location) */
  request: URL;
  /** the last page reached */
  page: Page;
}

/** Starts a login at the app and follows the browser until the provider asks something or sends it back; delivers nothing. */
export async function nextLogin(browser: Browser, appUrl: string, path = '/login'): Promise<NextLogin> {
  let page = await browser.get(`${appUrl}${path}`);
  // requiresAuth() goes through the app's /login: the authorization request is the first hop off the app.
  for (let i = 0; i < 3 && page.status === 302 && page.location?.startsWith(appUrl) === true; i++) page = await browser.request(page.location);
  const start = page;
  assert.equal(start.status, 302, `${path} answered ${String(start.status)}: ${start.body.slice(0, 200)}`);
  assert.ok(start.location !== undefined);
  for (let i = 0; i < 10 && !isProviderAnswer(page) && page.status >= 300 && page.status < 400 && page.location !== undefined; i++) {
    page = await browser.request(page.location);
  }
  const outcome: LoginOutcome = isProviderAnswer(page)
    ? 'back to the callback'
    : page.body.includes('name="prompt" value="login"')
      ? 'login form'
      : page.body.includes('name="prompt" value="consent"')
        ? 'consent'
        : assert.fail(`unexpected page ${page.url} (${String(page.status)})`);
  return { outcome, request: new URL(start.location), page };
}

/** A browser of its own that holds only the provider's cookies of `from`: signed in at the provider, never at this app. */
export async function browserWithProviderSessionOf(from: Browser, issuer: string): Promise<Browser> {
  const fresh = new Browser();
  for (const cookie of await from.jar.getCookies(issuer)) {
    // Cookies ignore ports, so the jar gives the app's cookies for the issuer's URL too: leave those.
    if (cookie.key.startsWith('oidc.') || cookie.key.startsWith('__Host-oidc.')) continue;
    await fresh.jar.setCookie(cookie.clone() ?? cookie, issuer);
  }
  return fresh;
}

/** The claims of an ID token, unverified (the test only reads its own provider's sid). */
export function idTokenClaims(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Puts a layer in front of the provider that drops prompt and max_age from authorization
 * requests (a provider that ignores them, or a proxy that strips them), and counts the
 * revocation requests it passes on.
 */
export function promptIgnoringProvider(op: TestProvider): { revocations: number } {
  const seen = { revocations: 0 };
  op.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', op.issuer);
    if (url.pathname === '/auth') {
      url.searchParams.delete('prompt');
      url.searchParams.delete('max_age');
      req.url = url.pathname + url.search;
    }
    if (req.method === 'POST' && url.pathname === '/token/revocation') seen.revocations++;
    op.handler(req, res);
  });
  return seen;
}
