import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON } from './helpers/assertions.js';
import { Browser } from './helpers/browser.js';
import { SESSION_COOKIE } from './helpers/cookies.js';
import { loggedIn, type LoggedIn } from './helpers/logout.js';
import { BACKCHANNEL_EVENT, logoutClaims, postLogoutToken, sidOf, signLogoutToken } from './helpers/logout-token.js';
import { SIGNING_KID } from './helpers/provider.js';

/** Fixed seed: a failure replays the same way on every machine. */
const SEED = 424242;

// ---- building blocks ----------------------------------------------------------------------

const tricky = fc.constantFrom(
  '',
  '%',
  '%zz',
  '%00',
  '%ff%fe',
  '%C0%AF',
  '%2F%2Fevil.example',
  '%252F',
  '\u0000',
  '\r\n',
  '&',
  '=',
  '+',
  ';',
  '?',
  '..',
  'é',
  '𝔘',
  '\u202e',
  'eyJhbGciOiJub25lIn0.e30.',
  'https://evil.example',
);
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 15 }),
  tricky,
  fc.array(tricky, { maxLength: 4 }).map((a) => a.join('')),
);
/** Printable ASCII: what fetch lets through as a header value. */
const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
const callbackKey = fc.oneof(
  fc.constantFrom('code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state', 'id_token', 'response', 'returnTo'),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
type Encoding = 'component' | 'raw' | 'double';
interface Live {
  start: boolean;
  iss: boolean;
  code: string | undefined;
}
const live: fc.Arbitrary<Live> = fc.record({
  start: fc.boolean(),
  iss: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
  code: fc.option(fc.oneof(text, fc.base64String({ maxLength: 60 })), { nil: undefined }),
});
const encoding = fc.constantFrom<Encoding>('component', 'raw', 'double');

function encode(value: string, how: Encoding): string {
  if (how === 'raw') return value;
  const once = encodeURIComponent(value);
  return how === 'double' ? encodeURIComponent(once) : once;
}

/** A query or form string of random pairs: repeated keys, bad percent-encodings and raw bytes included. */
function pairs(key: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .array(fc.record({ key, value, how: encoding }), { maxLength: 8 })
    .map((list) => list.map(({ key: k, value: v, how }) => `${encode(k, how)}=${encode(v, how)}`).join('&'));
}

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=UTF-8',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/json',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
    ),
    headerText,
  ),
  { nil: undefined },
);

const crashes: unknown[] = [];
const onCrash = (err: unknown): void => {
  crashes.push(err);
};

function assertNoCrash(): void {
  assert.deepEqual(crashes.map(String), [], 'an uncaughtException or unhandledRejection fired during the run');
}

describe('fuzzing the package routes against a real provider', () => {
  let s: TestSetup;
  let issuer: string;
  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    s = await setup({ jsonErrors: true });
    issuer = s.op.issuer;
  });
  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await s.close();
  });

  /** Sometimes a login started for real, so the random answer can carry a live state (and the right iss). */
  async function maybeStartLogin(b: Browser, start: boolean): Promise<string | undefined> {
    if (!start) return undefined;
    const page = await b.get(`${s.appUrl}/login`);
    return new URL(page.location ?? '').searchParams.get('state') ?? undefined;
  }

  /** With a live state the answer reaches openid-client's checks and, with iss and a code, the provider's token endpoint. */
  function withLiveState(query: string, state: string | undefined, l: Live): string {
    if (state === undefined) return query;
    const extra = [
      `state=${state}`,
      ...(l.iss ? [`iss=${encodeURIComponent(issuer)}`] : []),
      ...(l.code === undefined ? [] : [`code=${encodeURIComponent(l.code)}`]),
    ].join('&');
    return query === '' ? extra : `${query}&${extra}`;
  }

  async function assertNotLoggedIn(b: Browser, what: string): Promise<void> {
    const profile = await b.get(`${s.appUrl}/profile`, ACCEPT_JSON);
    assert.equal(profile.status, 401, `${what} left a logged-in session`);
  }

  test('random callback queries (GET) never give a 5xx, a logged-in session or a crash', async () => {
    const run = fc.record({ query: pairs(callbackKey, text), live });
    await fc.assert(
      fc.asyncProperty(run, async ({ query, live: l }) => {
        const b = new Browser();
        const state = await maybeStartLogin(b, l.start);
        const page = await b.get(`${s.appUrl}/callback?${withLiveState(query, state, l)}`, ACCEPT_JSON);
        assert.ok(page.status >= 400 && page.status < 500, `GET /callback?${query} answered ${String(page.status)}: ${page.body.slice(0, 200)}`);
        assert.equal(page.headers.get('cache-control'), 'no-store');
        await assertNotLoggedIn(b, `GET /callback?${query}`);
      }),
      { seed: SEED, numRuns: 250 },
    );
    assertNoCrash();
  });

  test('random callback bodies (POST, any content type) never give a 5xx, a logged-in session or a crash', async () => {
    const body = fc.oneof(pairs(callbackKey, text), fc.string({ unit: 'binary', maxLength: 200 }));
    const run = fc.record({ body, type: contentType, live });
    await fc.assert(
      fc.asyncProperty(run, async ({ body: raw, type, live: l }) => {
        const b = new Browser();
        const state = await maybeStartLogin(b, l.start);
        const cookie = await b.jar.getCookieString(s.appUrl);
        const headers: Record<string, string> = { accept: 'application/json', cookie };
        if (type !== undefined) headers['content-type'] = type;
        const res = await fetch(`${s.appUrl}/callback`, { method: 'POST', headers, body: withLiveState(raw, state, l), redirect: 'manual' });
        const answer = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `POST /callback (${String(type)}) answered ${String(res.status)}: ${answer.slice(0, 200)}`);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        for (const setCookie of res.headers.getSetCookie()) await b.jar.setCookie(setCookie, s.appUrl, { ignoreError: true });
        await assertNotLoggedIn(b, 'POST /callback');
      }),
      { seed: SEED, numRuns: 250 },
    );
    assertNoCrash();
  });

  test('random logout requests (methods, Origin, Sec-Fetch-Site, Accept, Content-Type, bodies) answer 405, 403 or the logout; never a 5xx or a crash', async () => {
    const run = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      origin: fc.option(fc.oneof(fc.constant('APP'), fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1', ''), headerText), { nil: undefined }),
      site: fc.option(fc.oneof(fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none'), headerText), { nil: undefined }),
      accept: fc.option(fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', 'application/json, text/html', 'APPLICATION/JSON'), headerText), {
        nil: undefined,
      }),
      type: contentType,
      body: fc.option(fc.oneof(pairs(fc.constantFrom('returnTo', 'state', 'id_token_hint', '_csrf'), text), fc.string({ unit: 'binary', maxLength: 200 })), {
        nil: undefined,
      }),
      query: pairs(fc.constantFrom('returnTo', 'state', 'x'), text),
      withSession: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async (r) => {
        const user: LoggedIn | undefined = r.withSession ? await loggedIn(s) : undefined;
        const b = user?.browser ?? new Browser();
        const origin = r.origin === 'APP' ? s.appUrl : r.origin;
        const headers: Record<string, string> = {};
        if (origin !== undefined) headers['origin'] = origin;
        if (r.site !== undefined) headers['sec-fetch-site'] = r.site;
        if (r.accept !== undefined) headers['accept'] = r.accept;
        if (r.type !== undefined) headers['content-type'] = r.type;
        const cookie = await b.jar.getCookieString(s.appUrl);
        if (cookie !== '') headers['cookie'] = cookie;
        const body = r.method === 'GET' || r.method === 'HEAD' ? null : (r.body ?? null);
        const res = await fetch(`${s.appUrl}/logout?${r.query}`, { method: r.method, headers, body, redirect: 'manual' });
        await res.arrayBuffer();
        const what = `${r.method} /logout ${JSON.stringify(headers)}`;
        assert.ok(res.status < 500, `${what} answered ${String(res.status)}`);
        assert.equal(res.headers.get('cache-control'), 'no-store', what);

        // Node trims header values as HTTP does; the oracle compares what the app receives.
        const received = origin?.trim();
        const crossSite = r.site?.trim() === 'cross-site' || (received !== undefined && received !== s.appUrl);
        const expected = r.method !== 'POST' ? [405] : crossSite ? [403] : [200, 303];
        assert.ok(expected.includes(res.status), `${what} answered ${String(res.status)}, expected ${expected.join(' or ')}`);
        if (user !== undefined) {
          const still = (await b.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status;
          assert.equal(still, res.status >= 400 ? 200 : 401, `${what}: a refused logout changes nothing, an accepted one ends the session`);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    assertNoCrash();
  });

  test('random back-channel bodies and logout tokens always answer 400 with no-store, touch no session, and never crash', async () => {
    const alice = await loggedIn(s, 'alice');
    const sid = sidOf(alice.tokens.idToken) ?? 'no-sid';
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    // A signature the provider's key really made, over other claims: transplanted, it must not verify.
    const transplant = (await signLogoutToken(s.op, logoutClaims(s.op, 'nobody', 'transplant-source'))).split('.')[2] ?? '';
    const often = <T>(likely: fc.Arbitrary<T>, other: fc.Arbitrary<T>): fc.Arbitrary<T> =>
      fc.oneof({ arbitrary: likely, weight: 3 }, { arbitrary: other, weight: 1 });
    // Members that are undefined vanish in JSON.stringify: "absent" is one of the random choices.
    const header = often<unknown>(
      fc.record({
        alg: often(fc.constant('RS256'), fc.oneof(fc.constantFrom('none', 'None', 'HS256', 'PS256', 'ES256', 'RS512', '', undefined), fc.string())),
        kid: often(fc.constant(SIGNING_KID), fc.option(fc.string(), { nil: undefined })),
        typ: often(fc.constant('logout+jwt'), fc.oneof(fc.constantFrom('JWT', 'application/logout+jwt', 'LOGOUT+JWT', undefined), fc.string())),
        crit: often(fc.constant(undefined), fc.array(fc.string(), { maxLength: 2 })),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const claims = often<unknown>(
      fc.record(
        {
          iss: often(fc.constant(issuer), fc.string()),
          aud: often(fc.constant('test-app'), fc.oneof(fc.constant(['test-app', 'other']), fc.string())),
          iat: often(fc.constant(now), fc.oneof(fc.integer(), fc.double(), fc.string())),
          exp: often(fc.constant(now + 120), fc.oneof(fc.integer(), fc.string())),
          jti: fc.oneof(fc.uuid(), fc.string(), fc.integer()),
          sub: often(fc.constant('alice'), fc.oneof(fc.string(), fc.integer())),
          sid: often(fc.constant(sid), fc.string()),
          events: often(fc.constant({ [BACKCHANNEL_EVENT]: {} }), fc.jsonValue({ maxDepth: 2 })),
          nonce: fc.string(),
        },
        { requiredKeys: ['iss', 'aud', 'jti', 'events'] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const signature = often(
      fc.oneof(
        fc.constant(transplant),
        fc.uint8Array({ minLength: 256, maxLength: 256 }).map((x) => Buffer.from(x).toString('base64url')),
      ),
      fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 400 })),
    );
    const jwtLike = fc
      .tuple(header, claims, signature, often(fc.constant(3), fc.constantFrom(2, 4)))
      .map(([h, c, sig, parts]) => [b64(h), b64(c), sig, 'extra'].slice(0, parts).join('.'));
    const token = often(jwtLike, text);
    const body = often(
      token.map((t) => new URLSearchParams({ logout_token: t }).toString()),
      fc.oneof(
        fc
          .array(fc.record({ key: fc.oneof(fc.constant('logout_token'), fc.string({ maxLength: 8 })), value: token, how: encoding }), { maxLength: 4 })
          .map((list) => list.map(({ key, value, how }) => `${encode(key, how)}=${encode(value, how)}`).join('&')),
        fc.string({ unit: 'binary', maxLength: 300 }),
      ),
    );
    const run = fc.record({
      body,
      type: fc.oneof({ arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 3 }, { arbitrary: contentType, weight: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ body: raw, type }) => {
        const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
        const res = await fetch(`${s.appUrl}/backchannel-logout`, { method: 'POST', headers, body: raw });
        const answer = await res.text();
        assert.equal(res.status, 400, `body ${JSON.stringify(raw.slice(0, 300))} (${String(type)}) answered ${String(res.status)}: ${answer.slice(0, 200)}`);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.equal(res.headers.getSetCookie().length, 0);
        assert.equal((JSON.parse(answer) as { error?: unknown }).error, 'invalid_request');
      }),
      { seed: SEED, numRuns: 400 },
    );
    assert.ok((await alice.browser.cookie(s.appUrl, SESSION_COOKIE)) !== undefined);
    assert.equal((await alice.browser.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 200, 'no random token ended a session');
    assertNoCrash();
  });
  test("logout tokens signed with the provider's own key but breaking at least one rule always answer 400 and touch no session", async () => {
    const alice = await loggedIn(s, 'alice');
    const sid = sidOf(alice.tokens.idToken) ?? 'no-sid';
    const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    const now = Math.floor(Date.now() / 1000);
    type Claims = Record<string, unknown>;
    type Break = (c: Claims) => Claims;
    const drop = (c: Claims, ...names: string[]): Claims => Object.fromEntries(Object.entries(c).filter(([k]) => !names.includes(k)));
    const breaks: fc.Arbitrary<Break>[] = [
      fc
        .string()
        .filter((v) => v !== issuer)
        .map((iss) => (c: Claims) => ({ ...c, iss })),
      fc
        .oneof(
          fc.string().filter((v) => v !== 'test-app'),
          fc.array(
            fc.string().filter((v) => v !== 'test-app'),
            { maxLength: 3 },
          ),
        )
        .map((aud) => (c: Claims) => ({ ...c, aud })),
      fc
        .oneof(fc.constant(undefined), fc.string(), fc.integer({ min: now + 120, max: now + 10 ** 7 }), fc.integer({ min: 0, max: now - 3600 }))
        .map((iat) => (c: Claims) => (iat === undefined ? drop(c, 'iat') : { ...c, iat })),
      // a missing exp is accepted (iat bounds the age), so only a wrong one breaks the token
      fc.oneof(fc.string(), fc.integer({ min: 0, max: now - 60 })).map((exp) => (c: Claims) => ({ ...c, exp })),
      fc
        .oneof(fc.constant(undefined), fc.constant(''), fc.integer(), fc.constant(null))
        .map((jti) => (c: Claims) => (jti === undefined ? drop(c, 'jti') : { ...c, jti })),
      fc
        .option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })
        .filter((v) => !(isRecord(v) && isRecord(v[BACKCHANNEL_EVENT])))
        .map((events) => (c: Claims) => (events === undefined ? drop(c, 'events') : { ...c, events })),
      fc.string().map((nonce) => (c: Claims) => ({ ...c, nonce })),
      fc.constantFrom<Break>(
        (c) => drop(c, 'sub', 'sid'),
        (c) => ({ ...drop(c, 'sid'), sub: '' }),
        (c) => ({ ...c, sid: 42 }),
        (c) => ({ ...c, sub: ['alice'] }),
      ),
    ];
    const badTyp = fc.string().filter((t) => !['logout+jwt', 'application/logout+jwt', 'jwt', 'application/jwt'].includes(t.toLowerCase()));
    const run = fc.record({
      broken: fc.array(fc.oneof(...breaks), { minLength: 1, maxLength: 3 }),
      typ: fc.option(badTyp, { nil: undefined }),
      extra: fc.dictionary(
        fc.string({ maxLength: 8 }).map((k) => `x-${k}`),
        fc.jsonValue({ maxDepth: 1 }),
        { maxKeys: 3 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ broken, typ, extra }) => {
        const claims = broken.reduce<Claims>((c, f) => f(c), { ...extra, ...logoutClaims(s.op, 'alice', sid) });
        const res = await postLogoutToken(s.appUrl, await signLogoutToken(s.op, claims, typ === undefined ? {} : { header: { typ } }));
        const answer = await res.text();
        assert.equal(res.status, 400, `claims ${JSON.stringify(claims)} answered ${String(res.status)}: ${answer.slice(0, 200)}`);
        assert.equal(res.headers.get('cache-control'), 'no-store');
      }),
      { seed: SEED, numRuns: 200 },
    );
    assert.equal((await alice.browser.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 200, 'no broken token ended a session');
    assertNoCrash();
  });
});
