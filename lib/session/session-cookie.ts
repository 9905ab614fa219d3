import { createHmac, timingSafeEqual } from 'node:crypto';

const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** Where a cookie name or value starts once leading blanks are skipped (at most `max`). */
function startOf(header: string, index: number, max: number): number {
  let at = index;
  while (at < max && isBlank(header.charCodeAt(at))) at++;
  return at;
}

/** Where a cookie name or value ends once trailing blanks are dropped (at least `min`). */
function endOf(header: string, index: number, min: number): number {
  let at = index;
  while (at > min && isBlank(header.charCodeAt(at - 1))) at--;
  return at;
}

function decoded(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The value of cookie `name` in a Cookie header exactly as express-session reads it (the
 * `cookie` module's parse: pairs split at ";", blanks trimmed, one pair of quotes dropped,
 * %-decoded when that works, the first pair of a name wins), so that the id read here is
 * always the id express-session reads from the same header.
 */
export function cookieValue(header: string, name: string): string | undefined {
  const length = header.length;
  let index = 0;
  while (index < length) {
    const eq = header.indexOf('=', index);
    if (eq === -1) return undefined;
    let end = header.indexOf(';', index);
    if (end === -1) end = length;
    else if (eq > end) {
      // a pair without "=": go on from the ";" just before this "="
      index = header.lastIndexOf(';', eq - 1) + 1;
      continue;
    }
    const keyStart = startOf(header, index, eq);
    if (header.slice(keyStart, endOf(header, eq, keyStart)) === name) {
      let valueStart = startOf(header, eq + 1, end);
      let valueEnd = endOf(header, end, valueStart);
      if (header.charCodeAt(valueStart) === QUOTE && header.charCodeAt(valueEnd - 1) === QUOTE) {
        valueStart++;
        valueEnd--;
      }
      return decoded(header.slice(valueStart, valueEnd));
    }
    index = end + 1;
  }
  return undefined;
}

function signatureOf(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '');
}

/**
 * The session id of a signed express-session cookie value (`s:<id>.<signature>`, the
 * signature an HMAC-SHA256 of the id under one of `secrets`, base64 without padding, as
 * cookie-signature makes it), or undefined when it is not one: unsigned, or signed by no
 * secret. The comparison takes the same time wherever the signatures differ.
 */
export function unsignedSessionId(raw: string, secrets: readonly string[]): string | undefined {
  if (!raw.startsWith('s:')) return undefined;
  const signed = raw.slice(2);
  const dot = signed.lastIndexOf('.');
  // no signature, or no id: express-session would find no session id either
  if (dot < 1) return undefined;
  const id = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(signatureOf(id, secret));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return id;
  }
  return undefined;
}

/** The session id express-session would read from this Cookie header, when its cookie carries a valid signature. */
export function signedSessionIdOf(header: string, name: string, secrets: readonly string[]): string | undefined {
  const raw = cookieValue(header, name);
  return raw === undefined ? undefined : unsignedSessionId(raw, secrets);
}
