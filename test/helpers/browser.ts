import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './process.js';

/** The browser client of examples/web, with its own package.json and node_modules. */
export const WEB_EXAMPLE = join(ROOT, 'examples', 'web');
const VITE = join(WEB_EXAMPLE, 'node_modules', 'vite', 'bin', 'vite.js');

/** Debian's chromium package (apt-get install chromium), or null. Playwright's own browser download is never used. */
export function findChromium(): string | null {
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** The example's dependencies are installed (npm ci --prefix examples/web; .ci/run does it). */
export const webExampleInstalled = (): boolean => existsSync(VITE);

/** What keeps the browser test from running here, or null when it can. */
export function browserTestBlocker(): string | null {
  if (findChromium() === null) return 'no Chromium at /usr/bin/chromium: apt-get install -y chromium (.ci/run does)';
  if (!webExampleInstalled()) return 'examples/web has no node_modules: npm ci --prefix examples/web (.ci/run does)';
  return null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  // launch() gives each browser a fresh, temporary profile.
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/** `vite build` of the example into outDir with these VITE_* settings (baked in, as in any deployment). */
export function buildWebExample(outDir: string, settings: Readonly<Record<string, string>>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VITE, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: WEB_EXAMPLE,
      // The process environment outranks the example's .env files: a developer's own settings stay out of the test.
      env: { PATH: process.env['PATH'], VITE_API_URL: '', VITE_AUTHGEAR_ENDPOINT: '', VITE_AUTHGEAR_CLIENT_ID: '', ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}:\n${output}`))));
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export type StaticSite = { origin: string; close(): Promise<void> };

/**
 * Serves a built single-page app on a loopback port of its own, so the
 * page's origin differs from the API's: CORS is the browser's, for real.
 * Unknown paths get index.html, as an SPA host does.
 */
export async function serveStatic(dir: string): Promise<StaticSite> {
  const root = normalize(dir + sep);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://site').pathname);
    const file = normalize(join(root, path));
    const target = file.startsWith(root) && extname(file) !== '' ? file : join(root, 'index.html');
    readFile(target).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(body);
      },
      () => {
        res.writeHead(404).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
