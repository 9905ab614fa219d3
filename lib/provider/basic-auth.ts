import * as client from 'openid-client';
import { fieldOf } from '../values.js';

/**
 * client_secret_basic as providers really read it. RFC 6749 §2.3.1 says the id and secret
 * are form-urlencoded inside the Basic header; some providers decode them (oidc-provider),
 * many do not. Most credentials read the same either way once only what must be encoded is
 * encoded (encodeURIComponent leaves - _ . ! ~ * ' ( ) alone). A secret with "+" or "%" (or
 * "/", "=" in base64 secrets) cannot: encoded, a non-decoding provider sees %2B; raw, a
 * decoding one reads "+" as a space. So both forms are kept, the encoded one tried first,
 * and a token endpoint that refuses the client's authentication is asked once more with the
 * other form; the form that worked is used from then on. The same credential either way, so
 * nothing more is disclosed; the request is sent twice only until one form is known to work.
 */
export interface BasicCredentials {
  auth: client.ClientAuth;
  /** wraps fetch for the provider's endpoints: retries a refused Basic authentication in the other form */
  fetch: client.CustomFetch;
}

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`, 'utf8').toString('base64')}`;

/** invalid_client (RFC 6749 §5.2), in a 400 or a 401 answer */
async function refusesClient(res: Response): Promise<boolean> {
  if (res.status !== 401 && res.status !== 400) return false;
  if (res.status === 401) return true;
  try {
    const body: unknown = await res.clone().json();
    return fieldOf(body, 'error') === 'invalid_client';
  } catch {
    return false;
  }
}

export function basicCredentials(clientId: string, secret: string, fetch: client.CustomFetch): BasicCredentials {
  const encoded = basic(encodeURIComponent(clientId), encodeURIComponent(secret));
  // Raw, the id must still not hold the separator: a colon in an id is only ever sent encoded.
  const raw = clientId.includes(':') ? encoded : basic(clientId, secret);
  let preferred = encoded;
  return {
    auth: (_as, _metadata, _body, headers) => {
      headers.set('authorization', preferred);
    },
    fetch: async (url, options) => {
      const send = (headers: Record<string, string>): Promise<Response> => fetch(url, { ...options, headers });
      const sent = options.headers['authorization'];
      // A stream body cannot be sent twice; the token and revocation endpoints get a form.
      const once = options.body instanceof ReadableStream;
      if (raw === encoded || once || (sent !== encoded && sent !== raw)) return send(options.headers);
      const first = await send(options.headers);
      if (!(await refusesClient(first))) return first;
      const other = sent === encoded ? raw : encoded;
      const second = await send({ ...options.headers, authorization: other });
      if (!(await refusesClient(second))) preferred = other;
      return second;
    },
  };
}
