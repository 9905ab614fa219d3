import type { RequestHandler } from 'express';
import { createInstance } from './instance/create-instance.js';
import type { OidcAuthOptions } from './options/options.js';
import { resolveOptions } from './options/validation.js';
import { createPipeline } from './pipeline/pipeline.js';
import { warnAtStartup } from './pipeline/startup-warnings.js';
import { createSessionAdmin, type SessionAdmin } from './session-admin.js';

/** What oidcAuth() returns: the middleware for app.use(), with the session admin's methods. */
export type OidcAuthHandler = RequestHandler & SessionAdmin;

/**
 * Mounts OpenID Connect login, callback and logout on an Express app: the options resolved
 * (a bad option throws OIDC_CONFIG_INVALID at this call), every service built once, then the
 * request pipeline.
 */
export function oidcAuth<TContext = undefined>(options: OidcAuthOptions<TContext>): OidcAuthHandler {
  const instance = createInstance(resolveOptions(options));
  warnAtStartup(instance);
  return Object.assign(createPipeline(instance), createSessionAdmin(instance));
}
