import { importPKCS8 } from 'jose';
import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

export const fapi = oidcAuth({
  issuer: 'https://bank-idp.example.com',
  clientId: 'my-app',
  clientAuthMethod: 'private_key_jwt',
  clientPrivateKey: { key: await importPKCS8(required('CLIENT_KEY_PEM'), 'ES256'), kid: 'my-app-2026' },
  idTokenSigningAlg: 'ES256',
  baseUrl: 'https://app.example.com',
  session: { secret: required('SESSION_SECRET') },
  profile: 'fapi2',
});
