// The app of docs/examples/before/express-openid-connect.cjs, moved to express-oidc-auth
// (docs/migrating-from-express-openid-connect.md). test/migration-examples.test.ts runs it
// against a real provider: login, the protected route, logout.
import express from 'express';
import { claimIncludes, oidcAuth, requiresAuth } from 'express-oidc-auth';
import { required } from './env.js';

declare module 'express-oidc-auth' {
  interface OidcUser {
    groups?: string[];
  }
}

const app = express();
app.use(
  oidcAuth({
    // The same variables express-openid-connect read by itself, named in the options here.
    issuer: required('ISSUER_BASE_URL'),
    baseUrl: required('BASE_URL'),
    clientId: required('CLIENT_ID'),
    clientSecret: required('CLIENT_SECRET'),
    session: { secret: required('SECRET') }, // 32 characters or more
    // express-openid-connect's authRequired defaulted to true; here it defaults to false
    // (authRequired: true with publicPaths protects every route but those).
    // An http provider (one on your machine) is refused without this: never in production.
    allowInsecureRequests: process.env['ALLOW_INSECURE_REQUESTS'] === 'true',
  }),
);

app.get('/', (req, res) => {
  // Logout is a POST: a GET /logout answers 405.
  res.send(`<p>Logged in: ${String(req.oidc.isAuthenticated())}</p><form method="post" action="/logout"><button>Log out</button></form>`);
});

app.get('/profile', requiresAuth(), (req, res) => {
  res.json(req.oidc.user);
});

app.get('/admin', claimIncludes('groups', 'admin'), (_req, res) => {
  res.send('<p>Admins only.</p>');
});

app.listen(Number(process.env['PORT'] ?? 3000), process.env['HOST'] ?? '0.0.0.0');
