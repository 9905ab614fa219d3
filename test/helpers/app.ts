import express, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import type { ClientMetadata } from 'oidc-provider';
import { oidcAuth, requiresAuth, type OidcAuthOptions } from '../../lib/index.js';
import { createLoginVault } from '../../lib/login/login-vault.js';
import { createSealer } from '../../lib/crypto/sealing.js';
import type { Login, StoredLogin } from '../../lib/session/session.js';
import { lateServer, type LateServer } from './late-server.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.js';
import { webClient } from './client-metadata.js';

export const CLIENT_ID = 'test-app';
export const CLIENT_SECRET = 'test-app-secret-test-app-secret-0123';
export const SESSION_SECRET = 'session-secret-for-tests-only-0123456789';

const testVault = createLoginVault(createSealer(SESSION_SECRET));

/** Test-only: a stored login opened with the tests' session secret (what only the app can read). */
export function openStored(stored: StoredLogin | undefined): Login | undefined {
  return stored === undefined ? undefined : testVault.open(stored);
}

export type ExpressFlavour = 'express5' | 'express4';
export const FLAVOURS: readonly ExpressFlavour[] = ['express5', 'express4'];

export interface Captured {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that drops every line: for measurements a logger that keeps lines would skew, and for runs whose log is not the point. */
export const quietLogger: NonNullable<OidcAuthOptions['logger']> = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that keeps every line, to assert on what was (and was not) logged. */
export function capturingLogger(): { lines: Captured[]; logger: NonNullable<OidcAuthOptions['logger']> } {
  const lines: Captured[] = [];
  const at = (level: Captured['level']) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export function clientFor(appUrl: string, extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return webClient(appUrl, CLIENT_ID, CLIENT_SECRET, extra);
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
  /** leave the test default clientSecret out: a client that authenticates otherwise */
  withoutClientSecret?: boolean;
  client?: Partial<ClientMetadata>;
  provider?: Omit<TestProviderOptions, 'clients'>;
  /** middleware the app mounts before oidcAuth (its own express-session, for `session: false`) */
  beforeOidc?: (app: express.Express) => void;
  /** extra routes, added after the test routes (and before the JSON error handler) */
  routes?: (app: express.Express) => void;
  /** end the app with jsonErrorHandler, so errors come back as `{ code, message }` */
  jsonErrors?: boolean;
}

/** The JSON error body that jsonErrorHandler answers with. */
export interface ErrorBody {
  code?: string;
  message: string;
}

/** An app-level error handler: status from the error (else 500), body `{ code, message }`. */
export function jsonErrorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  const e = err instanceof Error ? (err as Error & { status?: unknown; code?: unknown }) : undefined;
  const status = typeof e?.status === 'number' ? e.status : 500;
  const body: ErrorBody = { message: e?.message ?? String(err) };
  if (typeof e?.code === 'string') body.code = e.code;
  res.status(status).json(body);
}

/** A bare app of the given flavour with oidcAuth mounted, the test routes and the options' extras. */
export function buildApp(options: OidcAuthOptions, opts: Pick<SetupOptions, 'flavour' | 'beforeOidc' | 'routes' | 'jsonErrors'> = {}): express.Express {
  const make = opts.flavour === 'express4' ? express4 : express;
  const app = make();
  // Express's final handler prints the stack of every error it answers unless env is "test":
  // the errors the tests provoke on purpose must not fill the output.
  app.set('env', 'test');
  opts.beforeOidc?.(app);
  app.use(oidcAuth(options));
  addTestRoutes(app);
  opts.routes?.(app);
  if (opts.jsonErrors === true) app.use(jsonErrorHandler);
  return app;
}

/** Routes every test app has: a public page and a protected one. */
export function addTestRoutes(app: express.Express): void {
  app.get('/', (req, res) => {
    res.json({ page: 'home', authenticated: req.oidc.isAuthenticated(), logoutCompleted: req.oidc.logoutCompleted });
  });
  // Test-only: lets a test read the tokens the session holds, to ask the provider about them.
  app.get('/test/tokens', requiresAuth(), (req, res) => {
    res.json({ accessToken: req.oidc.accessToken?.token, idToken: req.oidc.idToken, refreshToken: openStored(req.session.oidc?.login)?.refreshToken });
  });
  // An app calling an API: it asks for a valid access token (refreshed when about to expire).
  app.get('/api/token', (req, res, next) => {
    req.oidc.getAccessToken().then((token) => res.json({ token }), next);
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
    // The tests' providers answer in milliseconds; a loaded CI machine (three Node versions at
    // once on two cores) once took one past the 10 s default. Tests of the bound set their own.
    httpTimeoutMs: 30_000,
    session: { secret: SESSION_SECRET },
    logger: capturingLogger().logger,
  };
}

/** The app and a real oidc-provider, each on its own 127.0.0.1 port, wired to each other. */
export async function setup(opts: SetupOptions = {}): Promise<TestSetup> {
  const appServer = await lateServer();
  const op = await startTestProvider({ clients: [clientFor(appServer.url, opts.client)], ...opts.provider });
  let app: express.Express;
  try {
    const { clientSecret, ...rest } = { ...baseOptions(op.issuer, appServer.url), ...opts.options };
    const merged: OidcAuthOptions = opts.withoutClientSecret === true || clientSecret === undefined ? rest : { ...rest, clientSecret };
    app = buildApp(merged, opts);
  } catch (err) {
    // Options refused: stop both servers, or the test process never ends.
    await appServer.close();
    await op.close();
    throw err;
  }
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

export interface ProviderLaterSetup {
  app: express.Express;
  appServer: LateServer;
  appUrl: string;
  /** the provider's reserved server: its port (and so the issuer) is fixed, nothing answers yet */
  providerServer: LateServer;
  issuer: string;
  /** brings the provider up on its reserved port */
  startProvider(): Promise<TestProvider>;
  close(): Promise<void>;
}

/** The app, configured for a provider that is down when the app starts (its port reserved, not listening). */
export async function setupProviderLater(opts: SetupOptions = {}): Promise<ProviderLaterSetup> {
  const appServer = await lateServer();
  const providerServer = await lateServer();
  await providerServer.stop();
  let app: express.Express;
  try {
    app = buildApp({ ...baseOptions(providerServer.url, appServer.url), ...opts.options }, opts);
  } catch (err) {
    await appServer.close();
    throw err;
  }
  appServer.setHandler(app);
  return {
    app,
    appServer,
    appUrl: appServer.url,
    providerServer,
    issuer: providerServer.url,
    async startProvider() {
      await providerServer.start();
      return startTestProvider({ clients: [clientFor(appServer.url, opts.client)], ...opts.provider, server: providerServer });
    },
    async close() {
      await appServer.close();
      await providerServer.close();
    },
  };
}
