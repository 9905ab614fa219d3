import express from 'express';
import { oidcAuth, requiresAuth } from 'express-oidc-auth';
import { required } from './env.js';

const app = express();
const auth = oidcAuth({
  issuer: 'https://idp.example.com',
  clientId: 'my-app',
  clientSecret: required('CLIENT_SECRET'),
  baseUrl: 'https://app.example.com',
  session: { secret: required('SESSION_SECRET') },
});
app.use(auth);

// "Your devices": the user's sessions on every instance, and a way to end one.
app.get('/account/sessions', requiresAuth(async (req, res) => {
  res.json(await auth.listSessions({ sub: req.oidc.user.sub }, { request: req }));
}));
app.post('/account/sessions/end', requiresAuth(async (req, res) => {
  const session = typeof req.query['session'] === 'string' ? req.query['session'] : '';
  res.json(await auth.endSessions({ sub: req.oidc.user.sub, session }, { request: req }));
}));
// "Sign out everywhere".
app.post('/account/sign-out-everywhere', requiresAuth(async (req, res) => {
  res.json(await auth.endSessions({ sub: req.oidc.user.sub }, { request: req }));
}));

app.listen(3000);
