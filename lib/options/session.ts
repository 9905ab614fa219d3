import { randomBytes } from 'node:crypto';
import type { SessionOptions } from 'express-session';
import { got, type Problems } from './checks.js';
import { kind } from './secrets.js';
import { DEFAULT_SESSION_COOKIE } from './options.js';
import { isRecord } from '../values.js';

/**
 * 128 random bits, base64url: as unguessable as a session id needs to be, and 10
 * characters shorter than express-session's default, in every cookie and every store key.
 */
function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function resolveSession(value: unknown, baseUrl: URL | undefined, problems: Problems): SessionOptions | false {
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
  const secure = baseUrl?.protocol === 'https:';
  const merged: Record<string, unknown> = {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: baseUrl === undefined ? '/' : baseUrl.pathname,
    ...userCookie,
  };
  // the cookie module lowercases sameSite, so "None" means "none" too
  if (typeof merged.sameSite === 'string' && merged.sameSite.toLowerCase() === 'none' && merged.secure !== true) {
    problems.push(`"session.cookie.secure" must be true when "session.cookie.sameSite" is "none", or browsers drop the cookie (got ${got(merged.secure)})`);
  }
  // __Host-: a sibling subdomain cannot plant or overwrite it (cookie tossing). Browsers only take
  // it Secure, for Path=/ and without Domain, so it is the default exactly then.
  const hostOnly = merged.secure === true && merged.path === '/' && merged.domain === undefined;
  const name = hostOnly ? `__Host-${DEFAULT_SESSION_COOKIE}` : DEFAULT_SESSION_COOKIE;
  return { name, genid: newSessionId, resave: false, saveUninitialized: false, ...(value as unknown as SessionOptions), cookie: merged };
}
