import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { capturingLogger, setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON } from './helpers/assertions.js';
import { authorize, Browser, deliver } from './helpers/browser.js';
import { logoutClaims, postLogoutToken, signLogoutToken } from './helpers/logout-token.js';

describe('a login can be read from the debug log', () => {
  let s: TestSetup;
  const { lines, logger } = capturingLogger();
  before(async () => {
    s = await setup({ options: { logger } });
  });
  after(async () => {
    await s.close();
  });

  test('a successful login logs each step of the callback at debug, with how long the token request took', async () => {
    lines.length = 0;
    const b = new Browser();
    assert.equal((await deliver(b, await authorize(b, `${s.appUrl}/login`, 'alice'))).status, 302);
    const debug = lines.filter((l) => l.level === 'debug').map((l) => l.message);
    assert.deepEqual(debug, [
      'login: a login starts; off to the provider',
      'callback: the state matches a login this browser started',
      'callback: the provider answered the token request',
      'callback: the ID token is valid',
    ]);
    const tokenStep = lines.find((l) => l.message === 'callback: the provider answered the token request');
    assert.equal(typeof tokenStep?.fields['tokenRequestMs'], 'number');
    assert.ok(lines.some((l) => l.level === 'info' && l.message === 'user logged in'));
  });

  test('failed callbacks log where and why at debug; the warning is rate-limited (one for 20 failures in a row)', async () => {
    lines.length = 0;
    for (let i = 0; i < 20; i++) {
      const b = new Browser();
      const state = new URL((await b.get(`${s.appUrl}/login`)).location ?? '').searchParams.get('state') ?? '';
      const page = await b.get(`${s.appUrl}/callback?code=not-a-code&state=${state.slice(0, -1)}x`, ACCEPT_JSON);
      assert.equal(page.status, 400);
    }
    const failures = lines.filter((l) => l.level === 'debug' && l.message === 'callback: the login failed');
    assert.equal(failures.length, 20);
    const [first] = failures;
    assert.ok(first !== undefined);
    assert.equal(first.fields['code'], 'OIDC_STATE_MISMATCH');
    assert.equal(first.fields['at'], 'reading the callback');
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(String(warnings[0]?.fields['reason']), /OIDC_STATE_MISMATCH at reading the callback/);
  });

  test('a logout logs each step at debug with the time taken, and a back-channel logout its own', async () => {
    const b = new Browser();
    assert.equal((await deliver(b, await authorize(b, `${s.appUrl}/login`, 'bob'))).status, 302);
    lines.length = 0;
    assert.equal((await b.request(`${s.appUrl}/logout`, { method: 'POST', headers: ACCEPT_JSON })).status, 200);
    const steps = lines.filter((l) => l.level === 'debug' && l.message.startsWith('logout: '));
    assert.deepEqual(
      steps.map((l) => l.message),
      [
        'logout: the session is read',
        'logout: the session is ended in the store and the index',
        'logout: the tokens are revoked',
        'logout: postLogout ran; answering',
      ],
    );
    assert.ok(steps.every((l) => typeof l.fields['ms'] === 'number'));

    const c = new Browser();
    assert.equal((await deliver(c, await authorize(c, `${s.appUrl}/login`, 'carol'))).status, 302);
    lines.length = 0;
    assert.equal((await postLogoutToken(s.appUrl, await signLogoutToken(s.op, logoutClaims(s.op, 'carol', undefined)))).status, 200);
    assert.deepEqual(
      lines.filter((l) => l.message.startsWith('back-channel logout')).map((l) => [l.level, l.message]),
      [
        ['debug', 'back-channel logout: the logout token is valid'],
        ['debug', 'back-channel logout: sessions found in the index'],
        ['info', 'back-channel logout'],
      ],
    );
  });
});
