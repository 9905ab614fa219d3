import express from 'express';
import { runAppServer } from './child.js';

/** Bare Express: the floor for an anonymous GET of a public route. */
runAppServer(() => {
  const app = express();
  app.get('/public', (_req, res) => {
    res.json({ ok: true });
  });
  return Promise.resolve(app);
});
