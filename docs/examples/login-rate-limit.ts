import express from 'express';
import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

const app = express();
app.set('trust proxy', 1); // behind one proxy: req.ip is the client's address, not the proxy's

// Mounted before oidcAuth, which answers /login itself.
const LOGINS_PER_MINUTE = 10;
let started = new Map<string, number>(); // addresses seen this minute, forgotten every minute
setInterval(() => {
  started = new Map();
}, 60_000).unref();
app.use('/login', (req, res, next) => {
  const address = req.ip ?? 'unknown';
  const count = (started.get(address) ?? 0) + 1;
  started.set(address, count);
  if (count > LOGINS_PER_MINUTE) {
    res.status(429).set('Retry-After', '60').send('Too many sign-ins from this address; try again in a minute.');
    return;
  }
  next();
});

app.use(
  oidcAuth({
    issuer: 'https://idp.example.com',
    clientId: 'my-app',
    clientSecret: required('CLIENT_SECRET'),
    baseUrl: 'https://app.example.com',
    session: { secret: required('SESSION_SECRET') },
    pushedAuthorizationRequests: true,
  }),
);
