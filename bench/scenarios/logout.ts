import { performance } from 'node:perf_hooks';
import { realLogin, sessionIdOf } from '../harness/login.js';
import { openStoredLogin } from '../harness/open-login.js';
import { clientSecretOf, SESSION_SECRET, type Topology } from '../harness/topology.js';

const SERVER = 'oidc-auth-logout';
const WARMUP = 3;

export interface LogoutResult {
  samples: number;
  /** POST /logout (destroy in Redis, index, revocation of refresh and access token in parallel), ms */
  logoutMs: number[];
  /** one RFC 7009 call alone, from the orchestrator, for a refresh token and for an access token, ms */
  refreshRevocationMs: number[];
  accessRevocationMs: number[];
  /** both tokens of one session revoked at once, from the orchestrator: what the logout's revocation step costs at best, ms */
  pairRevocationMs: number[];
  /** the provider no longer knows the tokens of the first session logged out, nor of the first revoked alone */
  verified: boolean;
  loginMs: number;
  /** bytes of the session cookie (name=value) of every login made here: its length varies with the signature's characters */
  cookieBytes: number[];
}

interface SessionTokens {
  cookie: string;
  accessToken: string;
  refreshToken: string;
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function introspectionActive(top: Topology, token: string): Promise<boolean> {
  const { clientId, clientSecret } = top.op.introspection;
  const res = await fetch(`${top.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, clientSecret) },
    body: new URLSearchParams({ token }),
  });
  return ((await res.json()) as { active?: boolean }).active === true;
}

async function timed(run: () => Promise<Response>, expect: number, what: string): Promise<number> {
  const started = performance.now();
  const res = await run();
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== expect) throw new Error(`${what} answered ${String(res.status)}`);
  return ms;
}

/**
 * Scenario 3: POST /logout against the real provider (with revocation of both tokens), one
 * at a time, interleaved with single revocation calls made alone, on sessions of their own.
 */
export async function runLogout(top: Topology, samples: number, log: (line: string) => void): Promise<LogoutResult> {
  const app = top.servers[SERVER];
  const redis = await top.redis(SERVER);
  const PER_SAMPLE = 4;
  const count = PER_SAMPLE * (samples + WARMUP);
  const sessions: SessionTokens[] = [];
  const cookieBytes: number[] = [];
  const loginStarted = performance.now();
  for (let i = 0; i < count; i++) {
    const { cookie } = await realLogin(app.url, `logout-user-${String(i)}`, ['oidc.sid']);
    const stored = await redis.get(`sess:${sessionIdOf(cookie)}`);
    const login = stored === null ? undefined : openStoredLogin(stored, SESSION_SECRET);
    if (login?.accessToken === undefined || login.refreshToken === undefined) throw new Error('a logout session has no access or refresh token');
    sessions.push({ cookie, accessToken: login.accessToken, refreshToken: login.refreshToken });
    cookieBytes.push(Buffer.byteLength(cookie));
  }
  const loginMs = (performance.now() - loginStarted) / count;
  log(`  ${String(count)} logins, ${loginMs.toFixed(0)} ms each`);

  const revocationUrl = `${top.issuer}/token/revocation`;
  const authorization = basic(SERVER, clientSecretOf(SERVER));
  const logout = (s: SessionTokens): Promise<number> =>
    timed(() => fetch(`${app.url}/logout`, { method: 'POST', headers: { cookie: s.cookie, accept: 'application/json' } }), 200, 'logout');
  const revoke = (token: string, hint: string): Promise<number> =>
    timed(
      () =>
        fetch(revocationUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
          body: new URLSearchParams({ token, token_type_hint: hint }),
        }),
      200,
      'revocation',
    );

  const revokeBoth = async (s: SessionTokens): Promise<number> => {
    const started = performance.now();
    await Promise.all([revoke(s.refreshToken, 'refresh_token'), revoke(s.accessToken, 'access_token')]);
    return performance.now() - started;
  };

  const result: LogoutResult = {
    samples,
    logoutMs: [],
    refreshRevocationMs: [],
    accessRevocationMs: [],
    pairRevocationMs: [],
    verified: false,
    loginMs,
    cookieBytes,
  };
  for (let i = 0; i < samples + WARMUP; i++) {
    const [a, b, c, d] = sessions.slice(PER_SAMPLE * i, PER_SAMPLE * (i + 1));
    if (a === undefined || b === undefined || c === undefined || d === undefined) break;
    const steps: ['logoutMs' | 'refreshRevocationMs' | 'accessRevocationMs' | 'pairRevocationMs', () => Promise<number>][] = [
      ['logoutMs', () => logout(a)],
      ['refreshRevocationMs', () => revoke(b.refreshToken, 'refresh_token')],
      ['accessRevocationMs', () => revoke(c.accessToken, 'access_token')],
      ['pairRevocationMs', () => revokeBoth(d)],
    ];
    // Each kind takes its turn going first.
    for (let k = 0; k < steps.length; k++) {
      const step = steps[(k + i) % steps.length];
      if (step === undefined) continue;
      const ms = await step[1]();
      if (i >= WARMUP) result[step[0]].push(ms);
    }
    if (i === WARMUP) {
      const still = await Promise.all([
        introspectionActive(top, a.refreshToken),
        introspectionActive(top, a.accessToken),
        introspectionActive(top, b.refreshToken),
      ]);
      const gone = (await redis.exists(`sess:${sessionIdOf(a.cookie)}`)) === 0;
      result.verified = gone && still.every((active) => !active);
      if (!result.verified)
        log(`  WARNING: after logout the session or its tokens are still alive (session gone: ${String(gone)}, active: ${still.join(', ')})`);
    }
  }
  return result;
}
