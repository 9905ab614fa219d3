import express from 'express';
import { oidcAuth, requiresAuth } from 'express-oidc-auth';
import { audit } from './audit.js'; // your own services
import { required } from './env.js'; // throws at start when a variable is missing

const app = express();
app.use(
  oidcAuth({
    issuer: 'https://idp.example.com',
    clientId: 'my-app',
    clientSecret: required('CLIENT_SECRET'),
    baseUrl: 'https://app.example.com',
    session: { secret: required('SESSION_SECRET') },
    hooks: {
      postLogout: async ({ user, log, context }) => {
        log.info({ sub: user?.sub }, 'user logged out');
        await context.audit.record('logout', user?.sub);
      },
    },
    context: () => ({ audit }), // your services, typed, handed to every hook
  }),
);

app.get('/profile', requiresAuth(), (req, res) => {
  res.json(req.oidc.user); // typed: no cast needed
});

app.listen(3000);
