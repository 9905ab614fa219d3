import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimCheck, claimEquals, claimIncludes, requiresAuth } from '../lib/index.js';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertOidcError, jsonOf } from './helpers/assertions.js';
import { Browser, login } from './helpers/browser.js';

const HTML = { accept: 'text/html' } as const;

/** Accounts of the test provider: the login is the account id, groups by name. */
const GROUPS: Record<string, string[]> = { ada: ['admin', 'staff'], sam: ['staff'] };

describe('claim checks against the claims of a real login', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({
      jsonErrors: true,
      options: { scope: 'openid profile email groups' },
      provider: {
        configuration: {
          claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], groups: ['groups', 'tenant'] },
          findAccount: (_ctx, id) => ({
            accountId: id,
            claims: () => ({
              sub: id,
              name: `User ${id}`,
              email: `${id}@example.test`,
              email_verified: id !== 'nev',
              groups: GROUPS[id] ?? [],
              tenant: id === 'ada' ? 'acme' : 'other',
            }),
          }),
        },
      },
      routes: (app) => {
        app.get('/admin', claimIncludes('groups', 'admin'), (req, res) => {
          res.json({ sub: req.oidc.user?.sub });
        });
        app.get('/staff-admin', claimIncludes('groups', 'staff', 'admin'), (_req, res) => {
          res.json({ ok: true });
        });
        app.get('/verified', claimEquals('email_verified', true), (_req, res) => {
          res.json({ ok: true });
        });
        app.get(
          '/acme',
          claimCheck((user) => user['tenant'] === 'acme'),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
        app.get(
          '/async-check',
          claimCheck(async (user) => Promise.resolve(user.sub === 'ada')),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
        app.get(
          '/throwing-check',
          claimCheck(() => {
            throw new Error('the check broke');
          }),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
      },
    });
  });
  after(async () => {
    await s.close();
  });

  async function as(user: string): Promise<Browser> {
    const b = new Browser();
    assert.equal((await login(b, `${s.appUrl}/login`, user)).status, 302);
    return b;
  }

  test('claimIncludes: a user in the group gets 200, one without gets 403 OIDC_CLAIM_CHECK_FAILED', async () => {
    const ada = await as('ada');
    assert.equal((jsonOf(await ada.get(`${s.appUrl}/admin`, ACCEPT_JSON)) as { sub: string }).sub, 'ada');
    const sam = await as('sam');
    const refused = await sam.get(`${s.appUrl}/admin`, ACCEPT_JSON);
    const body = assertOidcError(refused, 403, 'OIDC_CLAIM_CHECK_FAILED');
    assert.match(body.message, /"groups"/);
    assert.doesNotMatch(body.message, /staff/, "the user's own values are not echoed");
  });

  test('claimIncludes with several values needs every one of them', async () => {
    assert.equal((await (await as('ada')).get(`${s.appUrl}/staff-admin`, ACCEPT_JSON)).status, 200);
    assert.equal((await (await as('sam')).get(`${s.appUrl}/staff-admin`, ACCEPT_JSON)).status, 403);
  });

  test('claimEquals: email_verified true gets 200, false gets 403', async () => {
    assert.equal((await (await as('ada')).get(`${s.appUrl}/verified`, ACCEPT_JSON)).status, 200);
    assertOidcError(await (await as('nev')).get(`${s.appUrl}/verified`, ACCEPT_JSON), 403, 'OIDC_CLAIM_CHECK_FAILED');
  });

  test("claimCheck: the app's predicate, sync or async, decides; one that throws is a 500 through next()", async () => {
    const ada = await as('ada');
    const sam = await as('sam');
    assert.equal((await ada.get(`${s.appUrl}/acme`, ACCEPT_JSON)).status, 200);
    assert.equal((await sam.get(`${s.appUrl}/acme`, ACCEPT_JSON)).status, 403);
    assert.equal((await ada.get(`${s.appUrl}/async-check`, ACCEPT_JSON)).status, 200);
    assert.equal((await sam.get(`${s.appUrl}/async-check`, ACCEPT_JSON)).status, 403);
    const broken = await ada.get(`${s.appUrl}/throwing-check`, ACCEPT_JSON);
    assert.equal(broken.status, 500);
  });

  test('nobody logged in: a claim check answers as requiresAuth() does (browser to login with returnTo, JSON 401)', async () => {
    const b = new Browser();
    const page = await b.get(`${s.appUrl}/admin`, HTML);
    assert.equal(page.status, 302);
    assert.equal(new URL(page.location ?? '').pathname + new URL(page.location ?? '').search, `/login?returnTo=${encodeURIComponent('/admin')}`);
    assert.equal((await b.get(`${s.appUrl}/admin`, ACCEPT_JSON)).status, 401);
  });

  test('bad arguments are refused at the call with OIDC_CONFIG_INVALID', () => {
    assert.throws(() => claimIncludes('groups'), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => claimEquals('', 'x'), { code: 'OIDC_CONFIG_INVALID' });
    // A value from untyped code (JavaScript, JSON config): objects never equal a claim.
    assert.throws(() => claimEquals('tenant', { a: 1 } as unknown as string), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => claimCheck('admin' as unknown as () => boolean), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => requiresAuth({ acr: 'two words' }), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => requiresAuth({ acr: [] }), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => requiresAuth({ maxAge: -1 }), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => requiresAuth({ maxAge: 1.5 }), { code: 'OIDC_CONFIG_INVALID' });
    assert.throws(() => requiresAuth({ acr: 'mfa', maxAge: 300, extra: true } as unknown as { acr: string }), { code: 'OIDC_CONFIG_INVALID' });
  });
});
