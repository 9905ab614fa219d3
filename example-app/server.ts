/**
 * `npm run example`: the example app, configured from the environment.
 *
 * With no OIDC_ISSUER it starts an embedded DEVELOPMENT provider (any username and
 * password). With OIDC_ISSUER it uses that provider instead:
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (omit for a public client),
 *   BASE_URL (the app's external origin; register BASE_URL/callback as redirect URI,
 *   BASE_URL/ as post-logout redirect URI, BASE_URL/backchannel-logout for back-channel logout),
 *   SESSION_SECRET (required then: at least 32 random characters).
 * Either way: PORT (default 3000), PROVIDER_PORT (default 3001, embedded provider only),
 * REDIS_URL (keep sessions in Redis) or DATABASE_URL (in PostgreSQL), LOG_LEVEL (debug, info, warn, error; default info).
 *
 * The library itself never reads process.env: this file is the only place that does.
 */
import { consoleLogger, isLogLevel } from './logger.js';
import { startExample, type StartExampleOptions } from './start.js';

function nonEmpty(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function portFrom(name: string, fallback: number, problems: string[]): number {
  const value = nonEmpty(name);
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${name} must be a port number from 0 to 65535 (got "${value}")`);
    return fallback;
  }
  return port;
}

function readConfig(): { options: StartExampleOptions; problems: string[] } {
  const problems: string[] = [];
  const level = nonEmpty('LOG_LEVEL') ?? 'info';
  if (!isLogLevel(level)) problems.push(`LOG_LEVEL must be debug, info, warn or error (got "${level}")`);
  const options: StartExampleOptions = {
    port: portFrom('PORT', 3000, problems),
    providerPort: portFrom('PROVIDER_PORT', 3001, problems),
    redisUrl: nonEmpty('REDIS_URL'),
    databaseUrl: nonEmpty('DATABASE_URL'),
    baseUrl: nonEmpty('BASE_URL'),
    sessionSecret: nonEmpty('SESSION_SECRET'),
    logger: consoleLogger(isLogLevel(level) ? level : 'info'),
  };
  if (options.redisUrl !== undefined && options.databaseUrl !== undefined)
    problems.push('REDIS_URL and DATABASE_URL are both set: keep sessions in one of them');
  const issuer = nonEmpty('OIDC_ISSUER');
  if (issuer !== undefined) {
    const clientId = nonEmpty('OIDC_CLIENT_ID');
    if (clientId === undefined) problems.push('OIDC_CLIENT_ID is required with OIDC_ISSUER');
    if (options.sessionSecret === undefined) problems.push('SESSION_SECRET is required with OIDC_ISSUER (at least 32 random characters)');
    options.provider = { issuer, clientId: clientId ?? '', clientSecret: nonEmpty('OIDC_CLIENT_SECRET') };
  }
  return { options, problems };
}

async function main(): Promise<void> {
  const { options, problems } = readConfig();
  if (problems.length > 0) {
    console.error(`Cannot start the example:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exitCode = 1;
    return;
  }

  const running = await startExample(options);
  const lines = [
    '',
    `  Example app:  ${running.url}   <- open this`,
    running.devProvider === undefined
      ? `  Provider:     ${running.issuer}`
      : `  Provider:     ${running.issuer}   (embedded DEVELOPMENT provider: any username and password)`,
    '',
    '  Ctrl+C stops it.',
    '',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('error while stopping:', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  // An OidcAuthError (bad options) lists every problem in its message and never holds a secret.
  console.error(`Cannot start the example: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
