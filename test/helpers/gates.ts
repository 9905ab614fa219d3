import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import type { Session } from 'express-session';
import { Browser } from './browser.js';
import type { TestProvider } from './provider.js';

/** A promise and the function that resolves it (Promise.withResolvers is Node 22+). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Holds one request at a point the test chooses, with no timing involved: the request
 * calls hold() (or arrive() when something else holds it, such as a body still coming in),
 * the test awaits `arrived`, does what must happen meanwhile, then calls open().
 */
export class Gate {
  readonly #arrived = deferred();
  readonly #opened = deferred();

  constructor(readonly name: string) {}

  /** resolves once the held request has loaded its session and waits */
  get arrived(): Promise<void> {
    return this.#arrived.promise;
  }

  /** the held request says it is here */
  arrive(): void {
    this.#arrived.resolve();
  }

  /** the held request says it is here, and waits until the test opens the gate */
  hold(): Promise<void> {
    this.#arrived.resolve();
    return this.#opened.promise;
  }

  open(): void {
    this.#opened.resolve();
  }
}

/** Gates by name, so routes of several app instances can find the one a request names (?gate=). */
export class Gates {
  readonly #byName = new Map<string, Gate>();

  create(): Gate {
    const gate = new Gate(`g${String(this.#byName.size + 1)}`);
    this.#byName.set(gate.name, gate);
    return gate;
  }

  /** the gate a request names in its `gate` query parameter */
  of(req: express.Request): Gate {
    const name = req.query['gate'];
    const gate = typeof name === 'string' ? this.#byName.get(name) : undefined;
    if (gate === undefined) throw new Error(`no gate ${JSON.stringify(name)}`);
    return gate;
  }

  /** lets every held request go (after a failed test, so nothing stays hanging) */
  openAll(): void {
    for (const gate of this.#byName.values()) gate.open();
  }
}

/** Resolves when the request reached its gate; fails at once when it answered without reaching it. */
export async function reached(gate: Gate, answer: Promise<Answer>): Promise<void> {
  const early = answer.then((a) => {
    throw new Error(`the request answered ${String(a.status)} before reaching its gate: ${a.body.slice(0, 200)}`);
  });
  early.catch(() => undefined);
  await Promise.race([gate.arrived, early]);
}

type NotedSession = Session & { visits?: number; draft?: unknown };

/**
 * Routes that an app's own code would have, each held on the gate the request names:
 * GET /race/visit changes the session, GET /race/read changes nothing itself, POST
 * /race/draft (express.json()) saves a field of its body into the session.
 */
export function addRaceRoutes(app: express.Express, gates: Gates): void {
  app.get('/race/visit', async (req, res) => {
    const session = req.session as NotedSession;
    session.visits = (session.visits ?? 0) + 1;
    await gates.of(req).hold();
    res.json({ visits: session.visits });
  });
  app.get('/race/read', async (req, res) => {
    await gates.of(req).hold();
    res.json({ sub: req.oidc.user?.sub });
  });
  app.post(
    '/race/draft',
    (req, _res, next) => {
      // The session is loaded (oidcAuth ran); express.json() now waits for the rest of the body.
      gates.of(req).arrive();
      next();
    },
    express.json(),
    (req, res) => {
      (req.session as NotedSession).draft = (req.body as { text?: unknown }).text;
      res.json({ saved: true });
    },
  );
}

export interface Answer {
  status: number;
  body: string;
}

/** One request with this Cookie header; resolves once the whole response has been received. */
export async function send(url: string, cookie: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(url, { method: init.method ?? 'GET', headers: { ...init.headers, cookie }, redirect: 'manual' });
  return { status: res.status, body: await res.text() };
}

/** A fresh browser that holds only this cookie (name=value) for the app's host. */
export async function browserWith(cookie: string, url: string): Promise<Browser> {
  const browser = new Browser();
  await browser.jar.setCookie(`${cookie}; Path=/`, url);
  return browser;
}

export interface SlowPost {
  /** sends the rest of the body and ends the request */
  finish(): void;
  /** the answer, once fully received */
  answer: Promise<Answer>;
}

/** A JSON POST whose headers and first `sentBytes` of body go out now, the rest only on finish(). */
export function slowJsonPost(url: string, cookie: string, json: unknown, sentBytes: number): SlowPost {
  const body = Buffer.from(JSON.stringify(json));
  const req = http.request(url, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'content-length': String(body.length), accept: 'application/json' },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
  });
  req.write(body.subarray(0, sentBytes));
  return {
    finish() {
      req.end(body.subarray(sentBytes));
    },
    answer,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('error', reject);
    req.once('end', () => {
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Delays the end of this response (its status, headers and body are kept) until the gate opens. */
function holdEnd(res: ServerResponse, gate: Gate): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const held = (...args: unknown[]): ServerResponse => {
    void gate.hold().then(() => end(...args));
    return res;
  };
  res.end = held as ServerResponse['end'];
}

/**
 * Wraps the provider's handler: a refresh_token grant POSTed to /token is processed (new
 * tokens are issued) but its answer waits on the gate. Every other request passes. The
 * body is read here to see the grant type and handed on as req.body, which oidc-provider
 * accepts from an upstream parser. Returns the function that removes the wrapper.
 */
export function holdRefreshAnswers(op: TestProvider, gate: Gate): () => void {
  op.server.setHandler((req, res) => {
    if (req.method !== 'POST' || req.url !== '/token') {
      op.handler(req, res);
      return;
    }
    readBody(req).then(
      (body) => {
        (req as IncomingMessage & { body?: Buffer }).body = body;
        if (new URLSearchParams(body.toString()).get('grant_type') === 'refresh_token') holdEnd(res, gate);
        op.handler(req, res);
      },
      (err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
  return () => {
    op.server.setHandler(op.handler);
  };
}
