/**
 * Messages between the orchestrator (bench/run.ts) and its child processes (the servers
 * and the provider), over the IPC channel that fork() opens.
 */

/** orchestrator → child: run a named command; the child answers with a reply of the same id */
export interface CommandMessage {
  id: number;
  command: string;
  payload?: unknown;
}

/** child → orchestrator */
export type ChildMessage =
  { kind: 'listening'; port: number } | { kind: 'reply'; id: number; ok: true; data: unknown } | { kind: 'reply'; id: number; ok: false; error: string };

/** what every child reports on `stats`: its own CPU time and how many requests it has received */
export interface ServerStats {
  /** user + system CPU time of the whole process since it started, in microseconds */
  cpuMicros: number;
  requests: number;
  rssBytes: number;
}

/** `configure` payload of an app server (bench/servers/*.ts except provider.ts) */
export interface AppSettings {
  issuer: string;
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  sessionSecret: string;
  /** where sessions live: express-session's MemoryStore, connect-redis or connect-pg-simple */
  store: 'memory' | 'redis' | 'postgres';
  /** postgres://postgres@127.0.0.1:PORT/DATABASE, for store 'postgres': a database of this server's own */
  postgresUrl?: string;
  /** redis://127.0.0.1:PORT/DB, for store 'redis' */
  redisUrl?: string;
  /** scope asked at login (express-oidc-auth servers); default the library's */
  scope?: string;
  /** extra authorization parameters (express-oidc-auth servers) */
  prompt?: string;
  /** the library compiled by tsc (express-oidc-auth servers): its index.js */
  libraryEntry?: string;
}

/** `configure` answer of the provider child */
export interface ProviderReady {
  issuer: string;
  /** the provider's private signing key and its kid, to sign logout tokens as the provider would */
  privateJwk: Record<string, unknown>;
  signingKid: string;
  /** a confidential client that may ask the provider about tokens (RFC 7662) */
  introspection: { clientId: string; clientSecret: string };
}

/** `counts` answer of the provider child: requests that did not come from the benchmark's browser */
export interface ProviderCounts {
  /** server-to-server requests (from the apps), by path */
  byPath: Record<string, number>;
  total: number;
  /** requests from the benchmark's headless browser */
  browser: number;
}

/** header the benchmark's headless browser puts on every request, so the provider can tell apps from browsers */
export const BROWSER_HEADER = 'x-bench-browser';

export function isCommandMessage(value: unknown): value is CommandMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'number' &&
    typeof (value as { command?: unknown }).command === 'string'
  );
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'listening' || kind === 'reply';
}
