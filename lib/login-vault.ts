import type { Sealer } from './sealing.js';
import type { Login, StoredLogin } from './session.js';
import type { OidcUser } from './types.js';

interface SealedClaims {
  user: OidcUser;
  sid?: string;
}

interface SealedTokens {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
  tokenType?: string;
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

export function createLoginVault(sealer: Sealer): LoginVault {
  const claimsCache = new WeakMap<StoredLogin, SealedClaims | null>();
  const tokensCache = new WeakMap<StoredLogin, SealedTokens | null>();
  // Keyed by the sealed text itself: the same text always opens to the same claims, and only
  // text that opened (authenticated by GCM) gets in. It holds the JSON, not objects, so every
  // request parses its own copy and no request sees another's changes. Tokens are never kept.
  const recentClaims = new Map<string, string>();

  function decryptClaims(sealed: string): string | undefined {
    const recent = recentClaims.get(sealed);
    if (recent !== undefined) {
      // least recently used goes first: a hit moves to the end
      recentClaims.delete(sealed);
      recentClaims.set(sealed, recent);
      return recent;
    }
    const json = sealer.open('session', sealed, 'claims');
    if (json === undefined) return undefined;
    if (recentClaims.size >= RECENT_CLAIMS) {
      const oldest = recentClaims.keys().next();
      if (oldest.done !== true) recentClaims.delete(oldest.value);
    }
    recentClaims.set(sealed, json);
    return json;
  }

  function openClaims(sealed: string): SealedClaims | undefined {
    const raw = parseObject(decryptClaims(sealed));
    const user = raw?.['user'];
    const sid = optionalString(raw?.['sid']);
    if (typeof user !== 'object' || user === null || typeof (user as { sub?: unknown }).sub !== 'string') return undefined;
    return { user: user as OidcUser, ...(sid === undefined ? {} : { sid }) };
  }

  function claims(stored: StoredLogin): SealedClaims | undefined {
    const cached = claimsCache.get(stored);
    if (cached !== undefined) return cached ?? undefined;
    const opened = typeof stored.claims === 'string' ? openClaims(stored.claims) : undefined;
    claimsCache.set(stored, opened ?? null);
    return opened;
  }

  function tokens(stored: StoredLogin): SealedTokens | undefined {
    const cached = tokensCache.get(stored);
    if (cached !== undefined) return cached ?? undefined;
    // Bound to this login's claims: tokens moved from another session's record do not open.
    const raw = typeof stored.tokens === 'string' && typeof stored.claims === 'string' ? parseObject(sealer.open('session', stored.tokens, stored.claims)) : undefined;
    let opened: SealedTokens | undefined;
    if (raw !== undefined) {
      opened = {};
      for (const key of ['idToken', 'accessToken', 'refreshToken', 'tokenType'] as const) {
        const value = optionalString(raw[key]);
        if (value !== undefined) opened[key] = value;
      }
    }
    tokensCache.set(stored, opened ?? null);
    return opened;
  }

  return {
    seal(login) {
      const { user, sid, idToken, accessToken, refreshToken, tokenType, expiresAt, loggedInAt, lastSeenAt, refreshes } = login;
      const sealedClaims = sealer.seal('session', JSON.stringify({ user, sid }), 'claims');
      const stored: StoredLogin = { claims: sealedClaims, tokens: sealer.seal('session', JSON.stringify({ idToken, accessToken, refreshToken, tokenType }), sealedClaims), loggedInAt };
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
