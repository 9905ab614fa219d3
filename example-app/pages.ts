import { STATUS_CODES } from 'node:http';
import type { OidcUser, SessionInfo } from '../lib/index.js';
import type { ActivityEntry } from './activity.js';
import { html, raw, type SafeHtml } from './html.js';
import { describeUserAgent } from './user-agent.js';

/** Where the "Log in" link starts a login, and where the user comes back to. */
export const LOGIN_HREF = '/login?returnTo=/profile';

const STYLE = raw(`
:root { color-scheme: light dark; --fg: #1c1e21; --muted: #5f6b7a; --bg: #f4f6f8; --card: #fff; --line: #e2e6ea;
  --accent: #2f5bea; --accent-fg: #fff; --danger: #b42318; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --muted: #9aa4b2; --bg: #14171c; --card: #1d2128; --line: #2e343d;
  --accent: #6f8ff5; --accent-fg: #0d1117; --danger: #f97066; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { background: var(--card); border-bottom: 1px solid var(--line); }
.bar { max-width: 760px; margin: 0 auto; padding: 12px 20px; display: flex; align-items: center; gap: 16px; }
.brand { font-weight: 600; color: var(--fg); text-decoration: none; margin-right: auto; }
nav.actions { margin: 0; }
nav a { color: var(--muted); text-decoration: none; }
nav a:hover, nav a[aria-current] { color: var(--fg); }
main { max-width: 760px; margin: 32px auto; padding: 0 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 28px; margin-bottom: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 8px; }
h2 { font-size: 1.1rem; margin: 0 0 12px; }
p { margin: 0 0 12px; }
.muted { color: var(--muted); }
.button, button { display: inline-block; font: inherit; font-weight: 600; padding: 9px 18px; border-radius: 8px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-fg); text-decoration: none; cursor: pointer; }
.button.secondary, button.secondary { background: transparent; color: var(--accent); }
.actions { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-top: 20px; }
form { margin: 0; }
.who { display: flex; align-items: center; gap: 16px; margin-bottom: 20px; }
.who h1, .who p { margin: 0; }
.avatar { width: 56px; height: 56px; border-radius: 50%; background: var(--accent); color: var(--accent-fg);
  display: grid; place-items: center; font-size: 1.5rem; font-weight: 600; flex: none; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
th, td { text-align: left; padding: 8px 10px; border-top: 1px solid var(--line); vertical-align: top; }
th { width: 34%; font-weight: 500; color: var(--muted); }
td { word-break: break-word; }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.status { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: .85rem; font-weight: 600;
  border: 1px solid var(--line); color: var(--muted); margin-bottom: 12px; }
.status.on { color: #12805c; border-color: currentColor; }
.error h1 { color: var(--danger); }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li { padding: 6px 0; border-top: 1px solid var(--line); }
ul.plain li:first-child { border-top: 0; }
`);

interface LayoutInput {
  title: string;
  user: OidcUser | undefined;
  /** which nav link is the current page */
  current?: 'home' | 'profile' | 'sessions';
  body: SafeHtml;
}

function displayName(user: OidcUser): string {
  return user.name ?? user.preferred_username ?? user.email ?? user.sub;
}

function logoutButton(label = 'Log out', secondary = false): SafeHtml {
  // A POST form, not a link: logout changes state, so a link prefetch or an <img src> on another site cannot trigger it.
  return html`<form method="post" action="/logout"><button type="submit" ${secondary ? raw(' class="secondary"') : ''}>${label}</button></form>`;
}

function navLink(href: string, label: string, current: boolean): SafeHtml {
  return html`<a href="${href}" ${current ? raw(' aria-current="page"') : ''}>${label}</a>`;
}

export function layout({ title, user, current, body }: LayoutInput): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · express-oidc-auth example</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <header>
          <div class="bar">
            <a class="brand" href="/">express-oidc-auth example</a>
            <nav class="actions">
              ${navLink('/', 'Home', current === 'home')}
              ${user === undefined ? html`<a class="button" href="${LOGIN_HREF}">Log in</a>` : html`${navLink('/profile', 'Profile', current === 'profile')}${navLink('/sessions', 'Sessions', current === 'sessions')}${logoutButton('Log out', true)}`}
            </nav>
          </div>
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

export interface HomeInput {
  user: OidcUser | undefined;
  /** the provider's host, to say where the login happens */
  providerHost: string;
  /** true when the embedded development provider is running: any username and password work */
  devProvider: boolean;
  /**
   * how this browser was just signed out: 'provider' when the provider sent it back from the
   * logout this app asked of it (req.oidc.logoutCompleted), 'here' when the provider has no
   * logout endpoint, 'everywhere' after "Sign out everywhere"
   */
  signedOut: 'provider' | 'here' | 'everywhere' | undefined;
}

/**
 * What a sign-out did, as far as this app can know: its own session, for sure; at the
 * provider only what it asked for, never that the provider did it (a user may answer "stay
 * signed in" there, and some providers have no logout endpoint at all).
 */
function signedOutText(signedOut: HomeInput['signedOut'], providerHost: string): SafeHtml {
  const next = html`Signing in here again asks <strong>${providerHost}</strong> for your password.`;
  if (signedOut === 'provider') {
    return html`<p class="muted">
      Your session in this app has ended. The app asked <strong>${providerHost}</strong> to end your session there too, and it sent you back; if you chose to
      stay signed in there, that session is still open. ${next}
    </p>`;
  }
  if (signedOut === 'here') {
    return html`<p class="muted">
      Your session in this app has ended. <strong>${providerHost}</strong> offers no logout the app could send you to, so your session there may still be open.
      ${next}
    </p>`;
  }
  return html`<p class="muted">
    Your sessions in this app have ended in every browser. <strong>${providerHost}</strong> was not asked to end its own sessions (this example has no
    administrator access to it; the README shows how a <code>postLogout</code> hook can). In each of those browsers, signing in here again asks
    <strong>${providerHost}</strong> for the password.
  </p>`;
}

export function homePage({ user, providerHost, devProvider, signedOut }: HomeInput): SafeHtml {
  if (user === undefined) {
    const justSignedOut = signedOut !== undefined;
    const intro = justSignedOut
      ? signedOutText(signedOut, providerHost)
      : html`<p class="muted">This app signs you in with OpenID Connect at <strong>${providerHost}</strong>. No one is signed in on this browser.</p>`;
    return layout({
      title: 'Signed out',
      user,
      current: 'home',
      body: html`<section class="card">
        <span class="status">Signed out</span>
        <h1>${justSignedOut ? 'You have been signed out' : 'You are signed out'}</h1>
        ${intro}
        ${devProvider ? html`<p class="muted">The development provider accepts any username and password; the username becomes your account id.</p>` : ''}
        <div class="actions"><a class="button" href="${LOGIN_HREF}">Log in</a></div>
      </section>`,
    });
  }
  const name = displayName(user);
  return layout({
    title: 'Home',
    user,
    current: 'home',
    body: html`<section class="card">
      <span class="status on">Signed in</span>
      <div class="who">
        <div class="avatar" aria-hidden="true">${name.charAt(0).toUpperCase()}</div>
        <div>
          <h1>Hello, ${name}</h1>
          ${user.email === undefined ? '' : html`<p class="muted">${user.email}</p>`}
        </div>
      </div>
      <p class="muted">You are signed in through <strong>${providerHost}</strong>.</p>
      <div class="actions"><a class="button secondary" href="/profile">View your profile</a>${logoutButton()}</div>
    </section>`,
  });
}

function claimValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function formatTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export interface ProfileInput {
  user: OidcUser;
  /** access token expiry, epoch seconds; undefined when there is none or it does not say */
  accessTokenExpiresAt: number | undefined;
  hasAccessToken: boolean;
  activity: readonly ActivityEntry[];
}

export function profilePage({ user, accessTokenExpiresAt, hasAccessToken, activity }: ProfileInput): SafeHtml {
  const name = displayName(user);
  const rows = Object.entries(user).map(
    ([claim, value]) =>
      html`<tr>
        <th><code>${claim}</code></th>
        <td>${claimValue(value)}</td>
      </tr>`,
  );
  const token = !hasAccessToken
    ? 'none'
    : accessTokenExpiresAt === undefined
      ? 'present, no expiry given'
      : `valid until ${formatTime(new Date(accessTokenExpiresAt * 1000))}`;
  return layout({
    title: 'Profile',
    user,
    current: 'profile',
    body: html`<section class="card">
        <div class="who">
          <div class="avatar" aria-hidden="true">${name.charAt(0).toUpperCase()}</div>
          <div>
            <h1>${name}</h1>
            <p class="muted">${user.email ?? 'no email claim'}</p>
          </div>
        </div>
        <table>
          <tr>
            <th>Name</th>
            <td>${user.name ?? '—'}</td>
          </tr>
          <tr>
            <th>Email</th>
            <td>${user.email ?? '—'}</td>
          </tr>
          <tr>
            <th>Access token</th>
            <td>${token}</td>
          </tr>
        </table>
        <div class="actions">${logoutButton()}</div>
      </section>
      <section class="card">
        <h2>Claims</h2>
        <p class="muted">What the ID token says about you (protocol claims such as <code>iat</code> and <code>nonce</code> are left out).</p>
        <table>
          ${rows}
        </table>
      </section>
      <section class="card">
        <h2>Your activity on this server</h2>
        <p class="muted">Recorded by the <code>postLogin</code> and <code>postLogout</code> hooks through the typed <code>context</code> service.</p>
        ${
          activity.length === 0
            ? html`<p class="muted">Nothing recorded yet.</p>`
            : html`<ul class="plain">
                ${activity.map((e) => html`<li>${e.event} <span class="muted">via ${e.via} · ${formatTime(e.at)}</span></li>`)}
              </ul>`
        }
      </section>`,
  });
}

export interface ErrorInput {
  status: number;
  /** the OidcAuthError code, or a generic one for other errors */
  code: string;
  message: string;
  problems: readonly string[];
  user: OidcUser | undefined;
}

export function errorPage({ status, code, message, problems, user }: ErrorInput): SafeHtml {
  const title = STATUS_CODES[status] ?? 'Error';
  return layout({
    title,
    user,
    body: html`<section class="card error">
      <span class="status">${status} ${title}</span>
      <h1>Something went wrong</h1>
      <p><span class="code">${code}</span></p>
      <p>${message}</p>
      ${
        problems.length === 0
          ? ''
          : html`<ul>
              ${problems.map((p) => html`<li>${p}</li>`)}
            </ul>`
      }
      <div class="actions">
        <a class="button" href="/">Back to home</a>${user === undefined ? html`<a class="button secondary" href="${LOGIN_HREF}">Log in again</a>` : ''}
      </div>
    </section>`,
  });
}

export function notFoundPage(path: string, user: OidcUser | undefined): SafeHtml {
  return layout({
    title: 'Not found',
    user,
    body: html`<section class="card">
      <span class="status">404 Not Found</span>
      <h1>Nothing here</h1>
      <p class="muted">There is no page at <code>${path}</code>.</p>
      <div class="actions"><a class="button" href="/">Back to home</a></div>
    </section>`,
  });
}

export interface SessionsInput {
  user: OidcUser;
  sessions: readonly SessionInfo[];
  /** how many sessions the last action ended, to say so */
  ended: number | undefined;
}

/** "Your sessions": every live session of the user, on every instance, each with a button that ends it. */
export function sessionsPage({ user, sessions, ended }: SessionsInput): SafeHtml {
  const rows = sessions.map(
    (s) =>
      html`<li>
        <strong>${describeUserAgent(s.userAgent)}</strong> ${s.current ? html`<span class="status on">this browser</span>` : ''}
        <span class="muted"
          >signed in ${formatTime(new Date(s.loggedInAt * 1000))}, last active ${formatTime(new Date((s.lastSeenAt ?? s.loggedInAt) * 1000))}</span
        >
        ${s.current ? '' : html`<form method="post" action="/sessions/end"><input type="hidden" name="session" value="${s.session}" /><button type="submit" class="secondary">End this session</button></form>`}
      </li>`,
  );
  return layout({
    title: 'Your sessions',
    user,
    current: 'sessions',
    body: html`<section class="card">
      <h1>Your sessions</h1>
      ${ended === undefined ? '' : html`<p class="status on">${ended === 1 ? '1 session ended' : `${String(ended)} sessions ended`}</p>`}
      <p class="muted">Where you are signed in to this app, on every server that runs it.</p>
      <ul class="plain">
        ${rows}
      </ul>
      <div class="actions">
        <form method="post" action="/sessions/end-all"><button type="submit">Sign out everywhere</button></form>
      </div>
    </section>`,
  });
}
