import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import express, { type Request, type Response } from 'express';
import { transactionCookies, type LoginTransaction, type TransactionCookies } from '../lib/login/login-transactions.js';
import { createSealer, type Sealer } from '../lib/crypto/sealing.js';
import { parseSetCookie, type SetCookie } from './helpers/cookies.js';

/*
 * The login-transaction cookies on their own, without a provider: transactionCookies(...) is
 * called with real Express 5 request and response objects (Express's own prototypes, no
 * socket), so every Set-Cookie header is the one a browser would receive, and a small cookie
 * jar plays the browser (RFC 6265bis: cookies keyed by name and path, path-matching, expiry).
 * Time never comes from a clock: start takes the creation time inside the transaction and
 * take the current time as an argument, so every boundary below is exact.
 *
 * Expected numbers come from the README, not from lib/login/login-transactions.ts.
 *
 * Mutation testing (npm run mutate lib/login/login-transactions.ts, this suite alone): 97.0 %
 * (2026-12-06; 60.5 % before the step-up, silent and reauthentication fields were pinned here):
 * every mutant is killed except these six, each equivalent (no input tells it from the original):
 * - start, `a === undefined ? {} : { a }` → `false ? …`: `{ a: undefined }` is sealed as JSON,
 *   where JSON.stringify leaves an undefined field out: the same bytes.
 * - take, `state === undefined || …` → `false || …`: STATE_SHAPE.test(undefined) tests the
 *   string "undefined", 9 characters, which the 16-character minimum refuses: same result.
 * - take, `sealed === undefined || binding === undefined` → `false || …`: with the sealed
 *   cookie missing, sealer.open(…, undefined, …) returns undefined (it refuses any non-string
 *   and never throws, lib/crypto/sealing.ts), so parse gives undefined and take returns undefined.
 * - parse, `if (json === undefined) return undefined` → `if (false)`: JSON.parse(undefined)
 *   throws, the catch returns undefined.
 * - parse, `catch { return undefined; }` → `catch {}`: value stays undefined, and the next
 *   line (`typeof value !== 'object'`) returns undefined.
 * - parse, `typeof value !== 'object' || value === null` → `false || value === null`: a
 *   primitive (number, string, boolean) destructures to six undefined fields (none of s, n,
 *   v, r, t, b is a property of Number, String or Boolean prototypes), so the typeof checks
 *   of the next line return undefined all the same.
 */

/** README, "Login": "at most 5 logins are in flight per browser (a 6th drops the oldest)". */
const LOGINS_IN_FLIGHT = 5;
/** README, "Login": "each for 10 minutes"; threat model: "gone after the callback or 10 minutes". In ms. */
const TEN_MINUTES_MS = 10 * 60 * 1000;
/** The same 10 minutes as a cookie's Max-Age (RFC 6265bis §5.6.2: delta-seconds). */
const TEN_MINUTES_S = '600';
/**
 * Not in the README: the lib's doc comment says a transaction created by another instance
 * may lie up to one minute ahead of this clock. Pinned so a change of it is deliberate.
 */
const ONE_MINUTE_MS = 60 * 1000;
/** Any fixed instant: nothing below reads the clock. */
const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

const SECRET = 'login-transaction-test-secret-0123456789';
const OTHER_SECRET = 'another-apps-secret-of-forty-characters!';
const CALLBACK = '/auth/callback';

const sealer = createSealer(SECRET);
const app = express();

interface Settings {
  secure: boolean;
  sameSite: 'lax' | 'none';
}
const HTTP: Settings = { secure: false, sameSite: 'lax' };
const HTTPS: Settings = { secure: true, sameSite: 'none' };

function cookiesFor(settings: Settings, withSealer: Sealer = sealer): TransactionCookies {
  return transactionCookies({ sealer: withSealer, callbackPath: CALLBACK, ...settings });
}

function namesOf(state: string, settings: Settings): { tx: string; bind: string } {
  // README: `oidc.tx.<id>` and `__Host-oidc.bind.<id>` on https (`oidc.bind.<id>` on http);
  // the id is the start of the state (test/helpers/cookies.ts: its first 16 characters).
  const id = state.slice(0, 16);
  return { tx: `oidc.tx.${id}`, bind: `${settings.secure ? '__Host-' : ''}oidc.bind.${id}` };
}

/** One request/response through Express's own req/res prototypes; the Set-Cookie headers it produced. */
function exchange<T>(cookie: string | undefined, handle: (req: Request, res: Response) => T): { result: T; setCookies: SetCookie[] } {
  const incoming = new IncomingMessage(new Socket());
  if (cookie !== undefined) incoming.headers.cookie = cookie;
  const outgoing = new ServerResponse(incoming);
  Object.setPrototypeOf(incoming, app.request);
  Object.setPrototypeOf(outgoing, app.response);
  const result = handle(incoming as Request, outgoing as Response);
  const raw = outgoing.getHeader('set-cookie');
  const headers = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  return { result, setCookies: headers.map(parseSetCookie) };
}

function cookieHeader(pairs: readonly (readonly [string, string])[]): string | undefined {
  return pairs.length === 0 ? undefined : pairs.map(([name, value]) => `${name}=${value}`).join('; ');
}

/** A cookie that a Set-Cookie header deletes: empty, and expired (Expires in the past or Max-Age ≤ 0). */
function isDeletion(cookie: SetCookie, now: number): boolean {
  const maxAge = cookie.attributes.get('max-age');
  const expires = cookie.attributes.get('expires');
  if (typeof maxAge === 'string') return Number(maxAge) <= 0;
  return cookie.value === '' && typeof expires === 'string' && Date.parse(expires) <= now;
}

/** "name path" of every cookie the response deletes, sorted. */
function deleted(setCookies: readonly SetCookie[]): string[] {
  return setCookies
    .filter((c) => isDeletion(c, T0))
    .map((c) => `${c.name} ${String(c.attributes.get('path'))}`)
    .sort();
}

/** A browser's cookie store for one host (RFC 6265bis §5.7: keyed by name and path; §5.8.3 path-match). */
class Jar {
  private cookies: { name: string; value: string; path: string; expiresAt: number }[] = [];

  apply(setCookies: readonly SetCookie[], now: number): void {
    for (const c of setCookies) {
      const pathAttr = c.attributes.get('path');
      const path = typeof pathAttr === 'string' ? pathAttr : '/';
      const maxAge = c.attributes.get('max-age');
      const expires = c.attributes.get('expires');
      const expiresAt = typeof maxAge === 'string' ? now + Number(maxAge) * 1000 : typeof expires === 'string' ? Date.parse(expires) : Infinity;
      this.cookies = this.cookies.filter((k) => !(k.name === c.name && k.path === path));
      if (expiresAt > now) this.cookies.push({ name: c.name, value: c.value, path, expiresAt });
    }
  }

  pairs(requestPath: string, now: number): [string, string][] {
    return this.cookies.filter((c) => c.expiresAt > now && pathMatches(requestPath, c.path)).map((c): [string, string] => [c.name, c.value]);
  }

  header(requestPath: string, now: number): string | undefined {
    return cookieHeader(this.pairs(requestPath, now));
  }

  /** One browser holding the cookies of all these. */
  static merged(jars: readonly Jar[]): Jar {
    const jar = new Jar();
    jar.cookies = jars.flatMap((j) => j.cookies);
    return jar;
  }

  value(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}

/** A state as the package issues them (randomToken() in lib/crypto/random.ts: 32 random bytes, base64url). */
function newState(): string {
  return randomBytes(32).toString('base64url');
}

function newLogin(createdAt: number, state = newState()): LoginTransaction {
  return {
    state,
    nonce: randomBytes(32).toString('base64url'),
    // RFC 7636 §4.1: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]
    verifier: randomBytes(32).toString('base64url'),
    returnTo: '/account?tab=1',
    createdAt,
  };
}

function essentials(tx: LoginTransaction | undefined): LoginTransaction | undefined {
  if (tx === undefined) return undefined;
  const { state, nonce, verifier, returnTo, createdAt } = tx;
  return { state, nonce, verifier, returnTo, createdAt };
}

/** GET /login in this browser: the login's cookies land in the jar. */
function startLogin(tc: TransactionCookies, jar: Jar, tx: LoginTransaction): SetCookie[] {
  const { setCookies } = exchange(jar.header('/login', tx.createdAt), (req, res) => {
    tc.start(req, res, tx);
  });
  jar.apply(setCookies, tx.createdAt);
  return setCookies;
}

/** The provider sends this browser back to the callback with `state`, at `now`. */
function callback(tc: TransactionCookies, jar: Jar, state: string | undefined, now: number): { tx: LoginTransaction | undefined; setCookies: SetCookie[] } {
  const { result, setCookies } = exchange(jar.header(CALLBACK, now), (req, res) => tc.take(req, res, state, now));
  jar.apply(setCookies, now);
  return { tx: result, setCookies };
}

/** take with exactly this Cookie header (a replay, a planted or forged cookie). */
function takeWith(
  tc: TransactionCookies,
  cookie: string | undefined,
  state: string | undefined,
  now: number,
): { tx: LoginTransaction | undefined; setCookies: SetCookie[] } {
  const { result, setCookies } = exchange(cookie, (req, res) => tc.take(req, res, state, now));
  return { tx: result, setCookies };
}

describe('the cookies of a login', () => {
  test('on http: a sealed transaction cookie sent only to the callback and a binding cookie, both HttpOnly, SameSite=Lax, 10 minutes, not Secure', () => {
    const tx = newLogin(T0);
    const setCookies = startLogin(cookiesFor(HTTP), new Jar(), tx);
    const names = namesOf(tx.state, HTTP);
    assert.deepEqual(
      setCookies.map((c) => c.name),
      [names.tx, names.bind],
    );
    const [txCookie, bindCookie] = setCookies;
    assert.ok(txCookie !== undefined && bindCookie !== undefined);
    assert.equal(txCookie.attributes.get('path'), CALLBACK);
    assert.equal(bindCookie.attributes.get('path'), '/');
    for (const cookie of setCookies) {
      assert.equal(cookie.attributes.get('httponly'), true, cookie.name);
      assert.equal(cookie.attributes.get('samesite'), 'Lax', cookie.name);
      assert.equal(cookie.attributes.get('max-age'), TEN_MINUTES_S, cookie.name);
      assert.equal(cookie.attributes.has('secure'), false, cookie.name);
      assert.equal(cookie.attributes.has('domain'), false, cookie.name);
      assert.notEqual(cookie.value, '', cookie.name);
    }
  });

  test('on https: Secure cookies, the binding one a valid __Host- cookie (RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain), SameSite as configured', () => {
    const tx = newLogin(T0);
    const setCookies = startLogin(cookiesFor(HTTPS), new Jar(), tx);
    const names = namesOf(tx.state, HTTPS);
    assert.deepEqual(
      setCookies.map((c) => c.name),
      [names.tx, names.bind],
    );
    const [txCookie, bindCookie] = setCookies;
    assert.ok(txCookie !== undefined && bindCookie !== undefined);
    assert.equal(txCookie.attributes.get('path'), CALLBACK);
    assert.equal(bindCookie.attributes.get('path'), '/');
    for (const cookie of setCookies) {
      assert.equal(cookie.attributes.get('secure'), true, cookie.name);
      assert.equal(cookie.attributes.get('httponly'), true, cookie.name);
      assert.equal(cookie.attributes.get('samesite'), 'None', cookie.name);
      assert.equal(cookie.attributes.get('max-age'), TEN_MINUTES_S, cookie.name);
      assert.equal(cookie.attributes.has('domain'), false, cookie.name);
    }
  });

  test('the transaction is sealed: neither cookie shows the state, nonce, PKCE verifier or returnTo', () => {
    const tx = newLogin(T0);
    const setCookies = startLogin(cookiesFor(HTTP), new Jar(), tx);
    for (const cookie of setCookies) {
      for (const secret of [tx.state, tx.nonce, tx.verifier, encodeURIComponent(tx.returnTo)]) {
        assert.equal(cookie.value.includes(secret), false, `${cookie.name} shows ${secret}`);
      }
    }
  });

  test('a /login request does not carry the transaction cookie (Path = the callback); the callback gets both', () => {
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(cookiesFor(HTTP), jar, tx);
    const names = namesOf(tx.state, HTTP);
    assert.deepEqual(
      jar.pairs('/login', T0).map(([name]) => name),
      [names.bind],
    );
    assert.deepEqual(
      jar
        .pairs(CALLBACK, T0)
        .map(([name]) => name)
        .sort(),
      [names.bind, names.tx].sort(),
    );
  });
});

describe('the callback takes its login, once', () => {
  for (const [label, settings] of [
    ['http', HTTP],
    ['https', HTTPS],
  ] as const) {
    test(`${label}: the callback gets back the state, nonce, verifier, returnTo and creation time, and both cookies are deleted where they were set`, () => {
      const tc = cookiesFor(settings);
      const jar = new Jar();
      const tx = newLogin(T0);
      startLogin(tc, jar, tx);
      const taken = callback(tc, jar, tx.state, T0 + 1000);
      assert.deepEqual(essentials(taken.tx), tx);
      const names = namesOf(tx.state, settings);
      assert.deepEqual(deleted(taken.setCookies), [`${names.bind} /`, `${names.tx} ${CALLBACK}`].sort());
      assert.equal(taken.setCookies.length, 2);
      for (const cookie of taken.setCookies) {
        // A deletion that differs in Secure or SameSite is still a deletion, but HttpOnly and the
        // prefix rules must hold for it too, or a __Host- cookie is not replaced (RFC 6265bis §5.7).
        assert.equal(cookie.attributes.get('httponly'), true, cookie.name);
        assert.equal(cookie.attributes.has('secure'), settings.secure, cookie.name);
      }
      assert.deepEqual(jar.pairs(CALLBACK, T0 + 1000), []);
    });
  }

  test('used once, then again: the second callback with the same state finds nothing and deletes nothing', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    assert.deepEqual(essentials(callback(tc, jar, tx.state, T0 + 1000).tx), tx);
    const again = callback(tc, jar, tx.state, T0 + 2000);
    assert.equal(again.tx, undefined);
    assert.deepEqual(again.setCookies, []);
  });

  test('a callback that fails still consumes the login: a wrong state with the same cookie id deletes the cookies, and the right state then fails too', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    const forged = tx.state.slice(0, 16) + newState().slice(16);
    assert.notEqual(forged, tx.state);
    const wrong = callback(tc, jar, forged, T0 + 1000);
    assert.equal(wrong.tx, undefined);
    const names = namesOf(tx.state, HTTP);
    assert.deepEqual(deleted(wrong.setCookies), [`${names.bind} /`, `${names.tx} ${CALLBACK}`].sort());
    assert.equal(callback(tc, jar, tx.state, T0 + 2000).tx, undefined);
  });

  test('logins in other tabs are untouched by a callback: each is taken with its own state', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const first = newLogin(T0);
    const second = newLogin(T0 + 1000);
    startLogin(tc, jar, first);
    startLogin(tc, jar, second);
    const taken = callback(tc, jar, second.state, T0 + 2000);
    assert.deepEqual(essentials(taken.tx), second);
    assert.equal(taken.setCookies.length, 2);
    assert.deepEqual(essentials(callback(tc, jar, first.state, T0 + 3000).tx), first);
  });

  test('no state, or a state this browser has no cookie for: nothing, and no Set-Cookie', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    for (const state of [undefined, newState()]) {
      const taken = callback(tc, jar, state, T0 + 1000);
      assert.equal(taken.tx, undefined);
      assert.deepEqual(taken.setCookies, []);
    }
    assert.equal(takeWith(tc, undefined, tx.state, T0 + 1000).tx, undefined);
    assert.deepEqual(essentials(callback(tc, jar, tx.state, T0 + 1000).tx), tx);
  });

  test('only one of the two cookies (the other lost or blocked): refused, and the one that came is deleted', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    const names = namesOf(tx.state, HTTP);
    const sealed = jar.value(names.tx);
    const binding = jar.value(names.bind);
    assert.ok(sealed !== undefined && binding !== undefined);

    const onlyTx = takeWith(tc, cookieHeader([[names.tx, sealed]]), tx.state, T0 + 1000);
    assert.equal(onlyTx.tx, undefined);
    assert.deepEqual(deleted(onlyTx.setCookies), [`${names.bind} /`, `${names.tx} ${CALLBACK}`].sort());

    const onlyBind = takeWith(tc, cookieHeader([[names.bind, binding]]), tx.state, T0 + 1000);
    assert.equal(onlyBind.tx, undefined);
    assert.deepEqual(deleted(onlyBind.setCookies), [`${names.bind} /`, `${names.tx} ${CALLBACK}`].sort());
  });
});

describe('forged, foreign and tampered cookies', () => {
  function oneLogin(settings: Settings): {
    tc: TransactionCookies;
    tx: LoginTransaction;
    names: { tx: string; bind: string };
    sealed: string;
    binding: string;
  } {
    const tc = cookiesFor(settings);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    const names = namesOf(tx.state, settings);
    const sealed = jar.value(names.tx);
    const binding = jar.value(names.bind);
    assert.ok(sealed !== undefined && binding !== undefined);
    return { tc, tx, names, sealed, binding };
  }

  test('a transaction cookie sealed with another secret does not open', () => {
    const { tx, names, sealed, binding } = oneLogin(HTTP);
    const other = cookiesFor(HTTP, createSealer(OTHER_SECRET));
    assert.equal(
      takeWith(
        other,
        cookieHeader([
          [names.tx, sealed],
          [names.bind, binding],
        ]),
        tx.state,
        T0 + 1000,
      ).tx,
      undefined,
    );
  });

  test('the secret that sealed it opens it while it is listed among older secrets (rotation)', () => {
    const { tx, names, sealed, binding } = oneLogin(HTTP);
    const rotated = cookiesFor(HTTP, createSealer([OTHER_SECRET, SECRET]));
    assert.deepEqual(
      essentials(
        takeWith(
          rotated,
          cookieHeader([
            [names.tx, sealed],
            [names.bind, binding],
          ]),
          tx.state,
          T0 + 1000,
        ).tx,
      ),
      tx,
    );
  });

  test('a tampered transaction cookie is refused (and deleted)', () => {
    const { tc, tx, names, sealed, binding } = oneLogin(HTTP);
    const i = Math.floor(sealed.length / 2);
    const tampered = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
    const taken = takeWith(
      tc,
      cookieHeader([
        [names.tx, tampered],
        [names.bind, binding],
      ]),
      tx.state,
      T0 + 1000,
    );
    assert.equal(taken.tx, undefined);
    assert.equal(deleted(taken.setCookies).length, 2);
  });

  test('a binding cookie of another value (planted, or of another login) is refused', () => {
    const { tc, tx, names, sealed } = oneLogin(HTTP);
    const other = oneLogin(HTTP);
    assert.equal(
      takeWith(
        tc,
        cookieHeader([
          [names.tx, sealed],
          [names.bind, other.binding],
        ]),
        tx.state,
        T0 + 1000,
      ).tx,
      undefined,
    );
    assert.equal(
      takeWith(
        tc,
        cookieHeader([
          [names.tx, sealed],
          [names.bind, `${T0.toString(36)}.forged`],
        ]),
        tx.state,
        T0 + 1000,
      ).tx,
      undefined,
    );
  });

  test("a transaction cookie moved under another login's name does not open (sealed bound to its name)", () => {
    const a = oneLogin(HTTP);
    const b = oneLogin(HTTP);
    // a's sealed value and binding, under b's names, with b's state
    const moved = takeWith(
      a.tc,
      cookieHeader([
        [b.names.tx, a.sealed],
        [b.names.bind, a.binding],
      ]),
      b.tx.state,
      T0 + 1000,
    );
    assert.equal(moved.tx, undefined);
    // ... or with a's state, whose id names no cookie here
    assert.equal(
      takeWith(
        a.tc,
        cookieHeader([
          [b.names.tx, a.sealed],
          [b.names.bind, a.binding],
        ]),
        a.tx.state,
        T0 + 1000,
      ).tx,
      undefined,
    );
  });

  test('on https, a binding cookie without the __Host- prefix (tossed by a sibling subdomain) does not count', () => {
    const { tc, tx, names, sealed, binding } = oneLogin(HTTPS);
    const tossedName = names.bind.replace(/^__Host-/, '');
    assert.notEqual(tossedName, names.bind);
    const taken = takeWith(
      tc,
      cookieHeader([
        [names.tx, sealed],
        [tossedName, binding],
      ]),
      tx.state,
      T0 + 1000,
    );
    assert.equal(taken.tx, undefined);
    assert.deepEqual(
      essentials(
        takeWith(
          tc,
          cookieHeader([
            [names.tx, sealed],
            [names.bind, binding],
          ]),
          tx.state,
          T0 + 1000,
        ).tx,
      ),
      tx,
    );
  });

  test('when a cookie is sent twice (a planted copy first), the first is used: a planted binding fails the login', () => {
    const { tc, tx, names, sealed, binding } = oneLogin(HTTP);
    const planted = `${T0.toString(36)}.planted`;
    assert.equal(
      takeWith(
        tc,
        cookieHeader([
          [names.tx, sealed],
          [names.bind, planted],
          [names.bind, binding],
        ]),
        tx.state,
        T0 + 1000,
      ).tx,
      undefined,
    );
  });
});

describe('10 minutes to finish a login', () => {
  function started(): { tc: TransactionCookies; tx: LoginTransaction; cookie: string | undefined } {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    // A browser that keeps cookies past their Max-Age (or a replay): the server decides.
    return { tc, tx, cookie: jar.header(CALLBACK, T0) };
  }

  test('1 ms before 10 minutes the login is taken; at exactly 10 minutes, 1 ms and 1 s after, it is refused', () => {
    const { tc, tx, cookie } = started();
    assert.deepEqual(essentials(takeWith(tc, cookie, tx.state, T0).tx), tx);
    assert.deepEqual(essentials(takeWith(tc, cookie, tx.state, T0 + TEN_MINUTES_MS - 1).tx), tx);
    for (const late of [TEN_MINUTES_MS, TEN_MINUTES_MS + 1, TEN_MINUTES_MS + 1000, 24 * 60 * 60 * 1000]) {
      const taken = takeWith(tc, cookie, tx.state, T0 + late);
      assert.equal(taken.tx, undefined, `${late} ms after`);
      assert.equal(deleted(taken.setCookies).length, 2, 'an expired login is deleted too');
    }
  });

  test('a browser drops both cookies at 10 minutes too (Max-Age=600): 1 ms before, it still sends them', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    assert.equal(jar.pairs(CALLBACK, T0 + TEN_MINUTES_MS - 1).length, 2);
    assert.deepEqual(jar.pairs(CALLBACK, T0 + TEN_MINUTES_MS), []);
  });

  test("a login created up to one minute ahead of this clock (another instance's) is taken; beyond that it is refused", () => {
    const { tc, tx, cookie } = started();
    assert.deepEqual(essentials(takeWith(tc, cookie, tx.state, T0 - ONE_MINUTE_MS).tx), tx);
    for (const early of [ONE_MINUTE_MS + 1, ONE_MINUTE_MS + 1000, TEN_MINUTES_MS]) {
      assert.equal(takeWith(tc, cookie, tx.state, T0 - early).tx, undefined, `${early} ms before its creation`);
    }
  });
});

describe('states that the package never issues', () => {
  test('a state of 16 to 128 characters of [A-Za-z0-9_-] is taken; 15 or 129 characters are refused before any cookie is touched', () => {
    const tc = cookiesFor(HTTP);
    for (const [length, accepted] of [
      [16, true],
      [43, true],
      [128, true],
      [15, false],
      [129, false],
    ] as const) {
      const jar = new Jar();
      const tx = newLogin(T0, randomBytes(100).toString('base64url').repeat(2).slice(0, length));
      assert.equal(tx.state.length, length);
      startLogin(tc, jar, tx);
      const taken = callback(tc, jar, tx.state, T0 + 1000);
      assert.deepEqual(essentials(taken.tx), accepted ? tx : undefined, `${length} characters`);
      assert.equal(taken.setCookies.length, accepted ? 2 : 0, `${length} characters`);
    }
  });

  test('states with - and _ (base64url) are taken', () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0, `-_${newState().slice(2, 40)}_-_`);
    startLogin(tc, jar, tx);
    assert.deepEqual(essentials(callback(tc, jar, tx.state, T0 + 1000).tx), tx);
  });

  test("a state with a character outside base64url, at its start, middle or end, is refused and leaves this browser's logins alone", () => {
    const tc = cookiesFor(HTTP);
    const jar = new Jar();
    const tx = newLogin(T0);
    startLogin(tc, jar, tx);
    const variants = [`${tx.state}.`, `${tx.state} `, `${tx.state.slice(0, 16)}!${tx.state.slice(17)}`, `=${tx.state.slice(1)}`, `${tx.state.slice(0, 42)}/`];
    for (const state of variants) {
      const taken = callback(tc, jar, state, T0 + 1000);
      assert.equal(taken.tx, undefined, state);
      assert.deepEqual(taken.setCookies, [], state);
    }
    assert.deepEqual(essentials(callback(tc, jar, tx.state, T0 + 2000).tx), tx);
  });

  test('a state whose first characters name a cookie that is not a valid cookie name never throws', () => {
    const tc = cookiesFor(HTTP);
    const state = `ab cd${newState().slice(5)}`;
    // a request can carry such a cookie; a Set-Cookie for that name would be invalid
    const cookie = cookieHeader([
      [`oidc.tx.${state.slice(0, 16)}`, 'x'],
      [`oidc.bind.${state.slice(0, 16)}`, 'y'],
    ]);
    const taken = takeWith(tc, cookie, state, T0 + 1000);
    assert.equal(taken.tx, undefined);
    assert.deepEqual(taken.setCookies, []);
  });
});

describe('what a transaction cookie holds, when it opens but is not one of ours', () => {
  // Only whoever has the secret can seal such a value (a bug, another version of the layout):
  // it must be refused, never thrown on. The layout ({s, n, v, r, t, b}) is this package's own.
  function withContent(content: string): { tx: LoginTransaction | undefined; setCookies: SetCookie[] } {
    const tc = cookiesFor(HTTP);
    const state = newState();
    const names = namesOf(state, HTTP);
    const binding = `${T0.toString(36)}.binding`;
    const sealed = sealer.seal('transaction', content.replaceAll('STATE', state).replaceAll('BINDING', binding), names.tx);
    return takeWith(
      tc,
      cookieHeader([
        [names.tx, sealed],
        [names.bind, binding],
      ]),
      state,
      T0 + 1000,
    );
  }
  const fields = { s: '"STATE"', n: '"nonce"', v: '"verifier"', r: '"/back"', t: String(T0), b: '"BINDING"' };
  const json = (f: Record<string, string>): string =>
    `{${Object.entries(f)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',')}}`;

  test('the well-formed layout opens (the control for the cases below)', () => {
    const taken = withContent(json(fields));
    assert.equal(taken.tx?.nonce, 'nonce');
    assert.equal(taken.tx.verifier, 'verifier');
    assert.equal(taken.tx.returnTo, '/back');
    assert.equal(taken.tx.createdAt, T0);
  });

  for (const content of ['not json', 'null', '42', '"a string"', '[]', '{}', 'true']) {
    test(`content ${content} is refused and the cookies deleted`, () => {
      const taken = withContent(content);
      assert.equal(taken.tx, undefined);
      assert.equal(deleted(taken.setCookies).length, 2);
    });
  }

  // The optional fields, sealed by us in a changed format: refused, never a requirement dropped.
  for (const [label, extra] of [
    ['requirements not an object', { u: '7' }],
    ['requirements null', { u: 'null' }],
    ['acr not a list', { u: '{"a":"urn:mfa"}' }],
    ['acr with a non-string', { u: '{"a":["urn:mfa",1]}' }],
    ['maxAge a string', { u: '{"m":"60"}' }],
    ['sub a number', { u: '{"s":7}' }],
    ['reauthenticateAfter a string', { a: '"1750000000"' }],
    ['reauthenticateAfter null', { a: 'null' }],
  ] as const) {
    test(`${label} is refused`, () => {
      assert.equal(withContent(json({ ...fields, ...extra })).tx, undefined);
    });
  }

  test('silent only when q is exactly 1', () => {
    assert.equal(withContent(json({ ...fields, q: '1' })).tx?.silent, true);
    for (const q of ['2', '"1"', 'true', '0']) {
      const taken = withContent(json({ ...fields, q })).tx;
      assert.ok(taken !== undefined, `q ${q} still opens`);
      assert.equal(taken.silent, undefined, `q ${q}`);
    }
  });

  for (const key of Object.keys(fields) as (keyof typeof fields)[]) {
    // each field missing, null, or of the other type (t a number, the others strings)
    const wrongType = key === 't' ? `"${String(T0)}"` : '7';
    for (const [label, replacement] of [
      ['missing', undefined],
      ['null', 'null'],
      ['of another type', wrongType],
    ] as const) {
      test(`field ${key} ${label} is refused`, () => {
        const changed: Record<string, string> = { ...fields };
        if (replacement === undefined) Reflect.deleteProperty(changed, key);
        else changed[key] = replacement;
        assert.equal(withContent(json(changed)).tx, undefined);
      });
    }
  }
});

describe('what a step-up, a silent and a reauthenticating login carry to the callback', () => {
  function roundTrip(extra: Partial<LoginTransaction>): LoginTransaction | undefined {
    const tc = cookiesFor(HTTPS);
    const jar = new Jar();
    const tx = { ...newLogin(T0), ...extra };
    startLogin(tc, jar, tx);
    return callback(tc, jar, tx.state, T0 + 1000).tx;
  }
  const extrasOf = (tx: LoginTransaction | undefined): Partial<LoginTransaction> => {
    const { requirements, silent, reauthenticateAfter } = tx ?? {};
    return {
      ...(requirements === undefined ? {} : { requirements }),
      ...(silent === undefined ? {} : { silent }),
      ...(reauthenticateAfter === undefined ? {} : { reauthenticateAfter }),
    };
  };

  test('an ordinary login comes back with no requirements, not silent, no reauthentication time', () => {
    const taken = roundTrip({});
    assert.ok(taken !== undefined);
    assert.deepEqual(extrasOf(taken), {});
    assert.ok(!('requirements' in taken) && !('silent' in taken) && !('reauthenticateAfter' in taken));
  });

  for (const requirements of [{ acr: ['urn:mfa', 'urn:hw'], maxAge: 60, sub: 'alice' }, { acr: ['urn:mfa'] }, { maxAge: 0 }, { sub: 'bob' }, {}]) {
    test(`requirements ${JSON.stringify(requirements)} come back exactly, no field added or lost`, () => {
      const taken = roundTrip({ requirements });
      assert.deepStrictEqual(taken?.requirements, requirements);
    });
  }

  test('a silent login (prompt=none) and a login after an end (its reauthenticateAfter, epoch seconds) come back as such', () => {
    assert.deepStrictEqual(extrasOf(roundTrip({ silent: true, reauthenticateAfter: 1_750_000_000 })), { silent: true, reauthenticateAfter: 1_750_000_000 });
    assert.deepStrictEqual(extrasOf(roundTrip({ reauthenticateAfter: 0 })), { reauthenticateAfter: 0 });
  });
});

describe(`at most ${LOGINS_IN_FLIGHT} logins in flight per browser`, () => {
  /** Logins started each in a fresh browser, then their cookies put together in one. */
  function logins(tc: TransactionCookies, createdAts: readonly number[]): { tx: LoginTransaction; jar: Jar }[] {
    return createdAts.map((createdAt) => {
      const jar = new Jar();
      const tx = newLogin(createdAt);
      startLogin(tc, jar, tx);
      return { tx, jar };
    });
  }

  /** The bind cookies of these logins, in this order, as /login receives them. */
  function bindPairs(of: readonly { tx: LoginTransaction; jar: Jar }[]): [string, string][] {
    return of.flatMap(({ tx, jar }) => jar.pairs('/login', tx.createdAt));
  }

  function loginsDeleted(setCookies: readonly SetCookie[], settings: Settings, txs: readonly LoginTransaction[]): void {
    const expected = txs.flatMap((tx) => {
      const names = namesOf(tx.state, settings);
      return [`${names.bind} /`, `${names.tx} ${CALLBACK}`];
    });
    assert.deepEqual(deleted(setCookies), expected.sort());
  }

  test(`fewer than ${LOGINS_IN_FLIGHT} in flight: a new login drops none`, () => {
    const tc = cookiesFor(HTTP);
    for (let n = 0; n < LOGINS_IN_FLIGHT; n++) {
      const earlier = logins(tc, Array.from({ length: n }, (_, i) => T0 + i * 1000).reverse());
      const tx = newLogin(T0 + 60_000);
      const { setCookies } = exchange(cookieHeader(bindPairs(earlier)), (req, res) => {
        tc.start(req, res, tx);
      });
      assert.deepEqual(deleted(setCookies), [], `${n} in flight`);
      assert.equal(setCookies.length, 2, `${n} in flight`);
    }
  });

  for (const [label, settings] of [
    ['http', HTTP],
    ['https', HTTPS],
  ] as const) {
    test(`${label}: the ${LOGINS_IN_FLIGHT + 1}th login drops the oldest (both its cookies), whatever the order the browser sends them in; the other ${LOGINS_IN_FLIGHT} finish`, () => {
      const tc = cookiesFor(settings);
      // creation times out of order, the oldest neither first nor last
      const earlier = logins(tc, [T0 + 3000, T0 + 1000, T0, T0 + 4000, T0 + 2000]);
      const oldest = earlier[2];
      assert.ok(oldest !== undefined);
      const jar = Jar.merged(earlier.map((l) => l.jar));
      const newest = newLogin(T0 + 5000);
      const { setCookies } = exchange(cookieHeader(bindPairs(earlier)), (req, res) => {
        tc.start(req, res, newest);
      });
      loginsDeleted(setCookies, settings, [oldest.tx]);
      jar.apply(setCookies, T0 + 5000);
      assert.equal(callback(tc, jar, oldest.tx.state, T0 + 6000).tx, undefined);
      for (const { tx } of [...earlier.filter((l) => l !== oldest), { tx: newest }]) {
        assert.deepEqual(essentials(callback(tc, jar, tx.state, T0 + 6000).tx), tx);
      }
    });
  }

  test(`more than ${LOGINS_IN_FLIGHT} already in flight (7): the 3 oldest are dropped, leaving ${LOGINS_IN_FLIGHT} with the new one`, () => {
    const tc = cookiesFor(HTTP);
    const earlier = logins(tc, [T0 + 6000, T0 + 2000, T0 + 4000, T0, T0 + 5000, T0 + 1000, T0 + 3000]);
    const { setCookies } = exchange(cookieHeader(bindPairs(earlier)), (req, res) => {
      tc.start(req, res, newLogin(T0 + 7000));
    });
    const oldest = earlier.filter(({ tx }) => tx.createdAt < T0 + 3000).map(({ tx }) => tx);
    assert.equal(oldest.length, 3);
    loginsDeleted(setCookies, HTTP, oldest);
  });

  test('in sorted order too: the first and the last sent', () => {
    const tc = cookiesFor(HTTP);
    for (const order of [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
    ]) {
      const earlier = logins(
        tc,
        order.map((i) => T0 + i * 1000),
      );
      const { setCookies } = exchange(cookieHeader(bindPairs(earlier)), (req, res) => {
        tc.start(req, res, newLogin(T0 + 9000));
      });
      loginsDeleted(
        setCookies,
        HTTP,
        earlier.filter(({ tx }) => tx.createdAt === T0).map(({ tx }) => tx),
      );
    }
  });

  test('a binding cookie whose creation time cannot be read counts as the oldest, older even than a login from the epoch', () => {
    const tc = cookiesFor(HTTP);
    const unreadable: [string, string] = [`oidc.bind.${newState().slice(0, 16)}`, '_.garbage'];
    const unreadableId = unreadable[0].slice('oidc.bind.'.length);
    for (const createdAts of [
      [0, T0 + 1000, T0 + 2000, T0 + 3000],
      [T0, T0 + 1000, T0 + 2000, T0 + 3000],
    ]) {
      const earlier = logins(tc, createdAts);
      for (const position of [0, 2, 4]) {
        const pairs = bindPairs(earlier);
        pairs.splice(position, 0, unreadable);
        const { setCookies } = exchange(cookieHeader(pairs), (req, res) => {
          tc.start(req, res, newLogin(T0 + 9000));
        });
        assert.deepEqual(deleted(setCookies), [`oidc.bind.${unreadableId} /`, `oidc.tx.${unreadableId} ${CALLBACK}`], `position ${position}`);
      }
    }
  });

  test('on https, bind cookies without the __Host- prefix (tossed) and other cookies are not counted', () => {
    const tc = cookiesFor(HTTPS);
    const earlier = logins(tc, [T0, T0 + 1000, T0 + 2000, T0 + 3000]);
    const tossed = Array.from({ length: 4 }, (): [string, string] => [`oidc.bind.${newState().slice(0, 16)}`, '1.x']);
    const others: [string, string][] = [
      ['oidc.sid', 's:abc'],
      [`oidc.tx.${newState().slice(0, 16)}`, 'x'],
    ];
    const { setCookies } = exchange(cookieHeader([...tossed, ...others, ...bindPairs(earlier)]), (req, res) => {
      tc.start(req, res, newLogin(T0 + 9000));
    });
    assert.deepEqual(deleted(setCookies), []);
  });

  test('on http, a login started at the same creation time as others still drops exactly one', () => {
    const tc = cookiesFor(HTTP);
    const earlier = logins(tc, [T0, T0, T0, T0, T0]);
    const { setCookies } = exchange(cookieHeader(bindPairs(earlier)), (req, res) => {
      tc.start(req, res, newLogin(T0));
    });
    assert.equal(deleted(setCookies).length, 2);
  });
});
