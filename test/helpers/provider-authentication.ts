import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { interactionPolicy } from 'oidc-provider';

/** How the test provider's login page says the user authenticated, given the acr_values the app asked for. */
export type ChooseAuthentication = (requestedAcr: readonly string[]) => { acr?: string; ageSec?: number };

/**
 * oidc-provider's login prompt, plus what a provider with step-up does: a session whose acr
 * is not among the acr_values asked for gets the login page again (oidc-provider itself only
 * does that for an essential acr in the claims parameter).
 */
export function stepUpPolicy(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (login === undefined) throw new Error('oidc-provider has no login prompt');
  login.checks.add(
    new interactionPolicy.Check('acr_values_unmet', 'the requested acr is not met by the session', (ctx) => {
      const requested = ctx.oidc.params?.['acr_values'];
      // Just logged in: the provider answers with the acr it got, met or not (acr_values are voluntary).
      if (typeof requested !== 'string' || requested === '' || ctx.oidc.result?.['login'] !== undefined) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const acr = ctx.oidc.session?.acr;
      return acr !== undefined && requested.split(' ').includes(acr) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The provider's handler, with its dev login form finished the way `choose` says: the acr and
 * how long ago the user authenticated (auth_time) go into the login result, which the dev
 * form alone cannot set. Everything else is the provider's own handling.
 */
export function authenticatingHandler(provider: Provider, choose: ChooseAuthentication, inner: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST' || !/^\/interaction\/[\w-]+$/.test(req.url ?? '')) {
      inner(req, res);
      return;
    }
    void (async () => {
      // interactionDetails reads the interaction cookie only: the body is still unread for the provider.
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') {
        inner(req, res);
        return;
      }
      const form = await formOf(req);
      const requested = details.params['acr_values'];
      const chosen = choose(typeof requested === 'string' && requested !== '' ? requested.split(' ') : []);
      const login = {
        accountId: form.get('login') ?? 'alice',
        ...(chosen.acr === undefined ? {} : { acr: chosen.acr }),
        ts: Math.floor(Date.now() / 1000) - (chosen.ageSec ?? 0),
      };
      await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  };
}
