import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { OidcAuthError } from '../errors.js';
import { CLOCK_TOLERANCE_SEC } from './claims.js';
import { isUnknownKid, signingKeysOf, type JwksCache } from '../provider/jwks.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/**
 * The spec's type, and what providers in the field send (`JWT`, or nothing): all say "a JWT"
 * without claiming to be another kind of token. A typ that names another kind (at+jwt,
 * id_token+jwt…) is refused: that token was made for something else.
 */
const ACCEPTED_TYPES = new Set(['logout+jwt', 'application/logout+jwt', 'jwt', 'application/jwt']);

export interface LogoutTokenClaims {
  sub: string | undefined;
  sid: string | undefined;
  jti: string;
  /** how long the jti must be remembered, in milliseconds */
  replayTtlMs: number;
}

export interface LogoutTokenCheck {
  issuer: string;
  clientId: string;
  alg: string;
  jwks: JwksCache;
  /** true the first time a key is claimed within ttl (the jti replay memory) */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  nowSec?: number;
  /** a token whose iat is older than this is refused even when it has not expired (logout.backchannelMaxAgeSec) */
  maxAgeSec: number;
  /** accepted clock difference with the provider, seconds (`clockToleranceSec`). Default CLOCK_TOLERANCE_SEC */
  clockToleranceSec?: number;
}

/** The replay-memory key of a logout token. */
export function replayKey(issuer: string, jti: string): string {
  return `jti:${issuer}:${jti}`;
}

/** Why a logout token was refused, in a word: what the refusal counter's error.type says. */
export type LogoutTokenRefusal = 'malformed' | 'signature' | 'claims' | 'expired' | 'replay';

/** Why a logout token was refused: the text is safe to send back to the provider. */
export class LogoutTokenError extends Error {
  constructor(
    message: string,
    readonly refusal: LogoutTokenRefusal,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function fail(reason: string, refusal: LogoutTokenRefusal = 'claims'): never {
  throw new LogoutTokenError(reason, refusal);
}

async function verifySignature(token: string, check: LogoutTokenCheck): Promise<JWTPayload> {
  const options = {
    algorithms: [check.alg],
    issuer: check.issuer,
    audience: check.clientId,
    // exp came late to the spec (errata) and providers in the field leave it out: when it is
    // absent, maxTokenAge on iat is the bound. jose checks exp whenever it is there.
    requiredClaims: ['iat', 'jti', 'events'],
    clockTolerance: check.clockToleranceSec ?? CLOCK_TOLERANCE_SEC,
    maxTokenAge: check.maxAgeSec,
    ...(check.nowSec === undefined ? {} : { currentDate: new Date(check.nowSec * 1000) }),
  };
  const keys = await signingKeysOf(check.jwks);
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (err) {
    if (isUnknownKid(err) && check.jwks.refreshForUnknownKid(keys)) {
      return (await jwtVerify(token, await signingKeysOf(check.jwks), options)).payload;
    }
    throw err;
  }
}

function refusalOf(err: unknown): LogoutTokenError {
  if (err instanceof LogoutTokenError) return err;
  const refuse = (reason: string, refusal: LogoutTokenRefusal): LogoutTokenError => new LogoutTokenError(reason, refusal, { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) return refuse(`claim "${err.claim}" is invalid (${err.reason})`, 'claims');
  if (err instanceof errors.JWTExpired) return refuse('the logout token has expired', 'expired');
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse('the logout token is not signed with the expected algorithm', 'signature');
  if (err instanceof errors.JWKSNoMatchingKey) return refuse('no provider key matches the logout token', 'signature');
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse('the logout token signature is invalid', 'signature');
  if (err instanceof errors.JOSEError) return refuse('the logout token is not a valid signed JWT', 'malformed');
  return refuse('the logout token could not be verified', 'malformed');
}

/**
 * OpenID Connect Back-Channel Logout 1.0, section 2.6: every rule is checked before any
 * session is touched. Liberal where providers differ harmlessly (typ JWT or none; no exp,
 * then iat bounds the token's age), strict where it is dangerous (a nonce, another token
 * type, a missing event, a replayed or missing jti).
 */
export async function validateLogoutToken(token: string, check: LogoutTokenCheck): Promise<LogoutTokenClaims> {
  let valid: LogoutTokenClaims;
  try {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      fail('the logout token is not a JWT', 'malformed');
    }
    if (header.alg === undefined || header.alg === 'none') fail('unsigned logout tokens are refused', 'signature');
    const typ: unknown = header.typ;
    if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(typ.toLowerCase())))
      fail('the logout token "typ" names another kind of token: expected logout+jwt, JWT or none');
    const claims = await verifySignature(token, check);
    const events = claims['events'];
    if (typeof events !== 'object' || events === null || Array.isArray(events)) fail('claim "events" must be an object');
    const event: unknown = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
    if (typeof event !== 'object' || event === null || Array.isArray(event)) fail('claim "events" must hold the back-channel logout event as an object');
    if ('nonce' in claims) fail('a logout token must not contain "nonce"');
    const sub = claims.sub;
    const sid: unknown = claims['sid'];
    if (sub !== undefined && (typeof sub !== 'string' || sub === '')) fail('claim "sub" must be a non-empty string');
    if (sid !== undefined && (typeof sid !== 'string' || sid === '')) fail('claim "sid" must be a non-empty string');
    if (sub === undefined && sid === undefined) fail('the logout token names neither "sub" nor "sid"');
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti === '') fail('claim "jti" must be a non-empty string');
    const now = check.nowSec ?? Math.floor(Date.now() / 1000);
    // Without exp, remember the jti as long as the token could still be accepted.
    const tolerance = check.clockToleranceSec ?? CLOCK_TOLERANCE_SEC;
    const exp = typeof claims.exp === 'number' ? claims.exp : now + check.maxAgeSec + tolerance;
    valid = { sub, sid, jti, replayTtlMs: Math.max(exp - now + tolerance, 1) * 1000 };
  } catch (err) {
    if (err instanceof OidcAuthError) throw err;
    throw refusalOf(err);
  }
  // Last, and outside the try: only a valid token is remembered, and a failing replay store
  // is the app's outage (503), not the provider's bad token (400).
  if (!(await check.claimOnce(replayKey(check.issuer, valid.jti), valid.replayTtlMs)))
    throw new LogoutTokenError('this logout token was already used (jti replay)', 'replay');
  return valid;
}
