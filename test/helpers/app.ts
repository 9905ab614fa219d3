import express from 'express';
import express4 from 'express4';
import type { ClientMetadata } from 'oidc-provider';
import { oidcAuth, requiresAuth, type OidcAuthOptions } from '../../lib/index.js';
import { lateServer, type LateServer } from './late-server.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.js';

export const CLIENT_ID = 'test-app';
export const CLIENT_SECRET = 'test-app-secret-test-app-secret-0123';
export const SESSION_SECRET = 'session-secret-for-tests-only-0123456789';

export type ExpressFlavour = 'express5' | 'express4';
export const FLAVOURS: readonly ExpressFlavour[] = ['express5', 'express4'];

export interface Captured {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line, to assert on what was (and was not) logged. */
export function capturingLogger(): { lines: Captured[]; logger: NonNullable<OidcAuthOptions['logger']> } {
  const lines: Captured[] = [];
  const at = (level: Captured['level']) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export function clientFor(appUrl: string, extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [`${appUrl}/callback`],
    post_logout_redirect_uris: [`${appUrl}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_logout_uri: `${appUrl}/backchannel-logout`,
    backchannel_logout_session_required: true,
    ...extra,
  };
}

export interface TestSetup {
  app: express.Express;
  appServer: LateServer;
  appUrl: string;
  op: TestProvider;
  close(): Promise<void>;
}

export interface SetupOptions {
  flavour?: ExpressFlavour;
  options?: Partial<OidcAuthOptions>;
  client?: Partial<ClientMetadata>;
  provider?: Omit<TestProviderOptions, 'clients'>;
}

/** Routes every test app has: a public page and a protected one. */
export function addTestRoutes(app: express.Express): void {
  app.get('/', (req, res) => {
    res.json({ page: 'home', authenticated: req.oidc.isAuthenticated() });
  });
  app.get('/profile', requiresAuth(), (req, res) => {
    res.json({ sub: req.oidc.user?.sub, user: req.oidc.user, hasAccessToken: req.oidc.accessToken !== undefined });
  });
}

export function baseOptions(issuer: string, appUrl: string): OidcAuthOptions {
  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    baseUrl: appUrl,
    allowInsecureRequests: true,
    session: { secret: SESSION_SECRET },
    logger: capturingLogger().logger,
  };
}

/** The app and a real oidc-provider, each on its own 127.0.0.1 port, wired to each other. */
export async function setup(opts: SetupOptions = {}): Promise<TestSetup> {
  const appServer = await lateServer();
  const op = await startTestProvider({ clients: [clientFor(appServer.url, opts.client)], ...opts.provider });
  const make = opts.flavour === 'express4' ? express4 : express;
  const app = make();
  app.use(oidcAuth({ ...baseOptions(op.issuer, appServer.url), ...opts.options }));
  addTestRoutes(app);
  appServer.setHandler(app);
  return {
    app,
    appServer,
    appUrl: appServer.url,
    op,
    async close() {
      await appServer.close();
      await op.close();
    },
  };
}
