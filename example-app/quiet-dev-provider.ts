/**
 * oidc-provider prints advice meant for a production deployment: that it runs on an
 * in-memory adapter with its development login pages, on a Node it does not list, with
 * default lifetimes and policies. The example's development provider (and the tests'
 * provider, which imports this too) is all of that on purpose, and the lines, a dozen per
 * provider started, were the first thing a newcomer saw and buried the test output.
 * Exactly those lines are dropped; any other line of the provider's, or anyone's, still
 * prints. Imported for its effect before oidc-provider itself, whose runtime check prints
 * on import.
 */
const EXPECTED = [
  /^oidc-provider NOTICE: default (ttl\.\w+|features\.\w+\.\w+) function called, you SHOULD change it/,
  /^oidc-provider WARNING: a quick start development-only (in-memory adapter|feature devInteractions) is/,
  /^oidc-provider WARNING: Unsupported runtime\. Use Node\.js v\d+\.x LTS/,
  // the tests' refresh gate (test/helpers/gates.ts) reads a token request's body first, a path oidc-provider supports
  /^oidc-provider WARNING: already parsed request body detected/,
];

function quiet(print: (...args: unknown[]) => void): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const [first] = args;
    // the provider colours its lines on a terminal
    // eslint-disable-next-line no-control-regex -- the escape character is what colour codes start with
    const text = typeof first === 'string' ? first.replace(/\x1b\[[\d;]*m/g, '') : undefined;
    if (text !== undefined && args.length === 1 && EXPECTED.some((pattern) => pattern.test(text))) return;
    print(...args);
  };
}

console.info = quiet(console.info.bind(console));
console.warn = quiet(console.warn.bind(console));
