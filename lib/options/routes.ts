import { DEFAULTS, type ResolvedOptions } from './resolved.js';
import { checkPath, checkUnknownKeys, got, type Problems } from './checks.js';
import { isRecord } from '../values.js';

export const ROUTE_KEYS = ['login', 'callback', 'logout', 'backchannelLogout', 'frontchannelLogout', 'postLogoutRedirect'] as const;

/** A route path, or false when the app turns the route off (it mounts its own handler, or has none). */
function pathOrOff(value: unknown, name: string, fallback: string, problems: Problems): string | false {
  return value === false ? false : checkPath(value, name, fallback, problems, true);
}

export function resolveRoutes(value: unknown, problems: Problems): ResolvedOptions['routes'] {
  const routesIn = value ?? {};
  if (!isRecord(routesIn)) problems.push(`"routes" must be an object (got ${got(routesIn)})`);
  const r = isRecord(routesIn) ? routesIn : {};
  checkUnknownKeys(r, ROUTE_KEYS, 'routes.', problems);
  const d = DEFAULTS.routes;
  const callback = pathOrOff(r['callback'], 'routes.callback', d.callback, problems);
  const routes = {
    login: pathOrOff(r['login'], 'routes.login', d.login, problems),
    // Turned off, the callback keeps its default path: the redirect_uri, where the app's own handler calls res.oidc.callback().
    callback: callback === false ? d.callback : callback,
    callbackMounted: callback !== false,
    logout: pathOrOff(r['logout'], 'routes.logout', d.logout, problems),
    backchannelLogout: pathOrOff(r['backchannelLogout'], 'routes.backchannelLogout', d.backchannelLogout, problems),
    frontchannelLogout:
      r['frontchannelLogout'] === undefined
        ? (false as const)
        : pathOrOff(r['frontchannelLogout'], 'routes.frontchannelLogout', d.frontchannelLogout, problems),
    postLogoutRedirect: checkPath(r['postLogoutRedirect'], 'routes.postLogoutRedirect', d.postLogoutRedirect, problems),
  };
  const ownRoutes = (['login', 'callback', 'logout', 'backchannelLogout', 'frontchannelLogout'] as const).flatMap((name) => {
    const path = routes[name];
    return path === false ? [] : [{ name, path }];
  });
  ownRoutes.forEach(({ name, path }, i) => {
    const earlier = ownRoutes.slice(0, i).find((o) => o.path === path);
    if (earlier !== undefined) problems.push(`"routes.${name}" must differ from "routes.${earlier.name}" (got ${got(path)} for both)`);
  });
  // a redirect to, say, the login route would sign the user straight back in
  const clash = ownRoutes.find((o) => o.path === routes.postLogoutRedirect);
  if (clash !== undefined) {
    problems.push(
      `"routes.postLogoutRedirect" must not be one of the package's own routes (got ${got(routes.postLogoutRedirect)}, which is "routes.${clash.name}")`,
    );
  }
  return routes;
}
