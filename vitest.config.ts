import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships ESM (module field) and CJS (main); Node, and so every
    // library, loads the CJS one. Tests must use that same instance, or
    // graphql's "another module or realm" check fails.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Servers log through pino into the test's own capture, not the console.
    silent: 'passed-only',
  },
});
