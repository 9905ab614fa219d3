/**
 * The pieces every option check is made of: each check appends a sentence to `problems`
 * (naming the option, what was wrong, and the fix) instead of throwing, so that one
 * OIDC_CONFIG_INVALID lists every mistake at once. A bad value is described, never echoed
 * whole: no huge object, no function source, no credentials from a URL.
 */
export type Problems = string[];

/** A description of a bad value that never prints a huge object or a function's source. */
export function got(value: unknown): string {
  if (typeof value === 'string') return value.length > 80 ? `a string of ${String(value.length)} characters` : JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    const shown = value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)) ? JSON.stringify(value) : '';
    return shown !== '' && shown.length <= 80 ? shown : 'an array';
  }
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/** A URL as given, with any user:password@ part masked: credentials must not reach a log. */
export function gotUrl(value: string): string {
  return got(value.replace(/^([^:/?#]+:\/\/)?[^/?#@]*@/, '$1***@'));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

export function checkUnknownKeys(obj: Record<string, unknown>, known: readonly string[], prefix: string, problems: Problems): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    let near: string | undefined;
    let best = 3;
    for (const k of known) {
      const distance = editDistance(k, key);
      if (distance < best) [near, best] = [k, distance];
    }
    problems.push(`"${prefix}${key}" is not an option${near === undefined ? '' : `: did you mean "${prefix}${near}"?`}`);
  }
}

export function parseUrl(value: unknown, name: string, allowHttp: boolean, problems: Problems): URL | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`"${name}" must be an absolute URL string (got ${typeof value === 'string' ? 'an empty string' : got(value)})`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`"${name}" must be an absolute URL like "https://example.com" (got ${gotUrl(value)})`);
    return undefined;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (allowHttp || (name === 'baseUrl' && loopback)))) {
    problems.push(
      url.protocol === 'http:'
        ? `"${name}" must use https (got ${gotUrl(value)}); set "allowInsecureRequests: true" for local development only`
        : `"${name}" must be an http(s) URL (got ${gotUrl(value)})`,
    );
    return undefined;
  }
  // an empty "?" or "#" leaves search and hash empty but stays in href, where it would break redirect_uri
  if (/[?#]/.test(url.href) || url.username !== '' || url.password !== '') {
    problems.push(`"${name}" must not contain a query, a fragment or credentials (got ${gotUrl(value)})`);
    return undefined;
  }
  return url;
}

export function checkPath(value: unknown, name: string, fallback: string, problems: Problems, orFalse = false): string {
  if (value === undefined) return fallback;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || /[?#\\\s\u0000-\u001f]/.test(value)) {
    const what = 'a path that starts with "/" (not "//") and has no query, fragment, backslash or whitespace';
    problems.push(`"${name}" must be ${what}${orFalse ? ', or false to disable it' : ''} (got ${got(value)})`);
    return fallback;
  }
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

/** Only that it is a function can be checked at run time; its signature is the option's declared type. */
export function isFunctionOption(value: unknown, name: string, problems: Problems): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'function') {
    problems.push(`"${name}" must be a function (got ${got(value)})`);
    return false;
  }
  return true;
}

export function checkMillis(value: unknown, name: string, fallback: number, problems: Problems): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 120_000) {
    problems.push(`"${name}" must be a whole number of milliseconds between 1 and 120000 (got ${got(value)})`);
    return fallback;
  }
  return value;
}
