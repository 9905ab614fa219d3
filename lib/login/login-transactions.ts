import type { CookieOptions, Request, Response } from 'express';
import { cookiesWithPrefix, readCookie, sameString } from '../http/cookies.js';
import type { Sealer } from '../crypto/sealing.js';
import { randomString } from '../crypto/random.js';

/** One login in flight: what the callback needs to finish it. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  /** epoch milliseconds */
  createdAt: number;
  /** what the new ID token must show (a step-up login); absent for an ordinary login */
  requirements?: LoginRequirements;
  /** a silent login (prompt=none): the provider answering login_required sends the browser back, anonymous */
  silent?: boolean;
  /** epoch seconds: a login after an end (prompt=login), whose ID token must not show an older auth_time */
  reauthenticateAfter?: number;
}

/** What a login started by requiresAuth({ acr, maxAge }) must bring back. */
export interface LoginRequirements {
  /** the new ID token's acr must be one of these */
  acr?: readonly string[];
  /** seconds: the new ID token's auth_time may be at most this old */
  maxAge?: number;
  /** the user the session already holds: a step-up login must not change who is logged in */
  sub?: string;
}

/** A login must finish within this time; an older transaction is refused. */
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;
/** Logins one browser may have in flight; starting one more drops the oldest. */
export const MAX_LOGINS_IN_FLIGHT = 5;
/** The cookie names of a login carry this many characters of its state. */
const ID_LENGTH = 16;
/** What a state we issued looks like (randomToken(): 43 base64url characters). */
const STATE_SHAPE = /^[\w-]{16,128}$/;
/** How far a transaction's creation time may lie ahead of this clock (another instance's). */
const CLOCK_SKEW_MS = 60 * 1000;

export interface TransactionCookieSettings {
  sealer: Sealer;
  /** baseUrl is https: Secure cookies, and the binding cookie gets the __Host- prefix */
  secure: boolean;
  /** 'none' only for response_mode=form_post over https, where the provider POSTs from its own site */
  sameSite: 'lax' | 'none';
  /** path of the callback route: the only place the transaction cookie is sent to */
  callbackPath: string;
}

export interface TransactionCookies {
  /** sets the cookies of a new login (dropping the oldest beyond MAX_LOGINS_IN_FLIGHT) */
  start(req: Request, res: Response, tx: LoginTransaction): void;
  /**
   * The login this state names, if this browser started it, within TRANSACTION_TTL_MS; its
   * cookies are cleared whatever the outcome, so a state is never used twice.
   */
  take(req: Request, res: Response, state: string | undefined, now: number): LoginTransaction | undefined;
}

/**
 * Login transactions live in the browser, not in the store: nothing is written anywhere before
 * a login succeeds. Each login gets two cookies, so parallel tabs never overwrite each other:
 * - `oidc.tx.<id>`: the transaction, sealed (AES-256-GCM, bound to its cookie name), sent
 *   only to the callback path;
 * - `__Host-oidc.bind.<id>` (on https): a random value the transaction also holds. A sibling
 *   subdomain can plant cookies for the parent domain (cookie tossing) but never a __Host-
 *   cookie, so it cannot pass off its own login as the victim's: login CSRF fails. Its
 *   value starts with the creation time, so /login (which it reaches: Path=/) can count
 *   and drop logins in flight without opening anything.
 */
export function transactionCookies({ sealer, secure, sameSite, callbackPath }: TransactionCookieSettings): TransactionCookies {
  const txPrefix = 'oidc.tx.';
  const bindPrefix = `${secure ? '__Host-' : ''}oidc.bind.`;
  const base = { httpOnly: true, secure, sameSite } satisfies CookieOptions;
  const txCookie = { ...base, path: callbackPath } satisfies CookieOptions;
  const bindCookie = { ...base, path: '/' } satisfies CookieOptions;

  const drop = (res: Response, id: string): void => {
    res.clearCookie(txPrefix + id, txCookie);
    res.clearCookie(bindPrefix + id, bindCookie);
  };

  return {
    start(req, res, tx) {
      const inFlight = cookiesWithPrefix(req, bindPrefix)
        .map(({ name, value }) => ({ id: name.slice(bindPrefix.length), createdAt: parseInt(value.split('.')[0] ?? '', 36) }))
        .sort((a, b) => (Number.isNaN(a.createdAt) ? -1 : a.createdAt) - (Number.isNaN(b.createdAt) ? -1 : b.createdAt));
      for (const stale of inFlight.slice(0, Math.max(0, inFlight.length - (MAX_LOGINS_IN_FLIGHT - 1)))) drop(res, stale.id);
      const id = tx.state.slice(0, ID_LENGTH);
      const binding = `${tx.createdAt.toString(36)}.${randomString(16)}`;
      const { requirements: u, silent, reauthenticateAfter: a } = tx;
      const fields = {
        s: tx.state,
        n: tx.nonce,
        v: tx.verifier,
        r: tx.returnTo,
        t: tx.createdAt,
        b: binding,
        ...(u === undefined ? {} : { u: { a: u.acr, m: u.maxAge, s: u.sub } }),
        ...(silent === true ? { q: 1 } : {}),
        ...(a === undefined ? {} : { a }),
      };
      const sealed = sealer.seal('transaction', JSON.stringify(fields), txPrefix + id);
      res.cookie(txPrefix + id, sealed, { ...txCookie, maxAge: TRANSACTION_TTL_MS });
      res.cookie(bindPrefix + id, binding, { ...bindCookie, maxAge: TRANSACTION_TTL_MS });
    },

    take(req, res, state, now) {
      if (state === undefined || !STATE_SHAPE.test(state)) return undefined;
      const id = state.slice(0, ID_LENGTH);
      const sealed = readCookie(req, txPrefix + id);
      const binding = readCookie(req, bindPrefix + id);
      if (sealed !== undefined || binding !== undefined) drop(res, id);
      if (sealed === undefined || binding === undefined) return undefined;
      const tx = parse(sealer.open('transaction', sealed, txPrefix + id));
      if (tx === undefined || !sameString(tx.state, state) || !sameString(tx.binding, binding)) return undefined;
      if (now - tx.createdAt >= TRANSACTION_TTL_MS || tx.createdAt > now + CLOCK_SKEW_MS) return undefined;
      return tx;
    },
  };
}

function parse(json: string | undefined): (LoginTransaction & { binding: string }) | undefined {
  if (json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { s, n, v, r, t, b, u, q, a } = value as Record<string, unknown>;
  if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string' || typeof r !== 'string' || typeof t !== 'number' || typeof b !== 'string')
    return undefined;
  const tx: LoginTransaction & { binding: string } = { state: s, nonce: n, verifier: v, returnTo: r, createdAt: t, binding: b };
  if (u !== undefined) {
    const requirements = parseRequirements(u);
    // Sealed by us, so never malformed unless the format changed: refuse rather than drop a requirement.
    if (requirements === undefined) return undefined;
    tx.requirements = requirements;
  }
  if (q === 1) tx.silent = true;
  if (a !== undefined) {
    // Sealed by us: a malformed value means a changed format; refuse rather than skip the check.
    if (typeof a !== 'number') return undefined;
    tx.reauthenticateAfter = a;
  }
  return tx;
}

function parseRequirements(value: unknown): LoginRequirements | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { a, m, s } = value as Record<string, unknown>;
  const acr = a === undefined || (Array.isArray(a) && a.every((x) => typeof x === 'string')) ? a : null;
  if (acr === null || (m !== undefined && typeof m !== 'number') || (s !== undefined && typeof s !== 'string')) return undefined;
  const requirements: LoginRequirements = {};
  if (acr !== undefined) requirements.acr = acr;
  if (m !== undefined) requirements.maxAge = m;
  if (s !== undefined) requirements.sub = s;
  return requirements;
}
