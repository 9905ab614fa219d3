import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

// The README's provider recipes ("Providers"), each a call compiled against the package's
// types. `common` is what every recipe shares, as in the quick start.
const common = {
  clientId: 'my-app',
  clientSecret: required('CLIENT_SECRET'),
  baseUrl: 'https://app.example.com',
  session: { secret: required('SESSION_SECRET') },
};

oidcAuth({
  ...common,
  issuer: 'https://sso.example.com/realms/myrealm', // older distributions: .../auth/realms/myrealm
});

oidcAuth({
  ...common,
  issuer: 'https://YOUR_TENANT.auth0.com/', // Auth0's issuer ends with a slash
  scope: 'openid profile email offline_access', // refresh token; the API needs "Allow Offline Access"
  authorizationParams: { audience: 'https://api.example.com' }, // a JWT access token for your API
  clientAuthMethod: 'client_secret_post', // only if the application uses Client Secret (Post)
  logout: { revokeTokens: { refreshToken: true, accessToken: false } }, // Auth0 revokes refresh tokens only
});

oidcAuth({
  ...common,
  issuer: 'https://YOUR_OKTA_DOMAIN/oauth2/default', // a custom authorization server; the org one is https://YOUR_OKTA_DOMAIN
  scope: 'openid profile email offline_access',
  routes: { frontchannelLogout: '/frontchannel-logout' }, // only with Single Logout
});

oidcAuth({
  ...common,
  issuer: 'https://login.microsoftonline.com/YOUR_TENANT_ID/v2.0',
  scope: 'openid profile email offline_access',
  clientAuthMethod: 'client_secret_post', // the methods Entra's discovery lists: client_secret_post, private_key_jwt
});

oidcAuth({
  ...common,
  issuer: 'https://accounts.google.com',
  authorizationParams: { access_type: 'offline', prompt: 'consent' }, // a refresh token at every login
});
