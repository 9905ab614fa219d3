import { MemoryStore } from 'express-session';
import type { Instance } from '../instance/instance.js';
import { sessionCookieExposure } from '../options/session.js';

/** What a configuration risks, said once at oidcAuth(): each a mistake that shows only later, in production. */
export function warnAtStartup({ opts, sessionIndex, sessions }: Instance): void {
  const { appStore, atomic } = sessions;
  // express-session warns about its MemoryStore in production, but never sees it: we pass our wrapper.
  if (opts.session !== false && opts.session.store === undefined && process.env['NODE_ENV'] === 'production') {
    opts.logger.warn(
      {},
      "NODE_ENV is production but no session store was given: sessions live in this process's memory, are lost on restart and are not seen by other instances. Pass session.store and sessionIndex on one shared database: connect-redis (new RedisStore({ client })) with redisSessionIndex(client), or connect-pg-simple (new PGStore({ pool })) with postgresSessionIndex(pool).",
    );
  }

  const exposure = sessionCookieExposure(opts.session, opts.baseUrl);
  if (exposure !== undefined) opts.logger.warn({}, exposure);

  if (appStore !== undefined && !(appStore instanceof MemoryStore) && !sessionIndex.shared) {
    opts.logger.warn(
      {},
      'a shared session store is used with the in-memory session index: back-channel and front-channel logout only reach sessions created by this process. Pass sessionIndex: redisSessionIndex(client) or postgresSessionIndex(pool), on the same connection as the store.',
    );
  }

  if (appStore !== undefined && sessionIndex.shared) {
    opts.logger.debug(
      { atomicWrites: atomic !== undefined },
      atomic !== undefined
        ? 'sessions are written atomically with their ended mark: requests read the session only'
        : "the session index cannot write sessions of this store atomically with their ended mark (connect-redis on the index's own client can, and connect-pg-simple with postgresSessionIndex): every request of a logged-in session also reads the mark",
    );
  }

  if (opts.authorizationParams['response_mode'] === 'form_post' && opts.baseUrl.protocol !== 'https:') {
    opts.logger.warn(
      {},
      'response_mode=form_post over http: browsers only send the login cookies along with a cross-site POST when they are SameSite=None, which needs https. Logins through a provider on another site fail with OIDC_STATE_MISMATCH; use an https baseUrl.',
    );
  }
}
