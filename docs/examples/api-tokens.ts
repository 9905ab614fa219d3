import express from 'express';
import { oidcAuth, requiresAuth } from 'express-oidc-auth';
import { required } from './env.js';

const app = express();
app.use(
  oidcAuth({
    issuer: 'https://idp.example.com',
    clientId: 'my-app',
    clientSecret: required('CLIENT_SECRET'),
    baseUrl: 'https://app.example.com',
    scope: 'openid profile email offline_access',
    session: { secret: required('SESSION_SECRET') },
  }),
);

app.get('/orders', requiresAuth(), async (req, res, next) => {
  try {
    const token = await req.oidc.getAccessToken(); // refreshed first if it expires within 60 s
    const orders = await fetch('https://api.example.com/orders', { headers: { authorization: `Bearer ${token}` } });
    res.json(await orders.json());
  } catch (err) {
    next(err); // OIDC_REFRESH_FAILED (401): the provider refused the refresh, the session is over
  }
});

app.listen(3000);
