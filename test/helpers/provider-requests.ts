import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestProvider } from './provider.js';

/** One request as the provider received it; `body` is filled for POSTs as it streams in. */
export interface ProviderRequest {
  method: string;
  url: URL;
  body: string;
}

/** Records every request the provider receives from now on (its own view of the protocol), passing each on unchanged. */
export function recordProviderRequests(op: TestProvider): ProviderRequest[] {
  const seen: ProviderRequest[] = [];
  op.server.setHandler((req: IncomingMessage, res: ServerResponse) => {
    const entry: ProviderRequest = { method: req.method ?? '', url: new URL(req.url ?? '/', op.issuer), body: '' };
    seen.push(entry);
    // A second listener: the provider reads the same chunks.
    if (req.method === 'POST') {
      req.on('data', (chunk: Buffer) => {
        entry.body += chunk.toString('utf8');
      });
    }
    op.handler(req, res);
  });
  return seen;
}
