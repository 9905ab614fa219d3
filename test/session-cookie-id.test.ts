import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import type { Request, Response } from 'express';
import session from 'express-session';
import fc from 'fast-check';
import { cookieValue, signedSessionIdOf } from '../lib/session/session-cookie.js';
import { SESSION_SECRET } from './helpers/app.js';

const NAME = 'oidc.sid';
const OLD_SECRET = 'an-older-session-secret-0123456789abcdef';
const OTHER_SECRET = 'nobody-s-session-secret-0123456789abcdef';

/** A signed cookie value as express-session writes it (cookie-signature: HMAC-SHA256, base64 without padding). */
function signed(id: string, secret: string): string {
  return `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The session id express-session itself reads from `header`: its middleware runs on a real
 * request, and the id it asks the store for is the answer (undefined: it asked for none).
 */
function expressSessionReads(header: string, secrets: string[]): string | undefined {
  let asked: string | undefined;
  const store = new session.MemoryStore();
  store.get = (sid, callback) => {
    asked = sid;
    callback(null, null);
  };
  const middleware = session({ name: NAME, secret: secrets, store, resave: false, saveUninitialized: false });
  const req = new IncomingMessage(new Socket());
  req.headers.cookie = header;
  req.url = '/';
  const res = new ServerResponse(req);
  let nextCalled = false;
  middleware(req as Request, res as Response, () => {
    nextCalled = true;
  });
  assert.ok(nextCalled, 'express-session answered synchronously');
  return asked;
}

describe('the session cookie as the package reads it', () => {
  test('express-session and the package read the same session id from any Cookie header', () => {
    const ids = ['abc', 'JqK3hN0c2y8xU8fNwq7x1A', 'a.b', ''];
    const value = fc.oneof(
      fc.constantFrom(...ids).map((id) => signed(id, SESSION_SECRET)),
      fc.constantFrom(...ids).map((id) => signed(id, OLD_SECRET)),
      fc.constantFrom(...ids).map((id) => signed(id, OTHER_SECRET)),
      fc.constantFrom(...ids).map((id) => encodeURIComponent(signed(id, SESSION_SECRET))),
      fc.constantFrom(...ids).map((id) => `"${signed(id, SESSION_SECRET)}"`),
      fc.constantFrom(...ids).map((id) => `${signed(id, SESSION_SECRET).slice(0, -1)}%`),
      fc.string({ unit: fc.constantFrom('s', ':', '.', '=', '"', '%', '2', 'A', ' ', '\t', 'x') }),
    );
    const name = fc.constantFrom(NAME, ` ${NAME}`, `${NAME}\t`, 'oidc.si', 'oidc.sid2', 'x', '');
    const pair = fc.oneof(
      fc.tuple(name, value).map(([n, v]) => `${n}=${v}`),
      fc.constantFrom('flag', ' ', '', '=', 'a=b=c'),
    );
    const header = fc.tuple(fc.array(pair, { maxLength: 5 }), fc.constantFrom(';', '; ', ' ;', ';\t')).map(([pairs, separator]) => pairs.join(separator));
    fc.assert(
      fc.property(header, fc.boolean(), (cookie, rotated) => {
        const secrets = rotated ? [OLD_SECRET, SESSION_SECRET] : [SESSION_SECRET];
        assert.equal(signedSessionIdOf(cookie, NAME, secrets), expressSessionReads(cookie, secrets), cookie);
      }),
      { seed: 32, numRuns: 3000 },
    );
  });

  test('the first cookie of a name counts, blanks and one pair of quotes are dropped, %-escapes decoded', () => {
    assert.equal(cookieValue('a=1; oidc.sid=first; oidc.sid=second', NAME), 'first');
    assert.equal(cookieValue(' oidc.sid = "q" ', NAME), 'q');
    assert.equal(cookieValue('oidc.sid=s%3Aid.sig', NAME), 's:id.sig');
    assert.equal(cookieValue('oidc.sid=%E0%A4%A', NAME), '%E0%A4%A', 'an escape that does not decode is kept as sent');
    assert.equal(cookieValue('oidc.sidx=1', NAME), undefined);
    assert.equal(cookieValue('flag; oidc.sid=after-a-pair-without-equals', NAME), 'after-a-pair-without-equals');
    assert.equal(cookieValue('oidc.sidX', NAME), undefined, 'a header without "=" has no cookie');
    assert.equal(cookieValue('flag; oidc.sid=;', NAME), '', 'an empty value after a pair without "="');
    assert.equal(cookieValue('oidc.sid="abc', NAME), '"abc', 'a quote only at the start stays');
    assert.equal(cookieValue('oidc.sid=abc"', NAME), 'abc"', 'a quote only at the end stays');
  });

  // Equivalent mutants left (StrykerJS): the blank-skipping loops' bounds (a "=" or ";" always
  // stops them first), decoding without a "%" (decodeURIComponent returns the same), the
  // backtracking to the ";" before a "=" left out or made `>=` (the pair tried instead cannot
  // be named `name`, and a "=" is never a ";"), the loop's `index <= length` (no "=" is found
  // past the end), and the padding regexes (an HMAC-SHA256 in base64 ends in exactly one "=").
  // Score 87.2 % (74 killed, 8 timed out, 12 survived) before the empty-value case above.
  test('a signature by any configured secret holds; any other, or none, does not', () => {
    assert.equal(signedSessionIdOf(`oidc.sid=${encodeURIComponent(signed('abc', OLD_SECRET))}`, NAME, [SESSION_SECRET, OLD_SECRET]), 'abc');
    assert.equal(signedSessionIdOf(`oidc.sid=${encodeURIComponent(signed('abc', OTHER_SECRET))}`, NAME, [SESSION_SECRET, OLD_SECRET]), undefined);
    assert.equal(signedSessionIdOf('oidc.sid=abc', NAME, [SESSION_SECRET]), undefined, 'an unsigned cookie');
    assert.equal(signedSessionIdOf(`oidc.sid=t${signed('abc', SESSION_SECRET).slice(1)}`, NAME, [SESSION_SECRET]), undefined, 'signed, but not marked "s:"');
    assert.equal(signedSessionIdOf(`oidc.sid=${signed('a', SESSION_SECRET)}`, NAME, [SESSION_SECRET]), 'a', 'an id of one character');
    assert.equal(signedSessionIdOf(`oidc.sid=${signed('abc', SESSION_SECRET).slice(0, -2)}`, NAME, [SESSION_SECRET]), undefined, 'a cut signature');
  });
});
