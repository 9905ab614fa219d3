import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Every cookie of the request whose name starts with `prefix`, as sent (no decoding: our values are base64url). */
export function cookiesWithPrefix(req: Request, prefix: string): { name: string; value: string }[] {
  const header = req.headers.cookie;
  if (header === undefined) return [];
  const found: { name: string; value: string }[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name.startsWith(prefix)) found.push({ name, value: part.slice(eq + 1).trim() });
  }
  return found;
}

/** The value of one cookie; when a name is sent twice (a planted copy), the first one. */
export function readCookie(req: Request, name: string): string | undefined {
  return cookiesWithPrefix(req, name).find((c) => c.name === name)?.value;
}

export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
