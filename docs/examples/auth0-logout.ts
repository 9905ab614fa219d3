import express from 'express';
import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

const app = express();
app.use(
  oidcAuth({
    issuer: 'https://YOUR_TENANT.auth0.com/',
    clientId: 'my-app',
    clientSecret: required('CLIENT_SECRET'),
    baseUrl: 'https://app.example.com',
    session: { secret: required('SESSION_SECRET') },
// the README's excerpt starts here
hooks: {
  postLogout: () => ({
    redirectTo: `https://YOUR_TENANT.auth0.com/v2/logout?${new URLSearchParams({
      client_id: 'my-app',
      returnTo: 'https://app.example.com/',
    })}`,
  }),
},
// and ends here
  }),
);

app.listen(3000);
