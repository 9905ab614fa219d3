import type { AsyncHandler } from '../http/http.js';
import type { Instance } from '../instance/instance.js';
import { createBackchannelLogoutHandler } from './backchannel-logout.js';
import { createCallbackHandler } from './callback.js';
import { createFrontchannelLogoutHandler } from './frontchannel-logout.js';
import { createLoginHandler } from './login.js';
import { createLogoutHandler } from './logout.js';
import { createLogoutReturnLanding, type Landing } from './logout-return.js';
import { traced } from '../telemetry/telemetry.js';

export type MethodTable = Partial<Record<string, AsyncHandler>>;

export interface RouteTable {
  /** the package's mounted routes, by path, then by method */
  routes: ReadonlyMap<string, MethodTable>;
  /** paths that load the session even without a cookie */
  needsSession: ReadonlySet<string>;
  /** routes that do not answer, by path, then by method: the app's own page answers after them */
  landings: ReadonlyMap<string, Partial<Record<string, Landing>>>;
  /** paths the provider calls: no session, no cookie, no store read */
  sessionless: ReadonlySet<string>;
  /** the callback and logout handlers, mounted or not: res.oidc.callback() and res.oidc.logout() run them */
  callback: AsyncHandler;
  logout: AsyncHandler;
}

/** The package's routes, as the options mount them (a route set to false is left to the app). */
export function buildRouteTable(instance: Instance): RouteTable {
  const { opts, telemetry } = instance;
  const callback = traced(telemetry, 'express_oidc_auth.callback', createCallbackHandler(instance));
  const logout = traced(telemetry, 'express_oidc_auth.logout', createLogoutHandler(instance));
  const routes = new Map<string, MethodTable>();
  if (opts.routes.login !== false) routes.set(opts.routes.login, { GET: createLoginHandler(instance) });
  if (opts.routes.callbackMounted) routes.set(opts.routes.callback, { GET: callback, POST: callback });
  if (opts.routes.logout !== false) routes.set(opts.routes.logout, Object.fromEntries([...opts.logout.methods].map((m) => [m, logout])));
  // /login keeps its state in cookies of its own: only the callback and logout need a session even
  // without a cookie, at their paths whether the package or the app answers there.
  const needsSession = new Set([opts.routes.callback, ...(opts.routes.logout === false ? [] : [opts.routes.logout])]);
  const sessionless = new Set<string>();
  if (opts.routes.backchannelLogout !== false) {
    routes.set(opts.routes.backchannelLogout, { POST: traced(telemetry, 'express_oidc_auth.backchannel_logout', createBackchannelLogoutHandler(instance)) });
    sessionless.add(opts.routes.backchannelLogout);
  }
  if (opts.routes.frontchannelLogout !== false) {
    routes.set(opts.routes.frontchannelLogout, { GET: traced(telemetry, 'express_oidc_auth.frontchannel_logout', createFrontchannelLogoutHandler(instance)) });
    sessionless.add(opts.routes.frontchannelLogout);
  }
  const landings = new Map([[opts.routes.postLogoutRedirect, { GET: createLogoutReturnLanding(opts) }]]);
  return { routes, landings, needsSession, sessionless, callback, logout };
}
