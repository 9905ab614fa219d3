import type { NextFunction, Request, Response } from 'express';
import { OidcAuthError, OidcAuthErrorCode } from '../errors.js';

/** A route's handler: errors it does not answer itself go to next(). */
export type AsyncHandler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

const FORM_LIMIT_BYTES = 64 * 1024;

export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

/** Location must already be a validated URL or origin-relative path. */
export function redirect(res: Response, status: 302 | 303, location: string): void {
  res.statusCode = status;
  res.setHeader('Location', location);
  res.end();
}

export function sendJson(res: Response, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

/** The query string parsed the same way under Express 4 and 5, whatever the app's query parser. */
export function queryOf(req: Request): URLSearchParams {
  const q = req.originalUrl.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : req.originalUrl.slice(q + 1));
}

/** A parameter that must appear at most once; a repeated one is treated as absent. */
export function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  return all.length === 1 ? all[0] : undefined;
}

/** True when the client asked for JSON rather than a page. */
export function wantsJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function badForm(message: string, status = 400): OidcAuthError {
  return new OidcAuthError(OidcAuthErrorCode.CALLBACK_INVALID, status, message);
}

/**
 * The urlencoded body of a POST. Uses what an app-level body parser already read, else
 * reads the stream itself (bounded), so the package needs no body parser of its own.
 */
export async function readForm(req: Request): Promise<URLSearchParams> {
  const parsed: unknown = req.body;
  if (parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed) && req.readableEnded) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') params.append(key, value);
    return params;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw badForm('Expected an application/x-www-form-urlencoded body.', 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > FORM_LIMIT_BYTES) throw badForm('The request body is too large.', 413);
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
