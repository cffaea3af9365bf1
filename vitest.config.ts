import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Servers log through pino into the test's own capture, not the console.
    silent: 'passed-only',
  },
});
