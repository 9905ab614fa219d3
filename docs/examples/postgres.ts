import express from 'express';
import { required } from './env.js';

const logger = console;
const app = express();
const providerOptions = {
  issuer: 'https://idp.example.com',
  clientId: 'my-app',
  clientSecret: required('CLIENT_SECRET'),
  baseUrl: 'https://app.example.com',
};

// the README's excerpt starts here
import session from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import pg from 'pg';
import { oidcAuth, postgresSessionIndex } from 'express-oidc-auth';

const pool = new pg.Pool({ connectionString: required('DATABASE_URL'), connectionTimeoutMillis: 3000 });
pool.on('error', (err: Error) => {
  logger.warn({ err }, 'postgres'); // an idle connection the server cut; without a listener, it crashes the process
});
const PGStore = connectPgSimple(session);

app.use(
  oidcAuth({
    ...providerOptions,
    session: { secret: required('SESSION_SECRET'), store: new PGStore({ pool, createTableIfMissing: true }) },
    sessionIndex: postgresSessionIndex(pool),
  }),
);
// and ends here

app.listen(3000);
