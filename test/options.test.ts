import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { MemoryStore } from 'express-session';
import { oidcAuth, OidcAuthError, type OidcAuthOptions, type SessionIndex } from '../lib/index.js';
import { quietLogger } from './helpers/app.js';

const SESSION_SECRET = 'session-secret-for-option-tests-0123456789';
const CLIENT_SECRET = 'client-secret-for-option-tests';

type Input = Record<string, unknown>;

function validOptions(): Input {
  return {
    issuer: 'https://idp.example.com',
    clientId: 'my-app',
    clientSecret: CLIENT_SECRET,
    baseUrl: 'https://app.example.com',
    session: { secret: SESSION_SECRET },
  };
}

/** The valid options with some options replaced, or removed when given as undefined. */
function withOptions(changes: Input): Input {
  const options = { ...validOptions(), ...changes };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) Reflect.deleteProperty(options, key);
  }
  return options;
}

function callOidcAuth(options: unknown): ReturnType<typeof oidcAuth> {
  return oidcAuth(options as OidcAuthOptions);
}

function configError(options: unknown): OidcAuthError {
  try {
    callOidcAuth(options);
  } catch (err) {
    assert.ok(err instanceof OidcAuthError, 'oidcAuth() threw something other than an OidcAuthError');
    assert.equal(err.code, 'OIDC_CONFIG_INVALID');
    assert.equal(err.status, 500);
    assert.equal(err.message, `oidcAuth: invalid options:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`);
    return err;
  }
  return assert.fail('oidcAuth() accepted invalid options');
}

/** Exactly these problems, in this order, and nothing else. */
function assertProblems(options: unknown, expected: readonly string[]): void {
  assert.deepEqual(configError(options).problems, expected);
}

function assertAccepted(options: unknown): void {
  assert.doesNotThrow(() => callOidcAuth(options));
}

async function privateKey(): Promise<CryptoKey> {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  return pair.privateKey;
}

const PATH_RULE = 'a path that starts with "/" (not "//") and has no query, fragment, backslash or whitespace';
const SECRET_RULE = '"session.secret" must be a random string of at least 32 characters, or an array of them (newest first)';
const OWN_SECRET_RULE = '"secret" must be a random string of at least 32 characters, or an array of them (newest first)';
const SECRET_REQUIRED =
  '"secret" is required with "session: false": a random string of at least 32 characters (or an array, newest first) that keys the login cookies and the encryption of tokens at rest';
const SESSION_REQUIRED = '"session" is required: express-session options ({ secret, store }), or false when the app mounts express-session itself';
const SESSION_SHAPE = '"session" must be express-session options ({ secret, store, … }) or false when the app mounts express-session itself';

void describe('the error for invalid options', () => {
  void test('is an OidcAuthError with code OIDC_CONFIG_INVALID, status 500 and the problems listed in its message', () => {
    const err = configError(withOptions({ issuer: undefined }));
    assert.equal(err.name, 'OidcAuthError');
    assert.equal(err.statusCode, 500);
    assert.equal(err.expose, false);
    assert.equal(err.message, 'oidcAuth: invalid options:\n  - "issuer" must be an absolute URL string (got undefined)');
  });

  void test('options that are not an object are reported alone', () => {
    assertProblems(undefined, ['options must be an object (got undefined)']);
    assertProblems(null, ['options must be an object (got null)']);
    assertProblems([], ['options must be an object (got an empty array)']);
  });

  void test('options given as a string are described without echoing the string', () => {
    const err = configError('https://idp.example.com');
    assert.deepEqual(err.problems, ['options must be an object (got a string of 23 characters)']);
    assert.ok(!err.message.includes('idp.example.com'));
  });
});

void describe('required options', () => {
  void test('a missing issuer is reported', () => {
    assertProblems(withOptions({ issuer: undefined }), ['"issuer" must be an absolute URL string (got undefined)']);
  });

  void test('a missing clientId is reported', () => {
    assertProblems(withOptions({ clientId: undefined }), ['"clientId" must be a non-empty string (got undefined)']);
  });

  void test('a missing baseUrl is reported', () => {
    assertProblems(withOptions({ baseUrl: undefined }), ['"baseUrl" must be an absolute URL string (got undefined)']);
  });

  void test('a missing session is reported once', () => {
    assertProblems(withOptions({ session: undefined }), [SESSION_REQUIRED]);
  });

  void test('a session explicitly set to undefined is reported as missing', () => {
    assertProblems({ ...validOptions(), session: undefined }, [SESSION_REQUIRED]);
  });

  void test('an empty options object reports every required option', () => {
    assertProblems({}, [
      '"issuer" must be an absolute URL string (got undefined)',
      '"baseUrl" must be an absolute URL string (got undefined)',
      '"clientId" must be a non-empty string (got undefined)',
      SESSION_REQUIRED,
    ]);
  });

  void test('session false is accepted for an app that mounts express-session itself, with a secret of its own', () => {
    assertAccepted(withOptions({ session: false, secret: SESSION_SECRET }));
  });

  void test('session false without a secret is refused: the login cookies and the sealed store need a key', () => {
    assertProblems(withOptions({ session: false }), [SECRET_REQUIRED]);
  });
});

void describe('options of the wrong type', () => {
  void test('an issuer that is not a string is reported', () => {
    assertProblems(withOptions({ issuer: 42 }), ['"issuer" must be an absolute URL string (got 42)']);
  });

  void test('an empty issuer is reported', () => {
    assertProblems(withOptions({ issuer: '' }), ['"issuer" must be an absolute URL string (got an empty string)']);
  });

  void test('a baseUrl that is not an absolute URL is reported', () => {
    assertProblems(withOptions({ baseUrl: 'app.example.com' }), ['"baseUrl" must be an absolute URL like "https://example.com" (got "app.example.com")']);
  });

  void test('an issuer with a scheme other than http(s) is reported', () => {
    assertProblems(withOptions({ issuer: 'ftp://idp.example.com' }), ['"issuer" must be an http(s) URL (got "ftp://idp.example.com")']);
  });

  void test('an empty clientId is reported', () => {
    assertProblems(withOptions({ clientId: '' }), ['"clientId" must be a non-empty string (got "")']);
  });

  void test('a clientId that is not a string is reported', () => {
    assertProblems(withOptions({ clientId: 123 }), ['"clientId" must be a non-empty string (got 123)']);
  });

  void test('allowInsecureRequests that is not a boolean is reported', () => {
    assertProblems(withOptions({ allowInsecureRequests: 'yes' }), ['"allowInsecureRequests" must be a boolean (got "yes")']);
  });

  void test('routes that are not an object are reported', () => {
    assertProblems(withOptions({ routes: '/login' }), ['"routes" must be an object (got "/login")']);
  });

  void test('logout that is not an object is reported', () => {
    assertProblems(withOptions({ logout: true }), ['"logout" must be an object (got true)']);
  });

  void test('hooks that are not an object are reported', () => {
    assertProblems(withOptions({ hooks: [] }), ['"hooks" must be an object (got [])']);
  });

  void test('a session that is neither options nor false is reported', () => {
    assertProblems(withOptions({ session: true }), [`${SESSION_SHAPE} (got a boolean)`]);
  });

  void test('a session cookie that is not an object is reported', () => {
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, cookie: 'strict' } }), ['"session.cookie" must be an object (got "strict")']);
  });

  void test('a function given where a value belongs is described, not printed', () => {
    const err = configError(withOptions({ scope: () => 'openid profile' }));
    assert.deepEqual(err.problems, ['"scope" must be a space-separated string that contains "openid" (got a function)']);
    assert.ok(!err.message.includes('openid profile'));
  });

  void test('a long string is described by its length, not printed', () => {
    assertProblems(withOptions({ scope: 'profile '.repeat(20) }), [
      '"scope" must be a space-separated string that contains "openid" (got a string of 160 characters)',
    ]);
  });
});

void describe('issuer and baseUrl', () => {
  void test('an http issuer is refused without allowInsecureRequests', () => {
    assertProblems(withOptions({ issuer: 'http://idp.example.com' }), [
      '"issuer" must use https (got "http://idp.example.com"); set "allowInsecureRequests: true" for local development only',
    ]);
  });

  void test('an http issuer on loopback is refused without allowInsecureRequests', () => {
    assertProblems(withOptions({ issuer: 'http://localhost:3000' }), [
      '"issuer" must use https (got "http://localhost:3000"); set "allowInsecureRequests: true" for local development only',
    ]);
  });

  void test('an http issuer is accepted with allowInsecureRequests', () => {
    assertAccepted(withOptions({ issuer: 'http://idp.example.com', allowInsecureRequests: true }));
  });

  void test('an http baseUrl is accepted on loopback without allowInsecureRequests', () => {
    for (const baseUrl of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000/app']) {
      assertAccepted(withOptions({ baseUrl }));
    }
  });

  void test('an http baseUrl off loopback is refused without allowInsecureRequests', () => {
    assertProblems(withOptions({ baseUrl: 'http://app.example.com' }), [
      '"baseUrl" must use https (got "http://app.example.com"); set "allowInsecureRequests: true" for local development only',
    ]);
  });

  void test('an http baseUrl off loopback is accepted with allowInsecureRequests', () => {
    assertAccepted(withOptions({ baseUrl: 'http://app.internal:8080', allowInsecureRequests: true }));
  });

  void test('a baseUrl with a path is accepted', () => {
    assertAccepted(withOptions({ baseUrl: 'https://app.example.com/portal/' }));
  });

  void test('an issuer with a query is refused', () => {
    assertProblems(withOptions({ issuer: 'https://idp.example.com/?tenant=a' }), [
      '"issuer" must not contain a query, a fragment or credentials (got "https://idp.example.com/?tenant=a")',
    ]);
  });

  void test('a baseUrl with a fragment is refused', () => {
    assertProblems(withOptions({ baseUrl: 'https://app.example.com/#top' }), [
      '"baseUrl" must not contain a query, a fragment or credentials (got "https://app.example.com/#top")',
    ]);
  });

  void test('a baseUrl with an empty query or fragment is refused', () => {
    assertProblems(withOptions({ baseUrl: 'https://app.example.com/?' }), [
      '"baseUrl" must not contain a query, a fragment or credentials (got "https://app.example.com/?")',
    ]);
    assertProblems(withOptions({ baseUrl: 'https://app.example.com/app#' }), [
      '"baseUrl" must not contain a query, a fragment or credentials (got "https://app.example.com/app#")',
    ]);
  });

  void test('an issuer with credentials is refused and the credentials are masked', () => {
    const err = configError(withOptions({ issuer: 'https://admin:hunter2hunter2@idp.example.com' }));
    assert.deepEqual(err.problems, ['"issuer" must not contain a query, a fragment or credentials (got "https://***@idp.example.com")']);
    assert.ok(!err.message.includes('hunter2'));
    assert.ok(!err.message.includes('admin'));
  });

  void test('an http issuer with credentials is refused and the credentials are masked', () => {
    const err = configError(withOptions({ issuer: 'http://admin:hunter2hunter2@idp.example.com' }));
    assert.deepEqual(err.problems, [
      '"issuer" must use https (got "http://***@idp.example.com"); set "allowInsecureRequests: true" for local development only',
    ]);
    assert.ok(!err.message.includes('hunter2'));
  });

  void test('a URL without a scheme but with credentials is refused and the credentials are masked', () => {
    const err = configError(withOptions({ baseUrl: 'admin:hunter2hunter2@app.example.com' }));
    assert.deepEqual(err.problems, ['"baseUrl" must be an http(s) URL (got "***@app.example.com")']);
    assert.ok(!err.message.includes('hunter2'));
  });
});

void describe('client authentication', () => {
  void test('client_secret_basic without a clientSecret is refused', () => {
    assertProblems(withOptions({ clientSecret: undefined, clientAuthMethod: 'client_secret_basic' }), [
      '"clientSecret" is required for clientAuthMethod "client_secret_basic"',
    ]);
  });

  void test('client_secret_post without a clientSecret is refused', () => {
    assertProblems(withOptions({ clientSecret: undefined, clientAuthMethod: 'client_secret_post' }), [
      '"clientSecret" is required for clientAuthMethod "client_secret_post"',
    ]);
  });

  void test('client_secret_post with a clientSecret is accepted', () => {
    assertAccepted(withOptions({ clientAuthMethod: 'client_secret_post' }));
  });

  void test('private_key_jwt without a clientPrivateKey is refused', () => {
    assertProblems(withOptions({ clientSecret: undefined, clientAuthMethod: 'private_key_jwt' }), [
      '"clientPrivateKey" is required for clientAuthMethod "private_key_jwt"',
    ]);
  });

  void test('private_key_jwt with a clientPrivateKey is accepted, with or without naming the method', async () => {
    const key = await privateKey();
    assertAccepted(withOptions({ clientSecret: undefined, clientAuthMethod: 'private_key_jwt', clientPrivateKey: { key, kid: 'k1' } }));
    assertAccepted(withOptions({ clientSecret: undefined, clientPrivateKey: { key } }));
  });

  void test('a clientPrivateKey that is not a CryptoKey is refused', () => {
    assertProblems(withOptions({ clientSecret: undefined, clientPrivateKey: { key: '-----BEGIN PRIVATE KEY-----' } }), [
      '"clientPrivateKey" must be { key: CryptoKey, kid?: string }, imported with crypto.subtle.importKey or jose importJWK (got an object)',
    ]);
  });

  void test('a clientPrivateKey with a kid that is not a string is refused', async () => {
    const key = await privateKey();
    assertProblems(withOptions({ clientSecret: undefined, clientPrivateKey: { key, kid: 7 } }), [
      '"clientPrivateKey" must be { key: CryptoKey, kid?: string }, imported with crypto.subtle.importKey or jose importJWK (got an object)',
    ]);
  });

  void test('a clientSecret with method none is refused', () => {
    assertProblems(withOptions({ clientAuthMethod: 'none' }), [
      '"clientSecret" is set but clientAuthMethod is "none", which does not use it: remove one of them',
    ]);
  });

  void test('a clientSecret with private_key_jwt is refused', async () => {
    const key = await privateKey();
    assertProblems(withOptions({ clientAuthMethod: 'private_key_jwt', clientPrivateKey: { key } }), [
      '"clientSecret" is set but clientAuthMethod is "private_key_jwt", which does not use it: remove one of them',
    ]);
  });

  void test('a clientPrivateKey with method none is refused', async () => {
    const key = await privateKey();
    assertProblems(withOptions({ clientSecret: undefined, clientAuthMethod: 'none', clientPrivateKey: { key } }), [
      '"clientPrivateKey" is set but clientAuthMethod is "none", which does not use it: remove one of them or use "private_key_jwt"',
    ]);
  });

  void test('a clientPrivateKey beside a clientSecret with no method names the default method', async () => {
    const key = await privateKey();
    assertProblems(withOptions({ clientPrivateKey: { key } }), [
      '"clientPrivateKey" is set but clientAuthMethod is "client_secret_basic" (the default when clientSecret is set), which does not use it: remove one of them or use "private_key_jwt"',
    ]);
  });

  void test('an unknown clientAuthMethod is refused with the list of methods', () => {
    assertProblems(withOptions({ clientAuthMethod: 'client_secret_jwt' }), [
      '"clientAuthMethod" must be one of "client_secret_basic", "client_secret_post", "private_key_jwt", "none" (got "client_secret_jwt")',
    ]);
  });

  void test('a public client with neither secret nor key is accepted', () => {
    assertAccepted(withOptions({ clientSecret: undefined }));
    assertAccepted(withOptions({ clientSecret: undefined, clientAuthMethod: 'none' }));
  });

  void test('a clientSecret key that is present but undefined (an unset environment variable) is refused, not taken for a public client', () => {
    assertProblems({ ...validOptions(), clientSecret: undefined }, [
      '"clientSecret" is present but undefined (an unset environment variable?): give the secret, or for a public client leave it out or set clientAuthMethod "none"',
    ]);
    assertAccepted({ ...validOptions(), clientSecret: undefined, clientAuthMethod: 'none' });
  });

  void test('an empty clientSecret is refused', () => {
    assertProblems(withOptions({ clientSecret: '' }), ['"clientSecret" must be a non-empty string (got an empty string)']);
  });

  void test('a clientSecret that is not a string is refused without echoing it', () => {
    const err = configError(withOptions({ clientSecret: 98765432123 }));
    assert.deepEqual(err.problems, ['"clientSecret" must be a non-empty string (got a number)']);
    assert.ok(!err.message.includes('98765432123'));
  });
});

void describe('scope and idTokenSigningAlg', () => {
  void test('a scope without openid is refused', () => {
    assertProblems(withOptions({ scope: 'profile email' }), ['"scope" must be a space-separated string that contains "openid" (got "profile email")']);
  });

  void test('a scope with openid only inside another word is refused', () => {
    assertProblems(withOptions({ scope: 'openid_connect profile' }), [
      '"scope" must be a space-separated string that contains "openid" (got "openid_connect profile")',
    ]);
  });

  void test('a scope that is not a string is refused', () => {
    assertProblems(withOptions({ scope: ['openid'] }), ['"scope" must be a space-separated string that contains "openid" (got ["openid"])']);
  });

  void test('a scope with openid anywhere is accepted', () => {
    assertAccepted(withOptions({ scope: 'openid' }));
    assertAccepted(withOptions({ scope: 'profile openid offline_access' }));
  });

  void test('idTokenSigningAlg none is refused', () => {
    assertProblems(withOptions({ idTokenSigningAlg: 'none' }), [
      '"idTokenSigningAlg" must be an asymmetric JWS algorithm such as "RS256" or "ES256" (got "none")',
    ]);
  });

  void test('a symmetric idTokenSigningAlg is refused', () => {
    assertProblems(withOptions({ idTokenSigningAlg: 'HS256' }), [
      '"idTokenSigningAlg" must be an asymmetric JWS algorithm such as "RS256" or "ES256" (got "HS256")',
    ]);
  });

  void test('asymmetric algorithms are accepted', () => {
    for (const alg of ['RS256', 'PS384', 'ES256', 'ES512', 'EdDSA', 'Ed25519']) {
      assertAccepted(withOptions({ idTokenSigningAlg: alg }));
    }
  });
});

void describe('routes', () => {
  void test('a route without a leading slash is refused', () => {
    assertProblems(withOptions({ routes: { login: 'login' } }), [`"routes.login" must be ${PATH_RULE}, or false to disable it (got "login")`]);
  });

  void test('a route that starts with two slashes is refused', () => {
    assertProblems(withOptions({ routes: { callback: '//evil.example.com' } }), [
      `"routes.callback" must be ${PATH_RULE}, or false to disable it (got "//evil.example.com")`,
    ]);
  });

  void test('a route with a query is refused', () => {
    assertProblems(withOptions({ routes: { logout: '/logout?next=/' } }), [
      `"routes.logout" must be ${PATH_RULE}, or false to disable it (got "/logout?next=/")`,
    ]);
  });

  void test('a route with a fragment is refused', () => {
    assertProblems(withOptions({ routes: { callback: '/callback#x' } }), [
      `"routes.callback" must be ${PATH_RULE}, or false to disable it (got "/callback#x")`,
    ]);
  });

  void test('a route with a backslash is refused', () => {
    assertProblems(withOptions({ routes: { postLogoutRedirect: '/\\evil.example.com' } }), [
      `"routes.postLogoutRedirect" must be ${PATH_RULE} (got "/\\\\evil.example.com")`,
    ]);
  });

  void test('a route with whitespace or a control character is refused', () => {
    assertProblems(withOptions({ routes: { login: '/log in' } }), [`"routes.login" must be ${PATH_RULE}, or false to disable it (got "/log in")`]);
    assertProblems(withOptions({ routes: { login: '/login\n' } }), [`"routes.login" must be ${PATH_RULE}, or false to disable it (got "/login\\n")`]);
  });

  void test('a route that is not a string is refused', () => {
    assertProblems(withOptions({ routes: { login: 1 } }), [`"routes.login" must be ${PATH_RULE}, or false to disable it (got 1)`]);
  });

  void test('a backchannelLogout route that is neither a path nor false is refused', () => {
    assertProblems(withOptions({ routes: { backchannelLogout: true } }), [
      `"routes.backchannelLogout" must be ${PATH_RULE}, or false to disable it (got true)`,
    ]);
  });

  void test('backchannelLogout false is accepted and frees its default path', () => {
    assertAccepted(withOptions({ routes: { backchannelLogout: false } }));
    assertAccepted(withOptions({ routes: { backchannelLogout: false, callback: '/backchannel-logout' } }));
  });

  void test('two routes on one path are refused', () => {
    assertProblems(withOptions({ routes: { callback: '/login' } }), ['"routes.callback" must differ from "routes.login" (got "/login" for both)']);
  });

  void test('two routes that differ only by a trailing slash are refused', () => {
    assertProblems(withOptions({ routes: { login: '/auth', logout: '/auth/' } }), ['"routes.logout" must differ from "routes.login" (got "/auth" for both)']);
  });

  void test('a route on the default path of another route is refused', () => {
    assertProblems(withOptions({ routes: { logout: '/backchannel-logout' } }), [
      '"routes.backchannelLogout" must differ from "routes.logout" (got "/backchannel-logout" for both)',
    ]);
  });

  void test("postLogoutRedirect on one of the package's own routes is refused", () => {
    assertProblems(withOptions({ routes: { postLogoutRedirect: '/login' } }), [
      '"routes.postLogoutRedirect" must not be one of the package\'s own routes (got "/login", which is "routes.login")',
    ]);
    assertProblems(withOptions({ routes: { logout: '/bye', postLogoutRedirect: '/bye/' } }), [
      '"routes.postLogoutRedirect" must not be one of the package\'s own routes (got "/bye", which is "routes.logout")',
    ]);
  });

  void test('custom routes on distinct paths are accepted', () => {
    assertAccepted(
      withOptions({
        routes: { login: '/auth/login', callback: '/auth/callback', logout: '/auth/logout', backchannelLogout: '/auth/bcl', postLogoutRedirect: '/goodbye' },
      }),
    );
  });
});

void describe('session', () => {
  void test('a session secret that is too short is refused without echoing it', () => {
    const err = configError(withOptions({ session: { secret: 'too-short-secret' } }));
    assert.deepEqual(err.problems, [`${SECRET_RULE} (got a string of 16 characters)`]);
    assert.ok(!err.message.includes('too-short-secret'));
  });

  void test('a missing session secret is refused', () => {
    assertProblems(withOptions({ session: { name: 'sid' } }), [`${SECRET_RULE} (got undefined)`]);
  });

  void test('a session secret that is not a string is refused', () => {
    assertProblems(withOptions({ session: { secret: 12345 } }), [`${SECRET_RULE} (got a number)`]);
  });

  void test('an empty array of session secrets is refused', () => {
    assertProblems(withOptions({ session: { secret: [] } }), [`${SECRET_RULE} (got an empty array)`]);
  });

  void test('an array of session secrets with one short entry names the entry without echoing it', () => {
    const err = configError(withOptions({ session: { secret: [SESSION_SECRET, 'old-tiny-secret'] } }));
    assert.deepEqual(err.problems, [`${SECRET_RULE} (got an array whose entry 1 is a string of 15 characters)`]);
    assert.ok(!err.message.includes('old-tiny-secret'));
    assert.ok(!err.message.includes(SESSION_SECRET));
  });

  void test('an array of long session secrets is accepted', () => {
    assertAccepted(withOptions({ session: { secret: [SESSION_SECRET, `${SESSION_SECRET}-previous`] } }));
  });

  void test('a secret of its own shorter than 32 characters is refused without echoing it', () => {
    const err = configError(withOptions({ secret: 'own-short-secret' }));
    assert.deepEqual(err.problems, [`${OWN_SECRET_RULE} (got a string of 16 characters)`]);
    assert.ok(!err.message.includes('own-short-secret'));
  });

  void test('a secret of its own that is an array names its short entry, and a rotation array is accepted', () => {
    assertProblems(withOptions({ secret: [SESSION_SECRET, 12] }), [`${OWN_SECRET_RULE} (got an array whose entry 1 is a number)`]);
    assertAccepted(withOptions({ secret: [`${SESSION_SECRET}-new`, SESSION_SECRET] }));
  });

  void test('a secret of its own does not excuse a short session secret', () => {
    assertProblems(withOptions({ secret: SESSION_SECRET, session: { secret: 'short' } }), [`${SECRET_RULE} (got a string of 5 characters)`]);
  });

  void test('a session secret given in place of the session options is not echoed', () => {
    const err = configError(withOptions({ session: SESSION_SECRET }));
    assert.deepEqual(err.problems, [`${SESSION_SHAPE} (got a string of ${String(SESSION_SECRET.length)} characters)`]);
    assert.ok(!err.message.includes(SESSION_SECRET));
  });

  void test('sameSite none without a secure cookie is refused', () => {
    const expected = '"session.cookie.secure" must be true when "session.cookie.sameSite" is "none", or browsers drop the cookie (got false)';
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, cookie: { sameSite: 'none', secure: false } } }), [expected]);
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, cookie: { sameSite: 'None', secure: false } } }), [expected]);
  });

  void test('sameSite none is refused on an http baseUrl, where cookies are not secure by default', () => {
    assertProblems(withOptions({ baseUrl: 'http://localhost:3000', session: { secret: SESSION_SECRET, cookie: { sameSite: 'none' } } }), [
      '"session.cookie.secure" must be true when "session.cookie.sameSite" is "none", or browsers drop the cookie (got false)',
    ]);
  });

  void test('a __Host- session.name that browsers would drop (a path other than "/", a domain, or not Secure) is refused', () => {
    const why = 'needs "session.cookie" with secure true, path "/" and no domain, or browsers drop a __Host- cookie and nobody stays logged in';
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, name: '__Host-app', cookie: { path: '/app' } } }), [
      `"session.name" "__Host-app" ${why} (got secure true, path "/app", domain undefined)`,
    ]);
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, name: '__host-app', cookie: { domain: 'example.com' } } }), [
      `"session.name" "__host-app" ${why} (got secure true, path "/", domain "example.com")`,
    ]);
    assertProblems(withOptions({ baseUrl: 'http://localhost:3000', session: { secret: SESSION_SECRET, name: '__Host-app' } }), [
      `"session.name" "__Host-app" ${why} (got secure false, path "/", domain undefined)`,
    ]);
  });

  void test('a __Secure- session.name without a Secure cookie is refused', () => {
    assertProblems(withOptions({ session: { secret: SESSION_SECRET, name: '__Secure-app', cookie: { secure: false } } }), [
      '"session.name" "__Secure-app" needs "session.cookie.secure" true, or browsers drop a __Secure- cookie and nobody stays logged in (got false)',
    ]);
  });

  void test('a __Host- session.name is accepted for an app under a path: its cookie path defaults to "/"', () => {
    assertAccepted(withOptions({ baseUrl: 'https://app.example.com/app', session: { secret: SESSION_SECRET, name: '__Host-app' } }));
  });

  void test('sameSite none is accepted with a secure cookie, explicit or from an https baseUrl', () => {
    assertAccepted(withOptions({ session: { secret: SESSION_SECRET, cookie: { sameSite: 'none' } } }));
    assertAccepted(withOptions({ baseUrl: 'http://localhost:3000', session: { secret: SESSION_SECRET, cookie: { sameSite: 'none', secure: true } } }));
  });
});

void describe('logout', () => {
  const METHODS_RULE = '"logout.methods" must be a non-empty array of "POST" and/or "GET"';
  const REVOKE_RULE = '"logout.revokeTokens" must be a boolean or { accessToken?: boolean, refreshToken?: boolean }';

  void test('an empty logout.methods is refused', () => {
    assertProblems(withOptions({ logout: { methods: [] } }), [`${METHODS_RULE} (got [])`]);
  });

  void test('a logout method other than POST or GET is refused', () => {
    assertProblems(withOptions({ logout: { methods: ['POST', 'DELETE'] } }), [`${METHODS_RULE} (got ["POST","DELETE"])`]);
  });

  void test('logout.methods given as a string is refused', () => {
    assertProblems(withOptions({ logout: { methods: 'POST' } }), [`${METHODS_RULE} (got "POST")`]);
  });

  void test('logout.methods with GET and POST is accepted', () => {
    assertAccepted(withOptions({ logout: { methods: ['GET', 'POST'] } }));
  });

  void test('logout.revokeTokens that is not a boolean or an object is refused', () => {
    assertProblems(withOptions({ logout: { revokeTokens: 'yes' } }), [`${REVOKE_RULE} (got "yes")`]);
  });

  void test('logout.revokeTokens with a non-boolean member is refused', () => {
    assertProblems(withOptions({ logout: { revokeTokens: { accessToken: 'no' } } }), [`${REVOKE_RULE} (got an object)`]);
  });

  void test('a misspelt logout.revokeTokens member is reported with a suggestion', () => {
    assertProblems(withOptions({ logout: { revokeTokens: { acessToken: false } } }), [
      '"logout.revokeTokens.acessToken" is not an option: did you mean "logout.revokeTokens.accessToken"?',
    ]);
  });

  void test('logout.revokeTokens as a boolean or a partial object is accepted', () => {
    assertAccepted(withOptions({ logout: { revokeTokens: false } }));
    assertAccepted(withOptions({ logout: { revokeTokens: { refreshToken: false } } }));
  });

  void test('logout.idpLogout that is not a boolean is refused', () => {
    assertProblems(withOptions({ logout: { idpLogout: 'false' } }), ['"logout.idpLogout" must be a boolean (got "false")']);
  });

  void test('logout.timeoutMs outside whole milliseconds from 1 to 120000 is refused', () => {
    for (const [value, shown] of [
      [0, '0'],
      [1.5, '1.5'],
      [120_001, '120001'],
      ['5000', '"5000"'],
      [Number.NaN, 'NaN'],
    ] as const) {
      assertProblems(withOptions({ logout: { timeoutMs: value } }), [
        `"logout.timeoutMs" must be a whole number of milliseconds between 1 and 120000 (got ${shown})`,
      ]);
    }
  });

  void test('logout.backchannelMaxAgeSec outside whole seconds from 30 to 3600 is refused, and both ends are accepted', () => {
    for (const [value, shown] of [
      [29, '29'],
      [3601, '3601'],
      [60.5, '60.5'],
      ['300', '"300"'],
    ] as const) {
      assertProblems(withOptions({ logout: { backchannelMaxAgeSec: value } }), [
        `"logout.backchannelMaxAgeSec" must be a whole number of seconds between 30 and 3600 (got ${shown})`,
      ]);
    }
    assertAccepted(withOptions({ logout: { backchannelMaxAgeSec: 30 } }));
    assertAccepted(withOptions({ logout: { backchannelMaxAgeSec: 3600 } }));
  });

  void test('logout.reauthenticate takes a boolean or { maxAgeZero }, and says so otherwise', () => {
    for (const [value, shown] of [
      ['yes', '"yes"'],
      [1, '1'],
      [{ maxAgeZero: 'true' }, 'an object'],
    ] as const) {
      assertProblems(withOptions({ logout: { reauthenticate: value } }), [
        `"logout.reauthenticate" must be a boolean or { maxAgeZero?: boolean } (got ${shown})`,
      ]);
    }
    assertProblems(withOptions({ logout: { reauthenticate: { maxagezero: true } } }), [
      '"logout.reauthenticate.maxagezero" is not an option: did you mean "logout.reauthenticate.maxAgeZero"?',
    ]);
    for (const value of [true, false, {}, { maxAgeZero: true }]) assertAccepted(withOptions({ logout: { reauthenticate: value } }));
  });

  void test('a misspelt logout option is reported with a suggestion', () => {
    assertProblems(withOptions({ logout: { method: ['GET'] } }), ['"logout.method" is not an option: did you mean "logout.methods"?']);
  });

  void test('every logout option at a valid value is accepted', () => {
    assertAccepted(withOptions({ logout: { methods: ['POST'], revokeTokens: true, idpLogout: false, timeoutMs: 1 } }));
  });
});

void describe('httpTimeoutMs', () => {
  void test('httpTimeoutMs outside whole milliseconds from 1 to 120000 is refused', () => {
    for (const [value, shown] of [
      [-1, '-1'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [null, 'null'],
    ] as const) {
      assertProblems(withOptions({ httpTimeoutMs: value }), [`"httpTimeoutMs" must be a whole number of milliseconds between 1 and 120000 (got ${shown})`]);
    }
  });

  void test('httpTimeoutMs of 120000 is accepted', () => {
    assertAccepted(withOptions({ httpTimeoutMs: 120_000 }));
  });
});

void describe('logger, hooks, context and sessionIndex', () => {
  const LOGGER_RULE = '"logger" must have debug, info, warn and error methods, as pino and console do';
  const INDEX_RULE =
    '"sessionIndex" must be a session index with add, remove, lookup, claimOnce, release, markEnded and isEnded methods, such as redisSessionIndex(client) or postgresSessionIndex(pool)';

  void test('a logger without debug is refused', () => {
    assertProblems(withOptions({ logger: {} }), [`${LOGGER_RULE} (got an object without the "debug" method)`]);
  });

  void test('a logger without error is refused', () => {
    const noop = (): undefined => undefined;
    assertProblems(withOptions({ logger: { debug: noop, info: noop, warn: noop } }), [`${LOGGER_RULE} (got an object without the "error" method)`]);
  });

  void test('a logger that is not an object is refused', () => {
    assertProblems(withOptions({ logger: 'console' }), [`${LOGGER_RULE} (got "console")`]);
  });

  void test('console and a custom logger are accepted', () => {
    assertAccepted(withOptions({ logger: console }));
    assertAccepted(withOptions({ logger: quietLogger }));
  });

  void test('hooks that are not functions are refused', () => {
    assertProblems(withOptions({ hooks: { postLogin: {}, postLogout: 'log' } }), [
      '"hooks.postLogin" must be a function (got an object)',
      '"hooks.postLogout" must be a function (got "log")',
    ]);
  });

  void test('a misspelt hook is reported with a suggestion', () => {
    assertProblems(withOptions({ hooks: { postlogout: () => undefined } }), ['"hooks.postlogout" is not an option: did you mean "hooks.postLogout"?']);
  });

  void test('a context that is not a function is refused', () => {
    assertProblems(withOptions({ context: { db: 'x' } }), ['"context" must be a function (got an object)']);
  });

  void test('hooks and context as functions are accepted', () => {
    assertAccepted(withOptions({ hooks: { postLogin: () => undefined, postLogout: () => undefined }, context: () => ({ db: 'x' }) }));
  });

  void test('a sessionIndex without lookup is refused', () => {
    assertProblems(withOptions({ sessionIndex: { add: () => undefined, remove: () => undefined } }), [
      `${INDEX_RULE} (got an object without the "lookup" method)`,
    ]);
  });

  void test('a sessionIndex that is not an object is refused', () => {
    assertProblems(withOptions({ sessionIndex: 'redis' }), [`${INDEX_RULE} (got "redis")`]);
  });
});

void describe('authorizationParams', () => {
  void test('every parameter the package sets itself is refused', () => {
    for (const key of ['client_id', 'redirect_uri', 'response_type', 'state', 'nonce', 'code_challenge', 'code_challenge_method']) {
      assertProblems(withOptions({ authorizationParams: { [key]: 'x' } }), [
        `"authorizationParams.${key}" is set by the package itself and cannot be overridden`,
      ]);
    }
  });

  void test('scope in authorizationParams points to the scope option', () => {
    assertProblems(withOptions({ authorizationParams: { scope: 'openid' } }), [
      '"authorizationParams.scope" is set by the package itself: use the "scope" option',
    ]);
  });

  void test('parameter values that are not strings are refused', () => {
    assertProblems(withOptions({ authorizationParams: { max_age: 3600, audience: ['a', 'b'] } }), [
      '"authorizationParams.max_age" must be a string (got 3600)',
      '"authorizationParams.audience" must be a string (got ["a","b"])',
    ]);
  });

  void test('authorizationParams that are not an object are refused', () => {
    assertProblems(withOptions({ authorizationParams: 'prompt=login' }), ['"authorizationParams" must be an object of string values (got "prompt=login")']);
  });

  void test('extra string parameters are accepted', () => {
    assertAccepted(withOptions({ authorizationParams: { prompt: 'login', audience: 'https://api.example.com', acr_values: 'mfa' } }));
  });
});

void describe('unknown options', () => {
  void test('clientID is reported with a suggestion of clientId', () => {
    assertProblems(withOptions({ clientID: 'my-app', clientId: undefined }), [
      '"clientID" is not an option: did you mean "clientId"?',
      '"clientId" must be a non-empty string (got undefined)',
    ]);
  });

  void test('a misspelt route is reported with a suggestion', () => {
    assertProblems(withOptions({ routes: { calback: '/cb' } }), ['"routes.calback" is not an option: did you mean "routes.callback"?']);
  });

  void test('the nearest option is suggested, not the first near one', () => {
    assertProblems(withOptions({ logget: console }), ['"logget" is not an option: did you mean "logger"?']);
  });

  void test('a plural typo is reported with a suggestion', () => {
    assertProblems(withOptions({ allowInsecureRequest: true }), ['"allowInsecureRequest" is not an option: did you mean "allowInsecureRequests"?']);
  });

  void test('an option unlike any other is reported without a suggestion', () => {
    assertProblems(withOptions({ redirectUri: 'https://app.example.com/callback' }), ['"redirectUri" is not an option']);
  });
});

void describe('several problems at once', () => {
  void test('are reported together in one error, each on its own line', () => {
    const err = configError({
      issuer: 'http://idp.example.com',
      clientID: 'my-app',
      baseUrl: 'https://app.example.com',
      scope: 'profile',
      routes: { login: 'login', callback: '/login' },
      session: { secret: 'short' },
      logout: { timeoutMs: 0 },
    });
    const expected = [
      '"clientID" is not an option: did you mean "clientId"?',
      '"issuer" must use https (got "http://idp.example.com"); set "allowInsecureRequests: true" for local development only',
      '"clientId" must be a non-empty string (got undefined)',
      '"scope" must be a space-separated string that contains "openid" (got "profile")',
      `"routes.login" must be ${PATH_RULE}, or false to disable it (got "login")`,
      '"routes.callback" must differ from "routes.login" (got "/login" for both)',
      '"logout.timeoutMs" must be a whole number of milliseconds between 1 and 120000 (got 0)',
      `${SECRET_RULE} (got a string of 5 characters)`,
    ];
    assert.deepEqual(err.problems, expected);
    assert.equal(err.message, `oidcAuth: invalid options:\n${expected.map((p) => `  - ${p}`).join('\n')}`);
  });
});

void describe('secrets in messages', () => {
  void test('no message echoes the client secret or the session secret', () => {
    const err = configError(withOptions({ clientAuthMethod: 'none', session: { secret: [SESSION_SECRET, 'short-old-one'] }, scope: 'profile' }));
    assert.equal(err.problems.length, 3);
    for (const secret of [CLIENT_SECRET, SESSION_SECRET, 'short-old-one']) {
      assert.ok(!err.message.includes(secret), `the message echoes ${secret}`);
      assert.ok(err.problems.every((p) => !p.includes(secret)));
    }
  });
});

void describe('valid options', () => {
  void test('the minimal options are accepted and give a named middleware', () => {
    const middleware = callOidcAuth(validOptions());
    assert.equal(typeof middleware, 'function');
    assert.equal(middleware.name, 'oidcAuthMiddleware');
  });

  void test("every option at a valid value is accepted and the caller's object is not changed", async () => {
    const key = await privateKey();
    const hooks = { postLogin: () => undefined, postLogout: () => undefined };
    const context = () => ({ db: 'db' });
    const sessionIndex: SessionIndex = {
      shared: true,
      add: () => Promise.resolve(),
      remove: () => Promise.resolve(),
      lookup: () => Promise.resolve([]),
      claimOnce: () => Promise.resolve(true),
      release: () => Promise.resolve(),
      markEnded: () => Promise.resolve(),
      isEnded: () => Promise.resolve(false),
    };
    const store = new MemoryStore();
    const build = (): OidcAuthOptions<{ db: string }> => ({
      issuer: 'https://idp.example.com/realms/main',
      clientId: 'my-app',
      clientAuthMethod: 'private_key_jwt',
      clientPrivateKey: { key, kid: 'k1' },
      baseUrl: 'https://app.example.com/portal',
      scope: 'openid profile email offline_access',
      authorizationParams: { prompt: 'login', audience: 'https://api.example.com' },
      idTokenSigningAlg: 'ES256',
      routes: { login: '/auth/login/', callback: '/auth/callback', logout: '/auth/logout', backchannelLogout: false, postLogoutRedirect: '/bye' },
      session: { secret: [SESSION_SECRET, `${SESSION_SECRET}-old`], store, cookie: { sameSite: 'strict', maxAge: 3_600_000 } },
      logout: { methods: ['POST', 'GET'], revokeTokens: { accessToken: false }, idpLogout: false, timeoutMs: 2000 },
      hooks,
      context,
      logger: quietLogger,
      allowInsecureRequests: false,
      httpTimeoutMs: 5000,
      sessionIndex,
    });
    const options = build();
    assert.doesNotThrow(() => oidcAuth(options));
    assert.deepEqual(options, build());
  });

  void test('deeply frozen options are accepted, so nothing in them is written', () => {
    const options = withOptions({
      routes: { login: '/signin/' },
      session: { secret: [SESSION_SECRET], cookie: { sameSite: 'lax' } },
      logout: { methods: ['POST'], revokeTokens: { refreshToken: true } },
      authorizationParams: { prompt: 'consent' },
      hooks: { postLogout: () => undefined },
    });
    deepFreeze(options);
    assertAccepted(options);
  });

  void test('a typo-free options object of the public type compiles and is accepted', () => {
    const options: OidcAuthOptions = {
      issuer: 'https://idp.example.com',
      clientId: 'my-app',
      baseUrl: 'http://localhost:3000',
      session: false,
      secret: SESSION_SECRET,
    };
    assert.doesNotThrow(() => oidcAuth(options));
  });
});

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && !Array.isArray(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
