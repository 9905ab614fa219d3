import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { safeReturnTo } from '../lib/http/return-to.js';
import { requiresAuth } from '../lib/index.js';
import { setup, type TestSetup } from './helpers/app.js';
import { ACCEPT_JSON, assertSameOriginRelative } from './helpers/assertions.js';
import { authorize, Browser, deliver, login, rawLocation } from './helpers/browser.js';
import { loggedIn } from './helpers/logout.js';

const LONG = 'a'.repeat(10_000);

/** returnTo values an attacker could put in a link: none may send the browser off the app. */
const HOSTILE: readonly string[] = [
  // other schemes
  'javascript:alert(document.domain)',
  'JaVaScRiPt:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'vbscript:msgbox(1)',
  'https://evil.example/',
  'http:evil.example',
  'https:/\\evil.example',
  'ftp://evil.example/',
  // protocol-relative, extra slashes, backslashes anywhere
  '//evil.example',
  '///evil.example',
  '////evil.example/path',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/\\/evil.example',
  '/profile\\..\\..\\\\evil.example',
  '/.//evil.example',
  '/a/../..//evil.example',
  '/%2e%2e//evil.example',
  // encoded and double-encoded slashes and backslashes
  '%2F%2Fevil.example',
  '/%2F%2Fevil.example',
  '/%2f/evil.example',
  '/%5Cevil.example',
  '/%5C%5Cevil.example',
  '/%252F%252Fevil.example',
  '/%25252F%25252Fevil.example',
  '/.%2e/%2F%2Fevil.example',
  // userinfo
  '/@evil.example',
  '//user@evil.example',
  '//user:pass@evil.example/',
  'https://127.0.0.1@evil.example/',
  '/\\user@evil.example',
  // tabs, newlines, NUL, header injection, leading whitespace
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r/evil.example',
  '/%09/evil.example',
  '/%0a/evil.example',
  '/%0D%0ALocation:%20https://evil.example',
  '/\r\nSet-Cookie: pwned=1',
  '/\u0000/evil.example',
  '\u0000//evil.example',
  '/%00/evil.example',
  ' //evil.example',
  '\t//evil.example',
  '\u00a0//evil.example',
  // unicode dots and slashes
  '／／evil。example',
  '/／evil.example',
  '/\u3002evil.example',
  '/\uff3cevil.example',
  '/\u2215\u2215evil.example',
  '//evil\u3002example',
  '//ｅｖｉｌ.example',
  // hosts that look like ours
  'https://127.0.0.1.evil.example/',
  '//127.0.0.1.evil.example',
  '//127.0.0.1:1/',
  // very long
  `/${LONG}`,
  `//evil.example/${LONG}`,
  // not a path at all
  'evil.example',
  '',
  '.',
  '#//evil.example',
  '?next=//evil.example',
];

/** Values an app really uses: kept exactly. */
const LEGITIMATE: readonly string[] = ['/profile', '/a/b?x=1#h', '/%E2%9C%93', '/?q=//x', '/search?q=a%20b&next=https%3A%2F%2Fevil.example', '/'];

const PROBE = 'https://app.example';

/** A value a browser resolves on the app's own origin: one leading "/", nothing it strips or reads as "/". */
function assertStaysOnSite(out: string | undefined, input: string): void {
  if (out === undefined) return;
  const label = `${JSON.stringify(input.slice(0, 80))} gave ${JSON.stringify(out.slice(0, 80))}`;
  assert.match(out, /^\/(?![/\\])/, label);
  for (let i = 0; i < out.length; i++) {
    const code = out.charCodeAt(i);
    assert.ok(code > 0x20 && code !== 0x7f && code !== 0x5c, `${label}: whitespace, control or backslash at ${String(i)}`);
  }
  assert.equal(new URL(out, PROBE).origin, PROBE, label);
}

function label(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 40)}…(${String(value.length)} chars)` : value);
}

describe('safeReturnTo (unit)', () => {
  test('every hostile value is refused or becomes a same-origin path that starts with a single "/"', () => {
    assert.ok(HOSTILE.length >= 30);
    for (const value of HOSTILE) assertStaysOnSite(safeReturnTo(value), value);
  });

  test('the classic open-redirect forms are refused outright', () => {
    for (const value of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/%2F%2Fevil.example',
      '/\t/evil.example',
      `/${LONG}`,
    ]) {
      assert.equal(safeReturnTo(value), undefined, label(value));
    }
  });

  test('legitimate paths are kept exactly', () => {
    for (const value of LEGITIMATE) assert.equal(safeReturnTo(value), value);
  });

  /*
   * The rules of the README's "What is validated where" row for returnTo, each at its edge.
   * Mutants of lib/http/return-to.ts no test can kill (npm run mutate: 38 of 40 killed, 95 %):
   * - excluded there with a Stryker comment: in decodeRepeatedly, `if (next === current)`
   *   removed or `i--` (the loop stops changing `current` once decoding is stable, so only
   *   work is saved) and `i <= 3` (a fourth round only refuses more); the origin check
   *   after `new URL` (see the next point);
   * - surviving, equivalent: decodeRepeatedly's `catch` emptied (undecodable text fails every
   *   later round alike); the `catch` around `new URL` emptied (a value that passed the
   *   earlier tests starts with one "/" and has no backslash or control character, so it
   *   always parses, on the probe origin).
   * (`value.length === 0` was dropped from the code: "" already fails the "/" test.)
   */
  test('at most 2048 characters (README): 2048 are kept, 2049 refused', () => {
    const path = (length: number): string => `/${'a'.repeat(length - 1)}`;
    assert.equal(safeReturnTo(path(2048)), path(2048));
    assert.equal(safeReturnTo(path(2049)), undefined);
  });

  test('the 2048 characters are counted again once normalised (the login cookie carries the percent-encoded path)', () => {
    // `"` is three characters once encoded: 2048 of them are kept, 2049 refused, and 2,047 `"` (6142) too.
    const encodedTo = (length: number): string => `/${'a'.repeat(length - 4)}"`;
    assert.equal(safeReturnTo(encodedTo(2048)), `/${'a'.repeat(2044)}%22`);
    assert.equal(safeReturnTo(encodedTo(2049)), undefined);
    assert.equal(safeReturnTo(`/${'"'.repeat(2047)}`), undefined);
  });

  test('only a path that starts with "/" is kept (README): relative and empty values are refused, not resolved', () => {
    for (const value of ['', 'profile', './profile', '?next=/x', '#top']) assert.equal(safeReturnTo(value), undefined, label(value));
  });

  test('a control character anywhere is refused, even where the URL parser would strip it', () => {
    for (const value of ['/pro\tfile', '/profile\n', '/a\u0000b', '/a\u007fb']) assert.equal(safeReturnTo(value), undefined, label(value));
  });

  test('seen through up to three rounds of percent-decoding (README), judged before and after normalising', () => {
    // "//" encoded once, twice, three times
    for (const value of ['/%2F%2Fevil.example', '/%252F%252Fevil.example', '/%25252F%25252Fevil.example'])
      assert.equal(safeReturnTo(value), undefined, label(value));
    // dot segments that would normalise away: refused as given, not rescued into "/"
    assert.equal(safeReturnTo('/%2F%2Fevil.example/..'), undefined);
    // an encoded control character inside the path is not a host: kept
    assert.equal(safeReturnTo('/a/%09b'), '/a/%09b');
  });

  test('non-strings are refused', () => {
    for (const value of [undefined, null, 1, ['/profile'], { href: '/profile' }]) assert.equal(safeReturnTo(value), undefined);
  });

  test('strings built from slashes, encodings, dots, whitespace and lookalikes never leave the site (fast-check)', () => {
    const fragment = fc.constantFrom(
      '/',
      '//',
      '\\',
      '%2F',
      '%2f',
      '%5C',
      '%25',
      '%252F',
      '.',
      '..',
      '%2e',
      '@',
      ':',
      'evil.example',
      '\t',
      '\n',
      '\r',
      '\u0000',
      '%09',
      '%0a',
      '%00',
      '／',
      '。',
      '\uff3c',
      ' ',
      '?',
      '#',
      'a',
      'https:',
      'javascript:',
    );
    const value = fc.oneof(
      fc.array(fragment, { maxLength: 10 }).map((parts) => parts.join('')),
      fc.string({ unit: 'binary', maxLength: 30 }),
    );
    fc.assert(
      fc.property(value, (v) => {
        assertStaysOnSite(safeReturnTo(v), v);
      }),
      { seed: 424242, numRuns: 20_000 },
    );
  });

  test('a kept value is a fixed point: judged again, it is kept unchanged (no encoded "//" survives dot-segment removal)', () => {
    for (const value of [...HOSTILE, '/./%2F%2Fevil.example', '/a/../%2F%2Fevil.example']) {
      const out = safeReturnTo(value);
      if (out !== undefined) assert.equal(safeReturnTo(out), out, `${label(value)} gave ${label(out)}`);
    }
  });
});

/** The logout answer goes to the provider's end_session endpoint (back to our own page) or to our own page: never to the hostile value. */
function assertLogoutTarget(target: string | undefined, s: TestSetup, hostile: string): void {
  assert.ok(target !== undefined, 'a logout target');
  const url = new URL(target);
  if (url.origin === new URL(s.op.issuer).origin) {
    assert.equal(url.origin + url.pathname, `${s.op.issuer}/session/end`);
    assert.equal(url.searchParams.get('post_logout_redirect_uri'), `${s.appUrl}/`);
    assert.equal(url.searchParams.has('returnTo'), false);
    for (const [, v] of url.searchParams) if (hostile !== '') assert.notEqual(v, hostile);
  } else {
    assert.equal(target, `${s.appUrl}/`);
  }
}

describe('returnTo through a real login with the provider', () => {
  let s: TestSetup;
  before(async () => {
    // A catch-all guarded area: requiresAuth builds returnTo from whatever path was requested.
    s = await setup({ jsonErrors: true, routes: (app) => app.use(requiresAuth(), (_req, res) => res.json({ page: 'guarded' })) });
  });
  after(async () => {
    await s.close();
  });

  for (const hostile of HOSTILE) {
    test(`a login started with returnTo ${label(hostile)} ends on the app, where safeReturnTo says`, async () => {
      const callback = await login(new Browser(), `${s.appUrl}/login?returnTo=${encodeURIComponent(hostile)}`);
      assert.equal(callback.status, 302, callback.body);
      const location = rawLocation(callback);
      assertSameOriginRelative(location, s.appUrl);
      assertStaysOnSite(location, hostile);
      assert.equal(location, safeReturnTo(hostile) ?? '/');
    });
  }

  test("a hostile returnTo added to the provider's answer at the callback is ignored: the login's own returnTo wins", async () => {
    for (const hostile of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/%2F%2Fevil.example']) {
      const b = new Browser();
      const answer = await authorize(b, `${s.appUrl}/login?returnTo=%2Fprofile`);
      const url = new URL(answer.location ?? '');
      url.searchParams.append('returnTo', hostile);
      const callback = await deliver(b, { ...answer, location: url.href });
      assert.equal(callback.status, 302, callback.body);
      assert.equal(rawLocation(callback), '/profile', label(hostile));
    }
  });

  test('requiresAuth on a hostile request path sends the browser through a login that still ends on the app', async () => {
    for (const path of ['//evil.example/x', '/%2F%2Fevil.example', '///evil.example', '/%5C%5Cevil.example']) {
      const b = new Browser();
      const guarded = await b.get(`${s.appUrl}${path}`, { accept: 'text/html' });
      assert.equal(guarded.status, 302, path);
      assert.equal(new URL(guarded.location ?? '').pathname, '/login');
      const callback = await login(b, guarded.location ?? '');
      assert.equal(callback.status, 302, callback.body);
      assertSameOriginRelative(rawLocation(callback), s.appUrl);
    }
  });

  test('a hostile returnTo given twice, or next to a good one, ends at "/"', async () => {
    const callback = await login(new Browser(), `${s.appUrl}/login?returnTo=%2Fprofile&returnTo=%2F%2Fevil.example`);
    assert.equal(rawLocation(callback), '/');
  });
});

for (const kind of ['with end_session', 'without end_session'] as const) {
  describe(`logout with a hostile returnTo, provider ${kind}`, () => {
    let s: TestSetup;
    before(async () => {
      s = await setup(
        kind === 'with end_session' ? { jsonErrors: true } : { jsonErrors: true, provider: { features: { rpInitiatedLogout: { enabled: false } } } },
      );
    });
    after(async () => {
      await s.close();
    });

    test("the provider's metadata matches the case", async () => {
      const meta = (await (await fetch(`${s.op.issuer}/.well-known/openid-configuration`)).json()) as { end_session_endpoint?: string };
      assert.equal(meta.end_session_endpoint !== undefined, kind === 'with end_session');
    });

    for (const hostile of HOSTILE) {
      test(`POST /logout with returnTo ${label(hostile)} in the query and the form goes to ${kind === 'with end_session' ? 'the provider or ' : ''}the app's own page`, async () => {
        const { browser } = await loggedIn(s);
        const q = encodeURIComponent(hostile);
        const form = { returnTo: hostile, redirectTo: hostile, post_logout_redirect_uri: hostile };
        const answer = await browser.request(`${s.appUrl}/logout?returnTo=${q}`, { method: 'POST', form });
        assert.equal(answer.status, 303, answer.body);
        assertLogoutTarget(rawLocation(answer), s, hostile);
        if (kind === 'without end_session') assert.equal(rawLocation(answer), `${s.appUrl}/`);
        assert.equal((await browser.get(`${s.appUrl}/profile`, ACCEPT_JSON)).status, 401);

        const json = await new Browser().request(`${s.appUrl}/logout?returnTo=${q}`, { method: 'POST', headers: ACCEPT_JSON, form: { returnTo: hostile } });
        assert.equal(json.status, 200, json.body);
        assertLogoutTarget((JSON.parse(json.body) as { redirectTo?: string }).redirectTo, s, hostile);
      });
    }
  });
}
