import { randomBytes } from 'node:crypto';
import type { SessionOptions } from 'express-session';
import { got, type Problems } from './checks.js';
import { kind } from './secrets.js';
import { DEFAULT_SESSION_COOKIE, type ResolvedSession } from './resolved.js';
import { isRecord } from '../values.js';

/**
 * 128 random bits, base64url: as unguessable as a session id needs to be, and 10
 * characters shorter than express-session's default, in every cookie and every store key.
 */
function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The cookie prefixes browsers enforce, whatever their case (RFC 6265bis). */
const isHostPrefixed = (name: string): boolean => name.toLowerCase().startsWith('__host-');
const isSecurePrefixed = (name: string): boolean => name.toLowerCase().startsWith('__secure-');

/**
 * What the app's path adds to a __Host- cookie name, so that two apps on one host (under /a and
 * /b, or / and /a) never share a cookie: "" at the root, else each "/" as "." and every other
 * character but letters, digits, "-", "_" and "~" as %XX, which keeps the name an RFC 6265 token
 * and two different paths two different names ("/a/b" → ".a.b", "/a.b" → ".a%2Eb").
 */
export function pathSuffix(pathname: string): string {
  let suffix = '';
  for (const char of pathname.replace(/\/+$/, '')) {
    if (char === '/') suffix += '.';
    else if (/^[A-Za-z0-9_~-]$/.test(char)) suffix += char;
    else for (const byte of Buffer.from(char)) suffix += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return suffix;
}

/** True when browsers accept a __Host- cookie with these attributes, and so no other host can set one. */
function hostOnly(cookie: Record<string, unknown>): boolean {
  return cookie['secure'] === true && cookie['path'] === '/' && cookie['domain'] === undefined;
}

export function resolveSession(value: unknown, baseUrl: URL | undefined, problems: Problems): ResolvedSession | false {
  if (value === false) return false;
  if (value === undefined) {
    problems.push('"session" is required: express-session options ({ secret, store }), or false when the app mounts express-session itself');
    return false;
  }
  if (!isRecord(value)) {
    // kind(), not got(): a session secret passed here by mistake must not be echoed
    problems.push(`"session" must be express-session options ({ secret, store, … }) or false when the app mounts express-session itself (got ${kind(value)})`);
    return false;
  }
  const cookie = value['cookie'];
  if (cookie !== undefined && !isRecord(cookie)) problems.push(`"session.cookie" must be an object (got ${got(cookie)})`);
  const userCookie = isRecord(cookie) ? cookie : {};
  const userName = typeof value['name'] === 'string' ? value['name'] : undefined;
  const secure = baseUrl?.protocol === 'https:';
  // __Host-: a sibling subdomain cannot plant or overwrite it (cookie tossing). Browsers only take
  // it Secure, for Path=/ and without Domain; so on https it is the default, for an app under a
  // path too (the path goes into the name instead), unless the app chose a name, a domain or no
  // Secure. A name of the app's own keeps the cookie under baseUrl's path, as before, unless it is
  // a __Host- name itself.
  const hostDefault = userName === undefined ? secure && userCookie['secure'] !== false && userCookie['domain'] === undefined : isHostPrefixed(userName);
  const merged: Record<string, unknown> = {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: baseUrl === undefined || hostDefault ? '/' : baseUrl.pathname,
    ...userCookie,
  };
  // the cookie module lowercases sameSite, so "None" means "none" too
  if (typeof merged.sameSite === 'string' && merged.sameSite.toLowerCase() === 'none' && merged.secure !== true) {
    problems.push(`"session.cookie.secure" must be true when "session.cookie.sameSite" is "none", or browsers drop the cookie (got ${got(merged.secure)})`);
  }
  if (userName !== undefined && isHostPrefixed(userName) && !hostOnly(merged)) {
    problems.push(
      `"session.name" ${got(userName)} needs "session.cookie" with secure true, path "/" and no domain, or browsers drop a __Host- cookie and nobody stays logged in (got secure ${got(merged['secure'])}, path ${got(merged['path'])}, domain ${got(merged['domain'])})`,
    );
  } else if (userName !== undefined && isSecurePrefixed(userName) && merged['secure'] !== true) {
    problems.push(
      `"session.name" ${got(userName)} needs "session.cookie.secure" true, or browsers drop a __Secure- cookie and nobody stays logged in (got ${got(merged['secure'])})`,
    );
  }
  const name =
    userName ?? (hostOnly(merged) && baseUrl !== undefined ? `__Host-${DEFAULT_SESSION_COOKIE}${pathSuffix(baseUrl.pathname)}` : DEFAULT_SESSION_COOKIE);
  // name after the spread: an explicit `name: undefined` must not bring back express-session's connect.sid
  return { genid: newSessionId, resave: false, saveUninitialized: false, ...(value as unknown as SessionOptions), name, cookie: merged };
}

/**
 * Said at startup when the session cookie is not a __Host- cookie: a sibling subdomain can then
 * plant its own logged-in session cookie (cookie tossing), and the victim's browser shows the
 * attacker's account. Undefined for a __Host- cookie, for `session: false` (the app's own
 * express-session names its cookie; the package never sees how), and for a loopback http
 * baseUrl (development on this machine, which has no sibling hosts).
 */
export function sessionCookieExposure(session: SessionOptions | false, baseUrl: URL): string | undefined {
  if (session === false) return undefined;
  const name = session.name ?? DEFAULT_SESSION_COOKIE;
  if (isHostPrefixed(name)) return undefined;
  const risk = `a sibling subdomain can set its own "${name}" cookie for this app (cookie tossing) and so log the browser in as another user`;
  if (baseUrl.protocol !== 'https:') {
    if (LOOPBACK.has(baseUrl.hostname)) return undefined;
    return `the session cookie cannot be a __Host- cookie over http (baseUrl ${baseUrl.origin}): ${risk}. Serve the app over https.`;
  }
  // resolveSession refused a cookie that is not an object, and merged the defaults in
  const cookie: Record<string, unknown> = isRecord(session.cookie) ? session.cookie : {};
  const attributes = [
    cookie['domain'] === undefined ? undefined : `domain ${got(cookie['domain'])}`,
    cookie['secure'] === true ? undefined : `secure ${got(cookie['secure'])}`,
    cookie['path'] === '/' ? undefined : `path ${got(cookie['path'])}`,
  ].filter((reason) => reason !== undefined);
  // On https the default name is only oidc.sid when an attribute rules __Host- out; any other name is the app's.
  const reasons = name === DEFAULT_SESSION_COOKIE && attributes.length > 0 ? attributes : [`name ${got(name)}`, ...attributes];
  return `the session cookie is not a __Host- cookie (${reasons.join(', ')}): ${risk}. Leave "session.name", "session.cookie.path", "session.cookie.domain" and "session.cookie.secure" out for the default __Host-${DEFAULT_SESSION_COOKIE}${pathSuffix(baseUrl.pathname)} (Secure, Path=/, no Domain), or name the cookie __Host-… yourself.`;
}
