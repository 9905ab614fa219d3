import { metadataOf } from '../provider/metadata.js';
import type { Request, Response } from 'express';
import { endSessions } from '../ended/end-sessions.js';
import { queryOf, single } from '../http/http.js';
import type { TracedHandler } from '../telemetry/telemetry.js';
import type { Instance } from '../instance/instance.js';
import { createRefusalLog } from '../logging/refusal-log.js';

function page(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  // The provider loads this page in a hidden iframe: it must stay frameable, so no frame-ancestors here.
  res.end(`<!doctype html><meta charset="utf-8"><title>${text}</title><p>${text}</p>`);
}

/**
 * GET /frontchannel-logout?iss=…&sid=… (OpenID Connect Front-Channel Logout 1.0), off by
 * default: ends the sessions of that provider session. iss must be the provider's exact
 * issuer, and sid is required: without it the request names no session we could trust.
 */
export function createFrontchannelLogoutHandler(instance: Instance): TracedHandler<Request, Response> {
  const { opts, provider, sessionIndex } = instance;
  const refusals = createRefusalLog(opts.logger, 'front-channel logout refused');
  // A sid that matches nothing usually means the provider's ID tokens carry no sid (or another
  // one): the user then stays logged in here, which an operator must hear about, at a bounded rate.
  const unmatched = createRefusalLog(opts.logger, "front-channel logout matched no session (do the provider's ID tokens carry this sid?)");
  return async function oidcFrontchannelLogout(req, res, next, fail) {
    try {
      const query = queryOf(req);
      const iss = single(query, 'iss');
      const sid = single(query, 'sid');
      const config = await provider.config();
      const issuer = metadataOf(config).issuer;
      if (iss !== issuer || sid === undefined || sid === '') {
        refusals.refused(iss !== issuer ? 'iss is missing or not the issuer' : 'sid is missing');
        // Answered here, not passed on: the span is marked failed by hand (error.type as back-channel's malformed request).
        fail('request');
        page(res, 400, 'Logout request refused: iss and sid are required');
        return;
      }
      const sessionIds = await sessionIndex.lookup(issuer, { sid });
      const ended = await endSessions(instance, req, sessionIds, 'frontchannel');
      // Anyone can send an iss and a made-up sid: only a logout that ended something is logged each time.
      if (ended === 0) unmatched.refused('no session has this sid');
      else opts.logger.info({ sessions: ended }, 'front-channel logout');
      page(res, 200, 'Logged out');
    } catch (err) {
      next(err);
    }
  };
}
