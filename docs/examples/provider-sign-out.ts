import { oidcAuth } from 'express-oidc-auth';
import { required } from './env.js';

// The README's "Signing out at the provider too": a postLogout hook that, on a "sign out
// everywhere" (endSessions(), trigger 'admin'), also ends the user's sessions at the
// provider through its admin API. Written from Keycloak's and Okta's documentation;
// untested here (the test machine reaches no hosted provider).
const common = {
  clientId: 'my-app',
  clientSecret: required('CLIENT_SECRET'),
  baseUrl: 'https://app.example.com',
  session: { secret: required('SESSION_SECRET') },
};

// Keycloak: a second, confidential client ("my-app-admin") with Service accounts on and the
// realm-management role manage-users; it gets an admin token by the client credentials grant.
const KEYCLOAK = 'https://sso.example.com'; // older distributions: https://sso.example.com/auth
const REALM = 'myrealm';

async function keycloakAdminToken(): Promise<string> {
  const res = await fetch(`${KEYCLOAK}/realms/${REALM}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'my-app-admin', client_secret: required('KEYCLOAK_ADMIN_SECRET') }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`Keycloak's token endpoint answered ${String(res.status)}`);
  const { access_token: token } = (await res.json()) as { access_token: string };
  return token;
}

oidcAuth({
  ...common,
  issuer: `${KEYCLOAK}/realms/${REALM}`,
  hooks: {
    postLogout: async ({ trigger, user, log }) => {
      if (trigger !== 'admin' || user === undefined) return;
      // Keycloak's sub is its user id. This removes every session of the user in the realm (all apps).
      const res = await fetch(`${KEYCLOAK}/admin/realms/${REALM}/users/${encodeURIComponent(user.sub)}/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await keycloakAdminToken()}` },
        signal: AbortSignal.timeout(5000),
      });
      log.info({ sub: user.sub, status: res.status }, 'asked Keycloak to end the user\'s sessions');
    },
  },
});

// Okta: an API token (Security → API → Tokens) of an administrator allowed to manage users,
// or an OAuth service app's access token with okta.users.manage (then `Bearer` instead of `SSWS`).
const OKTA = 'https://YOUR_OKTA_DOMAIN';

oidcAuth({
  ...common,
  issuer: `${OKTA}/oauth2/default`,
  hooks: {
    postLogout: async ({ trigger, user, log }) => {
      if (trigger !== 'admin' || user === undefined) return;
      // The ID token's sub is the Okta user id. oauthTokens=true also revokes the tokens Okta issued to the user.
      const res = await fetch(`${OKTA}/api/v1/users/${encodeURIComponent(user.sub)}/sessions?oauthTokens=true`, {
        method: 'DELETE',
        headers: { authorization: `SSWS ${required('OKTA_API_TOKEN')}`, accept: 'application/json' },
        signal: AbortSignal.timeout(5000),
      });
      log.info({ sub: user.sub, status: res.status }, 'asked Okta to end the user\'s sessions');
    },
  },
});
