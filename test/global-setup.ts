import { browserTestBlocker } from './helpers/browser.js';
import { findNginx } from './helpers/nginx.js';

// Runs once in the main Vitest process, where its output is not captured.
export default function setup(): void {
  if (process.env['TEST_DATABASE_URL'] === undefined) {
    console.warn(
      '\nTEST_DATABASE_URL is unset: the tests of the PostgreSQL-server adapter are skipped (PGlite runs the same SQL).\n' +
        'Set it to a server you can create databases on, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test\n',
    );
  }
  if (findNginx() === null) {
    console.warn(
      '\nNo nginx binary found: the end-to-end test through nginx (test/nginx.test.ts) is skipped.\n' +
        'Install it to run it, e.g. apt-get install -y nginx-light (.ci/run does).\n',
    );
  }
  const browserBlocker = browserTestBlocker();
  if (browserBlocker !== null) {
    console.warn(`\nThe browser test of examples/web (test/browser.test.ts) is skipped: ${browserBlocker}.\n`);
  }
}
