/** The name of the session cookie that oidcAuth's express-session sets by default. */
export const SESSION_COOKIE = 'oidc.sid';

/** One Set-Cookie header, split into its name, value and attributes (names lower-cased). */
export interface SetCookie {
  name: string;
  value: string;
  /** attribute name (lower case) → its value, or true for a flag such as HttpOnly */
  attributes: Map<string, string | true>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string | true>();
  for (const part of rest) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at === -1) attributes.set(trimmed.toLowerCase(), true);
    else attributes.set(trimmed.slice(0, at).trim().toLowerCase(), trimmed.slice(at + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Every Set-Cookie header of a response (fetch Headers or supertest's header record), parsed. */
export function allSetCookies(headers: Headers | Record<string, unknown>): SetCookie[] {
  let all: string[];
  if (headers instanceof Headers) {
    all = headers.getSetCookie();
  } else {
    const raw = headers['set-cookie'];
    all = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : typeof raw === 'string' ? [raw] : [];
  }
  return all.map(parseSetCookie);
}

/** The Set-Cookie headers of a response (fetch Headers or supertest's header record) for one cookie name. */
export function setCookiesNamed(headers: Headers | Record<string, unknown>, name: string): SetCookie[] {
  return allSetCookies(headers).filter((c) => c.name === name);
}

/** The login transaction cookie: `oidc.tx.<id>`, `<id>` being the first 16 characters of the state. */
export const TX_PREFIX = 'oidc.tx.';
/** The login binding cookie: `oidc.bind.<id>` on http, `__Host-oidc.bind.<id>` on https. */
export const BIND_PREFIX = 'oidc.bind.';

/** The names of the two cookies of the login whose authorization request carries this state. */
export function loginCookieNames(state: string, https = false): { tx: string; bind: string } {
  const id = state.slice(0, 16);
  return { tx: `${TX_PREFIX}${id}`, bind: `${https ? '__Host-' : ''}${BIND_PREFIX}${id}` };
}

/** The state of the authorization request a /login redirect points to. */
export function stateOf(location: string | undefined): string {
  const state = location === undefined ? null : new URL(location).searchParams.get('state');
  if (state === null || state === '') throw new Error(`no state in the redirect ${String(location)}`);
  return state;
}
