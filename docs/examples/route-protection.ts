import express from 'express';
import { claimCheck, claimEquals, claimIncludes, oidcAuth, requiresAuth } from 'express-oidc-auth';
import { required } from './env.js';

// The claims your provider sends beyond the standard ones, typed once for the whole app.
declare module 'express-oidc-auth' {
  interface OidcUser {
    groups?: string[];
    tenant?: string;
  }
}

const app = express();
app.use(
  oidcAuth({
    issuer: 'https://idp.example.com',
    clientId: 'my-app',
    clientSecret: required('CLIENT_SECRET'),
    baseUrl: 'https://app.example.com',
    session: { secret: required('SESSION_SECRET') },
  }),
);

// Behind requiresAuth(handler), req.oidc.user is always there: no `?.`, no cast.
app.get('/profile', requiresAuth((req, res) => {
  res.json({ email: req.oidc.user.email, groups: req.oidc.user.groups ?? [] });
}));

app.get('/orders/:id', requiresAuth((req, res) => {
  res.json({ order: req.params.id, owner: req.oidc.user.sub });
}));

// Claim checks: 403 OIDC_CLAIM_CHECK_FAILED for a user without the claim.
app.get('/admin', claimIncludes('groups', 'admin'), (_req, res) => {
  res.send('admin area');
});
app.get('/verified', claimEquals('email_verified', true), (_req, res) => {
  res.send('verified users only');
});
app.get('/acme', claimCheck((user) => user.tenant === 'acme'), (_req, res) => {
  res.send('acme only');
});

// Step-up: a second factor, and an authentication at most 5 minutes old, for payments. On
// the GET that shows the form: a step-up login comes back to a GET, and a POST's body would
// be lost on the way to the provider.
app.get('/payments/new', requiresAuth({ acr: 'mfa', maxAge: 300 }, (_req, res) => {
  res.send('<form method="post" action="/payments"><input name="amount"><button>Pay</button></form>');
}));
// The POST checks again, with room to fill the form in: a user past it steps up again and
// lands on the app's root, since a POST cannot be replayed.
app.post('/payments', requiresAuth({ acr: 'mfa', maxAge: 900 }, (req, res) => {
  res.json({ paidBy: req.oidc.user.sub });
}));

// A "sign up" button: a login of the app's own making.
app.get('/signup', (_req, res, next) => {
  res.oidc.login({ returnTo: '/welcome', authorizationParams: { screen_hint: 'signup' } }).catch(next);
});

app.listen(3000);
