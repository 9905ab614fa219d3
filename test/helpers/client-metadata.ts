import type { ClientMetadata } from 'oidc-provider';

/** How a confidential web client of the package registers at oidc-provider (tests and bench alike). */
export function webClient(appUrl: string, clientId: string, clientSecret: string, extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [`${appUrl}/callback`],
    post_logout_redirect_uris: [`${appUrl}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_logout_uri: `${appUrl}/backchannel-logout`,
    backchannel_logout_session_required: true,
    ...extra,
  };
}
