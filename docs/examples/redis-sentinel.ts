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
import { RedisStore } from 'connect-redis';
import { createSentinel } from 'redis';
import { oidcAuth, redisSessionIndex } from 'express-oidc-auth';

const redis = createSentinel({
  name: 'mymaster',
  sentinelRootNodes: [
    { host: 'sentinel-1', port: 26379 },
    { host: 'sentinel-2', port: 26379 },
    { host: 'sentinel-3', port: 26379 },
  ],
});
redis.on('error', (err: unknown) => {
  logger.warn({ err }, 'redis sentinel');
});
await redis.connect();

app.use(
  oidcAuth({
    ...providerOptions,
    session: { secret: required('SESSION_SECRET'), store: new RedisStore({ client: redis }) },
    sessionIndex: redisSessionIndex(redis),
  }),
);
// and ends here

app.listen(3000);
