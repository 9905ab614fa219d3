import { checkPath, got, type Problems } from './checks.js';

export interface ResolvedAccess {
  authRequired: boolean;
  /** true for a path (relative to the mount, trailing slash removed) that authRequired leaves open */
  isPublic: (path: string) => boolean;
  attemptSilentLogin: boolean;
}

/** A string is that path and everything under it; a RegExp is tested against the path. */
function publicMatcher(value: unknown, problems: Problems): (path: string) => boolean {
  if (value === undefined) return () => false;
  if (!Array.isArray(value)) {
    problems.push(`"publicPaths" must be an array of paths and regular expressions (got ${got(value)})`);
    // Stryker disable next-line ArrowFunction,BooleanLiteral: with a problem oidcAuth() throws, and this matcher is never used
    return () => false;
  }
  // Stryker disable next-line ArrayDeclaration: a prefix that does not start with "/" never matches a path
  const prefixes: string[] = [];
  const patterns: RegExp[] = [];
  value.forEach((entry: unknown, i) => {
    if (entry instanceof RegExp) {
      // A global or sticky RegExp keeps lastIndex between test() calls: every other request would miss.
      if (entry.global || entry.sticky) problems.push(`"publicPaths[${String(i)}]" must not have the g or y flag (got ${String(entry)})`);
      else patterns.push(entry);
    } else {
      const path = checkPath(entry, `publicPaths[${String(i)}]`, '', problems);
      // Stryker disable next-line ConditionalExpression: '' is checkPath's answer to a bad entry, which makes oidcAuth() throw
      if (path !== '') prefixes.push(path === '/' ? '' : path);
    }
  });
  return (path) => prefixes.some((p) => path === p || path.startsWith(`${p}/`)) || patterns.some((r) => r.test(path));
}

function flag(value: unknown, name: string, problems: Problems): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') problems.push(`"${name}" must be a boolean (got ${got(value)})`);
  return value === true;
}

export function resolveAccess(input: Record<string, unknown>, problems: Problems): ResolvedAccess {
  const authRequired = flag(input['authRequired'], 'authRequired', problems);
  if (!authRequired && input['publicPaths'] !== undefined)
    problems.push('"publicPaths" only applies with "authRequired: true"; without it every route is public unless it uses requiresAuth()');
  return {
    authRequired,
    isPublic: publicMatcher(input['publicPaths'], problems),
    attemptSilentLogin: flag(input['attemptSilentLogin'], 'attemptSilentLogin', problems),
  };
}
