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
import { createClient } from 'redis';
import { oidcAuth, redisSessionIndex } from 'express-oidc-auth';

const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://localhost:6379' });
redis.on('error', (err: unknown) => {
  logger.warn({ err }, 'redis'); // without a listener, node-redis errors crash the process
});
await redis.connect();

app.use(
  oidcAuth({
    ...providerOptions, // issuer, clientId, clientSecret, baseUrl (the load balancer's URL, the same on every instance)
    session: { secret: required('SESSION_SECRET'), store: new RedisStore({ client: redis }) },
    sessionIndex: redisSessionIndex(redis),
  }),
);
// and ends here

app.listen(3000);
