import express from 'express';
import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

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

app.get('/', (req, res) => {
  // Back from the provider after a logout: drop the spent ?state= from the address bar.
  if (req.oidc.logoutCompleted) {
    res.redirect(303, '/');
    return;
  }
  res.send(req.oidc.isAuthenticated() ? 'Welcome back' : 'Signed out');
});

app.listen(3000);
