import { Writable } from 'node:stream';
import { openPglite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/database.js';
import { loadConfig } from '../../src/config.js';
import { createServer, type RunningServer, type ServerDeps } from '../../src/server.js';

export type TestServer = RunningServer & {
  /** Every log line the server wrote, as parsed JSON. */
  readonly logs: Record<string, unknown>[];
  /** The raw log output, for "the token never appears" checks. */
  readonly rawLogs: () => string;
};

let sharedDb: Promise<Database> | null = null;
/** One in-memory PGlite per test file: starting one takes about two seconds. */
export function testDatabase(): Promise<Database> {
  sharedDb ??= openPglite(null);
  return sharedDb;
}

export type StartOptions = {
  env?: Record<string, string | undefined>;
  deps?: ServerDeps;
  /** Let the server open the database its config names, instead of this file's shared PGlite. */
  ownDatabase?: boolean;
};

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    // Tests send bad credentials and many operations from one address on purpose;
    // test/limits.test.ts sets the limits it exercises.
    RATE_LIMIT_POINTS: '1000000000',
    AUTH_FAILURE_LIMIT: '0',
    ...options.env,
  });
  const chunks: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      chunks.push(text);
      for (const line of text.split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const server = await createServer(config, {
    ...options.deps,
    database: options.deps?.database ?? (options.ownDatabase ? undefined : await testDatabase()),
    logDestination: destination,
    // Generous: the issuer shares a loaded CI machine. Outage tests set their own timeout.
    verifier: { httpTimeoutMs: 3000, retryAfterSeconds: 1, ...options.deps?.verifier },
  });
  return { ...server, logs, rawLogs: () => chunks.join('') };
}

/**
 * Waits until /readyz says the database answers and the issuer's keys are
 * fetched, as a load balancer would: on a loaded machine the first key fetch
 * can outlast the verifier's timeout, and the contract then says "retry".
 */
export async function untilReady(server: RunningServer, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${server.origin}/readyz`).catch(() => null);
    if (response?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${server.origin}/readyz did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
