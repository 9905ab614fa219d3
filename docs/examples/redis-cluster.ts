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
import { createCluster } from 'redis';
import { oidcAuth, redisSessionIndex } from 'express-oidc-auth';

const cluster = createCluster({
  rootNodes: [{ url: 'redis://redis-1:6379' }, { url: 'redis://redis-2:6379' }, { url: 'redis://redis-3:6379' }],
});
cluster.on('error', (err: unknown) => {
  logger.warn({ err }, 'redis cluster');
});
await cluster.connect();

app.use(
  oidcAuth({
    ...providerOptions,
    session: { secret: required('SESSION_SECRET'), store: new RedisStore({ client: cluster }) },
    sessionIndex: redisSessionIndex(cluster),
  }),
);
// and ends here

app.listen(3000);
