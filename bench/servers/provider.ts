import { exportJWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { INTROSPECTION_CLIENT, SIGNING_KID, startTestProvider, type TestProvider } from '../../test/helpers/provider.js';
import { BROWSER_HEADER, type ProviderCounts, type ProviderReady } from '../harness/ipc.js';
import { runChild } from './child.js';

/**
 * The real oidc-provider of the test suite (9.13.3, dev login pages, revocation and
 * back-channel logout on), in its own process. It counts the requests it receives that do
 * not carry the benchmark browser's header: those are the apps' server-to-server calls.
 */
const counts: ProviderCounts = { byPath: {}, total: 0, browser: 0 };
let op: TestProvider | undefined;

void runChild((server) => ({
  async configure(payload) {
    if (op !== undefined) throw new Error('the provider is already configured');
    const { clients } = payload as { clients: ClientMetadata[] };
    op = await startTestProvider({ clients, server });
    const handler = op.handler;
    server.setHandler((req, res) => {
      if (req.headers[BROWSER_HEADER] !== undefined) {
        counts.browser++;
      } else {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        counts.byPath[path] = (counts.byPath[path] ?? 0) + 1;
        counts.total++;
      }
      handler(req, res);
    });
    const ready: ProviderReady = {
      issuer: op.issuer,
      privateJwk: { ...(await exportJWK(op.signingKey)) },
      signingKid: SIGNING_KID,
      introspection: { clientId: INTROSPECTION_CLIENT.client_id, clientSecret: INTROSPECTION_CLIENT.client_secret },
    };
    return ready;
  },
  counts() {
    return Promise.resolve({ ...counts, byPath: { ...counts.byPath } });
  },
}));
