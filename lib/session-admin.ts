import { metadataOf } from './provider/metadata.js';
import type { Request } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from './errors.js';
import { isCrossSite } from './http/cross-site.js';
import type { Instance } from './instance/instance.js';
import { endSessions } from './ended/end-sessions.js';
import { requireStore } from './session/session.js';
import { STORE_TIMEOUT_MS, storeGet } from './session/store-calls.js';
import { isRecord } from './values.js';

/** Which sessions: every one of a user, every one of a provider session, or one of a user's by its handle. */
export type SessionSelector =
  | {
      /** the user (the ID token's `sub`) whose sessions are meant */
      sub: string;
      /** one of that user's sessions, by the handle `listSessions()` gave; without it, all of them */
      session?: string;
    }
  | {
      /** the provider session (the ID token's `sid`) whose sessions here are meant */
      sid: string;
    };

/** A live session of a user, as listSessions() shows it: never its id, which is a credential. */
export interface SessionInfo {
  /** an opaque handle for this session (a keyed hash of its id): `endSessions({ sub, session })` ends it */
  session: string;
  /** epoch seconds of the login */
  loggedInAt: number;
  /** epoch seconds of the last request seen, written at most once a minute; undefined without an idle lifetime */
  lastSeenAt: number | undefined;
  /** the browser's User-Agent header at login (at most 512 characters, sealed at rest), to tell browsers apart; undefined when it sent none */
  userAgent: string | undefined;
  /** true for the session of the request that asked */
  current: boolean;
}

/** What `endSessions()` and `listSessions()` are given besides the selector. */
export interface SessionAdminOptions {
  /**
   * the request on whose behalf (an admin's, or the user's own "sign out everywhere"): the
   * postLogout hook gets it as `clientRequest`, and `context(req)` is built from it
   */
  request: Request;
}

/** What `oidcAuth()` returns besides the middleware: sessions ended or listed from the app's own code. */
export interface SessionAdmin {
  /**
   * Ends the selected sessions on every instance that shares the session index, as a logout
   * does (marked ended, destroyed, dropped from the index, tokens revoked, postLogout run with
   * trigger `'admin'`); a request of one of them still in flight cannot bring it back.
   * Resolves to how many it ended. A cross-site `request` (an `Origin` of another origin, or
   * `Sec-Fetch-Site: cross-site`) rejects with `OIDC_CROSS_SITE_REQUEST` (403), as `POST /logout`
   * does, before anything is ended.
   */
  endSessions(
    selector: SessionSelector,
    options: SessionAdminOptions,
  ): Promise<{
    /** how many sessions were ended */
    ended: number;
  }>;
  /**
   * The user's live sessions, on every instance that shares the session index. No cross-site
   * check: it changes nothing, and another site can make the browser send the request but
   * cannot read the answer (the same-origin policy), so a forged request gains it nothing.
   */
  listSessions(selector: { sub: string }, options: SessionAdminOptions): Promise<SessionInfo[]>;
}

function invalid(message: string): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.CONFIG_INVALID, 500, message);
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

function checkSelector(fn: string, selector: unknown, sidAllowed: boolean): { sub: string; session: string | undefined } | { sid: string } {
  if (isRecord(selector) && sidAllowed && nonEmpty(selector['sid']) && selector['sub'] === undefined && selector['session'] === undefined)
    return { sid: selector['sid'] };
  if (
    isRecord(selector) &&
    nonEmpty(selector['sub']) &&
    selector['sid'] === undefined &&
    (selector['session'] === undefined || (sidAllowed && nonEmpty(selector['session'])))
  ) {
    return { sub: selector['sub'], session: selector['session'] };
  }
  throw invalid(`${fn}(): the selector must be ${sidAllowed ? '{ sub }, { sub, session } or { sid }' : '{ sub }'}, each a non-empty string.`);
}

function checkRequest(fn: string, options: SessionAdminOptions): Request {
  // Typed, but JavaScript callers (and casts) can pass anything: look before using it.
  const given: unknown = isRecord(options) ? options.request : undefined;
  if (!isRecord(given) || !isRecord(given['headers'])) throw invalid(`${fn}(): give { request: req }, the Express request on whose behalf.`);
  return options.request;
}

export function createSessionAdmin(instance: Instance): SessionAdmin {
  const { opts, provider, vault, sealer, sessionIndex } = instance;
  /** The session's handle: a keyed hash under the newest secret; matched under every one. */
  const handlesOf = (sessionId: string): readonly string[] => sealer.keyedHashes('index', `session-handle:${sessionId}`);

  async function idsOf(selector: { sub: string; session: string | undefined } | { sid: string }): Promise<string[]> {
    const issuer = metadataOf(await provider.config()).issuer;
    const ids = await sessionIndex.lookup(issuer, 'sid' in selector ? { sid: selector.sid } : { sub: selector.sub });
    if ('sid' in selector || selector.session === undefined) return ids;
    const { session } = selector;
    return ids.filter((id) => handlesOf(id).includes(session));
  }

  return {
    async endSessions(selector, options) {
      const checked = checkSelector('endSessions', selector, true);
      const request = checkRequest('endSessions', options);
      // The app's "sign out everywhere" route is a POST like /logout, and as open to a form on
      // another site: a sibling subdomain is same-site, so the SameSite=Lax cookie goes along
      // and only Origin shows where the form came from. Refused before any session is looked up.
      if (isCrossSite(request, opts.baseUrl.origin)) {
        throw new OidcAuthError(
          OidcAuthErrorCode.CROSS_SITE_REQUEST,
          403,
          "Ending sessions was requested from another site and refused. Use this application's own page.",
        );
      }
      const ended = await endSessions(instance, request, await idsOf(checked), 'admin');
      return { ended };
    },

    async listSessions(selector, options) {
      const checked = checkSelector('listSessions', selector, false);
      const request = checkRequest('listSessions', options);
      if ('sid' in checked) return [];
      const store = requireStore(instance.storeOf(request));
      const found = await Promise.all(
        (await idsOf(checked)).map(async (sessionId): Promise<SessionInfo | undefined> => {
          const stored = (await storeGet(store, sessionId, STORE_TIMEOUT_MS))?.oidc?.login;
          // Gone (ended, expired), or not this user's (an index entry outlived its session and the id was reused).
          const claims = stored === undefined ? undefined : vault.claims(stored);
          if (stored === undefined || claims?.user.sub !== checked.sub || (await instance.ended.isEnded(sessionId))) return undefined;
          const [handle = ''] = handlesOf(sessionId);
          return {
            session: handle,
            loggedInAt: stored.loggedInAt,
            lastSeenAt: stored.lastSeenAt,
            userAgent: claims.userAgent,
            current: sessionId === request.sessionID,
          };
        }),
      );
      return found.filter((info): info is SessionInfo => info !== undefined).sort((a, b) => b.loggedInAt - a.loggedInAt);
    },
  };
}
