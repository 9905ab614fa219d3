import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SIBLING_PARENT } from './chromium.js';

/*
 * Attacks from a sibling subdomain, in headless Chromium: every *.example.test host is this
 * machine (--host-resolver-rules, in helpers/chromium.ts), served over https with one self-signed certificate. A page
 * on evil.example.test is same-site with app.example.test but another origin: it can set
 * cookies for the parent domain (except __Host- ones) and post forms that carry the app's
 * SameSite=Lax cookies.
 */

export const PARENT = SIBLING_PARENT;
export const EVIL_HOST = `evil.${PARENT}`;

function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('about:')) return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname.endsWith(`.${PARENT}`);
}

/** A fresh context (own cookies) that reaches this machine only: the provider's web fonts are aborted. */
export async function isolatedContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(10_000);
  await context.route('**/*', (route) => (isLocal(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
  return context;
}

/** Logs `user` in through oidc-provider's pages, from `loginUrl` until the browser is back on `appHost`. */
export async function logIn(page: Page, loginUrl: string, user: string): Promise<void> {
  const appHost = new URL(loginUrl).host;
  await page.goto(loginUrl);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.host === appHost);
}

/** Who the app says is logged in, asked by the page with fetch (its cookies, no redirect followed). */
export async function whoAmI(page: Page, profileUrl: string): Promise<{ status: number; sub?: unknown }> {
  return page.evaluate(async (url) => {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
    const body = (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as { sub?: unknown }) : {};
    return { status: res.status, sub: body.sub };
  }, profileUrl);
}

/** A Set-Cookie line that a page on a sibling host uses to plant a cookie for the whole parent domain. */
export function parentDomainCookie(name: string, value: string, path: string, sameSite: 'Lax' | 'None' = 'Lax'): string {
  return `${name}=${value}; Domain=${PARENT}; Path=${path}; Secure; HttpOnly; SameSite=${sameSite}`;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);

/** The attacker's page: a form that posts `fields` to `action` as soon as it loads. */
export function autoSubmittingForm(action: string, fields: Record<string, string> = {}): string {
  const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`);
  return `<!doctype html><title>win a prize</title><form method="post" action="${escapeHtml(action)}">${inputs.join('')}</form><script>document.forms[0].submit()</script>`;
}
