// Before: an app on express-openid-connect, which reads ISSUER_BASE_URL, BASE_URL,
// CLIENT_ID, CLIENT_SECRET and SECRET from the environment by itself.
// After: docs/examples/after-express-openid-connect.ts.
const express = require('express');
const { auth, requiresAuth, claimIncludes } = require('express-openid-connect');

const app = express();
app.use(
  auth({
    authRequired: false, // the default is true
    idpLogout: true, // the default is false
    authorizationParams: { response_type: 'code', scope: 'openid profile email' },
  }),
);

app.get('/', (req, res) => {
  res.send(`<p>Logged in: ${req.oidc.isAuthenticated()}</p><a href="/logout">Log out</a>`);
});

app.get('/profile', requiresAuth(), (req, res) => {
  res.json(req.oidc.user);
});

app.get('/admin', claimIncludes('groups', 'admin'), (req, res) => {
  res.send('<p>Admins only.</p>');
});

app.listen(process.env.PORT || 3000);
