import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { endedMarkTtlMs, indexTtlMs, judgeLifetime } from '../lib/session/lifetime.js';
import type { OidcAuthOptions } from '../lib/index.js';
import { resolveOptions } from '../lib/options/validation.js';

/*
 * The numbers of lib/session/lifetime.ts, each at its edge, with expectations from the README's
 * "Session lifetimes" section and its "Guarantees" (ended marks), never from the constants.
 * Mutants of judgeLifetime no test can kill (npm run mutate): `absoluteSec !== undefined`
 * and `idleSec === undefined` replaced by true/false: with the lifetime off, the sums that
 * follow are NaN, every comparison with NaN is false, and the verdict is the same.
 */
const DAY = 24 * 3600;
const README_ABSOLUTE_SEC = 7 * DAY;
const README_IDLE_SEC = DAY;
/** "the last activity is written at most once a minute, or once per tenth of idleSec when that is shorter" */
const README_NOTE_EVERY_SEC = 60;
/** "kept for the session's remaining lifetime plus 5 minutes" */
const README_MARK_MARGIN_MS = 5 * 60 * 1000;

const LOGGED_IN_AT = 1_700_000_000;

function options(lifetime?: OidcAuthOptions['lifetime']): ReturnType<typeof resolveOptions> {
  return resolveOptions({
    issuer: 'https://idp.example.com',
    clientId: 'app',
    clientSecret: 'client-secret-for-lifetime-rules-0123456789',
    baseUrl: 'https://app.example.com',
    session: { secret: 'session-secret-for-lifetime-rules-0123456789' },
    ...(lifetime === undefined ? {} : { lifetime }),
  });
}

describe('session lifetime rules at their edges', () => {
  const defaults = options();

  test('absolute lifetime (README: 7 days): live one second before, ended at the second it is reached, however active', () => {
    const active = { loggedInAt: LOGGED_IN_AT, lastSeenAt: LOGGED_IN_AT + README_ABSOLUTE_SEC - 1 };
    assert.notEqual(judgeLifetime(defaults.lifetime, active, LOGGED_IN_AT + README_ABSOLUTE_SEC - 1), 'expired');
    assert.equal(judgeLifetime(defaults.lifetime, active, LOGGED_IN_AT + README_ABSOLUTE_SEC), 'expired');
  });

  test('idle lifetime (README: 1 day): counted from the last activity, or from login when none was noted', () => {
    const seen = { loggedInAt: LOGGED_IN_AT, lastSeenAt: LOGGED_IN_AT + 1000 };
    assert.notEqual(judgeLifetime(defaults.lifetime, seen, LOGGED_IN_AT + 1000 + README_IDLE_SEC - 1), 'expired');
    assert.equal(judgeLifetime(defaults.lifetime, seen, LOGGED_IN_AT + 1000 + README_IDLE_SEC), 'expired');
    const never = { loggedInAt: LOGGED_IN_AT };
    assert.notEqual(judgeLifetime(defaults.lifetime, never, LOGGED_IN_AT + README_IDLE_SEC - 1), 'expired');
    assert.equal(judgeLifetime(defaults.lifetime, never, LOGGED_IN_AT + README_IDLE_SEC), 'expired');
  });

  test('the activity note is written at most once a minute (README)', () => {
    const login = { loggedInAt: LOGGED_IN_AT, lastSeenAt: LOGGED_IN_AT + 10 };
    assert.equal(judgeLifetime(defaults.lifetime, login, LOGGED_IN_AT + 10 + README_NOTE_EVERY_SEC - 1), 'live');
    assert.equal(judgeLifetime(defaults.lifetime, login, LOGGED_IN_AT + 10 + README_NOTE_EVERY_SEC), 'touch');
  });

  test('with a short idle lifetime the note comes every tenth of it (README), so an active user is not logged out', () => {
    const short = options({ idleSec: 60 });
    const login = { loggedInAt: LOGGED_IN_AT, lastSeenAt: LOGGED_IN_AT };
    assert.equal(judgeLifetime(short.lifetime, login, LOGGED_IN_AT + 5), 'live');
    assert.equal(judgeLifetime(short.lifetime, login, LOGGED_IN_AT + 6), 'touch');
    // a request every 30 s keeps the session: each one is noted, none is idle for 60 s
    let lastSeenAt = LOGGED_IN_AT;
    for (let t = LOGGED_IN_AT + 30; t <= LOGGED_IN_AT + 600; t += 30) {
      const verdict = judgeLifetime(short.lifetime, { loggedInAt: LOGGED_IN_AT, lastSeenAt }, t);
      assert.notEqual(verdict, 'expired', `ended at +${String(t - LOGGED_IN_AT)} s while active`);
      if (verdict === 'touch') lastSeenAt = t;
    }
  });

  test('false turns a lifetime off (README)', () => {
    const none = options({ absoluteSec: false, idleSec: false });
    assert.equal(judgeLifetime(none.lifetime, { loggedInAt: LOGGED_IN_AT }, LOGGED_IN_AT + 400 * DAY), 'live');
    const noIdle = options({ idleSec: false });
    assert.equal(judgeLifetime(noIdle.lifetime, { loggedInAt: LOGGED_IN_AT }, LOGGED_IN_AT + README_ABSOLUTE_SEC - 1), 'live');
  });

  test('an index entry lives as long as the session can: the absolute lifetime, whatever the cookie maxAge (renewed by every activity note and refresh)', () => {
    assert.equal(indexTtlMs(defaults.lifetime), README_ABSOLUTE_SEC * 1000);
    // no absolute lifetime: kept (a year) rather than lost, so back-channel logout still finds it;
    // a finite number, since Redis takes the ttl as an integer
    const unbounded = indexTtlMs(options({ absoluteSec: false }).lifetime);
    assert.ok(Number.isFinite(unbounded) && unbounded >= 365 * DAY * 1000, `ttl ${String(unbounded)}`);
  });

  test("an ended mark lives for the session's remaining lifetime plus 5 minutes (README), never less than the margin", () => {
    const login = { loggedInAt: LOGGED_IN_AT };
    const now = (LOGGED_IN_AT + DAY) * 1000;
    assert.equal(endedMarkTtlMs(defaults.lifetime, login, now), (README_ABSOLUTE_SEC - DAY) * 1000 + README_MARK_MARGIN_MS);
    assert.equal(endedMarkTtlMs(defaults.lifetime, login, (LOGGED_IN_AT + README_ABSOLUTE_SEC + 10) * 1000), README_MARK_MARGIN_MS);
    // without a login to read, as long as an index entry, plus the margin
    assert.equal(endedMarkTtlMs(defaults.lifetime, undefined, now), README_ABSOLUTE_SEC * 1000 + README_MARK_MARGIN_MS);
    const none = options({ absoluteSec: false });
    assert.equal(endedMarkTtlMs(none.lifetime, login, now), indexTtlMs(none.lifetime) + README_MARK_MARGIN_MS);
  });
});
