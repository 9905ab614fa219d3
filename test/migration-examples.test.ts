import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Browser, type Page } from './helpers/browser.js';
import { webClient } from './helpers/client-metadata.js';
import { ROOT } from './helpers/docs.js';
import { confirmAtProvider } from './helpers/logout.js';
import { startTestProvider, type TestProvider } from './helpers/provider.js';

/*
 * The "after" apps of the migration guides (docs/examples/after-*.ts), run as a user runs
 * them: a process of their own, configured by environment variables, importing the package
 * by its name (docs/examples/tsconfig.json maps it to lib/), against a real oidc-provider.
 * A guide whose app no longer logs in, protects its route or logs out fails here.
 */

const CLIENT_SECRET = 'migrated-app-secret-migrated-app-secret';
const SESSION_SECRET = 'migrated-app-session-secret-0123456789abcdef';

/** A free port on 127.0.0.1: the app's URL must be registered at the provider before the app starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface RunningApp {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts docs/examples/<file> with tsx and these variables, and waits until it answers. */
async function runExample(file: string, port: number, env: Record<string, string>): Promise<RunningApp> {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'docs', 'examples', file)], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', TSX_TSCONFIG_PATH: path.join(ROOT, 'docs', 'examples', 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${String(port)}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${String(child.exitCode)}:\n${output}`);
    try {
      await fetch(`${url}/`);
      return { url, child, output: () => output };
    } catch {
      if (Date.now() > deadline) throw new Error(`${file} did not answer within 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stop(app: RunningApp | undefined): Promise<void> {
  if (app === undefined || app.child.exitCode !== null) return;
  app.child.kill('SIGTERM');
  await once(app.child, 'exit');
}

/** Signs in at the provider's dev pages from `startUrl` until the browser is back on the app; the app's page. */
async function loginThrough(browser: Browser, startUrl: string, appUrl: string, user: string): Promise<Page> {
  let page = await browser.follow(await browser.get(startUrl));
  for (let step = 0; step < 5 && !page.url.startsWith(appUrl); step++) {
    if (page.body.includes('name="prompt" value="login"'))
      page = await browser.follow(await browser.submitForm(page, { login: user, password: 'any-password' }));
    else if (page.body.includes('name="prompt" value="consent"')) page = await browser.follow(await browser.submitForm(page));
    else break;
  }
  assert.ok(page.url.startsWith(appUrl), `the login ends back on the app, not at ${page.url} (${String(page.status)})`);
  return page;
}

const EXAMPLES = [
  {
    guide: 'docs/migrating-from-express-openid-connect.md',
    file: 'after-express-openid-connect.ts',
    callback: '/callback',
    env: (issuer: string, appUrl: string, clientId: string): Record<string, string> => ({
      ISSUER_BASE_URL: issuer,
      BASE_URL: appUrl,
      CLIENT_ID: clientId,
      CLIENT_SECRET,
      SECRET: SESSION_SECRET,
      ALLOW_INSECURE_REQUESTS: 'true',
    }),
  },
  {
    guide: 'docs/migrating-from-passport-openidconnect.md',
    file: 'after-passport-openidconnect.ts',
    callback: '/oauth2/redirect',
    env: (issuer: string, appUrl: string, clientId: string): Record<string, string> => ({
      OIDC_ISSUER: issuer,
      BASE_URL: appUrl,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      SESSION_SECRET,
      ALLOW_INSECURE_REQUESTS: 'true',
    }),
  },
] as const;

for (const example of EXAMPLES) {
  describe(`the "after" app of ${example.guide} (docs/examples/${example.file})`, () => {
    let op: TestProvider | undefined;
    let app: RunningApp | undefined;
    const clientId = example.file.replace(/\.ts$/, '');

    before(async () => {
      const port = await freePort();
      const appUrl = `http://127.0.0.1:${String(port)}`;
      op = await startTestProvider({ clients: [webClient(appUrl, clientId, CLIENT_SECRET, { redirect_uris: [`${appUrl}${example.callback}`] })] });
      app = await runExample(example.file, port, example.env(op.issuer, appUrl, clientId));
    });

    after(async () => {
      await stop(app);
      await op?.close();
    });

    test('login through the provider, the protected route, then logout through the provider: the route is closed again', async () => {
      assert.ok(app !== undefined);
      const browser = new Browser();

      const anonymous = await browser.get(`${app.url}/profile`);
      assert.equal(anonymous.status, 302, 'the protected route sends an anonymous browser to log in');
      assert.match(anonymous.location ?? '', /\/login\?returnTo=%2Fprofile$/);

      const profile = await loginThrough(browser, `${app.url}/profile`, app.url, 'alice');
      assert.equal(profile.url, `${app.url}/profile`, 'the login lands where the browser was going');
      assert.equal(profile.status, 200, app.output());
      assert.equal((JSON.parse(profile.body) as { sub?: string }).sub, 'alice');

      const logout = await browser.request(`${app.url}/logout`, { method: 'POST', form: {} });
      assert.equal(logout.status, 303);
      assert.ok(logout.location?.startsWith(op?.issuer ?? '?'), `logout goes to the provider, not ${String(logout.location)}`);
      const back = await confirmAtProvider(browser, logout);
      assert.equal(back.url.split('?')[0], `${app.url}/`, 'the provider sends the browser back to the post-logout redirect URI, baseUrl + /');
      assert.equal(back.status, 200);
      assert.match(back.body, /Logged in: false/);

      const closed = await browser.get(`${app.url}/profile`);
      assert.equal(closed.status, 302, 'after logout the protected route asks for a login again');
      assert.match(closed.location ?? '', /\/login\?returnTo=/);
    });
  });
}
