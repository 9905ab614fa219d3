import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { IDToken } from 'openid-client';
import { OidcAuthError } from '../lib/index.js';
import { checkRequirements, unmetRequirement } from '../lib/login/step-up.js';

/*
 * The step-up rules of requiresAuth({ acr, maxAge }) and of the callback that answers it,
 * at their boundaries. maxAge is OpenID Connect's max_age: "the allowable elapsed time in
 * seconds since the last time the End-User was actively authenticated" (Core 3.1.2.1),
 * judged here with a clock tolerance: the boundary is maxAge + tolerance, inclusive.
 */
const NOW = 1_800_000_000;
const TOLERANCE = 30;

function idToken(claims: Partial<IDToken>): IDToken {
  return { iss: 'https://idp.example', sub: 'alice', aud: 'app', exp: NOW + 300, iat: NOW, ...claims };
}

function refusal(fn: () => void): OidcAuthError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof OidcAuthError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('unmetRequirement: what requiresAuth() judges a session by', () => {
  test('acr: any one of the values asked for will do; another, or none, falls short', () => {
    assert.equal(unmetRequirement({ acr: 'hwk' }, { acr: ['mfa', 'hwk'] }, NOW, TOLERANCE), undefined);
    assert.equal(unmetRequirement({ acr: 'pwd' }, { acr: ['mfa', 'hwk'] }, NOW, TOLERANCE), 'acr');
    assert.equal(unmetRequirement({}, { acr: ['mfa'] }, NOW, TOLERANCE), 'acr');
    assert.equal(unmetRequirement({ acr: 'MFA' }, { acr: ['mfa'] }, NOW, TOLERANCE), 'acr', 'acr values are compared exactly');
  });

  test('maxAge: elapsed time up to maxAge plus the tolerance passes, one second more does not', () => {
    assert.equal(unmetRequirement({ authTime: NOW - 330 }, { maxAge: 300 }, NOW, TOLERANCE), undefined);
    assert.equal(unmetRequirement({ authTime: NOW - 331 }, { maxAge: 300 }, NOW, TOLERANCE), 'maxAge');
    assert.equal(unmetRequirement({ authTime: NOW - 300 }, { maxAge: 300 }, NOW, 0), undefined);
    assert.equal(unmetRequirement({ authTime: NOW - 301 }, { maxAge: 300 }, NOW, 0), 'maxAge');
  });

  test('maxAge without an auth_time falls short: an unknown age is not a recent one', () => {
    assert.equal(unmetRequirement({ acr: 'mfa' }, { maxAge: 3600 }, NOW, TOLERANCE), 'maxAge');
  });

  test('acr is judged before maxAge, and no requirement is always met', () => {
    assert.equal(unmetRequirement({ acr: 'pwd' }, { acr: ['mfa'], maxAge: 300 }, NOW, TOLERANCE), 'acr');
    assert.equal(unmetRequirement({}, {}, NOW, TOLERANCE), undefined);
  });
});

describe('checkRequirements: the callback of a step-up login', () => {
  test('the same user with the acr asked for and a fresh auth_time passes', () => {
    checkRequirements({ acr: ['mfa'], maxAge: 300, sub: 'alice' }, idToken({ acr: 'mfa', auth_time: NOW - 5 }), NOW, TOLERANCE);
  });

  test('another sub is refused with 403 OIDC_STEP_UP_FAILED, naming neither user', () => {
    const err = refusal(() => {
      checkRequirements({ acr: ['mfa'], sub: 'alice' }, idToken({ sub: 'mallory', acr: 'mfa' }), NOW, TOLERANCE);
    });
    assert.equal(err.code, 'OIDC_STEP_UP_FAILED');
    assert.equal(err.status, 403);
    assert.doesNotMatch(err.message, /alice|mallory/);
  });

  test('without a sub to keep (nobody was logged in), any user may come back', () => {
    checkRequirements({ acr: ['mfa'] }, idToken({ sub: 'carol', acr: 'mfa' }), NOW, TOLERANCE);
  });

  test('the wrong acr is refused and named; a missing one is said to be missing', () => {
    assert.match(
      refusal(() => {
        checkRequirements({ acr: ['mfa', 'hwk'] }, idToken({ acr: 'pwd' }), NOW, TOLERANCE);
      }).message,
      /acr "pwd", but this page requires "mfa" or "hwk"/,
    );
    assert.match(
      refusal(() => {
        checkRequirements({ acr: ['mfa'] }, idToken({}), NOW, TOLERANCE);
      }).message,
      /with no acr/,
    );
  });

  test('an acr that is not a string counts as none', () => {
    assert.match(
      refusal(() => {
        checkRequirements({ acr: ['mfa'] }, idToken({ acr: ['mfa'] }), NOW, TOLERANCE);
      }).message,
      /with no acr/,
    );
  });

  test("a provider's overlong acr is cut to 64 characters in the message", () => {
    const message = refusal(() => {
      checkRequirements({ acr: ['mfa'] }, idToken({ acr: 'x'.repeat(500) }), NOW, TOLERANCE);
    }).message;
    assert.ok(message.includes(`"${'x'.repeat(64)}"`));
    assert.ok(!message.includes('x'.repeat(65)));
  });

  test('maxAge: an old auth_time, or none, is refused with a message that says which', () => {
    assert.match(
      refusal(() => {
        checkRequirements({ maxAge: 300 }, idToken({ auth_time: NOW - 331 }), NOW, TOLERANCE);
      }).message,
      /older than this page's maxAge \(300 s\)/,
    );
    assert.match(
      refusal(() => {
        checkRequirements({ maxAge: 300 }, idToken({}), NOW, TOLERANCE);
      }).message,
      /no auth_time/,
    );
    checkRequirements({ maxAge: 300 }, idToken({ auth_time: NOW - 330 }), NOW, TOLERANCE);
  });

  test('an auth_time that is not a number counts as none, however it reads', () => {
    assert.match(
      refusal(() => {
        checkRequirements({ maxAge: 300 }, idToken({ auth_time: String(NOW) as unknown as number }), NOW, TOLERANCE);
      }).message,
      /no auth_time/,
    );
  });

  test('every refusal says the session is unchanged', () => {
    assert.match(
      refusal(() => {
        checkRequirements({ acr: ['mfa'] }, idToken({}), NOW, TOLERANCE);
      }).message,
      /The session is as it was before\.$/,
    );
  });
});
