import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Store } from 'express-session';
import { isOidcAuthError, oidcAuth, requiresAuth, type Logger, type OidcAuthOptions, type OidcUser, type SessionIndex } from '../lib/index.js';
import { ActivityLog, type ExampleContext } from './activity.js';
import type { SafeHtml } from './html.js';
import { errorPage, homePage, notFoundPage, profilePage, sessionsPage } from './pages.js';

export interface ExampleAppConfig {
  /** the provider's issuer URL */
  issuer: string;
  clientId: string;
  /** omit for a public client (PKCE only) */
  clientSecret?: string | undefined;
  /** where the browser reaches this app; redirect_uri = baseUrl + /callback */
  baseUrl: string;
  /** at least 32 random characters */
  sessionSecret: string;
  /** express-session store; default express-session's MemoryStore (one process, development only) */
  sessionStore?: Store | undefined;
  /** where back-channel logout finds sessions; default in-memory (one process) */
  sessionIndex?: SessionIndex | undefined;
  /** permit an http: issuer: the embedded development provider, never production */
  allowInsecureRequests?: boolean | undefined;
  logger: Logger;
  /** the embedded development provider is in use: the home page says any login works */
  devProvider?: boolean | undefined;
}

const EIGHT_HOURS_MS = 8 * 60 * 60 * 1000;

/** Personal pages: never cached, never framed, no scripts at all. */
const pageHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
};

function sendPage(res: Response, status: number, page: SafeHtml): void {
  res.status(status).type('html').send(page.toString());
}

/** The library's options, with the typed hooks and the `context` service they receive. */
function authOptions(config: ExampleAppConfig, activity: ActivityLog): OidcAuthOptions<ExampleContext> {
  return {
    issuer: config.issuer,
    clientId: config.clientId,
    ...(config.clientSecret === undefined ? {} : { clientSecret: config.clientSecret }),
    baseUrl: config.baseUrl,
    allowInsecureRequests: config.allowInsecureRequests ?? false,
    session: {
      secret: config.sessionSecret,
      ...(config.sessionStore === undefined ? {} : { store: config.sessionStore }),
      cookie: { maxAge: EIGHT_HOURS_MS },
    },
    logger: config.logger,
    ...(config.sessionIndex === undefined ? {} : { sessionIndex: config.sessionIndex }),
    // Called per request; every hook gets its result as `context`, typed ExampleContext.
    context: () => ({ activity }),
    hooks: {
      postLogin: ({ user, log, context }) => {
        context.activity.record({ sub: user.sub, event: 'signed in', via: 'login' });
        log.info({ sub: user.sub }, 'postLogin hook: sign-in recorded');
      },
      // Runs after the session is destroyed and the tokens revoked: on the logout route and on back-channel logout.
      postLogout: ({ trigger, user, log, context, revocation, endSessionUrl }) => {
        log.info({ sub: user?.sub, trigger, accessToken: revocation.accessToken, refreshToken: revocation.refreshToken }, 'postLogout hook: user logged out');
        if (user !== undefined) context.activity.record({ sub: user.sub, event: 'signed out', via: trigger });
        // Used only when the provider has no end_session_endpoint: the home page then says its session may live on.
        return trigger === 'logout' && endSessionUrl === undefined ? { redirectTo: '/?signed-out=here' } : undefined;
      },
    },
  };
}

/** The example Express app: oidcAuth at the root, a public home page, a protected profile page. */
export function createExampleApp(config: ExampleAppConfig): Express {
  const activity = new ActivityLog();
  const providerHost = new URL(config.issuer).host;
  const devProvider = config.devProvider ?? false;
  const log = config.logger;

  const app = express();
  app.disable('x-powered-by');
  app.use(pageHeaders);
  const auth = oidcAuth(authOptions(config, activity));
  app.use(auth);

  app.get('/', (req, res) => {
    const asked = req.query['signed-out'];
    const signedOut = req.oidc.logoutCompleted ? 'provider' : asked === 'here' || asked === 'everywhere' ? asked : undefined;
    sendPage(res, 200, homePage({ user: req.oidc.user, providerHost, devProvider, signedOut }));
  });

  // requiresAuth(handler): req.oidc.user is typed as present, as the guard made sure.
  app.get(
    '/profile',
    requiresAuth((req, res) => {
      const { user, accessToken } = req.oidc;
      sendPage(
        res,
        200,
        profilePage({ user, hasAccessToken: accessToken !== undefined, accessTokenExpiresAt: accessToken?.expiresAt, activity: activity.forUser(user.sub) }),
      );
    }),
  );

  // "Your sessions": the user's sessions on every instance (through the shared index), each one endable.
  // A form on another site cannot end them: a sibling subdomain is same-site, so the SameSite=Lax
  // cookie goes along, but endSessions() refuses a cross-site request (403 OIDC_CROSS_SITE_REQUEST,
  // through next(err) to the error page) before it ends anything.
  app.get(
    '/sessions',
    requiresAuth(async (req, res) => {
      const ended = typeof req.query['ended'] === 'string' ? Number.parseInt(req.query['ended'], 10) : undefined;
      const sessions = await auth.listSessions({ sub: req.oidc.user.sub }, { request: req });
      sendPage(res, 200, sessionsPage({ user: req.oidc.user, sessions, ended: Number.isNaN(ended) ? undefined : ended }));
    }),
  );
  app.post(
    '/sessions/end',
    express.urlencoded({ extended: false, limit: '2kb' }),
    requiresAuth(async (req, res) => {
      const body: unknown = req.body;
      const session = typeof body === 'object' && body !== null && 'session' in body && typeof body.session === 'string' ? body.session : '';
      const { ended } = session === '' ? { ended: 0 } : await auth.endSessions({ sub: req.oidc.user.sub, session }, { request: req });
      res.redirect(303, `/sessions?ended=${String(ended)}`);
    }),
  );
  app.post(
    '/sessions/end-all',
    requiresAuth(async (req, res) => {
      await auth.endSessions({ sub: req.oidc.user.sub }, { request: req });
      res.redirect(303, '/?signed-out=everywhere');
    }),
  );

  app.use((req, res) => {
    sendPage(res, 404, notFoundPage(req.path, req.oidc.user));
  });

  const errorHandler: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    let status = 500;
    let code = 'INTERNAL_ERROR';
    let message = 'Something unexpected happened on our side. Try again; if it keeps happening, check the server log.';
    let problems: readonly string[] = [];
    if (isOidcAuthError(err)) {
      ({ status, code, message, problems } = err);
    }
    if (status >= 500) log.error({ code, err: err instanceof Error ? err.message : typeof err }, 'request failed');
    else log.warn({ code, status }, 'request refused');
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(status).json({ error: code, error_description: message });
      return;
    }
    sendPage(res, status, errorPage({ status, code, message, problems, user: userOf(req) }));
  };
  app.use(errorHandler);

  return app;
}

/** req.oidc is absent when the error happened before oidcAuth attached it (a broken session store). */
function userOf(req: Request): OidcUser | undefined {
  try {
    return req.oidc.user;
  } catch {
    return undefined;
  }
}
