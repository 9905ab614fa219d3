// Before: an app on passport-openidconnect (Jared Hanson's strategy), with express-session
// and connect-ensure-login. After: docs/examples/after-passport-openidconnect.ts.
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const OpenIDConnectStrategy = require('passport-openidconnect');
const { ensureLoggedIn } = require('connect-ensure-login');

passport.use(
  new OpenIDConnectStrategy(
    {
      issuer: process.env.OIDC_ISSUER,
      authorizationURL: `${process.env.OIDC_ISSUER}/authorize`,
      tokenURL: `${process.env.OIDC_ISSUER}/oauth/token`,
      userInfoURL: `${process.env.OIDC_ISSUER}/userinfo`,
      clientID: process.env.OIDC_CLIENT_ID,
      clientSecret: process.env.OIDC_CLIENT_SECRET,
      callbackURL: `${process.env.BASE_URL}/oauth2/redirect`,
      scope: ['profile', 'email'],
    },
    (issuer, profile, cb) => cb(null, { id: profile.id, name: profile.displayName }),
  ),
);
passport.serializeUser((user, cb) => cb(null, user));
passport.deserializeUser((user, cb) => cb(null, user));

const app = express();
app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false }));
app.use(passport.authenticate('session'));

app.get('/login', passport.authenticate('openidconnect'));
app.get('/oauth2/redirect', passport.authenticate('openidconnect', { successReturnToOrRedirect: '/', failureRedirect: '/login' }));
app.post('/logout', (req, res, next) => {
  req.logout((err) => {
    if (err) return next(err);
    res.redirect('/');
  });
});

app.get('/', (req, res) => {
  res.send(`<p>Logged in: ${req.isAuthenticated()}</p><form method="post" action="/logout"><button>Log out</button></form>`);
});
app.get('/profile', ensureLoggedIn('/login'), (req, res) => {
  res.json(req.user);
});

app.listen(process.env.PORT || 3000);
