import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, type JWTPayload } from 'jose';
import type { PostLogoutContext } from '../lib/index.js';
import { CLIENT_SECRET, setup, type TestSetup } from './helpers/app.js';
import { loggedIn, type LoggedIn } from './helpers/logout.js';
import { asAlg, BACKCHANNEL_EVENT, logoutClaims, otherRsaKey, postLogoutToken, sidOf, signLogoutToken, unsignedToken } from './helpers/logout-token.js';

const JSON_ACCEPT = { accept: 'application/json' };

describe('back-channel logout', () => {
  let s: TestSetup;
  const ended: PostLogoutContext[] = [];
  before(async () => {
    s = await setup({ options: { hooks: { postLogout: (ctx) => void ended.push(ctx) } } });
  });
  after(async () => {
    await s.close();
  });

  async function session(user = 'alice'): Promise<LoggedIn & { sid: string }> {
    const state = await loggedIn(s, user);
    const sid = sidOf(state.tokens.idToken);
    assert.ok(sid !== undefined, 'the provider put a sid in the ID token');
    return { ...state, sid };
  }

  test('a back-channel logout sent by the provider ends the session; postLogout runs with trigger "backchannel"', async () => {
    const { browser, sid } = await session();
    ended.length = 0;
    await s.op.backchannelLogout('test-app', 'alice', sid);
    assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    assert.deepEqual(
      ended.map((c) => [c.trigger, c.user?.sub]),
      [['backchannel', 'alice']],
    );
  });

  test('a token with only sub ends every session of that user, and no other', async () => {
    const first = await session('bob');
    const second = await session('bob');
    const other = await session('carol');
    const claims = logoutClaims(s.op, 'bob', undefined);
    const res = await postLogoutToken(s.appUrl, await signLogoutToken(s.op, claims));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.getSetCookie().length, 0, 'the route creates no session cookie');
    assert.equal((await first.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    assert.equal((await second.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    assert.equal((await other.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
  });

  test('a valid token that matches no session answers 200; charset=UTF-8 is accepted', async () => {
    const token = await signLogoutToken(s.op, logoutClaims(s.op, 'nobody', 'no-such-sid'));
    const res = await postLogoutToken(s.appUrl, token, 'application/x-www-form-urlencoded; charset=UTF-8');
    assert.equal(res.status, 200);
  });

  test('a new login after a back-channel logout works', async () => {
    const { sid } = await session('dave');
    const res = await postLogoutToken(s.appUrl, await signLogoutToken(s.op, logoutClaims(s.op, 'dave', sid)));
    assert.equal(res.status, 200);
    const again = await session('dave');
    assert.equal((await again.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
  });

  type Forge = (claims: JWTPayload, sid: string) => Promise<string>;
  const without = (claims: JWTPayload, name: string): JWTPayload => Object.fromEntries(Object.entries(claims).filter(([k]) => k !== name));
  const negatives: [string, Forge][] = [
    ['alg none', (c) => Promise.resolve(unsignedToken(c))],
    ['no event', (c) => signLogoutToken(s.op, without(c, 'events'))],
    ['a wrong event', (c) => signLogoutToken(s.op, { ...c, events: { 'http://schemas.openid.net/event/other': {} } })],
    ['a nonce present', (c) => signLogoutToken(s.op, { ...c, nonce: 'n-0S6_WzA2Mj' })],
    [
      'a wrong alg with a valid key (PS256 with the RS256 key)',
      async (c) => signLogoutToken(s.op, c, { alg: 'PS256', key: await asAlg(s.op.signingKey, 'PS256') }),
    ],
    ['a wrong alg: HS256 with the client secret', (c) => signLogoutToken(s.op, c, { alg: 'HS256', key: new TextEncoder().encode(CLIENT_SECRET) })],
    ['a wrong aud', (c) => signLogoutToken(s.op, { ...c, aud: 'another-client' })],
    ['a wrong iss', (c) => signLogoutToken(s.op, { ...c, iss: 'https://evil.example' })],
    ['a bad signature with the right alg', async (c) => signLogoutToken(s.op, c, { key: await otherRsaKey() })],
    ['an unknown kid', async (c) => signLogoutToken(s.op, c, { key: await otherRsaKey(), header: { kid: 'unknown-kid' } })],
    ['neither sub nor sid', (c) => signLogoutToken(s.op, without(without(c, 'sub'), 'sid'))],
    ['an expired token', (c) => signLogoutToken(s.op, { ...c, iat: Number(c.iat) - 600, exp: Number(c.iat) - 300 })],
    ['no iat', (c) => signLogoutToken(s.op, without(c, 'iat'))],
    ['no exp and an iat six minutes old', (c) => signLogoutToken(s.op, { ...without(c, 'exp'), iat: Number(c.iat) - 360 })],
    ['no jti', (c) => signLogoutToken(s.op, without(c, 'jti'))],
    ['a typ naming an access token (at+jwt)', (c) => signLogoutToken(s.op, c, { header: { typ: 'at+jwt' } })],
    ['a typ naming an ID token (id_token+jwt)', (c) => signLogoutToken(s.op, c, { header: { typ: 'id_token+jwt' } })],
    ['an events member that is not an object', (c) => signLogoutToken(s.op, { ...c, events: { [BACKCHANNEL_EVENT]: 'yes' } })],
    ['an events claim that is an array', (c) => signLogoutToken(s.op, { ...c, events: [BACKCHANNEL_EVENT] })],
    ['an iat far in the future', (c) => signLogoutToken(s.op, { ...c, iat: Number(c.iat) + 3600, exp: Number(c.iat) + 3720 })],
  ];

  for (const [name, forge] of negatives) {
    test(`a logout token with ${name} answers 400 and leaves the session working`, async () => {
      const { browser, sid } = await session();
      const res = await postLogoutToken(s.appUrl, await forge(logoutClaims(s.op, 'alice', sid), sid));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_request');
      assert.equal(typeof body.error_description, 'string');
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
    });
  }

  // What providers in the field send (seen from a widely deployed open-source provider):
  // header { typ: 'JWT', alg: 'RS256', kid }, claims iss, aud, sub, iat, jti, sid, events and no exp.
  const fieldShapes: [string, Forge][] = [
    ['typ JWT and no exp, as a widely deployed provider sends it', (c) => signLogoutToken(s.op, without(c, 'exp'), { header: { typ: 'JWT' } })],
    [
      'no typ at all',
      async (c) => {
        const token = await signLogoutToken(s.op, c, { header: { typ: undefined } });
        assert.equal(decodeProtectedHeader(token).typ, undefined, 'the header really has no typ');
        return token;
      },
    ],
    ['typ application/logout+jwt', (c) => signLogoutToken(s.op, c, { header: { typ: 'application/logout+jwt' } })],
  ];
  for (const [name, forge] of fieldShapes) {
    test(`a logout token with ${name} ends the session`, async () => {
      const { browser, sid } = await session();
      const token = await forge(logoutClaims(s.op, 'alice', sid), sid);
      const res = await postLogoutToken(s.appUrl, token);
      assert.equal(res.status, 200, await res.text());
      assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
      assert.equal((await postLogoutToken(s.appUrl, token)).status, 400, 'its jti is still remembered against replay');
    });
  }

  test('a logout token without exp is accepted while its iat is under 5 minutes old (4 minutes), refused after (6 minutes)', async () => {
    // The README's bound on a logout token's age: 5 minutes.
    const young = await session();
    const fourMinutes = await signLogoutToken(s.op, { ...without(logoutClaims(s.op, 'alice', young.sid), 'exp'), iat: Math.floor(Date.now() / 1000) - 240 });
    assert.equal((await postLogoutToken(s.appUrl, fourMinutes)).status, 200);
    assert.equal((await young.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    const old = await session();
    const sixMinutes = await signLogoutToken(s.op, { ...without(logoutClaims(s.op, 'alice', old.sid), 'exp'), iat: Math.floor(Date.now() / 1000) - 360 });
    assert.equal((await postLogoutToken(s.appUrl, sixMinutes)).status, 400);
    assert.equal((await old.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
  });

  test('an ID token posted as a logout token answers 400 and leaves the session working', async () => {
    const { browser, tokens } = await session();
    const res = await postLogoutToken(s.appUrl, tokens.idToken);
    assert.equal(res.status, 400);
    assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 200);
  });

  test('a replayed jti answers 400: the first use ends the session, the second touches nothing', async () => {
    const { browser, sid } = await session();
    const token = await signLogoutToken(s.op, logoutClaims(s.op, 'alice', sid));
    assert.equal((await postLogoutToken(s.appUrl, token)).status, 200);
    assert.equal((await browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status, 401);
    const replay = await postLogoutToken(s.appUrl, token);
    assert.equal(replay.status, 400);
    assert.match(((await replay.json()) as { error_description: string }).error_description, /already used/);
  });

  test('a body without logout_token, or not urlencoded, answers 400', async () => {
    const empty = await fetch(`${s.appUrl}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(empty.status, 400);
    const asJson = await fetch(`${s.appUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"logout_token":"x"}',
    });
    assert.equal(asJson.status, 400);
  });
});

describe('back-channel logout with logout.backchannelMaxAgeSec: 600', () => {
  let s: TestSetup;
  before(async () => {
    s = await setup({ options: { logout: { backchannelMaxAgeSec: 600 } } });
  });
  after(async () => {
    await s.close();
  });

  test('a token without exp, 9 minutes old, is accepted; 11 minutes old, refused', async () => {
    const tokenAged = async (minutes: number): Promise<{ status: number; profile: number }> => {
      const state = await loggedIn(s, 'alice');
      const sid = sidOf(state.tokens.idToken);
      const { exp: _exp, ...claims } = logoutClaims(s.op, 'alice', sid);
      const token = await signLogoutToken(s.op, { ...claims, iat: Math.floor(Date.now() / 1000) - minutes * 60 }, { header: { typ: 'JWT' } });
      const status = (await postLogoutToken(s.appUrl, token)).status;
      return { status, profile: (await state.browser.get(`${s.appUrl}/profile`, JSON_ACCEPT)).status };
    };
    assert.deepEqual(await tokenAged(9), { status: 200, profile: 401 });
    assert.deepEqual(await tokenAged(11), { status: 400, profile: 200 });
  });
});
