// Before: the same app on openid-client v6's own Passport strategy (openid-client/passport).
// After: docs/examples/after-passport-openidconnect.ts.
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const client = require('openid-client');
const { Strategy } = require('openid-client/passport');

async function main() {
  const config = await client.discovery(new URL(process.env.OIDC_ISSUER), process.env.OIDC_CLIENT_ID, process.env.OIDC_CLIENT_SECRET);
  passport.use(
    'oidc',
    new Strategy({ config, scope: 'openid profile email', callbackURL: `${process.env.BASE_URL}/oauth2/redirect` }, (tokens, verified) => {
      verified(null, tokens.claims());
    }),
  );
  passport.serializeUser((user, cb) => cb(null, user));
  passport.deserializeUser((user, cb) => cb(null, user));

  const app = express();
  app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false }));
  app.use(passport.authenticate('session'));

  app.get('/login', passport.authenticate('oidc'));
  app.get('/oauth2/redirect', passport.authenticate('oidc', { successReturnToOrRedirect: '/', failureRedirect: '/login' }));
  app.post('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      // RP-initiated logout by hand, where an app did it at all.
      res.redirect(client.buildEndSessionUrl(config, { post_logout_redirect_uri: `${process.env.BASE_URL}/` }).href);
    });
  });

  app.get('/', (req, res) => {
    res.send(`<p>Logged in: ${req.isAuthenticated()}</p><form method="post" action="/logout"><button>Log out</button></form>`);
  });
  app.get('/profile', (req, res) => {
    if (!req.isAuthenticated()) return res.redirect('/login');
    res.json(req.user);
  });

  app.listen(process.env.PORT || 3000);
}
main();
