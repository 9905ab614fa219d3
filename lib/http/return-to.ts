/**
 * The one place that judges where the browser may be sent after login or logout.
 * Only a same-origin, origin-relative path is accepted from a request: anything that a
 * browser could read as another host (`//host`, `/\host`, `https:`, encoded or
 * whitespace-smuggled variants) falls back to the default.
 */
/**
 * Characters of a returnTo, as given and once normalised: what the login cookie carries is the
 * normalised, percent-encoded path, which can be three times the input (`"` becomes `%22`).
 * 2048 keeps the sealed login cookie well under the 4096 bytes a browser keeps per cookie
 * (RFC 6265 §6.1); a longer one would be dropped and the login fail as a state mismatch.
 */
const MAX_RETURN_TO_LENGTH = 2048;
const PROBE_ORIGIN = 'https://return-to.invalid';

function decodeRepeatedly(value: string): string {
  let current = value;
  // Stryker disable next-line EqualityOperator,UpdateOperator: a fourth round only refuses more, and the loop stops changing current once decoding is stable
  for (let i = 0; i < 3; i++) {
    try {
      const next = decodeURIComponent(current);
      // Stryker disable next-line ConditionalExpression: stopping once decoding is stable only saves work
      if (next === current) return current;
      current = next;
    } catch {
      return current;
    }
  }
  return current;
}

/** True when the path, percent-decoded, could be read as a reference to another host. */
function readsAsAnotherHost(path: string): boolean {
  const decoded = decodeRepeatedly(path);
  // eslint-disable-next-line no-control-regex -- as above, after percent-decoding
  return decoded.startsWith('//') || /^\/[\\\u0000-\u001f\u007f]/.test(decoded) || decoded.includes('\\');
}

/** A safe origin-relative path (normalised and percent-encoded), or undefined. */
export function safeReturnTo(value: unknown): string | undefined {
  // Bounded as given too: a huge value is refused before any work is spent on it.
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!value.startsWith('/')) return undefined;
  // Browsers strip tabs and newlines and read "\" as "/", so "/\t/evil" and "/\\evil" are "//evil".
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined;
  if (readsAsAnotherHost(value)) return undefined;
  // Past the tests above a value starts with a single "/" and holds no backslash or control
  // character: it always parses, on the probe origin. The parse and the origin check stay as
  // a second line of defence, which no test can reach.
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return undefined;
  }
  // Stryker disable next-line ConditionalExpression: unreachable, see above
  if (url.origin !== PROBE_ORIGIN) return undefined;
  const path = url.pathname + url.search + url.hash;
  // The normalised path is what travels in the login cookie: bounded again, after encoding.
  if (path.length > MAX_RETURN_TO_LENGTH) return undefined;
  // Judged again after normalising: dot segments can bring an encoded "//" to the front
  // ("/./%2F%2Fevil"), and a later layer that decodes the path must not find another host.
  return readsAsAnotherHost(path) ? undefined : path;
}

/** safeReturnTo, or the fallback. */
export function returnToOr(value: unknown, fallback: string): string {
  return safeReturnTo(value) ?? fallback;
}
