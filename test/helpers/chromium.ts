import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's `chromium` package, driven by playwright-core: no browser is ever downloaded.
 * CHROMIUM_PATH points at another binary (or at a missing one, to see the skip).
 */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** The parent domain of the sibling-host suites (helpers/sibling-hosts.ts): every host under it is this machine. */
export const SIBLING_PARENT = 'example.test';

/**
 * playwright-core's own `--disable-features` list (its chromiumSwitches.ts, 1.65). Chromium keeps
 * only the last value of a switch, so a second `--disable-features` must repeat it:
 * launchChromium() checks on the launched browser's command line that it still does.
 */
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];

/**
 * The address bar's popup, a WebUI page that (new) headless Chromium preloads for every window,
 * in a renderer process of its own: each context's first page started two renderers, and the
 * popup's one cost about as much CPU as the page's. No test opens an address bar.
 */
const UNUSED_BROWSER_UI = ['PreloadTopChromeWebUI', 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup'];

/**
 * Flags checked on these machines: no sandbox (root in a container), and nothing that phones
 * home. For the sibling-host suites: every *.example.test is 127.0.0.1, and their self-signed
 * certificate is accepted (no other suite uses https or those hosts). No process per site:
 * site isolation keeps a renderer's memory from another site's, which no test is about, and
 * a renderer process per site and context cost the browser suites about a tenth of their CPU;
 * cookies, SameSite and origins are the browser process's rules either way. No address-bar
 * popup (UNUSED_BROWSER_UI).
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--host-resolver-rules=MAP *.${SIBLING_PARENT} 127.0.0.1`,
  '--ignore-certificate-errors',
  '--disable-site-isolation-trials',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...UNUSED_BROWSER_UI].join(',')}`,
];

const FEATURES_SWITCH = '--disable-features=';

/**
 * The command line of each Chromium this process launched (a child started with
 * --remote-debugging-pipe, Playwright's pipe), from /proc.
 */
function launchedCommandLines(): string[][] {
  const lines: string[][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the second field after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('--remote-debugging-pipe')) lines.push(argv);
    } catch {
      // a process that ended meanwhile
    }
  }
  return lines;
}

/**
 * Fails when the launched Chromium's last `--disable-features` (the one Chromium uses) lacks a
 * feature of another one on its command line: playwright-core changed its list, and
 * PLAYWRIGHT_DISABLED_FEATURES must follow.
 */
function assertFeaturesKept(): void {
  const lines = launchedCommandLines();
  if (lines.length === 0) throw new Error('the launched Chromium is not a child of this process with --remote-debugging-pipe: its flags cannot be checked');
  for (const argv of lines) {
    const values = argv.filter((arg) => arg.startsWith(FEATURES_SWITCH)).map((arg) => arg.slice(FEATURES_SWITCH.length).split(','));
    const used = new Set(values.at(-1));
    const lost = values.flat().filter((feature) => !used.has(feature));
    if (lost.length > 0 || UNUSED_BROWSER_UI.some((feature) => !used.has(feature))) {
      throw new Error(
        `Chromium runs without ${lost.join(', ') || UNUSED_BROWSER_UI.join(', ')} disabled: update PLAYWRIGHT_DISABLED_FEATURES in test/helpers/chromium.ts`,
      );
    }
  }
}

/**
 * Where screenshots go: test-artifacts/browser/ (git-ignored), or BROWSER_ARTIFACTS_DIR, which
 * .ci/run gives each of the suites it runs at the same time: a suite starting a browser test
 * empties that test's folder, which must not be the one another suite is writing to.
 */
export const ARTIFACTS_DIR = path.resolve(process.env['BROWSER_ARTIFACTS_DIR'] ?? path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'browser'));

export function chromiumAvailable(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const MISSING = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;

/**
 * The `skip` option for the browser suites: a plain reason on a developer machine without
 * Chromium; under CI=true never a skip, so launchChromium() fails the suite instead.
 */
export function chromiumSkip(): string | false {
  if (chromiumAvailable() || process.env['CI'] === 'true') return false;
  return `${MISSING}; the browser tests are skipped outside CI`;
}

let shared: Promise<Browser> | undefined;
let holders = 0;
let closing: NodeJS.Timeout | undefined;
/** How long an unheld Chromium waits for the next suite of its lane, which takes it at once. */
const LINGER_MS = 1000;

/**
 * The process's Chromium, for a suite's `before`; pair it with releaseChromium() in `after`.
 * The browser suites of a lane share one (a launch costs about 2 s of CPU): a suite keeps to
 * contexts of its own (their own cookies and storage), and the contexts are closed when it
 * releases the browser.
 */
export function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(`${MISSING}, and CI must run the browser tests (.ci/run installs it)`);
  holders += 1;
  clearTimeout(closing);
  shared ??= chromium
    .launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
    .then(async (browser) => {
      try {
        assertFeaturesKept();
      } catch (err) {
        await browser.close();
        throw err;
      }
      return browser;
    })
    .catch((err: unknown) => {
      shared = undefined;
      throw err;
    });
  return shared;
}

/** A suite is done with Chromium: its contexts are closed, and the browser too unless another suite takes it within LINGER_MS. */
export async function releaseChromium(): Promise<void> {
  const launched = shared;
  if (holders === 0 || launched === undefined) return;
  holders -= 1;
  if (holders > 0) return;
  const browser = await launched.catch(() => undefined);
  if (browser === undefined) return;
  await Promise.all(browser.contexts().map((context) => context.close()));
  closing = setTimeout(() => {
    if (holders > 0 || shared !== launched) return;
    shared = undefined;
    void browser.close();
  }, LINGER_MS);
}

function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('about:')) return true;
  try {
    const { hostname } = new URL(url);
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch {
    return false;
  }
}

export interface BlockedRequest {
  url: string;
  /** the page that asked for it */
  from: string;
}

/**
 * A fresh context (its own cookies) that can reach 127.0.0.1 and localhost only. Every
 * other request (the provider's default pages import web fonts) is aborted and recorded,
 * so pages load fast offline and a test can check which pages asked for the internet.
 */
export async function localContext(browser: Browser, userAgent?: string): Promise<{ context: BrowserContext; blocked: BlockedRequest[] }> {
  const context = await browser.newContext({
    viewport: { width: 960, height: 720 },
    colorScheme: 'light',
    locale: 'en-US',
    ...(userAgent === undefined ? {} : { userAgent }),
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(10_000);
  const blocked: BlockedRequest[] = [];
  await context.route('**/*', async (route) => {
    const request = route.request();
    if (isLocal(request.url())) {
      await route.continue();
      return;
    }
    blocked.push({ url: request.url(), from: request.frame().url() });
    await route.abort('blockedbyclient');
  });
  return { context, blocked };
}

/**
 * A full-page screenshot after every step, with BROWSER_SCREENSHOTS=1: a walk-through to look at.
 * Off by default: the PNGs cost the browser suites about a quarter of their CPU, and a failed
 * step takes its own screenshot either way.
 */
const SCREENSHOT_EVERY_STEP = process.env['BROWSER_SCREENSHOTS'] === '1';

/**
 * Numbered steps under ARTIFACTS_DIR/<name>/. A step that fails leaves `NN-step-FAILED.png`
 * and names it in the error; with BROWSER_SCREENSHOTS=1 every step leaves `NN-step.png`.
 */
export class Steps {
  readonly dir: string;
  #count = 0;

  constructor(
    private readonly page: Page,
    name: string,
  ) {
    this.dir = path.join(ARTIFACTS_DIR, name);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  async step(title: string, run: () => Promise<void>): Promise<void> {
    this.#count += 1;
    const slug = title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    const base = path.join(this.dir, `${String(this.#count).padStart(2, '0')}-${slug}`);
    try {
      await run();
    } catch (err) {
      const shot = `${base}-FAILED.png`;
      await this.page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`step "${title}" failed at ${this.page.url()} (screenshot: ${path.relative(process.cwd(), shot)}): ${reason}`, { cause: err });
    }
    if (SCREENSHOT_EVERY_STEP) await this.page.screenshot({ path: `${base}.png`, fullPage: true });
  }
}
