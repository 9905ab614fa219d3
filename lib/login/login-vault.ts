import type { JWK } from 'jose';
import type { Sealer } from '../crypto/sealing.js';
import type { Login, StoredLogin } from '../session/session.js';
import type { OidcUser } from '../public-types.js';
import { fieldOf } from '../values.js';

export interface SealedClaims {
  user: OidcUser;
  sid?: string;
  acr?: string;
  amr?: string[];
  authTime?: number;
  userAgent?: string;
}

interface SealedTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  tokenType?: string;
  /** the session's DPoP private key (RFC 9449), with the tokens it binds */
  dpopKey?: JWK;
}

/**
 * Seals a login for the store and opens it again, lazily: a request that only asks
 * isAuthenticated() or reads the user opens the claims (a few hundred bytes), and the
 * tokens only when something uses them. Each stored object is opened at most once (the
 * store hands every request its own copy, so the cache lives as long as the request).
 */
export interface LoginVault {
  seal(login: Login): StoredLogin;
  /** undefined when no configured secret opens it (a dropped secret, a tampered store) */
  claims(stored: StoredLogin): SealedClaims | undefined;
  tokens(stored: StoredLogin): SealedTokens | undefined;
  /** everything, or undefined when any part does not open */
  open(stored: StoredLogin): Login | undefined;
}

function parseObject(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Opened claims kept across requests, by their sealed text: the busiest sessions are decrypted once. */
const RECENT_CLAIMS = 1000;

interface Opened {
  claimsText: string;
  claims: SealedClaims | undefined;
  tokensText?: string;
  tokens?: SealedTokens | undefined;
}

/**
 * The decrypted claims JSON of recently seen sealed texts, in two generations: a hit in the
 * older one moves to the newer, and when the newer is full the older is dropped. Keeps the
 * busy texts like an LRU without reordering a Map on every hit.
 */
function recentTexts(limit: number): { get(key: string): string | undefined; set(key: string, value: string): void } {
  let newer = new Map<string, string>();
  let older = new Map<string, string>();
  const set = (key: string, value: string): void => {
    if (newer.size >= limit / 2) {
      older = newer;
      newer = new Map<string, string>();
    }
    newer.set(key, value);
  };
  return {
    get(key) {
      const hit = newer.get(key);
      if (hit !== undefined) return hit;
      const old = older.get(key);
      if (old !== undefined) set(key, old);
      return old;
    },
    set,
  };
}

export function createLoginVault(sealer: Sealer): LoginVault {
  // Keyed by the sealed text itself: the same text always opens to the same claims, and only
  // text that opened (authenticated by GCM) gets in. It holds the JSON, not objects, so every
  // request parses its own copy and no request sees another's changes. Tokens are never kept.
  const recentClaims = recentTexts(RECENT_CLAIMS);
  /**
   * What a request already opened of its stored login, kept on the object itself under this
   * vault's own symbol (another vault, with other secrets, must open for itself; JSON.stringify
   * skips symbols, so the store never sees it), with the sealed text it came from: a login
   * whose text changed is opened again. A WeakMap would do the same, but one that gains a key
   * on every request costs the garbage collector measurably more.
   */
  const OPENED = Symbol('express-oidc-auth.opened');
  type WithOpened = StoredLogin & { [OPENED]?: Opened };

  function decryptClaims(sealed: string): string | undefined {
    const recent = recentClaims.get(sealed);
    if (recent !== undefined) return recent;
    const json = sealer.open('session', sealed, 'claims');
    if (json !== undefined) recentClaims.set(sealed, json);
    return json;
  }

  function openClaims(sealed: string): SealedClaims | undefined {
    const raw = parseObject(decryptClaims(sealed));
    const user = raw?.['user'];
    if (raw === undefined || typeof user !== 'object' || user === null || typeof fieldOf(user, 'sub') !== 'string') return undefined;
    const opened: SealedClaims = { user: user as OidcUser };
    const { sid, acr, amr, authTime, userAgent } = raw;
    if (typeof sid === 'string') opened.sid = sid;
    if (typeof userAgent === 'string') opened.userAgent = userAgent;
    if (typeof acr === 'string') opened.acr = acr;
    if (Array.isArray(amr) && amr.every((m) => typeof m === 'string')) opened.amr = amr;
    if (typeof authTime === 'number') opened.authTime = authTime;
    return opened;
  }

  function opened(stored: WithOpened): Opened | undefined {
    if (typeof stored.claims !== 'string') return undefined;
    const cached = stored[OPENED];
    if (cached?.claimsText === stored.claims) return cached;
    const fresh: Opened = { claimsText: stored.claims, claims: openClaims(stored.claims) };
    stored[OPENED] = fresh;
    return fresh;
  }

  function claims(stored: StoredLogin): SealedClaims | undefined {
    return opened(stored)?.claims;
  }

  function tokens(stored: StoredLogin): SealedTokens | undefined {
    const cache = opened(stored);
    if (cache === undefined || typeof stored.tokens !== 'string') return undefined;
    if (cache.tokensText === stored.tokens) return cache.tokens;
    // Bound to this login's claims: tokens moved from another session's record do not open.
    const raw = parseObject(sealer.open('session', stored.tokens, cache.claimsText));
    let result: SealedTokens | undefined;
    if (raw !== undefined) {
      result = {};
      for (const key of ['idToken', 'accessToken', 'refreshToken', 'tokenType'] as const) {
        const value = optionalString(raw[key]);
        if (value !== undefined) result[key] = value;
      }
      const dpopKey = raw['dpopKey'];
      if (typeof dpopKey === 'object' && dpopKey !== null && !Array.isArray(dpopKey)) result.dpopKey = dpopKey;
    }
    cache.tokensText = stored.tokens;
    cache.tokens = result;
    return result;
  }

  return {
    seal(login) {
      const { user, sid, acr, amr, authTime, userAgent, idToken, accessToken, refreshToken, tokenType, dpopKey, expiresAt, loggedInAt, lastSeenAt, refreshes } =
        login;
      // The User-Agent is sealed with the claims: it says a good deal about the user's device.
      const sealedClaims = sealer.seal('session', JSON.stringify({ user, sid, acr, amr, authTime, userAgent }), 'claims');
      const stored: StoredLogin = {
        claims: sealedClaims,
        tokens: sealer.seal('session', JSON.stringify({ idToken, accessToken, refreshToken, tokenType, dpopKey }), sealedClaims),
        loggedInAt,
      };
      if (expiresAt !== undefined) stored.expiresAt = expiresAt;
      if (lastSeenAt !== undefined) stored.lastSeenAt = lastSeenAt;
      if (refreshes !== undefined) stored.refreshes = refreshes;
      return stored;
    },
    claims,
    tokens,
    open(stored) {
      const c = claims(stored);
      const t = c === undefined ? undefined : tokens(stored);
      if (c === undefined || t === undefined) return undefined;
      const login: Login = { ...c, ...t, loggedInAt: stored.loggedInAt };
      if (stored.expiresAt !== undefined) login.expiresAt = stored.expiresAt;
      if (stored.lastSeenAt !== undefined) login.lastSeenAt = stored.lastSeenAt;
      if (stored.refreshes !== undefined) login.refreshes = stored.refreshes;
      return login;
    },
  };
}
