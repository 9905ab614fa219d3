// The apps of docs/examples/before/passport-openidconnect.cjs and
// docs/examples/before/openid-client-passport.cjs, moved to express-oidc-auth
// (docs/migrating-from-passport-openidconnect.md). test/migration-examples.test.ts runs it
// against a real provider: login, the protected route, logout.
import express from 'express';
import { oidcAuth, requiresAuth } from 'express-oidc-auth';
import { required } from './env.js';

const app = express();
app.use(
  oidcAuth({
    issuer: required('OIDC_ISSUER'), // the endpoints come from its discovery document
    clientId: required('OIDC_CLIENT_ID'),
    clientSecret: required('OIDC_CLIENT_SECRET'),
    baseUrl: required('BASE_URL'),
    // The redirect URI registered for the strategy's callbackURL keeps working.
    routes: { callback: '/oauth2/redirect' },
    // oidcAuth mounts express-session itself: remove app.use(session(…)) and passport's
    // middleware. (With session: false it uses the app's own, mounted before it.)
    session: { secret: required('SESSION_SECRET') }, // 32 characters or more
    hooks: {
      // The strategy's verify callback: return the claims to keep, or throw to refuse the login.
      postLogin: ({ user }) => ({ sub: user.sub, ...(user.name === undefined ? {} : { name: user.name }) }),
    },
    // An http provider (one on your machine) is refused without this: never in production.
    allowInsecureRequests: process.env['ALLOW_INSECURE_REQUESTS'] === 'true',
  }),
);

app.get('/', (req, res) => {
  res.send(`<p>Logged in: ${String(req.oidc.isAuthenticated())}</p><form method="post" action="/logout"><button>Log out</button></form>`);
});

// ensureLoggedIn('/login') becomes requiresAuth(); req.user becomes req.oidc.user.
app.get('/profile', requiresAuth((req, res) => {
  res.json(req.oidc.user);
}));

app.listen(Number(process.env['PORT'] ?? 3000), process.env['HOST'] ?? '0.0.0.0');
