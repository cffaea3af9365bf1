import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestBlocker, buildWebExample, findChromium, launchChromium, serveStatic, type StaticSite } from './helpers/browser.js';
import { execute } from './helpers/graphql.js';
import { testSigningKey } from './helpers/issuer.js';
import { startOidcProvider, type OidcProvider } from './helpers/oidc-provider.js';
import { ROOT } from './helpers/process.js';
import { startServer, type TestServer } from './helpers/server.js';

// The browser client (examples/web) built and served on a loopback origin
// of its own, driven in headless Chromium against the API as the tests
// start it: CORS, the WebSocket and the token renewals are the browser's.

const BLOCKER = browserTestBlocker();
/** .ci/run sets it: there, a missing browser or example is a failure, not a skip. */
const REQUIRED = process.env['E2E_REQUIRE_BROWSER'] === '1';
/** Each token the page gets lives this long: a scenario outlives several. */
const TOKEN_TTL_SECONDS = 4;
const SCREENSHOTS = join(ROOT, 'test-results', 'browser');
const CLIENT_ID = 'web-client';

describe('browser test prerequisites', () => {
  it.runIf(REQUIRED)('Chromium and the example are installed (E2E_REQUIRE_BROWSER=1)', () => {
    expect(BLOCKER).toBeNull();
  });
});

/** One built web app on its own origin, an API that allows only that origin, and a page in Chromium. */
type Harness = {
  api: TestServer;
  site: StaticSite;
  page: Page;
  /** Every /graphql POST response status the page saw, in order. */
  statuses: number[];
  /** When each dev token the page was given expires. */
  expiries: number[];
  pageErrors: string[];
  consoleLines: string[];
  close(): Promise<void>;
};

async function startHarness(browser: Browser, setup: (appOrigin: string) => Promise<{ apiEnv: Record<string, string>; viteEnv: Record<string, string> }>): Promise<Harness> {
  const built = await mkdtemp(join(tmpdir(), 'starter-web-'));
  const site = await serveStatic(built);
  const { apiEnv, viteEnv } = await setup(site.origin);
  // The page's origin is the only one allowed: what a deployment sets, not the development default (any localhost).
  // No clock tolerance: a token is refused the second it expires.
  const api = await startServer({ env: { CORS_ORIGINS: site.origin, JWT_CLOCK_TOLERANCE: '0', ...apiEnv }, deps: { devIssuerKey: await testSigningKey() } });
  await buildWebExample(built, { VITE_API_URL: api.url, ...viteEnv });
  const page = await browser.newPage();
  const harness: Harness = {
    api,
    site,
    page,
    statuses: [],
    expiries: [],
    pageErrors: [],
    consoleLines: [],
    async close() {
      await page.close();
      await site.close();
      await api.stop();
      await rm(built, { recursive: true, force: true });
    },
  };
  page.on('pageerror', (error) => harness.pageErrors.push(error.message));
  page.on('console', (message) => harness.consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('response', (response) => {
    const { pathname } = new URL(response.url());
    if (response.request().method() !== 'POST') return;
    if (pathname === '/graphql') harness.statuses.push(response.status());
    if (pathname === '/_dev/tokens') void response.json().then((body: { expiresAt: string }) => harness.expiries.push(Date.parse(body.expiresAt)));
  });
  return harness;
}

/** The page as a user sees it. */
function view(page: Page) {
  return {
    until: <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 }),
    texts: (testId: string) => page.getByTestId(testId).locator('li').allInnerTexts(),
    liveStatus: () => page.getByTestId('live-status').innerText(),
    alertText: () =>
      page
        .getByRole('alert')
        .allInnerTexts()
        .then((all) => all.join('\n')),
    reconnects: async () => Number(/reconnected (\d+)×/.exec(await page.getByTestId('live-status').innerText())?.[1] ?? 0),
    createNote: async (title: string): Promise<void> => {
      await page.getByLabel('Title').fill(title);
      await page.getByLabel('Body').fill(`${title}, from Chromium`);
      await page.getByRole('button', { name: 'Create' }).click();
    },
  };
}

/** Runs a step; on failure keeps a screenshot and prints where, with the page's console. */
async function step(harness: Harness, name: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (error) {
    await mkdir(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}.png`);
    await harness.page.screenshot({ path, fullPage: true }).catch(() => undefined);
    console.error(`browser test step "${name}" failed; screenshot: ${path}\npage console:\n${harness.consoleLines.slice(-30).join('\n')}`);
    throw error;
  }
}

describe.skipIf(BLOCKER !== null)('examples/web in headless Chromium, cross-origin against the API', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium(findChromium() as string);
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('signed in as a dev persona (the dev issuer, POST /_dev/tokens)', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness(browser, async () => ({ apiEnv: {}, viteEnv: {} }));
    }, 60_000);
    afterAll(async () => {
      await harness?.close();
    });

    it(
      'sees me, pages through notes, gets a created note through the subscription, is refused an admin field, and survives expiring tokens over HTTP (401, renewed, retried) and WebSocket (4403, reconnected)',
      async () => {
        const { api, site, page, statuses, expiries } = harness;
        const { until, texts, liveStatus, alertText, reconnects, createNote } = view(page);
        const seeder = await api.devIssuer!.mint({ sub: 'alice', verified: true });
        for (let i = 1; i <= 6; i++) {
          await execute(api.url, 'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
            token: seeder,
            variables: { input: { title: `seeded ${i}`, body: 'seeded' } },
          });
        }

        await step(harness, 'sign-in', async () => {
          await page.goto(site.origin);
          await page.getByLabel('User ID').fill('alice');
          await page.getByLabel('Token lifetime in seconds').fill(String(TOKEN_TTL_SECONDS));
          await page.getByRole('button', { name: 'Sign in' }).click();
          await until(() => page.getByTestId('me-id').innerText()).toBe('alice');
          expect(await page.getByTestId('me-roles').innerText()).toBe('none');
        });

        await step(harness, 'paging', async () => {
          await until(() => texts('notes').then((items) => items.length)).toBe(5);
          await page.getByRole('button', { name: 'Load more' }).click();
          await until(() => texts('notes').then((items) => items.map((item) => item.split('\n')[0]))).toEqual(
            [6, 5, 4, 3, 2, 1].map((i) => `seeded ${i} by alice`),
          );
          expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
        });

        await step(harness, 'subscription', async () => {
          await until(liveStatus).toMatch(/^connected/);
          await createNote('hello');
          await until(() => texts('live-events')).toContain('CREATED hello');
          await until(() => texts('notes').then((items) => items[0]?.split('\n')[0])).toBe('hello by alice');
        });

        await step(harness, 'denied-and-http-expiry', async () => {
          await page.getByRole('button', { name: "Everyone's notes (admins)" }).click();
          await until(alertText).toMatch(/FORBIDDEN\s+This needs the Authgear role admin/);
          // No subscription on this tab, so nothing renews the token: wait until the API refuses it.
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.max(...expiries) + 1000 - Date.now())));
          const sent = statuses.length;
          const tokensBefore = expiries.length;
          await page.getByRole('button', { name: 'Try again' }).click();
          // Refused, renewed once, retried with the new token: the answer is the rule's FORBIDDEN again, not a signed-out UNAUTHENTICATED.
          await until(() => statuses.slice(sent)).toEqual([401, 200]);
          await until(() => expiries.length).toBe(tokensBefore + 1);
          await until(alertText).toMatch(/FORBIDDEN/);
          expect(await alertText()).not.toMatch(/UNAUTHENTICATED/);
        });

        await step(harness, 'websocket-expiry', async () => {
          await page.getByRole('button', { name: 'My notes' }).click();
          await until(liveStatus).toMatch(/^connected/);
          const before = await reconnects();
          // The API closes the socket with 4403 when its token expires; the client reconnects with a new one.
          await until(
            async () => (await reconnects()) > before && /^connected .*last close 4403: .*expired/.test(await liveStatus()),
            (TOKEN_TTL_SECONDS + 6) * 1000,
          ).toBe(true);
          await createNote('after expiry');
          await until(() => texts('live-events')).toContain('CREATED after expiry');
          expect(await page.getByTestId('me-id').innerText()).toBe('alice');
        });

        expect(harness.pageErrors).toEqual([]);
        expect(api.logs.filter((line) => String(line['msg']).startsWith('CORS: refused'))).toEqual([]);
      },
      60_000,
    );
  });

  describe("signed in with Authgear's web SDK (a stand-in Authgear project on loopback)", () => {
    let harness: Harness;
    let provider: OidcProvider;
    beforeAll(async () => {
      harness = await startHarness(browser, async (appOrigin) => {
        provider = await startOidcProvider({
          clientId: CLIENT_ID,
          appOrigin,
          user: { sub: 'ada', verified: true, ttlSeconds: TOKEN_TTL_SECONDS },
        });
        return {
          apiEnv: { AUTHGEAR_ENDPOINT: provider.url, AUTHGEAR_CLIENT_ID: CLIENT_ID },
          viteEnv: { VITE_AUTHGEAR_ENDPOINT: provider.url, VITE_AUTHGEAR_CLIENT_ID: CLIENT_ID },
        };
      });
    }, 60_000);
    afterAll(async () => {
      await harness?.close();
      await provider?.close();
    });

    it(
      'signs in by redirect (code + PKCE), refreshes ahead of expiry over HTTP, renews after a 4403 over WebSocket, and signs out',
      async () => {
        const { site, page, statuses } = harness;
        const { until, texts, liveStatus, alertText, reconnects, createNote } = view(page);

        await step(harness, 'authgear-sign-in', async () => {
          await page.goto(site.origin);
          await page.getByRole('button', { name: 'Sign in with Authgear' }).click();
          await until(() => page.getByTestId('me-id').innerText()).toBe('ada');
          expect(new URL(page.url()).pathname).toBe('/');
          expect(provider.grants).toEqual({ authorization_code: 1 });
        });

        await step(harness, 'authgear-subscription', async () => {
          await until(liveStatus).toMatch(/^connected/);
          await createNote('signed in with Authgear');
          await until(() => texts('live-events')).toContain('CREATED signed in with Authgear');
        });

        await step(harness, 'authgear-http-refresh', async () => {
          await page.getByRole('button', { name: "Everyone's notes (admins)" }).click();
          await until(alertText).toMatch(/FORBIDDEN/);
          const refreshes = provider.grants['refresh_token'] ?? 0;
          await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL_SECONDS + 1) * 1000));
          const sent = statuses.length;
          await page.getByRole('button', { name: 'Try again' }).click();
          // The SDK refreshed the token before sending: the API never saw the expired one.
          await until(() => statuses.slice(sent)).toEqual([200]);
          expect(provider.grants['refresh_token'] ?? 0).toBeGreaterThan(refreshes);
          expect(statuses).not.toContain(401);
          await until(alertText).toMatch(/FORBIDDEN/);
        });

        await step(harness, 'authgear-websocket-expiry', async () => {
          await page.getByRole('button', { name: 'My notes' }).click();
          await until(liveStatus).toMatch(/^connected/);
          const before = await reconnects();
          const refreshes = provider.grants['refresh_token'] ?? 0;
          await until(
            async () => (await reconnects()) > before && /^connected .*last close 4403/.test(await liveStatus()),
            (TOKEN_TTL_SECONDS + 6) * 1000,
          ).toBe(true);
          expect(provider.grants['refresh_token'] ?? 0).toBeGreaterThan(refreshes);
          await createNote('after a refresh');
          await until(() => texts('live-events')).toContain('CREATED after a refresh');
        });

        await step(harness, 'authgear-sign-out', async () => {
          await page.getByRole('button', { name: 'Sign out' }).click();
          await page.getByRole('button', { name: 'Sign in with Authgear' }).waitFor({ timeout: 10_000 });
        });

        expect(harness.pageErrors).toEqual([]);
      },
      60_000,
    );
  });
});
