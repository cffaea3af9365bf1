import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestBlocker, buildWebExample, findChromium, launchChromium, serveStatic, type StaticSite } from './helpers/browser.js';
import { execute } from './helpers/graphql.js';
import { testSigningKey } from './helpers/issuer.js';
import { ROOT } from './helpers/process.js';
import { startServer, type TestServer } from './helpers/server.js';

// The browser client (examples/web) built and served on a loopback origin
// of its own, driven in headless Chromium against the API as the tests
// start it: CORS, the WebSocket and the token renewals are the browser's.

const BLOCKER = browserTestBlocker();
/** .ci/run sets it: there, a missing browser or example is a failure, not a skip. */
const REQUIRED = process.env['E2E_REQUIRE_BROWSER'] === '1';
/** Each token the page gets lives this long: the scenario outlives several. */
const TOKEN_TTL_SECONDS = 4;
const SCREENSHOTS = join(ROOT, 'test-results', 'browser');

describe('browser test prerequisites', () => {
  it.runIf(REQUIRED)('Chromium and the example are installed (E2E_REQUIRE_BROWSER=1)', () => {
    expect(BLOCKER).toBeNull();
  });
});

describe.skipIf(BLOCKER !== null)('examples/web in headless Chromium, cross-origin against the API', () => {
  let api: TestServer;
  let site: StaticSite;
  let built: string;
  let browser: Browser;
  let page: Page;
  /** Every /graphql response status the page saw, in order. */
  const statuses: number[] = [];
  /** When each token the page was given expires. */
  const expiries: number[] = [];
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];

  beforeAll(async () => {
    built = await mkdtemp(join(tmpdir(), 'starter-web-'));
    site = await serveStatic(built);
    // The page's origin is the only one allowed: what a deployment sets, not the development default (any localhost).
    // No clock tolerance: a token is refused the second it expires.
    api = await startServer({
      env: { CORS_ORIGINS: site.origin, JWT_CLOCK_TOLERANCE: '0' },
      deps: { devIssuerKey: await testSigningKey() },
    });
    [browser] = await Promise.all([launchChromium(findChromium() as string), buildWebExample(built, api.url)]);
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (response.request().method() !== 'POST') return;
      if (pathname === '/graphql') statuses.push(response.status());
      if (pathname === '/_dev/tokens') {
        void response.json().then((body: { expiresAt: string }) => expiries.push(Date.parse(body.expiresAt)));
      }
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await api?.stop();
    if (built !== undefined) await rm(built, { recursive: true, force: true });
  });

  /** Runs a scenario; on failure keeps a screenshot and prints where, with the page's console. */
  async function scenario(name: string, steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      await mkdir(SCREENSHOTS, { recursive: true });
      const path = join(SCREENSHOTS, `${new Date().toISOString().replace(/[:.]/g, '-')}-${name}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => undefined);
      console.error(`browser test "${name}" failed; screenshot: ${path}\npage console:\n${consoleLines.slice(-30).join('\n')}`);
      throw error;
    }
  }

  const until = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 });
  const texts = (testId: string) => page.getByTestId(testId).locator('li').allInnerTexts();
  const liveStatus = () => page.getByTestId('live-status').innerText();
  const alertText = () => page.getByRole('alert').allInnerTexts().then((all) => all.join('\n'));

  async function createNote(title: string): Promise<void> {
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Body').fill(`${title}, from Chromium`);
    await page.getByRole('button', { name: 'Create' }).click();
  }

  it(
    'signs in as a dev persona, sees me, pages through notes, gets a created note through the subscription, and survives expiring tokens over HTTP and WebSocket',
    async () => {
      const seeder = await api.devIssuer!.mint({ sub: 'alice', verified: true });
      for (let i = 1; i <= 6; i++) {
        await execute(api.url, 'mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }', {
          token: seeder,
          variables: { input: { title: `seeded ${i}`, body: 'seeded' } },
        });
      }

      await scenario('sign-in', async () => {
        await page.goto(site.origin);
        await page.getByLabel('User ID').fill('alice');
        await page.getByLabel('Token lifetime in seconds', { exact: false }).fill(String(TOKEN_TTL_SECONDS));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await until(() => page.getByTestId('me-id').innerText()).toBe('alice');
        expect(await page.getByTestId('me-roles').innerText()).toBe('none');
      });

      await scenario('paging', async () => {
        await until(() => texts('notes').then((items) => items.length)).toBe(5);
        await page.getByRole('button', { name: 'Load more' }).click();
        await until(() => texts('notes').then((items) => items.map((item) => item.split('\n')[0]))).toEqual(
          [6, 5, 4, 3, 2, 1].map((i) => `seeded ${i} by alice`),
        );
        expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
      });

      await scenario('subscription', async () => {
        await until(liveStatus).toMatch(/^connected/);
        await createNote('hello');
        await until(() => texts('live-events')).toContain('CREATED hello');
        await until(() => texts('notes').then((items) => items[0]?.split('\n')[0])).toBe('hello by alice');
      });

      await scenario('denied-and-http-expiry', async () => {
        await page.getByRole('button', { name: "Everyone's notes (admins)" }).click();
        await until(alertText).toMatch(/FORBIDDEN\s+This needs the Authgear role admin/);
        // No subscription on this tab, so nothing renews the token: wait until the API refuses it.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.max(...expiries) + 1000 - Date.now())));
        const refusedBefore = statuses.filter((status) => status === 401).length;
        const tokensBefore = expiries.length;
        await page.getByRole('button', { name: 'Try again' }).click();
        await until(() => statuses.filter((status) => status === 401).length).toBe(refusedBefore + 1);
        await until(() => expiries.length).toBe(tokensBefore + 1);
        // Retried with the new token: the answer is the rule's FORBIDDEN again, not a signed-out UNAUTHENTICATED.
        await until(() => statuses.at(-1)).toBe(200);
        expect(await alertText()).toMatch(/FORBIDDEN/);
        expect(await alertText()).not.toMatch(/UNAUTHENTICATED/);
      });

      await scenario('websocket-expiry', async () => {
        await page.getByRole('button', { name: 'My notes' }).click();
        await until(liveStatus).toMatch(/^connected/);
        const reconnects = async () => Number(/reconnected (\d+)×/.exec(await liveStatus())?.[1] ?? 0);
        const before = await reconnects();
        // The API closes the socket with 4403 when its token expires; the client reconnects with a new one.
        await until(async () => (await reconnects()) > before && /^connected .*last close 4403: .*expired/.test(await liveStatus()), (TOKEN_TTL_SECONDS + 6) * 1000).toBe(true);
        await createNote('after expiry');
        await until(() => texts('live-events')).toContain('CREATED after expiry');
        expect(await page.getByTestId('me-id').innerText()).toBe('alice');
      });

      expect(pageErrors).toEqual([]);
      expect(api.logs.filter((line) => String(line['msg']).startsWith('CORS: refused'))).toEqual([]);
    },
    60_000,
  );
});
