import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CompactSign, createLocalJWKSet, decodeProtectedHeader, errors, exportJWK, generateKeyPair, type JWK, type JWTVerifyGetKey } from 'jose';
import { OidcAuthError } from '../lib/errors.js';
import type { JwksCache } from '../lib/provider/jwks.js';
import { LogoutTokenError, replayKey, validateLogoutToken, type LogoutTokenCheck, type LogoutTokenClaims } from '../lib/tokens/logout-token.js';
import { newSigningKey, type SigningKey } from './helpers/hostile-provider.js';

/*
 * The rules of lib/tokens/logout-token.ts, called directly (no app, no provider): each expectation
 * comes from OpenID Connect Back-Channel Logout 1.0 (§2.4 the claims, §2.6 the validation)
 * or from the README's numbers ("Back-channel and front-channel logout", the option table,
 * "Secure defaults", the validation table), never from the module's constants. Times are
 * given to the check (nowSec), so every edge is exact; a few tests use the real clock to show
 * that it is the default.
 *
 * Surviving mutants (npm run mutate lib/tokens/logout-token.ts, string literals excluded): none;
 * every one of the 129 mutants is killed by this suite alone, so none is listed as equivalent.
 * Rules that jose applies (iss, aud, iat, exp, the tolerance) are pinned here too, at their
 * edges, since the module hands them to jose with its own numbers.
 */

const ISSUER = 'https://idp.example.com';
const CLIENT_ID = 'app-client';
/** a fixed "now" handed to the check, far from the real clock */
const NOW = 1_700_000_000;
/** README, option table: `logout.backchannelMaxAgeSec` defaults to 300 (5 minutes) */
const README_MAX_AGE_SEC = 300;
/** README, Secure defaults: "Clock tolerance is 30 s." */
const README_TOLERANCE_SEC = 30;
/** Back-Channel Logout 1.0 §2.4: the member of `events` that makes a JWT a logout token */
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const encoder = new TextEncoder();
let jtiCount = 0;

let providerKey: SigningKey;
/** another RS256 key, never published under providerKey's kid */
let otherKey: SigningKey;

before(async () => {
  [providerKey, otherKey] = await Promise.all([newSigningKey('provider-key'), newSigningKey('rotated-key')]);
});

type Claims = Record<string, unknown>;

/** The claims of §2.4 as a provider sends them at NOW: iss, aud, iat, exp, jti, sub, sid, events. */
function logoutClaims(changes: Claims = {}, ...omit: string[]): Claims {
  jtiCount++;
  const claims: Claims = {
    iss: ISSUER,
    aud: CLIENT_ID,
    iat: NOW,
    exp: NOW + 120,
    jti: `jti-${String(jtiCount)}`,
    sub: 'alice',
    sid: 'provider-session-1',
    events: { [LOGOUT_EVENT]: {} },
    ...changes,
  };
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !omit.includes(name)));
}

/** Signs any payload (claims of any type, or not JSON at all) with a real key; `typ: undefined` leaves typ out. */
function sign(payload: Claims | string, header: Record<string, unknown> = {}, key: SigningKey = providerKey): Promise<string> {
  const bytes = encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'logout+jwt', ...header }).sign(key.privateKey);
}

/** A JWT built by hand with any header and no signature (jose will not make one). */
function handMade(header: Record<string, unknown>, claims: Claims): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(claims)}.`;
}

interface Jwks {
  cache: JwksCache;
  /** how often the keys were resolved, and a refetch asked for */
  calls: { resolve: number; refresh: number };
}

/** The provider's JWKS: `keys` until a refetch is asked for, then `afterRefresh` (when given). */
function jwksOf(keys: JWK[], afterRefresh?: JWK[]): Jwks {
  const calls = { resolve: 0, refresh: 0 };
  let published = keys;
  const cache: JwksCache = {
    resolve() {
      calls.resolve++;
      return Promise.resolve(createLocalJWKSet({ keys: published }));
    },
    refreshForUnknownKid() {
      calls.refresh++;
      if (afterRefresh === undefined) return false;
      published = afterRefresh;
      return true;
    },
  };
  return { cache, calls };
}

interface Claimed {
  key: string;
  ttlMs: number;
}

/** The jti replay memory: true the first time a key is claimed. */
function replayMemory(): { claimOnce: LogoutTokenCheck['claimOnce']; claimed: Claimed[] } {
  const claimed: Claimed[] = [];
  return {
    claimed,
    claimOnce(key, ttlMs) {
      const first = !claimed.some((c) => c.key === key);
      claimed.push({ key, ttlMs });
      return Promise.resolve(first);
    },
  };
}

interface Probe {
  check: LogoutTokenCheck;
  claimed: Claimed[];
  jwks: Jwks;
}

/** A check as the back-channel route makes it, at NOW (or on the real clock), with README defaults. */
function probe(changes: Partial<LogoutTokenCheck> = {}, clock: number | 'real clock' = NOW): Probe {
  const jwks = jwksOf([providerKey.publicJwk]);
  const memory = replayMemory();
  const base: LogoutTokenCheck = {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    alg: 'RS256',
    jwks: jwks.cache,
    claimOnce: memory.claimOnce,
    maxAgeSec: README_MAX_AGE_SEC,
  };
  const check: LogoutTokenCheck = clock === 'real clock' ? { ...base, ...changes } : { ...base, nowSec: clock, ...changes };
  return { check, claimed: memory.claimed, jwks };
}

async function accepted(token: string, p: Probe = probe()): Promise<LogoutTokenClaims> {
  return validateLogoutToken(token, p.check);
}

/** The refusal of a token, which must be a LogoutTokenError and must leave the replay memory untouched. */
async function refusal(token: string, p: Probe = probe()): Promise<LogoutTokenError> {
  let valid: LogoutTokenClaims;
  try {
    valid = await validateLogoutToken(token, p.check);
  } catch (err) {
    assert.ok(err instanceof LogoutTokenError, `a LogoutTokenError, got ${String(err)}`);
    assert.deepEqual(p.claimed, [], 'a refused token is not remembered');
    return err;
  }
  assert.fail(`the token was accepted: ${JSON.stringify(valid)}`);
}

async function refusedBecause(token: string, reason: string, p: Probe = probe()): Promise<void> {
  assert.equal((await refusal(token, p)).message, reason);
}

const EXPIRED = 'the logout token has expired';
const NO_EVENTS_OBJECT = 'claim "events" must be an object';
const NO_EVENT = 'claim "events" must hold the back-channel logout event as an object';
const BAD_SUB = 'claim "sub" must be a non-empty string';
const BAD_SID = 'claim "sid" must be a non-empty string';
const BAD_JTI = 'claim "jti" must be a non-empty string';
const OTHER_TYP = 'the logout token "typ" names another kind of token: expected logout+jwt, JWT or none';
const UNSIGNED = 'unsigned logout tokens are refused';
const WRONG_ALG = 'the logout token is not signed with the expected algorithm';

describe('logout tokens that pass every rule (Back-Channel Logout 1.0 §2.6)', () => {
  it('a token with sub, sid and exp is accepted; its jti is claimed once, under the issuer, for as long as the token could be accepted', async () => {
    const p = probe();
    const claims = logoutClaims({ exp: NOW + 120 });
    const valid = await accepted(await sign(claims), p);
    // README: exp accepted up to 30 s late, so the jti must be remembered for 120 + 30 s.
    const ttlMs = (120 + README_TOLERANCE_SEC) * 1000;
    assert.deepEqual(valid, { sub: 'alice', sid: 'provider-session-1', jti: claims['jti'], replayTtlMs: ttlMs });
    assert.deepEqual(p.claimed, [{ key: replayKey(ISSUER, String(claims['jti'])), ttlMs }]);
    assert.equal(p.jwks.calls.resolve, 1);
    assert.equal(p.jwks.calls.refresh, 0);
  });

  it('a token with only sid is accepted (§2.4: sub and/or sid)', async () => {
    const valid = await accepted(await sign(logoutClaims({}, 'sub')));
    assert.equal(valid.sub, undefined);
    assert.equal(valid.sid, 'provider-session-1');
  });

  it('a token with only sub is accepted (§2.4: sub and/or sid)', async () => {
    const valid = await accepted(await sign(logoutClaims({}, 'sid')));
    assert.equal(valid.sub, 'alice');
    assert.equal(valid.sid, undefined);
  });

  for (const typ of ['logout+jwt', 'application/logout+jwt', 'JWT', 'jwt', 'application/jwt', 'Logout+JWT', 'APPLICATION/JWT']) {
    it(`typ "${typ}" is accepted (README: logout+jwt, application/logout+jwt, JWT or application/jwt; media types are case-insensitive)`, async () => {
      const token = await sign(logoutClaims(), { typ });
      assert.equal(decodeProtectedHeader(token).typ, typ);
      assert.equal((await accepted(token)).sub, 'alice');
    });
  }

  it('a token without typ is accepted (§2.4 only recommends it; many providers leave it out)', async () => {
    const token = await sign(logoutClaims(), { typ: undefined });
    assert.equal('typ' in decodeProtectedHeader(token), false);
    assert.equal((await accepted(token)).sub, 'alice');
  });

  it('aud may be an array that contains the client id (§2.4, as in ID tokens)', async () => {
    assert.equal((await accepted(await sign(logoutClaims({ aud: ['another-client', CLIENT_ID] })))).sub, 'alice');
  });

  it('the event object may have members, and other events may sit beside it (§2.4: "additional events" are allowed)', async () => {
    const events = { [LOGOUT_EVENT]: { reason: 'admin' }, 'https://example.com/other-event': {} };
    assert.equal((await accepted(await sign(logoutClaims({ events })))).sub, 'alice');
  });
});

describe('the header: typ and alg', () => {
  for (const typ of ['at+jwt', 'application/at+jwt', 'id_token+jwt', 'secevent+jwt', 'JOSE']) {
    it(`typ "${typ}" names another kind of token and is refused before any key is fetched (README)`, async () => {
      const p = probe();
      await refusedBecause(await sign(logoutClaims(), { typ }), OTHER_TYP, p);
      assert.equal(p.jwks.calls.resolve, 0);
    });
  }

  it('a typ that is not a string is refused, for its typ, before any key is fetched', async () => {
    const p = probe();
    await refusedBecause(await sign(logoutClaims(), { typ: 5 }), OTHER_TYP, p);
    assert.equal(p.jwks.calls.resolve, 0);
  });

  it('alg "none" is refused (§2.6: the token must be signed; README: never none)', async () => {
    const p = probe();
    await refusedBecause(handMade({ alg: 'none', typ: 'logout+jwt' }, logoutClaims()), UNSIGNED, p);
    assert.equal(p.jwks.calls.resolve, 0);
  });

  it('a header without alg is refused as unsigned', async () => {
    await refusedBecause(handMade({ typ: 'logout+jwt', kid: 'provider-key' }, logoutClaims()), UNSIGNED);
  });

  it('HS256 keyed by a shared secret is refused (README: alg pinned to idTokenSigningAlg, never an HMAC)', async () => {
    const token = await new CompactSign(encoder.encode(JSON.stringify(logoutClaims())))
      .setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' })
      .sign(encoder.encode('the-client-secret-an-attacker-knows'));
    await refusedBecause(token, WRONG_ALG);
  });

  it('a token signed with another asymmetric algorithm (ES256) is refused: alg is pinned', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new CompactSign(encoder.encode(JSON.stringify(logoutClaims())))
      .setProtectedHeader({ alg: 'ES256', kid: 'provider-key', typ: 'logout+jwt' })
      .sign(privateKey);
    await refusedBecause(token, WRONG_ALG);
  });

  it('ES256 is accepted when it is the configured algorithm (the check pins its own alg, not RS256)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'ec-key', alg: 'ES256' };
    const token = await new CompactSign(encoder.encode(JSON.stringify(logoutClaims())))
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-key', typ: 'logout+jwt' })
      .sign(privateKey);
    assert.equal((await accepted(token, probe({ alg: 'ES256', jwks: jwksOf([jwk]).cache }))).sub, 'alice');
  });
});

describe('the signature and the provider keys (§2.6 step 2; README: JWKS refetched for an unknown kid)', () => {
  it('a signature by another key under the provider key id is refused, without refetching the keys', async () => {
    const jwks = jwksOf([providerKey.publicJwk], [providerKey.publicJwk, otherKey.publicJwk]);
    const p = probe({ jwks: jwks.cache });
    await refusedBecause(await sign(logoutClaims(), { kid: providerKey.kid }, otherKey), 'the logout token signature is invalid', p);
    assert.deepEqual(jwks.calls, { resolve: 1, refresh: 0 });
  });

  it('an unknown kid makes one refetch; a key the provider still does not publish is refused', async () => {
    const jwks = jwksOf([providerKey.publicJwk]);
    await refusedBecause(await sign(logoutClaims(), {}, otherKey), 'no provider key matches the logout token', probe({ jwks: jwks.cache }));
    assert.deepEqual(jwks.calls, { resolve: 1, refresh: 1 });
  });

  it('after a key rotation, the token signed by the new key is accepted once the keys are refetched', async () => {
    const jwks = jwksOf([providerKey.publicJwk], [otherKey.publicJwk]);
    const valid = await accepted(await sign(logoutClaims(), {}, otherKey), probe({ jwks: jwks.cache }));
    assert.equal(valid.sub, 'alice');
    assert.deepEqual(jwks.calls, { resolve: 2, refresh: 1 });
  });

  it('keys that cannot be fetched are our outage: 503 OIDC_PROVIDER_UNAVAILABLE, not a refused token (README)', async () => {
    const memory = replayMemory();
    const down: JwksCache = { resolve: () => Promise.reject(new Error('connect ECONNREFUSED')), refreshForUnknownKid: () => false };
    const err = await validateLogoutToken(await sign(logoutClaims()), { ...probe().check, jwks: down, claimOnce: memory.claimOnce }).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OidcAuthError, `an OidcAuthError, got ${String(err)}`);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'OIDC_PROVIDER_UNAVAILABLE');
    assert.deepEqual(memory.claimed, []);
  });

  it('a key lookup that fails in an unexpected way still refuses the token, with a generic reason', async () => {
    const failing: JWTVerifyGetKey = () => {
      throw new Error('unexpected');
    };
    const jwks: JwksCache = { resolve: () => Promise.resolve(failing), refreshForUnknownKid: () => false };
    await refusedBecause(await sign(logoutClaims()), 'the logout token could not be verified', probe({ jwks }));
  });

  it('text that is not a JWT is refused before any key is fetched', async () => {
    for (const junk of ['not-a-jwt', 'a.b', '', 'bm90IGpzb24.e30.']) {
      const p = probe();
      await refusedBecause(junk, 'the logout token is not a JWT', p);
      assert.equal(p.jwks.calls.resolve, 0);
    }
  });

  it('a signed token whose payload is not a JSON object is refused as not a valid JWT', async () => {
    await refusedBecause(await sign('not json'), 'the logout token is not a valid signed JWT');
    await refusedBecause(await sign('[1,2]'), 'the logout token is not a valid signed JWT');
  });

  it('a refusal keeps the underlying error as its cause, for the logs', async () => {
    const err = await refusal(await sign(logoutClaims({ iss: 'https://evil.example.com' })));
    assert.ok(err.cause instanceof errors.JWTClaimValidationFailed);
  });
});

describe('iss and aud (§2.6 step 3)', () => {
  it('another issuer is refused', async () => {
    await refusedBecause(await sign(logoutClaims({ iss: `${ISSUER}/other` })), 'claim "iss" is invalid (check_failed)');
  });

  it('a token without iss is refused', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'iss')), 'claim "iss" is invalid (missing)');
  });

  it('another audience is refused', async () => {
    await refusedBecause(await sign(logoutClaims({ aud: 'another-client' })), 'claim "aud" is invalid (check_failed)');
  });

  it('a token without aud is refused', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'aud')), 'claim "aud" is invalid (missing)');
  });
});

describe('iat and exp at their edges (README: iat at most backchannelMaxAgeSec old, 300 s by default; clock tolerance 30 s; exp when present)', () => {
  const OLDEST = NOW - README_MAX_AGE_SEC - README_TOLERANCE_SEC;

  it('iat 300 + 30 s ago is accepted; one second older is refused as expired, even without exp', async () => {
    assert.equal((await accepted(await sign(logoutClaims({ iat: OLDEST }, 'exp')))).sub, 'alice');
    await refusedBecause(await sign(logoutClaims({ iat: OLDEST - 1 }, 'exp')), EXPIRED);
    await refusedBecause(await sign(logoutClaims({ iat: OLDEST - 1, exp: NOW + 3600 })), EXPIRED);
  });

  it("the age limit is the check's own (README: backchannelMaxAgeSec, 30 to 3600): 60 s + 30 s accepted, one more refused", async () => {
    const p = (): Probe => probe({ maxAgeSec: 60 });
    assert.equal((await accepted(await sign(logoutClaims({ iat: NOW - 90 })), p())).sub, 'alice');
    await refusedBecause(await sign(logoutClaims({ iat: NOW - 91 })), EXPIRED, p());
  });

  it('iat 30 s in the future is accepted (clock tolerance); 31 s is refused', async () => {
    assert.equal((await accepted(await sign(logoutClaims({ iat: NOW + 30 })))).sub, 'alice');
    await refusedBecause(await sign(logoutClaims({ iat: NOW + 31 })), 'claim "iat" is invalid (check_failed)');
  });

  it('a token without iat is refused (§2.4: iat REQUIRED)', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'iat')), 'claim "iat" is invalid (missing)');
  });

  it('an iat that is not a number is refused', async () => {
    await refusedBecause(await sign(logoutClaims({ iat: String(NOW) })), 'claim "iat" is invalid (invalid)');
  });

  it('exp 29 s ago is accepted (tolerance) and remembered for the one second it could still be accepted; exp 30 s ago is refused', async () => {
    const p = probe();
    const valid = await accepted(await sign(logoutClaims({ exp: NOW - 29 })), p);
    assert.equal(valid.replayTtlMs, 1000);
    assert.equal(p.claimed[0]?.ttlMs, 1000);
    await refusedBecause(await sign(logoutClaims({ exp: NOW - 30 })), EXPIRED);
  });

  it('without exp the jti is remembered as long as such a token could be accepted: iat up to 30 s ahead, then 300 + 30 s of age', async () => {
    const p = probe();
    const valid = await accepted(await sign(logoutClaims({}, 'exp')), p);
    const ttlMs = (README_TOLERANCE_SEC + README_MAX_AGE_SEC + README_TOLERANCE_SEC) * 1000;
    assert.equal(valid.replayTtlMs, ttlMs);
    assert.deepEqual(p.claimed, [{ key: replayKey(ISSUER, valid.jti), ttlMs }]);
  });

  it('without exp and with a shorter age limit (60 s), the jti is remembered 30 + 60 + 30 s', async () => {
    const valid = await accepted(await sign(logoutClaims({}, 'exp')), probe({ maxAgeSec: 60 }));
    assert.equal(valid.replayTtlMs, (30 + 60 + 30) * 1000);
  });

  it('with a long exp, the jti is remembered until exp + 30 s', async () => {
    const valid = await accepted(await sign(logoutClaims({ exp: NOW + 3600 })));
    assert.equal(valid.replayTtlMs, (3600 + 30) * 1000);
  });
});

describe('the real clock is the default', () => {
  const realNow = (): number => Math.floor(Date.now() / 1000);

  it('a fresh token is accepted and its jti remembered until exp + 30 s by the real clock', async () => {
    const issued = realNow();
    const claims = logoutClaims({ iat: issued, exp: issued + 120 });
    const valid = await accepted(await sign(claims), probe({}, 'real clock'));
    const after = realNow();
    // exp - now + 30 s, with now somewhere between issued and after
    assert.ok(valid.replayTtlMs <= (120 + 30) * 1000, String(valid.replayTtlMs));
    assert.ok(valid.replayTtlMs >= (issued + 120 - after + 30) * 1000, String(valid.replayTtlMs));
  });

  it('without exp, the jti is remembered 30 + 300 + 30 s whatever the clock says', async () => {
    const valid = await accepted(await sign(logoutClaims({ iat: realNow() }, 'exp')), probe({}, 'real clock'));
    assert.equal(valid.replayTtlMs, (30 + 300 + 30) * 1000);
  });

  it('a token issued an hour ago is refused by the real clock', async () => {
    await refusedBecause(await sign(logoutClaims({ iat: realNow() - 3600 }, 'exp')), EXPIRED, probe({}, 'real clock'));
  });

  it('a token that is fresh at the fixed NOW (years ago) is refused by the real clock', async () => {
    await refusedBecause(await sign(logoutClaims()), EXPIRED, probe({}, 'real clock'));
  });
});

describe('events (§2.4, §2.6 step 4: a JSON object with the back-channel logout member, itself a JSON object)', () => {
  it('a token without events is refused', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'events')), 'claim "events" is invalid (missing)');
  });

  for (const [what, events] of [
    ['a string', LOGOUT_EVENT],
    ['a number', 1],
    ['null', null],
    ['an array', [LOGOUT_EVENT]],
    ['an array holding the event object', [{ [LOGOUT_EVENT]: {} }]],
    ['true', true],
  ] as const) {
    it(`events that is ${what} is refused`, async () => {
      await refusedBecause(await sign(logoutClaims({ events })), NO_EVENTS_OBJECT);
    });
  }

  for (const [what, events] of [
    ['no member at all', {}],
    ['only another event', { 'https://example.com/other-event': {} }],
    ['the member with null', { [LOGOUT_EVENT]: null }],
    ['the member with an array', { [LOGOUT_EVENT]: [] }],
    ['the member with a string', { [LOGOUT_EVENT]: 'logout' }],
    ['the member with true', { [LOGOUT_EVENT]: true }],
  ] as const) {
    it(`events with ${what} is refused`, async () => {
      await refusedBecause(await sign(logoutClaims({ events })), NO_EVENT);
    });
  }
});

describe('nonce (§2.4, §2.6 step 6: a logout token must not contain one)', () => {
  it('a nonce is refused', async () => {
    await refusedBecause(await sign(logoutClaims({ nonce: 'n-0S6_WzA2Mj' })), 'a logout token must not contain "nonce"');
  });

  it('a nonce that is null is refused too: the claim is present', async () => {
    await refusedBecause(await sign(logoutClaims({ nonce: null })), 'a logout token must not contain "nonce"');
  });
});

describe('sub and sid (§2.4, §2.6 step 5: at least one, each a string)', () => {
  it('a token with neither is refused', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'sub', 'sid')), 'the logout token names neither "sub" nor "sid"');
  });

  for (const [what, value] of [
    ['a number', 5],
    ['empty', ''],
    ['null', null],
    ['an object', { id: 'alice' }],
  ] as const) {
    it(`sub that is ${what} is refused, beside a valid sid and alone`, async () => {
      await refusedBecause(await sign(logoutClaims({ sub: value })), BAD_SUB);
      await refusedBecause(await sign(logoutClaims({ sub: value }, 'sid')), BAD_SUB);
    });

    it(`sid that is ${what} is refused, beside a valid sub and alone`, async () => {
      await refusedBecause(await sign(logoutClaims({ sid: value })), BAD_SID);
      await refusedBecause(await sign(logoutClaims({ sid: value }, 'sub')), BAD_SID);
    });
  }
});

describe('jti (§2.4: REQUIRED, a unique identifier; README: never accepted twice while it could be valid)', () => {
  it('a token without jti is refused', async () => {
    await refusedBecause(await sign(logoutClaims({}, 'jti')), 'claim "jti" is invalid (missing)');
  });

  for (const [what, jti] of [
    ['empty', ''],
    ['a number', 42],
    ['null', null],
  ] as const) {
    it(`a jti that is ${what} is refused`, async () => {
      await refusedBecause(await sign(logoutClaims({ jti })), BAD_JTI);
    });
  }

  it('the same token a second time is refused as a replay', async () => {
    const p = probe();
    const token = await sign(logoutClaims());
    assert.equal((await accepted(token, p)).sub, 'alice');
    const err = await validateLogoutToken(token, p.check).then(
      () => assert.fail('the replay was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LogoutTokenError);
    assert.equal(err.message, 'this logout token was already used (jti replay)');
    assert.equal(p.claimed.length, 2);
  });

  it('the replay memory is keyed by issuer and jti: the same jti from another issuer is another token', () => {
    assert.notEqual(replayKey('https://idp-a.example.com', 'j1'), replayKey('https://idp-b.example.com', 'j1'));
    assert.notEqual(replayKey(ISSUER, 'j1'), replayKey(ISSUER, 'j2'));
    assert.equal(replayKey(ISSUER, 'j1'), replayKey(ISSUER, 'j1'));
  });

  it('a failing replay memory is our outage: its error goes through, not a refusal of the token', async () => {
    const outage = new Error('the index is down');
    const check: LogoutTokenCheck = { ...probe().check, claimOnce: () => Promise.reject(outage) };
    await assert.rejects(validateLogoutToken(await sign(logoutClaims()), check), (err: unknown) => err === outage);
  });
});
